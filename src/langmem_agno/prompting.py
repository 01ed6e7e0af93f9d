"""Deprecated: moved to :mod:`langmem_agno.recall.render` and :mod:`langmem_agno.agents.injection`.

The old path is kept for one release.
"""

from langmem_agno.agents.injection import *  # noqa: F403
from langmem_agno.agents.injection import __all__ as _injection
from langmem_agno.recall.render import *  # noqa: F403
from langmem_agno.recall.render import __all__ as _render
from langmem_agno.recall.text import message_text, turn_query

__all__ = ["message_text", "turn_query", *_injection, *_render]
