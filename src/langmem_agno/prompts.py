"""Deprecated alias of :mod:`langmem_agno.extraction.prompt`, kept for one release."""

from langmem_agno.extraction.prompt import *  # noqa: F403
from langmem_agno.extraction.prompt import __all__  # noqa: F401
