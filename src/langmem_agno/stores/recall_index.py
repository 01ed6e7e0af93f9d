"""Deprecated: moved to :mod:`langmem_agno.recall.index` and :mod:`langmem_agno.recall.registry`.

The old path is kept for one release.
"""

from langmem_agno.recall.index import *  # noqa: F403
from langmem_agno.recall.index import __all__ as _index
from langmem_agno.recall.registry import recall_index

__all__ = ["recall_index", *_index]
