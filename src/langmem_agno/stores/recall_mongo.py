"""Deprecated alias of :mod:`langmem_agno.recall.index_mongo`, kept for one release."""

from langmem_agno.recall.index_mongo import *  # noqa: F403
from langmem_agno.recall.index_mongo import __all__  # noqa: F401
