"""The memory block of a system prompt, within a budget.

:func:`render_memories` writes the block Agno writes (its wording and its
``<memories_from_previous_interactions>`` tag by default) but never longer than
``max_chars`` and never more than ``max_memories`` entries: Agno pastes every
memory of the user into every prompt. :mod:`langmem_agno.agents.injection` puts
the block into agents and graphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.documents import Document

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.record import UserMemory
from langmem_agno.stores.types import ScoredMemory

__all__ = [
    "DEFAULT_FOOTER",
    "DEFAULT_HEADER",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MAX_MEMORIES",
    "DEFAULT_TAG",
    "MemoryLike",
    "render_memories",
]

DEFAULT_TAG = "memories_from_previous_interactions"
DEFAULT_HEADER = (
    "You have access to user info and preferences from previous interactions "
    "that you can use to personalize your response:"
)
DEFAULT_FOOTER = (
    "Note: this information is from previous interactions and may be updated in this conversation. "
    "You should always prefer information from this conversation over the past memories."
)
DEFAULT_MAX_MEMORIES = 10
DEFAULT_MAX_CHARS = 2_000
_ELLIPSIS = "…"
#: A memory cut shorter than this says too little to be worth its line.
_MIN_TRUNCATED = 24
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

MemoryLike = UserMemory | ScoredMemory | Document | str


def _text(item: MemoryLike) -> str:
    if isinstance(item, ScoredMemory):
        return item.memory.memory
    if isinstance(item, UserMemory):
        return item.memory
    if isinstance(item, Document):
        return item.page_content
    if isinstance(item, str):
        return item
    raise InvalidMemoryError(f"cannot render {type(item).__name__} {item!r:.80} as a memory")


def render_memories(
    memories: Sequence[MemoryLike],
    *,
    max_memories: int = DEFAULT_MAX_MEMORIES,
    max_chars: int = DEFAULT_MAX_CHARS,
    tag: str = DEFAULT_TAG,
    header: str = DEFAULT_HEADER,
    footer: str = DEFAULT_FOOTER,
) -> str:
    """Render memories as a system-prompt block of at most ``max_chars`` characters.

    Memories are taken in the order given (best first) as ``- text`` lines
    inside ``<tag>...</tag>``, after ``header`` and before ``footer``. Each text
    is put on one line, and anything in it that looks like the tag is removed,
    so a memory cannot close the block early. When the next memory does not fit,
    it is cut with an ellipsis if enough room is left, and the list ends. When
    even the frame does not fit, the footer and then the header are dropped.

    Args:
        memories: Memories, hits, retriever documents or plain texts, best first.
        max_memories: The most entries to include.
        max_chars: The hard limit on the block's length.
        tag: The XML-like tag around the list.
        header: Text before the list ("" for none).
        footer: Text after the list ("" for none).

    Returns:
        The block, or ``""`` when there is nothing to show or no room to show it.

    Raises:
        ConfigurationError: If a limit is not a positive integer or the tag is not a plain name.

    Example:
        >>> print(render_memories(["Sarah prefers email"], header="Known:", footer=""))
        Known:
        <BLANKLINE>
        <memories_from_previous_interactions>
        - Sarah prefers email
        </memories_from_previous_interactions>
    """
    check_int("max_memories", max_memories)
    check_int("max_chars", max_chars)
    if not _TAG.match(tag):
        raise ConfigurationError(f"tag must be a plain name like {DEFAULT_TAG!r}, got {tag!r}")
    strip_tag = re.compile(rf"</?\s*{re.escape(tag)}\s*>?", re.IGNORECASE)
    lines = [line for line in (" ".join(_without(strip_tag, _text(m)).split()) for m in memories) if line]
    lines = lines[:max_memories]
    if not lines:
        return ""
    full_head = f"{header}\n\n" if header else ""
    full_tail = f"\n\n{footer}" if footer else ""
    frame = len(f"<{tag}>\n</{tag}>")
    # The richest frame that still leaves room for the first memory: all, no footer, bare.
    for head, tail in ((full_head, full_tail), (full_head, ""), ("", "")):
        room = max_chars - len(head) - frame - len(tail)
        if room >= len("\n- ") + min(len(lines[0]), _MIN_TRUNCATED):
            break
    else:
        return ""
    body: list[str] = []
    for line in lines:
        entry = f"\n- {line}"
        if len(entry) <= room:
            body.append(entry)
            room -= len(entry)
            continue
        keep = room - len("\n- ") - len(_ELLIPSIS)
        if keep >= _MIN_TRUNCATED:
            body.append(f"\n- {line[:keep].rstrip()}{_ELLIPSIS}")
        break
    if not body:
        return ""
    return f"{head}<{tag}>{''.join(body)}\n</{tag}>{tail}"


def _without(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with ``pattern`` removed until none is left.

    One pass is not enough: removing the inner tag of ``</memo</memories>ries>`` joins
    the outer halves into a closing tag that would end the block early.
    """
    while True:
        stripped = pattern.sub("", text)
        if stripped == text:
            return text
        text = stripped
