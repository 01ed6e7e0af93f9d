"""Deprecated alias of :mod:`langmem_agno.testing.brains`, kept for one release."""

from langmem_agno.testing.brains import *  # noqa: F403
from langmem_agno.testing.brains import __all__  # noqa: F401
