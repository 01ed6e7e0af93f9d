"""Deprecated alias of :mod:`langmem_agno.twins`, kept for one release."""

from langmem_agno.twins import *  # noqa: F403
from langmem_agno.twins import __all__  # noqa: F401
