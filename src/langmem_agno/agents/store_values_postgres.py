"""The LangGraph store's ``<table>_values`` companion on PostgreSQL, in the store's schema.

As on SQLite, a trigger on the memory table deletes a memory's value with the memory,
whoever deletes it (Agno, a clear of the user, the CLI). Each method is one plan of
statements run by the store's sync or async driver (``postgres_sql.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from psycopg import sql

from langmem_agno.agents.store_values import SUFFIX, StoredValue, ValueCompanion
from langmem_agno.record import now_epoch_s
from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.postgres_ddl import CompanionTables
from langmem_agno.stores.postgres_sql import Plan, Statement

__all__ = ["PostgresValueCompanion"]


class PostgresValueCompanion(ValueCompanion):
    """Values in the table ``<table>_values`` of a :class:`PostgresMemoryStore`'s schema.

    Args:
        store: The memory store; its pools and error translation are used.
    """

    def __init__(self, store: PostgresMemoryStore) -> None:
        super().__init__()
        self.store = store
        self.table = sql.Identifier(store.schema, f"{store.table}_{SUFFIX}")
        self._tables = CompanionTables(store, "values", self._ddl)

    def _ddl(self) -> Plan[None]:
        schema, memories = self.store.schema, self.store.table
        yield Statement(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (memory_id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, "
                "text TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL)"
            ).format(self.table)
        )
        function = sql.Identifier(schema, f"lma_{memories}_values_ad")
        yield Statement(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $lma$ BEGIN "
                "DELETE FROM {} WHERE memory_id = OLD.memory_id; RETURN OLD; END $lma$"
            ).format(function, self.table)
        )
        yield Statement(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {} AFTER DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(sql.Identifier(f"lma_{memories}_values_ad"), sql.Identifier(schema, memories), function)
        )

    def _load_plan(self, user_id: str, memory_ids: Sequence[str]) -> Plan[dict[str, StoredValue]]:
        rows, _ = yield Statement(
            sql.SQL(
                "SELECT memory_id, text, value FROM {} WHERE user_id = %s AND memory_id = ANY(%s::varchar[])"
            ).format(self.table),
            (user_id, list(memory_ids)),
        )
        return {r["memory_id"]: StoredValue(r["text"], json.loads(r["value"])) for r in rows}

    def _save_plan(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> Plan[None]:
        # One row per memory: an upsert may not touch the same row twice in one statement.
        latest = dict(rows)
        yield Statement(
            sql.SQL(
                "INSERT INTO {} (memory_id, user_id, text, value, updated_at) "
                "SELECT m, %s, t, v, %s FROM unnest(%s::varchar[], %s::text[], %s::text[]) AS u (m, t, v) "
                "ON CONFLICT (memory_id) DO UPDATE SET user_id = EXCLUDED.user_id, text = EXCLUDED.text, "
                "value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"
            ).format(self.table),
            (
                user_id,
                now_epoch_s(),
                list(latest),
                [row.text for row in latest.values()],
                [json.dumps(row.value, ensure_ascii=False) for row in latest.values()],
            ),
        )

    def _delete_plan(self, user_id: str, memory_ids: Sequence[str]) -> Plan[None]:
        query = sql.SQL("DELETE FROM {} WHERE user_id = %s AND memory_id = ANY(%s::varchar[])")
        yield Statement(query.format(self.table), (user_id, list(memory_ids)))

    def load(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """The stored values of these memories of ``user_id`` (absent ones left out)."""
        if not memory_ids:
            return {}
        self._tables.ensure()
        return self.store._run(self._load_plan(user_id, memory_ids))

    async def aload(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """Async twin of :meth:`load`."""
        if not memory_ids:
            return {}
        await self._tables.aensure()
        return await self.store._arun(self._load_plan(user_id, memory_ids))

    def save(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Store (or replace) the values of these memories, in one statement."""
        if rows:
            self._tables.ensure()
            self.store._run(self._save_plan(user_id, rows))

    async def asave(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Async twin of :meth:`save`."""
        if rows:
            await self._tables.aensure()
            await self.store._arun(self._save_plan(user_id, rows))

    def delete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Forget the values of these memories."""
        if memory_ids:
            self._tables.ensure()
            self.store._run(self._delete_plan(user_id, memory_ids))

    async def adelete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Async twin of :meth:`delete`."""
        if memory_ids:
            await self._tables.aensure()
            await self.store._arun(self._delete_plan(user_id, memory_ids))
