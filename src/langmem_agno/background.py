"""Deprecated alias of :mod:`langmem_agno.extraction.background`, kept for one release."""

from langmem_agno.extraction.background import *  # noqa: F403
from langmem_agno.extraction.background import __all__  # noqa: F401
