"""Agno-style long-term user memory for LangChain and LangGraph agents.

The public API: the memory record, the stores, and (as they land) extraction,
tools, recall and middleware.
"""

from langmem_agno.errors import (
    InvalidMemoryError,
    LangmemAgnoError,
    MemoryNotFoundError,
    MissingUserIdError,
    StoreUnavailableError,
)
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores import (
    MemoryFilter,
    MemoryPage,
    MemoryStore,
    MongoMemoryStore,
    ScoredMemory,
    SQLiteMemoryStore,
    UserStats,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_MEMORY_CHARS",
    "InvalidMemoryError",
    "LangmemAgnoError",
    "MemoryFilter",
    "MemoryNotFoundError",
    "MemoryPage",
    "MemoryScope",
    "MemoryStore",
    "MissingUserIdError",
    "MongoMemoryStore",
    "SQLiteMemoryStore",
    "ScoredMemory",
    "StoreUnavailableError",
    "UserMemory",
    "UserStats",
    "__version__",
    "resolve_scope",
]
