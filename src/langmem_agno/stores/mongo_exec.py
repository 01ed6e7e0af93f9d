"""How one MongoDB request of a plan reaches the server: a sync and an async driver call per request type.

The plans (:mod:`~langmem_agno.stores.mongo_plans`) say *what* to ask; these two functions say
*how*, on a PyMongo ``MongoClient`` collection or on a PyMongo ``AsyncMongoClient`` (or Motor)
collection, inside a session (a transaction) when one is given.
"""

from __future__ import annotations

import inspect
from typing import Any

from pymongo import ReturnDocument

from langmem_agno.stores.mongo_plans import (
    PROJECTION,
    _Aggregate,
    _BulkWrite,
    _ClientBulk,
    _Count,
    _DeleteMany,
    _Distinct,
    _Find,
    _FindCounted,
    _FindOneAndSet,
    _Hello,
    _ListIndexes,
    _Op,
    _SearchAndNewest,
    _UnionAll,
)

__all__ = ["aexecute", "execute"]

_TOTAL = "_lma_total"
_NEWEST = "_lma_newest"
_PART = "_lma_part"


def _page(filter: dict[str, Any], sort: list[tuple[str, int]], skip: int, limit: int) -> list[dict[str, Any]]:
    page: list[dict[str, Any]] = [{"$match": filter}, {"$sort": dict(sort)}]
    if skip:
        page.append({"$skip": skip})
    return [*page, {"$limit": limit}, {"$project": PROJECTION}]


def _total(coll: Any, filter: dict[str, Any]) -> dict[str, Any]:
    # $group rather than the $count stage: the same plan in the server, and every server we
    # test on accepts it inside $unionWith.
    total = [{"$match": filter}, {"$group": {"_id": None, _TOTAL: {"$sum": 1}}}, {"$project": {"_id": 0}}]
    return {"$unionWith": {"coll": coll.name, "pipeline": total}}


def _counted_pipeline(coll: Any, op: _FindCounted) -> list[dict[str, Any]]:
    return [*_page(op.filter, op.sort, op.skip, op.limit), _total(coll, op.filter)]


def _split_counted(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    # The count's one row comes after the page (no row when nothing matches); no memory has the key.
    if rows and set(rows[-1]) == {_TOTAL}:
        return rows[:-1], int(rows[-1][_TOTAL])
    return rows, 0


def _search_and_newest_pipeline(coll: Any, op: _SearchAndNewest) -> list[dict[str, Any]]:
    # Each branch of a $unionWith runs its own plan, so the newest page and the count are read
    # by the (user_id, updated_at) index as the listing's are, whatever the search did.
    newest = [*_page(op.filter, op.sort, 0, op.limit), {"$set": {_NEWEST: True}}]
    if not op.search:  # an empty first pipeline would be the whole collection
        return [*newest, _total(coll, op.filter)]
    union = {"$unionWith": {"coll": coll.name, "pipeline": newest}}
    return [*op.search, union, _total(coll, op.filter)]


def _union_pipeline(coll: Any, op: _UnionAll) -> list[dict[str, Any]]:
    tagged = [[*p, {"$set": {_PART: k}}] for k, p in enumerate(op.pipelines)]
    return [*tagged[0], *({"$unionWith": {"coll": coll.name, "pipeline": p}} for p in tagged[1:])]


def _split_union(op: _UnionAll, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    parts: list[list[dict[str, Any]]] = [[] for _ in op.pipelines]
    for row in rows:
        parts[row.pop(_PART)].append(row)
    return parts


def _split_search_and_newest(
    rows: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    rows, total = _split_counted(rows)
    hits = [r for r in rows if _NEWEST not in r]
    newest = [{k: v for k, v in r.items() if k != _NEWEST} for r in rows if _NEWEST in r]
    return hits, newest, total


def execute(coll: Any, op: _Op, session: Any = None) -> Any:
    """Run ``op`` on a sync collection and return what its plan expects back."""
    if isinstance(op, _Find):
        cursor = coll.find(
            op.filter, op.projection, sort=op.sort or None, skip=op.skip, limit=op.limit, session=session
        )
        return list(cursor)
    if isinstance(op, _Aggregate):
        return list(coll.aggregate(op.pipeline, session=session))
    if isinstance(op, _FindCounted):
        return _split_counted(list(coll.aggregate(_counted_pipeline(coll, op), session=session)))
    if isinstance(op, _SearchAndNewest):
        rows = list(coll.aggregate(_search_and_newest_pipeline(coll, op), session=session))
        return _split_search_and_newest(rows)
    if isinstance(op, _UnionAll):
        return _split_union(op, list(coll.aggregate(_union_pipeline(coll, op), session=session)))
    if isinstance(op, _Count):
        return coll.count_documents(op.filter, session=session)
    if isinstance(op, _ClientBulk):  # before _BulkWrite: it is one
        client = coll.database.client
        return client.bulk_write(list(op.requests), session=session, ordered=True, verbose_results=True)
    if isinstance(op, _BulkWrite):
        return coll.bulk_write(op.requests, ordered=op.ordered, session=session)
    if isinstance(op, _FindOneAndSet):
        return coll.find_one_and_update(
            op.filter,
            {"$set": op.changes},
            projection=PROJECTION,
            return_document=ReturnDocument.AFTER if op.return_after else ReturnDocument.BEFORE,
            session=session,
        )
    if isinstance(op, _DeleteMany):
        return coll.delete_many(op.filter, session=session).deleted_count
    if isinstance(op, _Distinct):
        return coll.distinct(op.key, op.filter, session=session)
    if isinstance(op, _Hello):
        return coll.database.command("hello")
    if isinstance(op, _ListIndexes):
        return list(coll.list_indexes())
    return coll.create_index(op.keys, name=op.name, unique=op.unique)


async def _cursor(made: Any) -> Any:
    # PyMongo's async aggregate / list_indexes are coroutines giving a cursor; Motor's give it directly.
    return await made if inspect.isawaitable(made) else made


async def aexecute(coll: Any, op: _Op, session: Any = None) -> Any:
    """Async twin of :func:`execute`."""
    if isinstance(op, _Find):
        cursor = coll.find(
            op.filter, op.projection, sort=op.sort or None, skip=op.skip, limit=op.limit, session=session
        )
        return await cursor.to_list(None)
    if isinstance(op, _Aggregate):
        return await (await _cursor(coll.aggregate(op.pipeline, session=session))).to_list(None)
    if isinstance(op, _FindCounted):
        cursor = await _cursor(coll.aggregate(_counted_pipeline(coll, op), session=session))
        return _split_counted(await cursor.to_list(None))
    if isinstance(op, _SearchAndNewest):
        cursor = await _cursor(coll.aggregate(_search_and_newest_pipeline(coll, op), session=session))
        return _split_search_and_newest(await cursor.to_list(None))
    if isinstance(op, _UnionAll):
        cursor = await _cursor(coll.aggregate(_union_pipeline(coll, op), session=session))
        return _split_union(op, await cursor.to_list(None))
    if isinstance(op, _Count):
        return await coll.count_documents(op.filter, session=session)
    if isinstance(op, _ClientBulk):  # before _BulkWrite: it is one
        client = coll.database.client
        return await client.bulk_write(list(op.requests), session=session, ordered=True, verbose_results=True)
    if isinstance(op, _BulkWrite):
        return await coll.bulk_write(op.requests, ordered=op.ordered, session=session)
    if isinstance(op, _FindOneAndSet):
        return await coll.find_one_and_update(
            op.filter,
            {"$set": op.changes},
            projection=PROJECTION,
            return_document=ReturnDocument.AFTER if op.return_after else ReturnDocument.BEFORE,
            session=session,
        )
    if isinstance(op, _DeleteMany):
        return (await coll.delete_many(op.filter, session=session)).deleted_count
    if isinstance(op, _Distinct):
        return await coll.distinct(op.key, op.filter, session=session)
    if isinstance(op, _Hello):
        return await coll.database.command("hello")
    if isinstance(op, _ListIndexes):
        return await (await _cursor(coll.list_indexes())).to_list(None)
    return await coll.create_index(op.keys, name=op.name, unique=op.unique)
