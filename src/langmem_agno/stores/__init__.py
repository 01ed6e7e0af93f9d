"""Memory stores: one interface, an embedded SQLite backend and a MongoDB backend."""

from langmem_agno.stores.base import (
    ChangeSet,
    MemoryFilter,
    MemoryPage,
    MemoryStore,
    MemoryUpdate,
    ScoredMemory,
    UserStats,
)
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = [
    "ChangeSet",
    "MemoryFilter",
    "MemoryPage",
    "MemoryStore",
    "MemoryUpdate",
    "MongoMemoryStore",
    "SQLiteMemoryStore",
    "ScoredMemory",
    "UserStats",
]
