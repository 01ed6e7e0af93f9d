"""Deprecated alias of :mod:`langmem_agno.agents.tools`, kept for one release."""

from langmem_agno.agents.tools import *  # noqa: F403
from langmem_agno.agents.tools import __all__  # noqa: F401
