"""MongoDB operations written once, as plans: generators of typed requests.

A plan yields database requests (the frozen dataclasses below) and receives each
result back; :class:`~langmem_agno.stores.mongo.MongoMemoryStore` runs it with a
sync driver on a ``MongoClient`` or an async one on an ``AsyncMongoClient`` (or a
Motor client), so the two twins of every operation share all their logic.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, DeleteOne, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError
from pymongo.results import BulkWriteResult

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import MEMORY_FIELDS, UserMemory, read_all, unreadable_reason
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
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
class _FindCounted:
    """A page of ``filter``'s documents and their total, in one round trip (an aggregate)."""

    filter: dict[str, Any]
    sort: list[tuple[str, int]]
    skip: int
    limit: int


@dataclass(frozen=True)
class _SearchAndNewest:
    """A word search's pipeline, then a page of the newest and their total: one aggregate.

    ``search`` may be empty (no related memories wanted); the newest are ``filter``'s documents
    by ``sort``, the first ``limit`` of them.
    """

    search: list[dict[str, Any]]
    filter: dict[str, Any]
    sort: list[tuple[str, int]]
    limit: int


@dataclass(frozen=True)
class _UnionAll:
    """Several pipelines on the collection as one aggregate (``$unionWith``); each one's rows back apart."""

    pipelines: list[list[dict[str, Any]]]


@dataclass(frozen=True)
class _BulkWrite:
    requests: Sequence[InsertOne[dict[str, Any]] | UpdateOne | DeleteOne]
    ordered: bool = False


@dataclass(frozen=True)
class _ClientBulk(_BulkWrite):
    """A bulk write as one client-level ``bulkWrite`` (MongoDB 8.0+), ordered, results per operation.

    Each request names its collection (``namespace``), so one command writes several; to the
    rest of the store (and to a test's fault injection) it is a bulk write like any other.
    """


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


@dataclass(frozen=True)
class _ListIndexes:
    """The collection's index descriptions (``listIndexes``)."""


_Op = (
    _Find
    | _Count
    | _FindCounted
    | _SearchAndNewest
    | _UnionAll
    | _BulkWrite
    | _ClientBulk
    | _FindOneAndSet
    | _DeleteMany
    | _Distinct
    | _Aggregate
    | _CreateIndex
    | _Hello
    | _ListIndexes
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


def upsert_spec(record: UserMemory, user_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The filter and update of an add as an upsert: insert-if-absent, so a retried add writes nothing."""
    insert = {k: v for k, v in record.to_document().items() if k not in ("memory_id", "user_id")}
    return {"memory_id": record.memory_id, "user_id": user_id}, {"$setOnInsert": insert}


def _upserts(records: Sequence[UserMemory], user_id: str | None) -> list[UpdateOne | DeleteOne]:
    return [UpdateOne(*upsert_spec(rec, user_id), upsert=True) for rec in records]


def _insert_plan(records: list[UserMemory]) -> _Plan[list[UserMemory]]:
    """Insert the records in one round trip: the unique ``memory_id_1`` index claims each id.

    No check before and no read after: what is inserted is exactly the records. Only when the
    server refuses an id (the write result names it) is the holder read: this user's memory
    (a retried add) is returned as stored; another user's refuses the batch, and the records this
    batch did insert are deleted again, so a refused batch leaves nothing behind.
    """
    try:
        yield _BulkWrite([InsertOne(r.to_document()) for r in records])
    except BulkWriteError as exc:
        return (yield from _settle_refused(records, exc))
    return list(records)


def _settle_refused(records: list[UserMemory], exc: BulkWriteError) -> _Plan[list[UserMemory]]:
    user_id = records[0].user_id
    errors = exc.details.get("writeErrors", [])
    failed = {e.get("index") for e in errors}
    # A duplicate key of any other unique index (someone else's) is no retry: the batch fails.
    others = [e for e in errors if e.get("code") != 11000 or not _on_memory_id(e)]
    held_ids = [records[i].memory_id for i in sorted(failed) if isinstance(i, int)]
    held = [] if others else (yield _Find({"memory_id": {"$in": held_ids}, "user_id": user_id}))
    mine = {d["memory_id"] for d in held}
    # Not this user's (another user's, or its holder gone since): an id this batch could not claim.
    taken = next((i for i in held_ids if i not in mine), None)
    if others or taken is not None:
        inserted = [r.memory_id for i, r in enumerate(records) if i not in failed]
        if inserted:
            yield _DeleteMany({"memory_id": {"$in": inserted}, "user_id": user_id})
        if others:
            raise exc
        raise InvalidMemoryError(f"memory_id {taken!r} is already in use")
    stored = {m.memory_id: m for m in _read(held)}
    return [stored_or_unreadable(stored, r.memory_id) if i in failed else r for i, r in enumerate(records)]


def _on_memory_id(write_error: dict[str, Any]) -> bool:
    # Agno's unique memory_id_1, or the {user_id, memory_id} key a sharded collection is given.
    return set(_key_fields(write_error)) in ({"memory_id"}, {"memory_id", "user_id"})


def _key_fields(write_error: dict[str, Any]) -> list[str]:
    return list(write_error.get("keyPattern") or write_error.get("keyValue") or {"memory_id": 1})


def one_write(request: ChangeRequest) -> bool:
    """Whether the change set is a single memory's write, atomic on any deployment without a transaction."""
    return len(request.adds) + len(request.updates) + len(request.deletes) == 1


def _apply_plan(request: ChangeRequest, *, atomic: bool) -> _Plan[ChangeSet]:
    """Write a change set as one ordered bulk write of single-document operations.

    ``atomic``: it runs in a transaction (or is one document's write), so a refused add rolls
    back everything. Otherwise (a standalone server) an id another user holds is refused before
    anything is written, a failure can stop the write part-way, and running it again converges:
    the adds are insert-if-absent, the updates ``$set`` fixed values, and deleting a gone memory
    is a no-op; single-document operations are what retryable writes retry.

    The updated memories are the documents read before the write plus the changes (the write
    ran on exactly those, in the transaction); only when the write result says another writer
    got in between, or an add found its id already stored, is anything read back.
    """
    flt = request.flt
    scope = filter_document(flt)
    add_ids = [r.memory_id for r in request.adds]
    if add_ids and not atomic:
        yield from _refuse_taken_ids(flt.user_id, add_ids)
    update_ids = [i for i, _ in request.updates]
    targets = [*update_ids, *request.deletes]
    present: dict[str, dict[str, Any]] = {}
    if targets:
        present = {d["memory_id"]: d for d in (yield _Find(filter_document(flt, targets)))}
    writes = _upserts(request.adds, flt.user_id)
    after: dict[str, dict[str, Any]] = {}
    for memory_id, changes in request.updates:
        before = present.get(memory_id)
        if before is None:
            continue
        key = {**scope, "memory_id": memory_id}
        after[memory_id] = {**before, **changes}
        pinned = _pinned_created_at(before) if before.get("created_at") is None else None
        if pinned is not None:
            # As in _update_plan: pin the created_at readers saw (Agno's upsert writes none).
            writes.append(UpdateOne({**key, "created_at": None}, {"$set": {"created_at": pinned}}))
            after[memory_id]["created_at"] = pinned
        writes.append(UpdateOne(key, {"$set": changes}))
    deleted = [i for i in request.deletes if i in present]
    writes += [DeleteOne({**scope, "memory_id": i}) for i in deleted]
    result: BulkWriteResult | None = (yield _BulkWrite(writes, ordered=True)) if writes else None
    upserted = set(result.upserted_ids or {}) if result is not None else set()
    reread = [i for k, i in enumerate(add_ids) if k not in upserted]
    # Every update and pin matches once, and so does an add whose id was already stored.
    expected = len(writes) - len(add_ids) - len(deleted) + len(reread)
    if result is not None and result.matched_count != expected:
        reread += list(after)  # another writer got in between (no transaction): read what is there
        after = {}
    docs = (yield _Find({"memory_id": {"$in": reread}, "user_id": flt.user_id})) if reread else []
    stored = {m.memory_id: m for m in _read([*docs, *after.values()])}
    stored.update((r.memory_id, r) for k, r in enumerate(request.adds) if k in upserted)
    return ChangeSet(
        added=[stored_or_unreadable(stored, i) for i in add_ids],
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
    order = [("updated_at", direction), ("_id", direction)]
    if count and limit is not None:
        # A page and its total: one aggregate, the count served by the same index as the page.
        docs, total = yield _FindCounted(query, order, offset, limit)
        return _read(docs), int(total)
    docs = yield _Find(query, order, offset, limit or 0)
    total = 0
    if count:
        # Everything from the offset on: the total is what came back, no count, unless the
        # offset is past the end (nothing came back).
        total = offset + len(docs) if docs or not offset else (yield _Count(query))
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


def _takes_client_bulk(hello: dict[str, Any]) -> bool:
    # The client-level bulkWrite command came with MongoDB 8.0, wire version 25.
    return int(hello.get("maxWireVersion") or 0) >= 25


def _runs_transactions(hello: dict[str, Any]) -> bool:
    # Multi-document transactions need sessions and a replica set member or a mongos;
    # a standalone server answers hello with neither setName nor "isdbgrid".
    sessions = hello.get("logicalSessionTimeoutMinutes") is not None
    return sessions and (bool(hello.get("setName")) or hello.get("msg") == "isdbgrid")
