"""Deprecated alias of :mod:`langmem_agno.agents.middleware`, kept for one release."""

from langmem_agno.agents.middleware import *  # noqa: F403
from langmem_agno.agents.middleware import __all__  # noqa: F401
