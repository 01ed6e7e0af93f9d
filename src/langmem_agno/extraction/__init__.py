"""Automatic memory: extraction after a run, in one model call, and the graph node that runs it.

``manager`` (:class:`MemoryManager`: read related memories, one model call, one write),
``calls`` (the tools the model is offered and their validation), ``prompt`` (the
extraction prompt), ``background`` (the worker that extracts off the critical path) and
``node`` (the LangGraph node with its per-thread cursors).
"""

from langmem_agno.errors import ExtractionError
from langmem_agno.extraction.manager import (
    DEFAULT_MEMORY_BUDGET_CHARS,
    DEFAULT_SHOWN_MEMORY_CHARS,
    MAX_INPUT_CHARS,
    ExtractionResult,
    MemoryManager,
    RejectedCall,
    extraction_memory_id,
    search_query,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET_CHARS",
    "DEFAULT_SHOWN_MEMORY_CHARS",
    "MAX_INPUT_CHARS",
    "ExtractionError",
    "ExtractionResult",
    "MemoryManager",
    "RejectedCall",
    "extraction_memory_id",
    "search_query",
]
