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
import inspect
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pymongo
from pymongo import MongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from langmem_agno.errors import (
    ClientTypeError,
    ConfigurationError,
    InvalidMemoryError,
    NoEventLoopError,
    StoreUnavailableError,
)
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.base import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    ScoredMemory,
    SortOrder,
    UserStats,
)
from langmem_agno.stores.history import HistoryRow
from langmem_agno.stores.mongo_changes import Known, KnownChanges
from langmem_agno.stores.mongo_clients import _bound_to_another_loop, _FirstLoop, _LoopClients
from langmem_agno.stores.mongo_exec import aexecute, execute
from langmem_agno.stores.mongo_plans import (
    _INDEXES,
    _apply_plan,
    _BulkWrite,  # noqa: F401  (re-exported: fault tests build requests by this path)
    _CreateIndex,
    _delete_plan,
    _find_plan,
    _Hello,
    _insert_plan,
    _Op,
    _Plan,
    _raw_plan,
    _runs_transactions,
    _stats_plan,
    _takes_client_bulk,
    _topics_plan,
    _update_plan,
    one_write,
)
from langmem_agno.stores.mongo_search import search_plan
from langmem_agno.stores.types import LifecycleOptions
from langmem_agno.twins import arun_plan, run_plan

logger = logging.getLogger(__name__)
T = TypeVar("T")
_INDEX_CONFLICT_CODES = {85, 86}  # IndexOptionsConflict, IndexKeySpecsConflict
#: How long past ``timeout_ms`` an async transaction may run before it is cancelled: the client-side
#: timeout normally ends it first, with the server's own error.
_DEADLINE_GRACE_S = 0.5


class MongoMemoryStore(KnownChanges):
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
        lifecycle: History and expiry options (:class:`~langmem_agno.stores.types.LifecycleOptions`).
        timeout_ms: Server selection, connect and socket timeout for clients the store opens, and
            the most a transaction (:meth:`apply_changes`) takes, retries included, on any client.
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
        lifecycle: LifecycleOptions | None = None,
        timeout_ms: int = 5_000,
        create_indexes: bool = True,
        use_transactions: bool = True,
    ) -> None:
        super().__init__(max_memory_chars=max_memory_chars, secret_filter=secret_filter, lifecycle=lifecycle)
        if uri is None and client is None and async_client is None:
            raise ConfigurationError(
                "MongoMemoryStore needs a uri, a client=MongoClient(...) or an async_client"
            )
        if client is not None and not isinstance(client, MongoClient):
            raise ClientTypeError(f"client must be a pymongo MongoClient, got {type(client).__name__}")
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
        self._passed_loop = _FirstLoop()
        self._indexes_ready = not create_indexes
        self._index_lock = threading.Lock()
        self.use_transactions = use_transactions
        # Whether the sync / async client's deployment runs transactions; asked once each.
        # The store's own async clients (one per loop) share one URI, so one deployment and one answer.
        self._transactions: dict[str, bool] = {}
        self._client_bulk: dict[str, bool] = {}  # and whether it takes the client-level bulkWrite
        # Whether the collection has a text index over memory and topics; asked on the first search.
        self._text_index: bool | None = None
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

    def _where(self) -> str:
        return f"MongoDB {self.database}.{self.collection}"

    def _sync_collection(self) -> Any:
        if self._client is None:
            raise ClientTypeError(
                "this MongoMemoryStore has only an async client: use the a-prefixed methods, "
                "or pass client=MongoClient(...) or a uri"
            )
        return self._client[self.database][self.collection]

    def _async_collection(self) -> Any:
        client = self._async_client
        if client is None:
            if self.uri is None:
                raise ClientTypeError(
                    "this MongoMemoryStore has only a sync client: use the sync methods, "
                    "or pass async_client=AsyncMongoClient(...) or a uri"
                )
            try:
                client = self._owned_async.current()
            except RuntimeError as exc:
                raise NoEventLoopError(
                    "MongoMemoryStore opens one async client per event loop: "
                    "ask for its async collection from inside a coroutine"
                ) from exc
        else:
            try:
                self._passed_loop.check()
            except RuntimeError as exc:
                raise self._translate_loop(exc) from exc
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
        return execute(coll, op, session)

    async def _aexec(self, coll: Any, op: _Op, session: Any = None) -> Any:
        return await aexecute(coll, op, session)

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

    def _learn(self, mode: str, hello: dict[str, Any]) -> None:
        self._transactions[mode] = _runs_transactions(hello)
        self._client_bulk[mode] = _takes_client_bulk(hello)

    def _atomic(self, mode: str, bulk: bool) -> bool:
        return self.use_transactions and self._transactions[mode] and (self._client_bulk[mode] or not bulk)

    def _run_atomic(
        self, make_plan: Callable[[bool], _Plan[T]], *, single: bool = False, bulk: bool = False
    ) -> T:
        """Run a plan in one transaction when the deployment has them, else as it is.

        ``make_plan(atomic)`` builds the plan; ``single``: it writes one document, atomic
        without a transaction, so it runs without one (no commit round trip); ``bulk``: it
        needs the client-level ``bulkWrite`` too, and runs as ``make_plan(False)`` without it.
        """
        coll = self._sync_collection()
        try:
            self._ensure_indexes(coll)
            if "sync" not in self._transactions:  # asked once per store, even before a single write
                self._learn("sync", self._exec(coll, _Hello()))
            if single or not self._atomic("sync", bulk):
                return self._drive(coll, make_plan(single))
            # PyMongo's with_transaction retries a transient failure for 120 s (a server gone
            # mid-transaction is one); under a client-side timeout it stops at the deadline.
            with pymongo.timeout(self.timeout_ms / 1000), coll.database.client.start_session() as session:
                # with_transaction reruns the callback on a transient error, so each run gets a fresh plan.
                return session.with_transaction(  # type: ignore[no-any-return]
                    lambda s: self._drive(coll, make_plan(True), s)
                )
        except PyMongoError as exc:
            raise self._translate(exc) from exc

    async def _arun_atomic(
        self, make_plan: Callable[[bool], _Plan[T]], *, single: bool = False, bulk: bool = False
    ) -> T:
        """Async twin of :meth:`_run_atomic`."""
        coll = self._async_collection()
        try:
            await self._aensure_indexes(coll)
            if "async" not in self._transactions:
                self._learn("async", await self._aexec(coll, _Hello()))
            if single or not self._atomic("async", bulk):
                return await self._adrive(coll, make_plan(single))
            with pymongo.timeout(self.timeout_ms / 1000):
                session = coll.database.client.start_session()
                if inspect.isawaitable(session):  # Motor's start_session is a coroutine, PyMongo's is not
                    session = await session
                async with session:

                    async def attempt(s: Any) -> T:
                        return await self._adrive(coll, make_plan(True), s)

                    # Motor's with_transaction keeps its own 120 s limit and runs each operation on a
                    # thread the client-side timeout does not reach: the deadline is enforced here too.
                    async with asyncio.timeout(self.timeout_ms / 1000 + _DEADLINE_GRACE_S):
                        return await session.with_transaction(attempt)  # type: ignore[no-any-return]
        except PyMongoError as exc:
            raise self._translate(exc) from exc
        except TimeoutError as exc:
            raise StoreUnavailableError(
                f"{self._where()}: the transaction did not finish within timeout_ms={self.timeout_ms}"
            ) from exc
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

    def _apply(
        self, request: ChangeRequest, known: Known | None = None, rows: Sequence[HistoryRow] = ()
    ) -> ChangeSet:
        # ``known``: the memories it changes as the caller read them (see mongo_changes).
        done = None if known is None else self._apply_known(request, known, rows)
        if done is not None:
            return done
        return self._run_atomic(lambda atomic: _apply_plan(request, atomic=atomic), single=one_write(request))

    async def _aapply(
        self, request: ChangeRequest, known: Known | None = None, rows: Sequence[HistoryRow] = ()
    ) -> ChangeSet:
        done = None if known is None else await self._aapply_known(request, known, rows)
        if done is not None:
            return done
        return await self._arun_atomic(
            lambda atomic: _apply_plan(request, atomic=atomic), single=one_write(request)
        )

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
        hits, self._text_index = self._run(search_plan(flt, terms, limit, self._text_index))
        return hits

    def _raw(self, user_id: str | None, ids: Sequence[str] | None) -> list[dict[str, Any]]:
        return self._run(_raw_plan(user_id, ids))

    async def _asearch(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        hits, self._text_index = await self._arun(search_plan(flt, terms, limit, self._text_index))
        return hits
