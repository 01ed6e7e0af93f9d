"""Companion tables on PostgreSQL: created on first use, once per object, safely from many processes at once.

Processes that start together would race on the catalog's unique keys (two ``CREATE TABLE IF
NOT EXISTS`` of one name can both pass the check): the statements run in one transaction of
their own behind a transaction-level advisory lock named after the tables, so they queue.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.postgres_sql import Plan, Statement

__all__ = ["CompanionTables"]


class CompanionTables:
    """The tables (and indexes, triggers) of one companion, made sure of before its first use.

    Args:
        store: The memory store whose database holds them.
        name: What they are (``"values"``, ``"lifecycle"``...): names the advisory lock.
        ddl: A plan of the ``CREATE ... IF NOT EXISTS`` statements.
    """

    def __init__(self, store: PostgresMemoryStore, name: str, ddl: Callable[[], Plan[None]]) -> None:
        self.store = store
        self.lock_key = f"langmem_agno:{store.schema}.{store.table}:{name}"
        self.ddl = ddl
        self.ready = False

    def _plan(self) -> Plan[None]:
        yield Statement(sql.SQL("SELECT pg_advisory_xact_lock(hashtext(%s))"), (self.lock_key,))
        yield from self.ddl()

    def ensure(self) -> None:
        """Create them unless this object already did."""
        if not self.ready:
            self.store._run(self._plan(), atomic=True)
            self.ready = True

    async def aensure(self) -> None:
        """Async twin of :meth:`ensure`."""
        if not self.ready:
            await self.store._arun(self._plan(), atomic=True)
            self.ready = True
