"""Memories in PostgreSQL, in the table Agno's ``PostgresDb`` creates (schema ``ai``, ``agno_memories``).

psycopg 3 with connection pools: a sync :class:`psycopg_pool.ConnectionPool` and, for the
async twins, a native :class:`psycopg_pool.AsyncConnectionPool` (one per event loop when the
store opens them itself). Each primitive is a plan of statements in ``postgres_sql.py``,
run by either driver in one transaction, so the sync and async paths share every line of
logic. The table and its indexes are created on first use when absent.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from langmem_agno.errors import ConfigurationError, InvalidMemoryError, StoreUnavailableError
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.base import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    MemoryStore,
    ScoredMemory,
    SortOrder,
    UserStats,
)
from langmem_agno.stores.mongo_clients import _LoopClients
from langmem_agno.stores.postgres_sql import (
    Names,
    Plan,
    Result,
    Statement,
    apply_plan,
    ddl_plan,
    delete_plan,
    find_plan,
    insert_plan,
    raw_plan,
    search_plan,
    stats_plan,
    topics_plan,
    update_plan,
)
from langmem_agno.stores.types import LifecycleOptions
from langmem_agno.twins import arun_plan, run_plan

__all__ = ["PostgresMemoryStore"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _where(conninfo: str) -> str:
    """The server a conninfo names, for messages: host, port and database, never the password."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "PostgreSQL"
    return f"PostgreSQL {parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _translate(exc: Exception, where: str) -> Exception:
    """Our error for a driver's: a value the server refuses is the caller's, anything else an outage."""
    if isinstance(exc, psycopg.DataError):
        return InvalidMemoryError(f"{where} refused a value: {exc}")
    return StoreUnavailableError(f"{where}: {exc}")


def _sync_step(cur: psycopg.Cursor[dict[str, Any]]) -> Any:
    def step(stmt: Statement) -> Result:
        cur.execute(stmt.query, stmt.params)
        rows = cur.fetchall() if cur.description is not None else []
        return rows, cur.rowcount

    return step


def _async_step(cur: psycopg.AsyncCursor[dict[str, Any]]) -> Any:
    async def step(stmt: Statement) -> Result:
        await cur.execute(stmt.query, stmt.params)
        rows = await cur.fetchall() if cur.description is not None else []
        return rows, cur.rowcount

    return step


class PostgresMemoryStore(MemoryStore):
    """Memories in a PostgreSQL table that Agno's ``PostgresDb`` reads and writes too.

    Give a URI and the store opens (and later closes) its own pools; or pass pools you
    own (``pool``, ``async_pool`` or both), which the store uses and never closes. With
    only one kind of pool given, the other kind is opened from its connection string.

    Args:
        uri: A libpq connection string or ``postgresql://`` URI.
        pool: A ``psycopg_pool.ConnectionPool`` for the sync methods.
        async_pool: A ``psycopg_pool.AsyncConnectionPool`` for the async twins.
        schema: The schema (Agno's ``db_schema``); ``ai`` by default, as Agno's.
        table: The table (Agno's ``memory_table``); ``agno_memories`` by default.
        max_memory_chars: The longest memory text accepted on add and update.
        secret_filter: Refuse text holding an obvious secret; ``False`` turns it off.
        lifecycle: History and expiry options (:class:`~langmem_agno.stores.types.LifecycleOptions`).
        min_size: Connections each pool the store opens keeps open.
        max_size: Most connections each pool the store opens holds.
        timeout: Seconds to wait for a connection before the server counts as unavailable.

    Raises:
        ConfigurationError: If no connection is given, or a name is not a plain SQL identifier.

    Example:
        A server at ``localhost`` (the test suite runs the same calls on a cluster of its own)::

            store = PostgresMemoryStore("postgresql://localhost/app")
            store.add("Sarah prefers email", user_id="u1").memory  # 'Sarah prefers email'
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        async_pool: AsyncConnectionPool[Any] | None = None,
        schema: str = "ai",
        table: str = "agno_memories",
        max_memory_chars: int | None = DEFAULT_MAX_MEMORY_CHARS,
        secret_filter: SecretFilter | bool = True,
        lifecycle: LifecycleOptions | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(max_memory_chars=max_memory_chars, secret_filter=secret_filter, lifecycle=lifecycle)
        for name, value in (("schema", schema), ("table", table)):
            if not isinstance(value, str) or not _IDENTIFIER.match(value):
                raise ConfigurationError(f"{name} name must be a plain SQL identifier, got {value!r}")
        # With one kind of pool given, the other kind is opened from its connection string.
        given = [p.conninfo for p in (pool, async_pool) if p is not None and isinstance(p.conninfo, str)]
        conninfo = uri or (given[0] if given else "")
        if not conninfo and pool is None and async_pool is None:
            raise ConfigurationError("PostgresMemoryStore needs a uri, a pool or an async_pool, got none")
        if min_size < 0 or max_size < max(1, min_size):
            raise ConfigurationError(
                f"pool sizes must be 0 <= min_size <= max_size, got {min_size}, {max_size}"
            )
        self.names = Names(schema, table)
        self.schema = schema
        self.table = table
        self.conninfo = conninfo
        self.timeout = timeout
        self._where = _where(conninfo)
        self._pool_kwargs: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": timeout,
            # Autocommit: a one-statement plan is one round trip, no BEGIN/COMMIT; plans
            # still run in a transaction block of their own (see _run).
            "kwargs": {"autocommit": True, "connect_timeout": max(1, int(timeout))},
        }
        self._pool = pool
        self._owns_pool = pool is None
        self._async_pool = async_pool
        self._owned_async = _LoopClients(self._new_async_pool)
        self._lock = threading.Lock()
        self._ready = False
        self._closed = False

    def __repr__(self) -> str:
        return f"PostgresMemoryStore({self._where!r}, schema={self.schema!r}, table={self.table!r})"

    # ------------------------------------------------------------ connections
    def _sync_pool(self) -> ConnectionPool[Any]:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(self.conninfo, open=False, **self._pool_kwargs)
            pool = self._pool
        if self._owns_pool and pool.closed:
            try:
                pool.open(wait=self._pool_kwargs["min_size"] > 0, timeout=self.timeout)
            except PoolTimeout as exc:
                raise StoreUnavailableError(f"cannot connect to {self._where}: {exc}") from exc
        return pool

    def _new_async_pool(self) -> AsyncConnectionPool[Any]:
        return AsyncConnectionPool(self.conninfo, open=False, **self._pool_kwargs)

    async def _current_async_pool(self) -> AsyncConnectionPool[Any]:
        if self._async_pool is not None:
            return self._async_pool
        pool: AsyncConnectionPool[Any] = self._owned_async.current()
        if pool.closed:
            try:
                await pool.open(wait=self._pool_kwargs["min_size"] > 0, timeout=self.timeout)
            except PoolTimeout as exc:
                raise StoreUnavailableError(f"cannot connect to {self._where}: {exc}") from exc
        return pool

    def _run(self, plan: Plan[T], *, atomic: bool = False) -> T:
        """Run a plan on a pooled connection; in one transaction block when ``atomic``.

        Only a plan of several writes needs the block: every other plan is one statement
        (atomic by itself) or reads only, and on the store's own autocommit pools it then
        costs one round trip per statement, with no BEGIN and COMMIT around it.
        """
        try:
            with self._sync_pool().connection() as conn:
                if not self._ready:
                    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                        run_plan(ddl_plan(self.names), _sync_step(cur))
                    self._ready = True
                with conn.cursor(row_factory=dict_row) as cur:
                    if not atomic:
                        return run_plan(plan, _sync_step(cur))
                    with conn.transaction():
                        return run_plan(plan, _sync_step(cur))
        except (psycopg.Error, PoolTimeout) as exc:
            raise _translate(exc, self._where) from exc

    async def _arun(self, plan: Plan[T], *, atomic: bool = False) -> T:
        """Async twin of :meth:`_run`, on the async pool."""
        pool = await self._current_async_pool()
        try:
            async with pool.connection() as conn:
                if not self._ready:
                    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                        await arun_plan(ddl_plan(self.names), _async_step(cur))
                    self._ready = True
                async with conn.cursor(row_factory=dict_row) as cur:
                    if not atomic:
                        return await arun_plan(plan, _async_step(cur))
                    async with conn.transaction():
                        return await arun_plan(plan, _async_step(cur))
        except (psycopg.Error, PoolTimeout) as exc:
            raise _translate(exc, self._where) from exc

    def close(self) -> None:
        """Close the pools this store opened (pools passed in stay open)."""
        if self._owns_pool and self._pool is not None:
            self._pool.close()
            self._pool = None
        self._owned_async.close()

    async def aclose(self) -> None:
        """Close the pools this store opened, this loop's async pool before returning."""
        if self._owns_pool and self._pool is not None:
            self._pool.close()
            self._pool = None
        await self._owned_async.aclose()

    # ------------------------------------------------------------ primitives
    def _insert(self, records: list[UserMemory]) -> list[UserMemory]:
        return self._run(insert_plan(self.names, records))

    async def _ainsert(self, records: list[UserMemory]) -> list[UserMemory]:
        return await self._arun(insert_plan(self.names, records))

    def _apply(self, request: ChangeRequest) -> ChangeSet:
        return self._run(apply_plan(self.names, request), atomic=True)

    async def _aapply(self, request: ChangeRequest) -> ChangeSet:
        return await self._arun(apply_plan(self.names, request), atomic=True)

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
        plan = find_plan(self.names, flt, ids=ids, sort=sort, limit=limit, offset=offset, count=count)
        return self._run(plan)

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
        plan = find_plan(self.names, flt, ids=ids, sort=sort, limit=limit, offset=offset, count=count)
        return await self._arun(plan)

    def _update(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        return self._run(update_plan(self.names, memory_id, user_id, changes))

    async def _aupdate(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        return await self._arun(update_plan(self.names, memory_id, user_id, changes))

    def _delete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        return self._run(delete_plan(self.names, flt, ids))

    async def _adelete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        return await self._arun(delete_plan(self.names, flt, ids))

    def _topics(self, flt: MemoryFilter) -> list[str]:
        return self._run(topics_plan(self.names, flt))

    async def _atopics(self, flt: MemoryFilter) -> list[str]:
        return await self._arun(topics_plan(self.names, flt))

    def _stats(self, user_id: str | None, limit: int | None, offset: int) -> tuple[list[UserStats], int]:
        return self._run(stats_plan(self.names, user_id, limit, offset))

    async def _astats(
        self, user_id: str | None, limit: int | None, offset: int
    ) -> tuple[list[UserStats], int]:
        return await self._arun(stats_plan(self.names, user_id, limit, offset))

    def _search(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        return self._run(search_plan(self.names, flt, terms, limit))

    async def _asearch(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        return await self._arun(search_plan(self.names, flt, terms, limit))

    def _raw(self, user_id: str | None, ids: Sequence[str] | None) -> list[dict[str, Any]]:
        return self._run(raw_plan(self.names, user_id, ids))
