"""Deprecated alias of :mod:`langmem_agno.recall.fusion`, kept for one release."""

from langmem_agno.recall.fusion import *  # noqa: F403
from langmem_agno.recall.fusion import __all__  # noqa: F401
