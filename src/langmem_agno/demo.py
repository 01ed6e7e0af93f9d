"""Deprecated alias of :mod:`langmem_agno.testing.demo`, kept for one release."""

from langmem_agno.testing.demo import *  # noqa: F403
from langmem_agno.testing.demo import __all__  # noqa: F401
