"""Agno-style long-term user memory for LangChain and LangGraph agents.

The public API: the memory record, the stores, and (as they land) extraction,
tools, recall and middleware.
"""

from langmem_agno.background import BackgroundError
from langmem_agno.errors import (
    InvalidMemoryError,
    LangmemAgnoError,
    MemoryNotFoundError,
    MissingUserIdError,
    StoreUnavailableError,
)
from langmem_agno.extraction import ExtractionError, ExtractionResult, MemoryManager, RejectedCall
from langmem_agno.middleware import MemoryMiddleware
from langmem_agno.node import MemoryNode, create_memory_node
from langmem_agno.prompting import (
    MemoryInjector,
    create_memory_injection_node,
    create_memory_prompt,
    render_memories,
)
from langmem_agno.recall import MemoryRetriever
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores import (
    MemoryFilter,
    MemoryPage,
    MemoryStore,
    MongoMemoryStore,
    ScoredMemory,
    SQLiteMemoryStore,
    UserStats,
)
from langmem_agno.tools import (
    AddMemoryTool,
    DeleteMemoryTool,
    MemoryTool,
    SearchMemoriesTool,
    UpdateMemoryTool,
    create_memory_tools,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_MEMORY_CHARS",
    "AddMemoryTool",
    "BackgroundError",
    "DeleteMemoryTool",
    "ExtractionError",
    "ExtractionResult",
    "InvalidMemoryError",
    "LangmemAgnoError",
    "MemoryFilter",
    "MemoryInjector",
    "MemoryManager",
    "MemoryMiddleware",
    "MemoryNode",
    "MemoryNotFoundError",
    "MemoryPage",
    "MemoryRetriever",
    "MemoryScope",
    "MemoryStore",
    "MemoryTool",
    "MissingUserIdError",
    "MongoMemoryStore",
    "RejectedCall",
    "SQLiteMemoryStore",
    "ScoredMemory",
    "ScriptedChatModel",
    "SearchMemoriesTool",
    "SecretFilter",
    "StoreUnavailableError",
    "UpdateMemoryTool",
    "UserMemory",
    "UserStats",
    "__version__",
    "create_memory_injection_node",
    "create_memory_node",
    "create_memory_prompt",
    "create_memory_tools",
    "render_memories",
    "resolve_scope",
]
