"""Which recall index serves a store: one per store, kept on the store, built on first use."""

from __future__ import annotations

from langmem_agno.recall.index import RecallIndex
from langmem_agno.recall.index_mongo import MongoRecallIndex
from langmem_agno.recall.index_sqlite import SQLiteRecallIndex
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = ["recall_index"]


def _build(store: MemoryStore) -> RecallIndex:
    if isinstance(store, SQLiteMemoryStore):
        return SQLiteRecallIndex(store)
    if isinstance(store, MongoMemoryStore):
        return MongoRecallIndex(store)
    return RecallIndex(store)


def recall_index(store: MemoryStore) -> RecallIndex:
    """Return the recall index of ``store``: the same object for every caller, as long as the store lives.

    SQLite and MongoDB keep a word index and vectors in companion tables; any other
    store gets the in-process :class:`RecallIndex`.
    """
    return store.extension("recall_index", _build)
