"""Which recall index serves a store: one per store, kept on the store, built on first use."""

from __future__ import annotations

from langmem_agno.recall.index import RecallIndex
from langmem_agno.recall.index_mongo import MongoRecallIndex
from langmem_agno.recall.index_sqlite import SQLiteRecallIndex
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.extensions import build_for_postgres
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = ["recall_index"]


def _build(store: MemoryStore) -> RecallIndex:
    if isinstance(store, SQLiteMemoryStore):
        return SQLiteRecallIndex(store)
    if isinstance(store, MongoMemoryStore):
        return MongoRecallIndex(store)
    # On PostgreSQL vectors are kept in the database; ranking stays in the process unless asked
    # for (use_pgvector): one user's 10,000 memories rank in 5 ms there, in 143 ms by pgvector
    # (benchmarks/bench_pgvector.py).
    index: RecallIndex | None = build_for_postgres(
        store, "langmem_agno.recall.index_postgres", "PostgresRecallIndex", use_pgvector=False
    )
    return RecallIndex(store) if index is None else index


def recall_index(store: MemoryStore) -> RecallIndex:
    """Return the recall index of ``store``: the same object for every caller, as long as the store lives.

    SQLite, MongoDB and PostgreSQL keep vectors in companion tables; any other store gets the
    in-process :class:`RecallIndex`. To rank a PostgreSQL store's vectors in the server by
    pgvector, register the index before first use:
    ``store.extension("recall_index", lambda s: PostgresRecallIndex(s, use_pgvector=True))``.
    """
    return store.extension("recall_index", _build)
