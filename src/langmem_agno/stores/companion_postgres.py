"""Companion documents on PostgreSQL: ``<table>_<role>`` in the store's schema, on the store's pools.

Extraction's cursors and failed spans (see ``companion_docs.py``) are durable here as on SQLite
and MongoDB. Every operation is one statement: the compare-and-set of :meth:`PostgresDocs.put`
is one ``UPDATE ... WHERE key = %s AND version = %s`` (or one ``INSERT ... ON CONFLICT DO
NOTHING`` for a new document), which is atomic on its own, so no transaction block is needed.
Each method is a plan of statements (``postgres_sql.py``) run by the store's sync or async
driver, so both twins share every line of SQL.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

from langmem_agno.stores.companion_docs import CompanionDocs, Doc, StoredDoc, _check_role
from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.postgres_ddl import CompanionTables
from langmem_agno.stores.postgres_sql import Plan, Statement

__all__ = ["PostgresDocs"]


class PostgresDocs(CompanionDocs):
    """Documents in the table ``<table>_<role>`` of a :class:`PostgresMemoryStore`'s schema.

    The content is kept as JSON text (not ``JSONB``, which refuses the escaped NUL character
    a message may hold), beside its user, due time and version.

    Args:
        store: The memory store; its pools, schema and error translation are used.
        role: The companion's role, e.g. ``"cursors"``.
    """

    def __init__(self, store: PostgresMemoryStore, role: str) -> None:
        self.store = store
        name = f"{store.table}_{_check_role(role)}"
        self.table = sql.Identifier(store.schema, name)
        self._indexes = (sql.Identifier(f"lma_{name}_user"), sql.Identifier(f"lma_{name}_due"))
        self.where = f"PostgreSQL {store.schema}.{name}"
        self._tables = CompanionTables(store, role, self._ddl)

    # ------------------------------------------------------------ plans
    def _ddl(self) -> Plan[None]:
        yield Statement(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, "
                "version BIGINT NOT NULL, due DOUBLE PRECISION, doc TEXT NOT NULL)"
            ).format(self.table)
        )
        by_user, by_due = self._indexes
        # Scans by user (a user's failed spans, clearing a user) and by due time stay index reads.
        yield Statement(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id)").format(by_user, self.table))
        yield Statement(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (due)").format(by_due, self.table))

    def _get_plan(self, key: str) -> Plan[StoredDoc | None]:
        rows, _ = yield Statement(
            sql.SQL("SELECT doc, version FROM {} WHERE key = %s").format(self.table), (key,)
        )
        return StoredDoc(key, json.loads(rows[0]["doc"]), int(rows[0]["version"])) if rows else None

    def _put_plan(
        self, key: str, doc: Doc, version: int | None, user_id: str, due: float | None
    ) -> Plan[bool]:
        text = json.dumps(doc, ensure_ascii=False)
        if version is None:
            query = sql.SQL(
                "INSERT INTO {} (key, user_id, version, due, doc) VALUES (%s, %s, 1, %s, %s) "
                "ON CONFLICT (key) DO NOTHING"
            ).format(self.table)
            _, count = yield Statement(query, (key, user_id, due, text))
        else:
            query = sql.SQL(
                "UPDATE {} SET doc = %s, user_id = %s, due = %s, version = version + 1 "
                "WHERE key = %s AND version = %s"
            ).format(self.table)
            _, count = yield Statement(query, (text, user_id, due, key, version))
        return count == 1

    def _delete_plan(self, key: str) -> Plan[Doc | None]:
        rows, _ = yield Statement(
            sql.SQL("DELETE FROM {} WHERE key = %s RETURNING doc").format(self.table), (key,)
        )
        return dict(json.loads(rows[0]["doc"])) if rows else None

    def _delete_user_plan(self, user_id: str) -> Plan[int]:
        query = sql.SQL("DELETE FROM {} WHERE user_id = %s").format(self.table)
        _, count = yield Statement(query, (user_id,))
        return count

    def _scan_plan(self, user_id: str | None, due_before: float | None, limit: int) -> Plan[list[StoredDoc]]:
        clauses: list[sql.Composable] = [sql.SQL("TRUE")]
        params: list[Any] = []
        if user_id is not None:
            clauses.append(sql.SQL("user_id = %s"))
            params.append(user_id)
        if due_before is not None:
            clauses.append(sql.SQL("due IS NOT NULL AND due <= %s"))
            params.append(due_before)
        # Byte order (COLLATE "C"), as SQLite and MongoDB order keys, whatever the database's collation.
        query = sql.SQL('SELECT key, doc, version FROM {} WHERE {} ORDER BY key COLLATE "C" LIMIT %s').format(
            self.table, sql.SQL(" AND ").join(clauses)
        )
        rows, _ = yield Statement(query, (*params, limit))
        return [StoredDoc(str(r["key"]), json.loads(r["doc"]), int(r["version"])) for r in rows]

    # ------------------------------------------------------------ running them
    def get(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.get`."""
        self._tables.ensure()
        return self.store._run(self._get_plan(key))

    async def aget(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.aget`."""
        await self._tables.aensure()
        return await self.store._arun(self._get_plan(key))

    def put(self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None) -> bool:
        """See :meth:`CompanionDocs.put`: one conditional statement."""
        self._tables.ensure()
        return self.store._run(self._put_plan(key, doc, version, user_id, due))

    async def aput(
        self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None
    ) -> bool:
        """See :meth:`CompanionDocs.aput`."""
        await self._tables.aensure()
        return await self.store._arun(self._put_plan(key, doc, version, user_id, due))

    def delete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.delete`."""
        self._tables.ensure()
        return self.store._run(self._delete_plan(key))

    async def adelete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.adelete`."""
        await self._tables.aensure()
        return await self.store._arun(self._delete_plan(key))

    def delete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.delete_user`."""
        self._tables.ensure()
        return self.store._run(self._delete_user_plan(user_id))

    async def adelete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.adelete_user`."""
        await self._tables.aensure()
        return await self.store._arun(self._delete_user_plan(user_id))

    def scan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.scan`."""
        self._tables.ensure()
        return self.store._run(self._scan_plan(user_id, due_before, limit))

    async def ascan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.ascan`."""
        await self._tables.aensure()
        return await self.store._arun(self._scan_plan(user_id, due_before, limit))
