"""Deprecated alias of :mod:`langmem_agno.recall.index_sqlite`, kept for one release."""

from langmem_agno.recall.index_sqlite import *  # noqa: F403
from langmem_agno.recall.index_sqlite import __all__  # noqa: F401
