"""Memory stores: one interface, an embedded SQLite backend and a MongoDB backend."""

from langmem_agno.stores.base import MemoryFilter, MemoryPage, MemoryStore, ScoredMemory, UserStats
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = [
    "MemoryFilter",
    "MemoryPage",
    "MemoryStore",
    "MongoMemoryStore",
    "SQLiteMemoryStore",
    "ScoredMemory",
    "UserStats",
]
