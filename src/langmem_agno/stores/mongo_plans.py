"""MongoDB operations written once, as plans: generators of typed requests.

A plan yields database requests (the frozen dataclasses below) and receives each
result back; :class:`~langmem_agno.stores.mongo.MongoMemoryStore` runs it with a
sync driver on a ``MongoClient`` or an async one on an ``AsyncMongoClient`` (or a
Motor client), so the two twins of every operation share all their logic.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, DeleteOne, UpdateOne

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import MEMORY_FIELDS, UserMemory, read_all, unreadable_reason
from langmem_agno.stores.search import SEARCH_SCAN_LIMIT, rank_by_terms
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    ScoredMemory,
    SortOrder,
    UserStats,
)
from langmem_agno.stores.validation import stored_or_unreadable

T = TypeVar("T")
PROJECTION = {"_id": 0, **{f: 1 for f in MEMORY_FIELDS}}


# ---------------------------------------------------------------- requests
@dataclass(frozen=True)
class _Find:
    filter: dict[str, Any]
    sort: list[tuple[str, int]] = field(default_factory=list)
    skip: int = 0
    limit: int = 0
    projection: dict[str, int] = field(default_factory=lambda: dict(PROJECTION))


@dataclass(frozen=True)
class _Count:
    filter: dict[str, Any]


@dataclass(frozen=True)
class _BulkWrite:
    requests: Sequence[UpdateOne | DeleteOne]
    ordered: bool = False


@dataclass(frozen=True)
class _FindOneAndSet:
    filter: dict[str, Any]
    changes: dict[str, Any]
    return_after: bool = True


@dataclass(frozen=True)
class _DeleteMany:
    filter: dict[str, Any]


@dataclass(frozen=True)
class _Distinct:
    key: str
    filter: dict[str, Any]


@dataclass(frozen=True)
class _Aggregate:
    pipeline: list[dict[str, Any]]


@dataclass(frozen=True)
class _CreateIndex:
    keys: list[tuple[str, int]]
    name: str
    unique: bool = False


@dataclass(frozen=True)
class _Hello:
    """The server's ``hello`` reply: what kind of deployment this is."""


_Op = (
    _Find
    | _Count
    | _BulkWrite
    | _FindOneAndSet
    | _DeleteMany
    | _Distinct
    | _Aggregate
    | _CreateIndex
    | _Hello
)
_Plan = Generator[_Op, Any, T]

#: Indexes we need. ``memory_id_1`` has exactly the name and spec Agno uses, so
#: whichever side creates it first, the other's create is a no-op. The compound
#: one is ours: "this user's memories, newest first" (same-second ties by _id),
#: served without a sort.
_INDEXES = (
    _CreateIndex([("memory_id", ASCENDING)], "memory_id_1", unique=True),
    _CreateIndex(
        [("user_id", ASCENDING), ("updated_at", DESCENDING), ("_id", DESCENDING)],
        "user_id_1_updated_at_-1__id_-1",
    ),
)


def filter_document(
    flt: MemoryFilter, ids: Sequence[str] | None = None, *, prefix: str = ""
) -> dict[str, Any]:
    """The MongoDB filter for the memories ``flt`` (and ``ids``) select.

    Args:
        flt: Whose memories.
        ids: Only these memory ids, when given.
        prefix: Put before every field name, for a memory embedded in another
            document (the vectors collection keeps it under ``m``: ``prefix="m."``).
    """
    # Every value here was checked to be a plain string, so nothing a caller
    # passes can turn into a query operator.
    doc: dict[str, Any] = {f"{prefix}user_id": flt.user_id}
    if flt.agent_id is not None:
        doc[f"{prefix}agent_id"] = flt.agent_id
    if flt.team_id is not None:
        doc[f"{prefix}team_id"] = flt.team_id
    if flt.topics is not None:
        doc[f"{prefix}topics"] = {"$in": list(flt.topics)}
    if ids is not None:
        doc[f"{prefix}memory_id"] = {"$in": list(ids)}
    return doc


def _read(docs: Sequence[dict[str, Any]]) -> list[UserMemory]:
    return read_all(docs, UserMemory.from_document)


def _pinned_created_at(before: dict[str, Any]) -> int | None:
    """The ``created_at`` readers saw for a document stored without one, or ``None`` if it cannot be read."""
    memory = _read([before])
    return memory[0].created_at if memory else None


# ---------------------------------------------------------------- plans
def _refuse_taken_ids(user_id: str | None, ids: list[str]) -> _Plan[None]:
    # Refuse the whole batch before writing anything if an id is another
    # user's, so a failed batch never lands half-way.
    taken = yield _Find(
        {"memory_id": {"$in": ids}, "user_id": {"$ne": user_id}}, projection={"_id": 0, "memory_id": 1}
    )
    if taken:
        raise InvalidMemoryError(f"memory_id {taken[0]['memory_id']!r} is already in use")


def _upserts(records: Sequence[UserMemory], user_id: str | None) -> list[UpdateOne | DeleteOne]:
    requests: list[UpdateOne | DeleteOne] = []
    for rec in records:
        doc = rec.to_document()
        insert = {k: v for k, v in doc.items() if k not in ("memory_id", "user_id")}
        # Insert-if-absent: a retried add finds its memory and writes nothing.
        requests.append(
            UpdateOne({"memory_id": rec.memory_id, "user_id": user_id}, {"$setOnInsert": insert}, upsert=True)
        )
    return requests


def _insert_plan(records: list[UserMemory]) -> _Plan[list[UserMemory]]:
    user_id = records[0].user_id
    ids = [r.memory_id for r in records]
    yield from _refuse_taken_ids(user_id, ids)
    yield _BulkWrite(_upserts(records, user_id))
    docs = yield _Find({"memory_id": {"$in": ids}, "user_id": user_id})
    stored = {m.memory_id: m for m in _read(docs)}
    return [stored_or_unreadable(stored, i) for i in ids]


def _apply_plan(request: ChangeRequest) -> _Plan[ChangeSet]:
    """Write a change set as one ordered bulk write of single-document operations.

    Run inside a transaction it is atomic. Without one (a standalone server) a
    failure can stop it part-way, and running it again converges: the adds are
    insert-if-absent, the updates ``$set`` fixed values, and deleting a gone
    memory is a no-op; single-document operations are what retryable writes retry.
    """
    flt = request.flt
    scope = filter_document(flt)
    add_ids = [r.memory_id for r in request.adds]
    if add_ids:
        yield from _refuse_taken_ids(flt.user_id, add_ids)
    update_ids = [i for i, _ in request.updates]
    targets = [*update_ids, *request.deletes]
    present: dict[str, dict[str, Any]] = {}
    if targets:
        present = {d["memory_id"]: d for d in (yield _Find(filter_document(flt, targets)))}
    writes = _upserts(request.adds, flt.user_id)
    for memory_id, changes in request.updates:
        before = present.get(memory_id)
        if before is None:
            continue
        key = {**scope, "memory_id": memory_id}
        pinned = _pinned_created_at(before) if before.get("created_at") is None else None
        if pinned is not None:
            # As in _update_plan: pin the created_at readers saw (Agno's upsert writes none).
            writes.append(UpdateOne({**key, "created_at": None}, {"$set": {"created_at": pinned}}))
        writes.append(UpdateOne(key, {"$set": changes}))
    deleted = [i for i in request.deletes if i in present]
    writes += [DeleteOne({**scope, "memory_id": i}) for i in deleted]
    if writes:
        yield _BulkWrite(writes, ordered=True)
    wanted = [*add_ids, *(i for i in update_ids if i in present)]
    docs = (yield _Find({"memory_id": {"$in": wanted}, "user_id": flt.user_id})) if wanted else []
    stored = {m.memory_id: m for m in _read(docs)}
    return ChangeSet(
        added=[stored_or_unreadable(stored, i) for i in add_ids],
        # Read back after the write: a memory another writer deleted meanwhile is missing, not updated.
        updated=[stored[i] for i in update_ids if i in present and i in stored],
        deleted=deleted,
        missing_updates=[i for i in update_ids if i not in present or i not in stored],
        missing_deletes=[i for i in request.deletes if i not in present],
    )


def _find_plan(
    flt: MemoryFilter, ids: Sequence[str] | None, sort: SortOrder, limit: int | None, offset: int, count: bool
) -> _Plan[tuple[list[UserMemory], int]]:
    query = filter_document(flt, ids)
    direction = DESCENDING if sort == "desc" else ASCENDING
    # Timestamps are whole seconds, so ties are common; _id (an ObjectId, rising
    # with each insert) keeps same-second memories in the order they were written.
    docs = yield _Find(query, [("updated_at", direction), ("_id", direction)], offset, limit or 0)
    total = (yield _Count(query)) if count else 0
    return _read(docs), int(total)


def _update_plan(memory_id: str, user_id: str, changes: dict[str, Any]) -> _Plan[UserMemory | None]:
    key = {"memory_id": memory_id, "user_id": user_id}
    # The document as it was, so the state after is ``before + changes``, exactly
    # what the server applied atomically, with no second read.
    before = yield _FindOneAndSet(key, changes, return_after=False)
    if before is None:
        return None
    after = {**before, **changes}
    pinned = _pinned_created_at(before) if before.get("created_at") is None else None
    if pinned is not None:
        # Agno's single-memory upsert writes no created_at and readers fall back
        # to updated_at, which this update moves: pin the value readers saw so far.
        yield _FindOneAndSet({**key, "created_at": None}, {"created_at": pinned})
        after["created_at"] = pinned
    # An update that leaves the row unreadable (its id is out of limits) finds nothing readable.
    memory = _read([after])
    return memory[0] if memory else None


def _delete_plan(flt: MemoryFilter, ids: Sequence[str] | None) -> _Plan[int]:
    return int((yield _DeleteMany(filter_document(flt, ids))))


def _topics_plan(flt: MemoryFilter) -> _Plan[list[str]]:
    values = yield _Distinct("topics", filter_document(flt))
    return [v for v in values if isinstance(v, str) and v]


def _stats_plan(user_id: str | None, limit: int | None, offset: int) -> _Plan[tuple[list[UserStats], int]]:
    match: dict[str, Any] = {"user_id": user_id} if user_id is not None else {"user_id": {"$type": "string"}}
    group = [
        {"$match": match},
        {"$group": {"_id": "$user_id", "total": {"$sum": 1}, "last": {"$max": "$updated_at"}}},
    ]
    page: list[dict[str, Any]] = [{"$sort": {"last": -1, "_id": 1}}]
    if offset:
        page.append({"$skip": offset})
    if limit is not None:
        page.append({"$limit": limit})
    rows = yield _Aggregate(group + page)
    counted = yield _Aggregate([*group, {"$count": "n"}])
    total = counted[0]["n"] if counted else 0
    unreadable: dict[str, int] = {}
    if rows:
        # Whether a document reads is the Python reader's decision, so the page's users' documents
        # are read to count them: an administrator's view, not a hot path.
        docs = yield _Find({"user_id": {"$in": [r["_id"] for r in rows]}})
        for doc in docs:
            if unreadable_reason(doc, UserMemory.from_document) is not None:
                unreadable[doc["user_id"]] = unreadable.get(doc["user_id"], 0) + 1
    stats = [UserStats(r["_id"], int(r["total"]), r["last"], unreadable.get(r["_id"], 0)) for r in rows]
    return stats, int(total)


def _raw_plan(user_id: str | None, ids: Sequence[str] | None) -> _Plan[list[dict[str, Any]]]:
    query: dict[str, Any] = (
        {"user_id": user_id} if user_id is not None else {"user_id": {"$not": {"$type": "string"}}}
    )
    if ids is not None:
        query["memory_id"] = {"$in": list(ids)}
    docs = yield _Find(query, [("_id", ASCENDING)])
    return [{name: d.get(name) for name in MEMORY_FIELDS} for d in docs]


def _search_plan(flt: MemoryFilter, terms: Sequence[str], limit: int) -> _Plan[list[ScoredMemory]]:
    # re.escape: search text is matched literally, never as a pattern (Agno
    # passes it to $regex unescaped).
    alternatives: list[dict[str, Any]] = []
    for term in terms:
        pattern = {"$regex": re.escape(term), "$options": "i"}
        alternatives += [{"memory": pattern}, {"topics": pattern}]
    query = {**filter_document(flt), "$or": alternatives}
    docs = yield _Find(query, [("updated_at", DESCENDING), ("_id", DESCENDING)], 0, SEARCH_SCAN_LIMIT)
    return rank_by_terms(_read(docs), terms, limit)


def _runs_transactions(hello: dict[str, Any]) -> bool:
    # Multi-document transactions need sessions and a replica set member or a mongos;
    # a standalone server answers hello with neither setName nor "isdbgrid".
    sessions = hello.get("logicalSessionTimeoutMinutes") is not None
    return sessions and (bool(hello.get("setName")) or hello.get("msg") == "isdbgrid")
