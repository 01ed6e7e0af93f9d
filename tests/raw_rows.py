"""What a store's database holds, read straight from it (bypassing the store), for every backend.

The contract tests compare these before and after an operation that must change nothing,
and check that a memory row holds exactly Agno's fields. psycopg is loaded only for a
PostgreSQL store: the notebooks environment has no psycopg.
"""

from __future__ import annotations

import importlib
from typing import Any

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore

__all__ = ["companion_row_count", "memory_columns", "postgres_execute", "raw_rows"]


def _is_postgres(store: MemoryStore) -> bool:
    return type(store).__name__ == "PostgresMemoryStore"


def _postgres_rows(store: Any, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of ``query``, whose ``{}`` is the store's schema-qualified memory table."""
    psycopg = importlib.import_module("psycopg")
    sql = importlib.import_module("psycopg.sql")
    dict_row = importlib.import_module("psycopg.rows").dict_row
    with psycopg.connect(store.conninfo, autocommit=True) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(store.schema, store.table)), params)
        return list(cur.fetchall())


def raw_rows(store: MemoryStore, mongo_client: Any = None) -> list[dict[str, Any]]:
    """Every stored memory row of ``store`` as a dict of its columns (MongoDB: without ``_id``).

    Args:
        store: A SQLite, MongoDB or PostgreSQL memory store.
        mongo_client: A ``MongoClient`` on the store's server (MongoDB only).
    """
    if isinstance(store, SQLiteMemoryStore):
        with store._lock:
            rows = store._conn.execute(f"SELECT * FROM {store.table}").fetchall()
        return [dict(r) for r in rows]
    if _is_postgres(store):
        # The table is made on first use: before it, as a MongoDB collection never written, no rows.
        undefined = importlib.import_module("psycopg.errors").UndefinedTable
        try:
            # ctid keeps rows in the order they were written.
            return _postgres_rows(store, "SELECT * FROM {} ORDER BY ctid")
        except undefined:
            return []
    assert isinstance(store, MongoMemoryStore), f"no raw reader for {type(store).__name__}"
    assert mongo_client is not None, "reading MongoDB rows needs the mongo_client fixture"
    return list(mongo_client[store.database][store.collection].find({}, {"_id": 0}))


def memory_columns(store: MemoryStore) -> set[str]:
    """The column names of a SQL store's memory table."""
    if isinstance(store, SQLiteMemoryStore):
        with store.companion_cursor() as cur:
            return {r[1] for r in cur.execute(f"PRAGMA table_info({store.table})").fetchall()}
    if _is_postgres(store):
        pg: Any = store
        query = (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
        )
        return {r["column_name"] for r in _postgres_rows(pg, query, (pg.schema, pg.table))}
    raise AssertionError(f"{type(store).__name__} has no columns: read its documents")


def companion_row_count(store: MemoryStore, role: str) -> int:
    """How many rows the ``<table>_<role>`` companion holds."""
    if isinstance(store, SQLiteMemoryStore):
        with store.companion_cursor() as cur:
            return int(cur.execute(f"SELECT COUNT(*) FROM {store.table}_{role}").fetchone()[0])
    if isinstance(store, MongoMemoryStore):
        return int(store.companion_collection(role).count_documents({}))
    assert _is_postgres(store) and role == "vectors", f"no {role} companion on {type(store).__name__}"
    pg: Any = store  # schema and table are plain identifiers (the store checks them)
    return int(_postgres_rows(pg, f'SELECT count(*) AS n FROM "{pg.schema}"."{pg.table}_{role}"')[0]["n"])


def postgres_execute(store: MemoryStore, statement: str) -> None:
    """Run one statement on a PostgreSQL store's server (``{}``: its table, ``{schema}``: its schema)."""
    assert _is_postgres(store), f"{type(store).__name__} is not a PostgreSQL store"
    pg: Any = store
    psycopg = importlib.import_module("psycopg")
    sql = importlib.import_module("psycopg.sql")
    query = sql.SQL(statement).format(sql.Identifier(pg.schema, pg.table), schema=sql.Identifier(pg.schema))
    with psycopg.connect(pg.conninfo, autocommit=True) as conn:
        conn.execute(query)
