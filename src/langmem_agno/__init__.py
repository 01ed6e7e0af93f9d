"""Agno-style long-term user memory for LangChain and LangGraph agents.

Public names are imported on first use (PEP 562), so ``import langmem_agno`` and
the ``langmem-agno`` command start fast: the command line never loads the agent
and middleware machinery of ``langchain.agents`` it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langmem_agno.agents.injection import (
        MemoryInjector,
        create_memory_injection_node,
        create_memory_prompt,
    )
    from langmem_agno.agents.langgraph_store import LangGraphStore, NamespaceTemplate, UnmappedNamespaceError
    from langmem_agno.agents.middleware import MemoryMiddleware
    from langmem_agno.agents.tools import (
        AddMemoryTool,
        DeleteMemoryTool,
        MemoryTool,
        SearchMemoriesTool,
        UpdateMemoryTool,
        create_memory_tools,
    )
    from langmem_agno.errors import (
        ClosedError,
        ConfigurationError,
        EmbeddingError,
        ExtractionError,
        InvalidMemoryError,
        LangmemAgnoError,
        MemoryNotFoundError,
        MissingUserIdError,
        StoreUnavailableError,
    )
    from langmem_agno.extraction.background import BackgroundError, BackgroundFailure
    from langmem_agno.extraction.manager import ExtractionResult, MemoryManager, RejectedCall
    from langmem_agno.extraction.node import MemoryNode, create_memory_node
    from langmem_agno.extraction.optimize_result import OptimizationResult, OptimizedGroup
    from langmem_agno.recall.render import render_memories
    from langmem_agno.recall.retriever import MemoryRetriever
    from langmem_agno.recall.thesaurus import Thesaurus, WordNetThesaurus
    from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
    from langmem_agno.scope import MemoryScope, resolve_scope
    from langmem_agno.secrets_filter import SecretFilter
    from langmem_agno.stores import (
        ChangeSet,
        MemoryFilter,
        MemoryPage,
        MemoryStore,
        MemoryUpdate,
        MongoMemoryStore,
        ScoredMemory,
        SQLiteMemoryStore,
        UserStats,
    )
    from langmem_agno.stores.history import recording
    from langmem_agno.stores.types import HistoryEntry, LifecycleOptions
    from langmem_agno.testing.scripted import ScriptedChatModel

_EXPORTS: dict[str, str] = {
    "ChangeSet": "langmem_agno.stores",
    "ConfigurationError": "langmem_agno.errors",
    "MemoryUpdate": "langmem_agno.stores",
    "AddMemoryTool": "langmem_agno.agents.tools",
    "BackgroundError": "langmem_agno.extraction.background",
    "BackgroundFailure": "langmem_agno.extraction.background",
    "DEFAULT_MAX_MEMORY_CHARS": "langmem_agno.record",
    "DeleteMemoryTool": "langmem_agno.agents.tools",
    "ClosedError": "langmem_agno.errors",
    "EmbeddingError": "langmem_agno.errors",
    "ExtractionError": "langmem_agno.errors",
    "ExtractionResult": "langmem_agno.extraction.manager",
    "HistoryEntry": "langmem_agno.stores.types",
    "LifecycleOptions": "langmem_agno.stores.types",
    "InvalidMemoryError": "langmem_agno.errors",
    "LangGraphStore": "langmem_agno.agents.langgraph_store",
    "NamespaceTemplate": "langmem_agno.agents.langgraph_store",
    "UnmappedNamespaceError": "langmem_agno.agents.langgraph_store",
    "LangmemAgnoError": "langmem_agno.errors",
    "MemoryFilter": "langmem_agno.stores",
    "MemoryInjector": "langmem_agno.agents.injection",
    "MemoryManager": "langmem_agno.extraction.manager",
    "MemoryMiddleware": "langmem_agno.agents.middleware",
    "MemoryNode": "langmem_agno.extraction.node",
    "MemoryNotFoundError": "langmem_agno.errors",
    "MemoryPage": "langmem_agno.stores",
    "MemoryRetriever": "langmem_agno.recall.retriever",
    "MemoryScope": "langmem_agno.scope",
    "MemoryStore": "langmem_agno.stores",
    "MemoryTool": "langmem_agno.agents.tools",
    "MissingUserIdError": "langmem_agno.errors",
    "MongoMemoryStore": "langmem_agno.stores",
    "RejectedCall": "langmem_agno.extraction.manager",
    "OptimizationResult": "langmem_agno.extraction.optimize_result",
    "OptimizedGroup": "langmem_agno.extraction.optimize_result",
    "SQLiteMemoryStore": "langmem_agno.stores",
    "Thesaurus": "langmem_agno.recall.thesaurus",
    "WordNetThesaurus": "langmem_agno.recall.thesaurus",
    "ScoredMemory": "langmem_agno.stores",
    "ScriptedChatModel": "langmem_agno.testing.scripted",
    "SearchMemoriesTool": "langmem_agno.agents.tools",
    "SecretFilter": "langmem_agno.secrets_filter",
    "StoreUnavailableError": "langmem_agno.errors",
    "UpdateMemoryTool": "langmem_agno.agents.tools",
    "UserMemory": "langmem_agno.record",
    "UserStats": "langmem_agno.stores",
    "create_memory_injection_node": "langmem_agno.agents.injection",
    "create_memory_node": "langmem_agno.extraction.node",
    "create_memory_prompt": "langmem_agno.agents.injection",
    "create_memory_tools": "langmem_agno.agents.tools",
    "render_memories": "langmem_agno.recall.render",
    "recording": "langmem_agno.stores.history",
    "resolve_scope": "langmem_agno.scope",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langmem_agno' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_MEMORY_CHARS",
    "AddMemoryTool",
    "BackgroundError",
    "BackgroundFailure",
    "ChangeSet",
    "ClosedError",
    "ConfigurationError",
    "DeleteMemoryTool",
    "EmbeddingError",
    "ExtractionError",
    "ExtractionResult",
    "HistoryEntry",
    "InvalidMemoryError",
    "LangGraphStore",
    "LangmemAgnoError",
    "LifecycleOptions",
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
    "MemoryUpdate",
    "MissingUserIdError",
    "MongoMemoryStore",
    "NamespaceTemplate",
    "OptimizationResult",
    "OptimizedGroup",
    "RejectedCall",
    "SQLiteMemoryStore",
    "ScoredMemory",
    "ScriptedChatModel",
    "SearchMemoriesTool",
    "SecretFilter",
    "StoreUnavailableError",
    "Thesaurus",
    "UnmappedNamespaceError",
    "UpdateMemoryTool",
    "UserMemory",
    "UserStats",
    "WordNetThesaurus",
    "__version__",
    "create_memory_injection_node",
    "create_memory_node",
    "create_memory_prompt",
    "create_memory_tools",
    "recording",
    "render_memories",
    "resolve_scope",
]
