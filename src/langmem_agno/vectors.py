"""Deprecated alias of :mod:`langmem_agno.recall.dense`, kept for one release."""

from langmem_agno.errors import EmbeddingError
from langmem_agno.recall.dense import *  # noqa: F403
from langmem_agno.recall.dense import __all__ as _dense

__all__ = ["EmbeddingError", *_dense]
