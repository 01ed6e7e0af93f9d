"""Memories in MongoDB, in the document layout Agno's ``MongoDb`` uses.

Each operation is written once, as a *plan*: a generator that yields database
requests (:class:`_Op` values) and receives their results. A sync driver runs
a plan on a PyMongo ``MongoClient``; an async driver runs the same plan on a
PyMongo ``AsyncMongoClient`` (or a Motor client), natively, with no thread pool.
So the sync and async twins share every line of logic and differ only in how
one request reaches the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, DeleteOne, MongoClient, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from langmem_agno.errors import ConfigurationError, InvalidMemoryError, StoreUnavailableError
from langmem_agno.plans import arun_plan, run_plan
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, MEMORY_FIELDS, UserMemory
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.base import (
    SEARCH_SCAN_LIMIT,
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    MemoryStore,
    ScoredMemory,
    SortOrder,
    UserStats,
    rank_by_terms,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
_PROJECTION = {"_id": 0, **{f: 1 for f in MEMORY_FIELDS}}
_INDEX_CONFLICT_CODES = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict


# ---------------------------------------------------------------- requests
@dataclass(frozen=True)
class _Find:
    filter: dict[str, Any]
    sort: list[tuple[str, int]] = field(default_factory=list)
    skip: int = 0
    limit: int = 0
    projection: dict[str, int] = field(default_factory=lambda: dict(_PROJECTION))


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
    return [UserMemory.from_document(d) for d in docs]


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
    return [stored[i] for i in ids]


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
        if before.get("created_at") is None:
            # As in _update_plan: pin the created_at readers saw (Agno's upsert writes none).
            pinned = UserMemory.from_document(before).created_at
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
        added=[stored[i] for i in add_ids],
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
    if before.get("created_at") is None:
        # Agno's single-memory upsert writes no created_at and readers fall back
        # to updated_at, which this update moves: pin the value readers saw so far.
        pinned = UserMemory.from_document(before).created_at
        yield _FindOneAndSet({**key, "created_at": None}, {"created_at": pinned})
        after["created_at"] = pinned
    return UserMemory.from_document(after)


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
    return [UserStats(r["_id"], int(r["total"]), r["last"]) for r in rows], int(total)


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


# ---------------------------------------------------------------- owned async clients
def _bound_to_another_loop(exc: RuntimeError) -> bool:
    # PyMongo says "Cannot use AsyncMongoClient in different event loop"; Motor and
    # asyncio say a future or lock is "attached to" / "bound to a different event loop".
    return "different event loop" in str(exc) or "different loop" in str(exc)


class _LoopClients:
    """The ``AsyncMongoClient`` objects a store opened itself: one per event loop.

    PyMongo binds an async client to the loop it first runs on, so a store used
    from several ``asyncio.run`` calls needs one client per loop. Each client is
    closed while its loop can still do I/O: a parked async generator holds it,
    and the loop's ``shutdown_asyncgens`` (run by ``asyncio.run`` and
    ``asyncio.Runner`` before closing the loop) finalizes the generator.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._open: dict[asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]] = {}

    def current(self) -> Any:
        """Return the client for the running loop, opening it on first use there."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._open.get(loop)
            if entry is None:
                self._forget_dead_loops()
                client = self._make()
                closer = self._close_at_loop_end(loop, client)
                self._open[loop] = entry = (client, closer)
                # Run the generator to its yield now, so the loop registers it (its
                # firstiter hook); nothing before that yield awaits.
                with contextlib.suppress(StopIteration):
                    closer.asend(None).send(None)
            return entry[0]

    def clients(self) -> list[Any]:
        """Return the clients not yet closed (or not yet scheduled to close)."""
        return [client for client, _ in self._open.values()]

    async def _close_at_loop_end(
        self, loop: asyncio.AbstractEventLoop, client: Any
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                if self._open.get(loop, (None,))[0] is client:
                    del self._open[loop]
            try:
                await client.close()
            except Exception:  # a close that fails must not break the loop's shutdown
                logger.warning("closing an AsyncMongoClient failed", exc_info=True)

    def _forget_dead_loops(self) -> None:
        # A loop closed without shutdown_asyncgens (a bare loop.close()) took its
        # client's sockets with it: nothing can close that client any more.
        for loop in [lp for lp in self._open if lp.is_closed()]:
            del self._open[loop]
            logger.warning("an AsyncMongoClient outlived its event loop, closed without shutdown_asyncgens")

    def close(self) -> None:
        """Close every client whose loop is idle now, and schedule the close on running loops."""
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        closing: list[tuple[asyncio.AbstractEventLoop, AsyncGenerator[None, None]]] = []
        with self._lock:
            self._forget_dead_loops()
            for loop, (_, closer) in list(self._open.items()):
                if loop.is_running() or here is None:
                    del self._open[loop]
                    closing.append((loop, closer))
                else:
                    # run_until_complete cannot run inside another running loop: the client
                    # stays registered, for a later close() or its loop's shutdown.
                    logger.warning("an AsyncMongoClient on an idle event loop is left for that loop to close")
        for loop, closer in closing:
            if loop.is_running():
                # Its loop is busy (this thread's or another's): the close runs there, soon.
                asyncio.run_coroutine_threadsafe(closer.aclose(), loop)
            else:
                loop.run_until_complete(closer.aclose())

    async def aclose(self) -> None:
        """Close every client: the running loop's here, the others as :meth:`close` does."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._open.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()
        self.close()


# ---------------------------------------------------------------- the store
class MongoMemoryStore(MemoryStore):
    """Memories in a MongoDB collection that Agno's ``MongoDb`` reads and writes too.

    Give a URI and the store opens (and later closes) its own clients; or pass
    clients you already have: a PyMongo ``MongoClient`` for the sync methods, and
    a PyMongo ``AsyncMongoClient`` (or a Motor client) for the async ones.

    An async client works on one event loop only. From a URI the store opens one
    per loop (so successive ``asyncio.run`` calls work) and closes each when its
    loop shuts down, or on :meth:`close` / :meth:`aclose`. A client you pass is
    yours: used on another loop it raises :class:`StoreUnavailableError`.

    Args:
        uri: A ``mongodb://`` or ``mongodb+srv://`` connection string.
        client: An existing sync ``MongoClient``.
        async_client: An existing ``AsyncMongoClient`` or Motor ``AsyncIOMotorClient``.
        database: Database name; ``agno`` by default, as Agno's.
        collection: Collection name; ``agno_memories`` by default (Agno's ``memory_collection``).
        max_memory_chars: The longest memory text accepted on add and update.
        secret_filter: Refuse text holding an obvious secret; ``False`` turns it off.
        timeout_ms: Server selection, connect and socket timeout for clients the store opens.
        create_indexes: Create the indexes the store relies on, once, on first use.
        use_transactions: Write a change set (:meth:`apply_changes`) in one multi-document
            transaction when the deployment supports them (a replica set or a sharded
            cluster, detected once with ``hello``). ``False`` always writes it as one
            ordered bulk write, as on a standalone server, which is not atomic.

    Example:
        A server at ``localhost:27017`` (the test suite runs the same calls on its own server)::

            store = MongoMemoryStore("mongodb://localhost:27017")
            store.add("Sarah prefers email", user_id="u1")
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        client: MongoClient[dict[str, Any]] | None = None,
        async_client: Any = None,
        database: str = "agno",
        collection: str = "agno_memories",
        max_memory_chars: int | None = DEFAULT_MAX_MEMORY_CHARS,
        secret_filter: SecretFilter | bool = True,
        timeout_ms: int = 5_000,
        create_indexes: bool = True,
        use_transactions: bool = True,
    ) -> None:
        super().__init__(max_memory_chars=max_memory_chars, secret_filter=secret_filter)
        if uri is None and client is None and async_client is None:
            raise ConfigurationError(
                "MongoMemoryStore needs a uri, a client=MongoClient(...) or an async_client"
            )
        if client is not None and not isinstance(client, MongoClient):
            raise TypeError(f"client must be a pymongo MongoClient, got {type(client).__name__}")
        for name, value in (("database", database), ("collection", collection)):
            if not isinstance(value, str) or not value or "$" in value or "\0" in value:
                raise ConfigurationError(f"{name} name must be a non-empty string without '$', got {value!r}")
        self.uri = uri
        self.database = database
        self.collection = collection
        self.timeout_ms = timeout_ms
        self._owns_client = client is None and uri is not None
        self._client: MongoClient[dict[str, Any]] | None = client
        self._async_client: Any = async_client
        self._owned_async = _LoopClients(self._open_async_client)
        self._indexes_ready = not create_indexes
        self._index_lock = threading.Lock()
        self.use_transactions = use_transactions
        # Whether the sync / async client's deployment runs transactions; asked once each.
        # The store's own async clients (one per loop) share one URI, so one deployment and one answer.
        self._transactions: dict[str, bool] = {}
        if self._client is None and uri is not None:
            self._client = MongoClient(uri, **self._client_options())

    def __repr__(self) -> str:
        return f"MongoMemoryStore(database={self.database!r}, collection={self.collection!r})"

    def _client_options(self) -> dict[str, Any]:
        return {
            "serverSelectionTimeoutMS": self.timeout_ms,
            "connectTimeoutMS": self.timeout_ms,
            "socketTimeoutMS": max(self.timeout_ms * 4, 20_000),
            "retryWrites": True,
            "retryReads": True,
            "appname": "langmem-agno",
        }

    def _open_async_client(self) -> Any:
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(self.uri, **self._client_options())

    @property
    def is_motor(self) -> bool:
        """Whether the async client is a Motor client."""
        return type(self._async_client).__module__.startswith("motor")

    def _where(self) -> str:
        return f"MongoDB {self.database}.{self.collection}"

    def _sync_collection(self) -> Any:
        if self._client is None:
            raise TypeError(
                "this MongoMemoryStore has only an async client: use the a-prefixed methods, "
                "or pass client=MongoClient(...) or a uri"
            )
        return self._client[self.database][self.collection]

    def _async_collection(self) -> Any:
        client = self._async_client
        if client is None:
            if self.uri is None:
                raise TypeError(
                    "this MongoMemoryStore has only a sync client: use the sync methods, "
                    "or pass async_client=AsyncMongoClient(...) or a uri"
                )
            try:
                client = self._owned_async.current()
            except RuntimeError as exc:
                raise RuntimeError(
                    "MongoMemoryStore opens one async client per event loop: "
                    "ask for its async collection from inside a coroutine"
                ) from exc
        return client[self.database][self.collection]

    def _translate_loop(self, exc: RuntimeError) -> Exception:
        if not _bound_to_another_loop(exc):
            return exc
        return StoreUnavailableError(
            f"{self._where()}: the async client passed to this store belongs to another event loop; "
            f"pass one created on the loop that uses it, or a uri so the store opens one per loop ({exc})"
        )

    def _translate(self, exc: PyMongoError) -> Exception:
        duplicates: list[Mapping[str, Any]] = []
        if isinstance(exc, DuplicateKeyError):
            duplicates = [exc.details or {}]
        elif isinstance(exc, BulkWriteError):
            duplicates = [e for e in exc.details.get("writeErrors", []) if e.get("code") == 11000]
        if duplicates:
            # Name the key: memory_id (ours and Agno's index), or a unique index someone else added.
            keys = sorted({k for d in duplicates for k in d.get("keyPattern") or {"memory_id": 1}})
            what = "memory_id already in use" if keys == ["memory_id"] else f"duplicate value for {keys}"
            return InvalidMemoryError(f"{self._where()}: {what} ({exc})")
        return StoreUnavailableError(f"{self._where()}: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------ drivers
    def _exec(self, coll: Any, op: _Op, session: Any = None) -> Any:
        if isinstance(op, _Find):
            cursor = coll.find(
                op.filter, op.projection, sort=op.sort or None, skip=op.skip, limit=op.limit, session=session
            )
            return list(cursor)
        if isinstance(op, _Count):
            return coll.count_documents(op.filter, session=session)
        if isinstance(op, _BulkWrite):
            return coll.bulk_write(op.requests, ordered=op.ordered, session=session)
        if isinstance(op, _FindOneAndSet):
            return coll.find_one_and_update(
                op.filter,
                {"$set": op.changes},
                projection=_PROJECTION,
                return_document=ReturnDocument.AFTER if op.return_after else ReturnDocument.BEFORE,
                session=session,
            )
        if isinstance(op, _DeleteMany):
            return coll.delete_many(op.filter, session=session).deleted_count
        if isinstance(op, _Distinct):
            return coll.distinct(op.key, op.filter, session=session)
        if isinstance(op, _Aggregate):
            return list(coll.aggregate(op.pipeline, session=session))
        if isinstance(op, _Hello):
            return coll.database.command("hello")
        return coll.create_index(op.keys, name=op.name, unique=op.unique)

    async def _aexec(self, coll: Any, op: _Op, session: Any = None) -> Any:
        if isinstance(op, _Find):
            cursor = coll.find(
                op.filter, op.projection, sort=op.sort or None, skip=op.skip, limit=op.limit, session=session
            )
            return await cursor.to_list(None)
        if isinstance(op, _Aggregate):
            # PyMongo's async aggregate is a coroutine; Motor's returns the cursor directly.
            cursor = coll.aggregate(op.pipeline, session=session)
            if inspect.isawaitable(cursor):
                cursor = await cursor
            return await cursor.to_list(None)
        if isinstance(op, _Count):
            return await coll.count_documents(op.filter, session=session)
        if isinstance(op, _BulkWrite):
            return await coll.bulk_write(op.requests, ordered=op.ordered, session=session)
        if isinstance(op, _FindOneAndSet):
            return await coll.find_one_and_update(
                op.filter,
                {"$set": op.changes},
                projection=_PROJECTION,
                return_document=ReturnDocument.AFTER if op.return_after else ReturnDocument.BEFORE,
                session=session,
            )
        if isinstance(op, _DeleteMany):
            return (await coll.delete_many(op.filter, session=session)).deleted_count
        if isinstance(op, _Distinct):
            return await coll.distinct(op.key, op.filter, session=session)
        if isinstance(op, _Hello):
            return await coll.database.command("hello")
        return await coll.create_index(op.keys, name=op.name, unique=op.unique)

    def _drive(self, coll: Any, plan: _Plan[T], session: Any = None) -> T:
        return run_plan(plan, lambda op: self._exec(coll, op, session))

    async def _adrive(self, coll: Any, plan: _Plan[T], session: Any = None) -> T:
        return await arun_plan(plan, lambda op: self._aexec(coll, op, session))

    def _run(self, plan: _Plan[T]) -> T:
        coll = self._sync_collection()
        try:
            self._ensure_indexes(coll)
            return self._drive(coll, plan)
        except PyMongoError as exc:
            raise self._translate(exc) from exc

    async def _arun(self, plan: _Plan[T]) -> T:
        coll = self._async_collection()
        try:
            await self._aensure_indexes(coll)
            return await self._adrive(coll, plan)
        except PyMongoError as exc:
            raise self._translate(exc) from exc
        except RuntimeError as exc:
            raise self._translate_loop(exc) from exc

    def _run_atomic(self, make_plan: Callable[[], _Plan[T]]) -> T:
        """Run a plan in one transaction when the deployment has them, else as it is."""
        coll = self._sync_collection()
        try:
            self._ensure_indexes(coll)
            if "sync" not in self._transactions:
                self._transactions["sync"] = _runs_transactions(self._exec(coll, _Hello()))
            if not (self.use_transactions and self._transactions["sync"]):
                return self._drive(coll, make_plan())
            with coll.database.client.start_session() as session:
                # with_transaction reruns the callback on a transient error, so each run gets a fresh plan.
                return session.with_transaction(  # type: ignore[no-any-return]
                    lambda s: self._drive(coll, make_plan(), s)
                )
        except PyMongoError as exc:
            raise self._translate(exc) from exc

    async def _arun_atomic(self, make_plan: Callable[[], _Plan[T]]) -> T:
        """Async twin of :meth:`_run_atomic`."""
        coll = self._async_collection()
        try:
            await self._aensure_indexes(coll)
            if "async" not in self._transactions:
                self._transactions["async"] = _runs_transactions(await self._aexec(coll, _Hello()))
            if not (self.use_transactions and self._transactions["async"]):
                return await self._adrive(coll, make_plan())
            session = coll.database.client.start_session()
            if inspect.isawaitable(session):  # Motor's start_session is a coroutine, PyMongo's is not
                session = await session
            async with session:

                async def attempt(s: Any) -> T:
                    return await self._adrive(coll, make_plan(), s)

                return await session.with_transaction(attempt)  # type: ignore[no-any-return]
        except PyMongoError as exc:
            raise self._translate(exc) from exc
        except RuntimeError as exc:
            raise self._translate_loop(exc) from exc

    def _ensure_indexes(self, coll: Any) -> None:
        if self._indexes_ready:
            return
        with self._index_lock:
            if not self._indexes_ready:
                for spec in _INDEXES:
                    try:
                        self._exec(coll, spec)
                    except OperationFailure as exc:
                        self._index_conflict(spec, exc)
                self._indexes_ready = True

    async def _aensure_indexes(self, coll: Any) -> None:
        if self._indexes_ready:
            return
        for spec in _INDEXES:
            try:
                await self._aexec(coll, spec)
            except OperationFailure as exc:
                self._index_conflict(spec, exc)
        self._indexes_ready = True

    def _index_conflict(self, spec: _CreateIndex, exc: OperationFailure) -> None:
        # An index of that name with another spec (someone else's) is left
        # alone: queries still work, only slower, and we never drop a user's index.
        if exc.code not in _INDEX_CONFLICT_CODES:
            raise exc
        logger.warning(
            "%s: index %s exists with another definition, left as is: %s", self._where(), spec.name, exc
        )

    def companion_collection(self, suffix: str, *, use_async: bool = False) -> Any:
        """Return the collection ``<collection>_<suffix>`` beside the memories (``agno_memories_vectors``).

        Data we keep besides Agno's ten fields (vectors, cursors) lives there,
        because one extra key in a memory document breaks Agno's readers.

        Args:
            suffix: The companion's name, a plain word.
            use_async: Return it on the async client instead of the sync one.

        Returns:
            A PyMongo (or Motor) collection.
        """
        if not re.fullmatch(r"[A-Za-z0-9_]+", suffix):
            raise ConfigurationError(f"companion suffix must be a plain word, got {suffix!r}")
        coll = self._async_collection() if use_async else self._sync_collection()
        return coll.database[f"{self.collection}_{suffix}"]

    def close(self) -> None:
        """Close the clients this store opened; a later async call opens a new async client.

        An async client on an idle loop is closed on that loop; one on a running
        loop (this thread's, or another's) is closed there as soon as it gets to it.
        """
        if self._owns_client and self._client is not None:
            self._client.close()
        self._owned_async.close()

    async def aclose(self) -> None:
        """Close the clients this store opened, this loop's async client before returning."""
        if self._owns_client and self._client is not None:
            self._client.close()
        await self._owned_async.aclose()

    # ------------------------------------------------------------ primitives
    def _insert(self, records: list[UserMemory]) -> list[UserMemory]:
        return self._run(_insert_plan(records))

    async def _ainsert(self, records: list[UserMemory]) -> list[UserMemory]:
        return await self._arun(_insert_plan(records))

    def _apply(self, request: ChangeRequest) -> ChangeSet:
        return self._run_atomic(lambda: _apply_plan(request))

    async def _aapply(self, request: ChangeRequest) -> ChangeSet:
        return await self._arun_atomic(lambda: _apply_plan(request))

    def _find(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        return self._run(_find_plan(flt, ids, sort, limit, offset, count))

    async def _afind(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        return await self._arun(_find_plan(flt, ids, sort, limit, offset, count))

    def _update(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        return self._run(_update_plan(memory_id, user_id, changes))

    async def _aupdate(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        return await self._arun(_update_plan(memory_id, user_id, changes))

    def _delete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        return self._run(_delete_plan(flt, ids))

    async def _adelete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        return await self._arun(_delete_plan(flt, ids))

    def _topics(self, flt: MemoryFilter) -> list[str]:
        return self._run(_topics_plan(flt))

    async def _atopics(self, flt: MemoryFilter) -> list[str]:
        return await self._arun(_topics_plan(flt))

    def _stats(self, user_id: str | None, limit: int | None, offset: int) -> tuple[list[UserStats], int]:
        return self._run(_stats_plan(user_id, limit, offset))

    async def _astats(
        self, user_id: str | None, limit: int | None, offset: int
    ) -> tuple[list[UserStats], int]:
        return await self._arun(_stats_plan(user_id, limit, offset))

    def _search(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        return self._run(_search_plan(flt, terms, limit))

    async def _asearch(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        return await self._arun(_search_plan(flt, terms, limit))
