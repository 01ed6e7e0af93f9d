"""History and time-to-live rows on PostgreSQL: ``<table>_history`` and ``<table>_expiry``, in the schema.

Each method is one plan of statements (see ``postgres_sql.py``) run on the
:class:`~langmem_agno.stores.postgres.PostgresMemoryStore`'s own pools, by its sync or its
async driver. Rows Agno's ``PostgresDb`` writes directly are not recorded: recording is done by
our store's write methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from psycopg import sql
from psycopg.types.json import Jsonb

from langmem_agno.stores.history import HistoryRow, LifecycleRows, entry_from_row
from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.postgres_ddl import CompanionTables
from langmem_agno.stores.postgres_sql import Plan, Statement
from langmem_agno.stores.types import HistoryEntry

__all__ = ["PostgresLifecycleRows"]

T = TypeVar("T")

_COLS = ("key", "seq", "user_id", "memory_id", "event", "path", "at")
_TEXTS = ("old_memory", "new_memory", "old_topics", "new_topics")


def _topics(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _values(row: HistoryRow) -> list[Any]:
    e = row.entry
    return [
        row.key,
        row.seq,
        e.user_id,
        e.memory_id,
        e.event,
        e.path,
        e.at,
        e.old_memory,
        e.new_memory,
        None if e.old_topics is None else Jsonb(list(e.old_topics)),
        None if e.new_topics is None else Jsonb(list(e.new_topics)),
    ]


class PostgresLifecycleRows(LifecycleRows):
    """History and expiry beside a :class:`PostgresMemoryStore`'s table, on its pools.

    Args:
        store: The memory store.
    """

    def __init__(self, store: PostgresMemoryStore) -> None:
        self.store = store
        self.history = sql.Identifier(store.schema, f"{store.table}_history")
        self.expiry = sql.Identifier(store.schema, f"{store.table}_expiry")
        self.where = f"PostgreSQL {store.schema}.{store.table}_history / _expiry"
        self._tables = CompanionTables(store, "lifecycle", self._ddl)

    def _ddl(self) -> Plan[None]:
        h, e, table = self.history, self.expiry, self.store.table
        yield Statement(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key VARCHAR PRIMARY KEY, seq BIGINT NOT NULL, "
                "user_id VARCHAR NOT NULL, memory_id VARCHAR NOT NULL, event VARCHAR NOT NULL, "
                "path VARCHAR NOT NULL, at BIGINT NOT NULL, old_memory TEXT, new_memory TEXT, "
                "old_topics JSONB, new_topics JSONB)"
            ).format(h)
        )
        yield Statement(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id, memory_id, at, seq)").format(
                sql.Identifier(f"lma_{table}_history_memory"), h
            )
        )
        yield Statement(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (memory_id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, "
                "expires_at BIGINT NOT NULL)"
            ).format(e)
        )
        yield Statement(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (expires_at)").format(
                sql.Identifier(f"lma_{table}_expiry_due"), e
            )
        )

    # Each public method runs one plan on the store's pool, the async twins on its async pool;
    # the tables are created first, once per process, in a transaction of their own.
    def _sync(self, plan: Plan[T], *, atomic: bool = False) -> T:
        self._tables.ensure()
        return self.store._run(plan, atomic=atomic)

    async def _async(self, plan: Plan[T], *, atomic: bool = False) -> T:
        await self._tables.aensure()
        return await self.store._arun(plan, atomic=atomic)

    def _write_plan(self, rows: Sequence[HistoryRow]) -> Plan[None]:
        if not rows:
            return
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in (*_COLS, *_TEXTS))
        marks = sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * (len(_COLS) + len(_TEXTS))))
            for _ in rows
        )
        params = [v for r in rows for v in _values(r)]
        yield Statement(
            sql.SQL("INSERT INTO {} ({}) VALUES {} ON CONFLICT (key) DO NOTHING").format(
                self.history, cols, marks
            ),
            params,
        )

    def _read_plan(
        self, user_id: str, memory_id: str, since: int | None, newest: int | None
    ) -> Plan[list[HistoryEntry]]:
        rows, _ = yield Statement(
            sql.SQL(
                "SELECT * FROM {} WHERE user_id = %s AND memory_id = %s AND at >= %s "
                "ORDER BY at DESC, seq DESC LIMIT %s"
            ).format(self.history),
            (user_id, memory_id, -1 if since is None else since, newest),
        )
        return [entry_from_row(r, _topics) for r in reversed(rows)]

    def _purge_plan(self, before: int | None, keep: int | None) -> Plan[int]:
        gone = 0
        if before is not None:
            _, n = yield Statement(sql.SQL("DELETE FROM {} WHERE at < %s").format(self.history), (before,))
            gone += n
        if keep is not None:
            _, n = yield Statement(
                sql.SQL(
                    "DELETE FROM {0} WHERE key IN (SELECT key FROM (SELECT key, ROW_NUMBER() OVER "
                    "(PARTITION BY user_id, memory_id ORDER BY at DESC, seq DESC) AS n FROM {0}) AS ranked "
                    "WHERE n > %s)"
                ).format(self.history),
                (keep,),
            )
            gone += n
        return gone

    def _set_plan(self, user_id: str, expires: Sequence[tuple[str, int]]) -> Plan[None]:
        if expires:
            yield Statement(
                sql.SQL(
                    "INSERT INTO {} (memory_id, user_id, expires_at) "
                    "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[]) "
                    "ON CONFLICT (memory_id) DO UPDATE SET user_id = EXCLUDED.user_id, "
                    "expires_at = EXCLUDED.expires_at"
                ).format(self.expiry),
                ([m for m, _ in expires], [user_id] * len(expires), [a for _, a in expires]),
            )

    def _drop_plan(self, user_id: str, memory_ids: Sequence[str]) -> Plan[None]:
        if memory_ids:
            yield Statement(
                sql.SQL("DELETE FROM {} WHERE user_id = %s AND memory_id = ANY(%s)").format(self.expiry),
                (user_id, list(memory_ids)),
            )

    def _next_plan(self) -> Plan[int | None]:
        rows, _ = yield Statement(sql.SQL("SELECT MIN(expires_at) AS at FROM {}").format(self.expiry))
        return None if rows[0]["at"] is None else int(rows[0]["at"])

    def _due_plan(self, now: int, limit: int) -> Plan[list[tuple[str, str]]]:
        rows, _ = yield Statement(
            sql.SQL(
                "SELECT user_id, memory_id FROM {} WHERE expires_at <= %s ORDER BY expires_at LIMIT %s"
            ).format(self.expiry),
            (now, limit),
        )
        return [(str(r["user_id"]), str(r["memory_id"])) for r in rows]

    def _delete_user_plan(self, user_id: str) -> Plan[None]:
        for table in (self.history, self.expiry):
            yield Statement(sql.SQL("DELETE FROM {} WHERE user_id = %s").format(table), (user_id,))

    def write_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.write_history`: one multi-row ``INSERT``."""
        self._sync(self._write_plan(rows))

    async def awrite_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.awrite_history`."""
        await self._async(self._write_plan(rows))

    def read_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.read_history`."""
        return self._sync(self._read_plan(user_id, memory_id, since, newest))

    async def aread_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.aread_history`."""
        return await self._async(self._read_plan(user_id, memory_id, since, newest))

    def purge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.purge_history`."""
        return self._sync(self._purge_plan(before, keep), atomic=True)

    async def apurge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.apurge_history`."""
        return await self._async(self._purge_plan(before, keep), atomic=True)

    def set_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.set_expiry`."""
        self._sync(self._set_plan(user_id, expires))

    async def aset_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.aset_expiry`."""
        await self._async(self._set_plan(user_id, expires))

    def drop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.drop_expiry`."""
        self._sync(self._drop_plan(user_id, memory_ids))

    async def adrop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.adrop_expiry`."""
        await self._async(self._drop_plan(user_id, memory_ids))

    def next_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.next_expiry`."""
        return self._sync(self._next_plan())

    async def anext_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.anext_expiry`."""
        return await self._async(self._next_plan())

    def due_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.due_expiry`."""
        return self._sync(self._due_plan(now, limit))

    async def adue_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.adue_expiry`."""
        return await self._async(self._due_plan(now, limit))

    def delete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.delete_user`."""
        self._sync(self._delete_user_plan(user_id), atomic=True)

    async def adelete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.adelete_user`."""
        await self._async(self._delete_user_plan(user_id), atomic=True)
