"""Deprecated alias of :mod:`langmem_agno.extraction.node`, kept for one release."""

from langmem_agno.extraction.node import *  # noqa: F403
from langmem_agno.extraction.node import __all__  # noqa: F401
