"""Deprecated alias of :mod:`langmem_agno.testing.scripted`, kept for one release."""

from langmem_agno.testing.scripted import *  # noqa: F403
from langmem_agno.testing.scripted import __all__  # noqa: F401
