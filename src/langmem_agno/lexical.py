"""Deprecated: this module moved to :mod:`langmem_agno.recall.lexical` and :mod:`langmem_agno.recall.text`.

The old path is kept for one release.
"""

from langmem_agno.recall.lexical import *  # noqa: F403
from langmem_agno.recall.lexical import __all__ as _lexical
from langmem_agno.recall.text import *  # noqa: F403
from langmem_agno.recall.text import __all__ as _text

__all__ = [*_lexical, *_text]
