"""Which :class:`~langmem_agno.stores.history.LifecycleRows` serves a store: one per database.

Loaded by name from :mod:`langmem_agno.stores.lifecycle` (which the store base imports, so it
cannot import the backends that build on the base). PostgreSQL's is loaded only for a
PostgreSQL store, so psycopg stays optional.
"""

from __future__ import annotations

from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.extensions import build_for_postgres
from langmem_agno.stores.history import LifecycleRows, MemoryLifecycleRows
from langmem_agno.stores.lifecycle_mongo import MongoLifecycleRows
from langmem_agno.stores.lifecycle_sqlite import SQLiteLifecycleRows
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = ["build_lifecycle_rows"]


def build_lifecycle_rows(store: MemoryStore) -> LifecycleRows:
    """The history and expiry rows in ``store``'s own database (in this process for other stores)."""
    if isinstance(store, SQLiteMemoryStore):
        return SQLiteLifecycleRows(store)
    if isinstance(store, MongoMemoryStore):
        return MongoLifecycleRows(store)
    rows: LifecycleRows | None = build_for_postgres(
        store, "langmem_agno.stores.lifecycle_postgres", "PostgresLifecycleRows"
    )
    return MemoryLifecycleRows() if rows is None else rows
