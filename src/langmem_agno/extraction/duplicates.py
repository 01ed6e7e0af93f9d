"""One rule for "this memory is already stored": the normalised text, and a bounded lookup of it.

Two memories are duplicates when their texts are equal once case, whitespace and punctuation
are set aside (``"User likes tea."`` and ``"user  likes tea"``). The memory tools, extraction and
optimisation all ask this module, so they agree on what a duplicate is.

The lookup never reads all of a user's memories: it asks the store's word search (bounded by
the store, and here to :data:`DUPLICATE_SEARCH_LIMIT` hits) for the text's content words; an
equal text holds every one of them, so it is among the best hits.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from langmem_agno.extraction.prompt import search_query
from langmem_agno.record import UserMemory, now_epoch_s
from langmem_agno.scope import ScopeKwargs
from langmem_agno.stores.base import MemoryStore, ScoredMemory
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = [
    "DUPLICATE_SEARCH_LIMIT",
    "AddOutcome",
    "add_plan",
    "add_unless_duplicate",
    "duplicate_in",
    "duplicate_query",
    "find_duplicate",
    "normalized_text",
    "text_memory_id",
]

logger = logging.getLogger(__name__)

#: How many word-search hits are compared with a new text. A duplicate matches every word of
#: the text, so it is among them unless this many newer memories also hold all of its words
#: (then it is missed, and the text is stored: the check is bounded, not exhaustive).
DUPLICATE_SEARCH_LIMIT = 100

# Namespace of the ids the memory tools give new memories; never change it (see text_memory_id).
_TOOL_ID_NAMESPACE = uuid.UUID("0b7f3c52-8e0a-4c8e-b2f4-6a1d9e3c5f21")
_APOSTROPHES = re.compile("['\u2019\u02bc]")
_NOT_WORD = re.compile(r"[^\w]|_", re.UNICODE)


def normalized_text(text: str) -> str:
    """The text as duplicates are compared: compatibility-normalised, case-folded, no punctuation.

    An apostrophe is dropped (``"don't"`` equals ``"dont"``); any other punctuation separates
    words (``"green-tea"`` equals ``"green tea"``); every run of whitespace becomes one space.

    Args:
        text: A memory text.

    Returns:
        The comparison key (empty for a text of punctuation only).

    Example:
        >>> normalized_text("  User   likes TEA! ") == normalized_text("user likes tea")
        True
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", folded)).split())


def duplicate_in(text: str, memories: Iterable[UserMemory]) -> UserMemory | None:
    """The first of ``memories`` whose normalised text equals that of ``text``, if any."""
    key = normalized_text(text)
    if not key:
        return None
    return next((m for m in memories if normalized_text(m.memory) == key), None)


def text_memory_id(scope: ScopeKwargs, text: str) -> str:
    """The id a memory tool gives a new memory: the same for the same scope and normalised text."""
    key = json.dumps([scope["user_id"], scope["agent_id"], scope["team_id"], normalized_text(text)])
    return str(uuid.uuid5(_TOOL_ID_NAMESPACE, key))


def duplicate_query(text: str) -> str:
    """The word search that finds a stored duplicate of ``text`` among its best hits."""
    # Only the text's content words: a duplicate holds them all, and a word nearly every memory
    # has ("user", "the") would make the search score the user's whole collection.
    return search_query([text]) or text


def _hits(store: MemoryStore, text: str, owner: dict[str, Any]) -> Call[list[ScoredMemory]]:
    return twin(store.search, store.asearch)(duplicate_query(text), **owner, limit=DUPLICATE_SEARCH_LIMIT)


def find_duplicate(
    store: MemoryStore, text: str, owner: dict[str, Any]
) -> Generator[Call[Any], Any, UserMemory | None]:
    """A plan (see :mod:`langmem_agno.twins`) that finds a stored memory saying ``text``.

    Args:
        store: Where the memories live.
        text: The new memory's text.
        owner: The store filter of the memories to compare with (``user_id``, and
            ``agent_id`` / ``team_id`` when the caller may see only those).

    Returns:
        The stored duplicate, or ``None``.
    """
    hits: list[ScoredMemory] = yield _hits(store, text, owner)
    return duplicate_in(text, (h.memory for h in hits))


@dataclass(frozen=True)
class AddOutcome:
    """What :func:`add_unless_duplicate` did.

    Attributes:
        memory: The memory added, or the stored one the text duplicates.
        duplicate: Whether the text was a duplicate (and nothing was written).
    """

    memory: UserMemory
    duplicate: bool


def add_plan(
    store: MemoryStore,
    text: str,
    *,
    owner: dict[str, Any],
    scope: ScopeKwargs,
    topics: Sequence[str] | None,
) -> Generator[Call[Any], Any, AddOutcome]:
    """The add of one memory, refused when the owner already has it, as a plan of twin calls.

    Args:
        store: Where the memories live.
        text: The checked memory text.
        owner: The filter of the memories compared with (see :func:`find_duplicate`).
        scope: The ``user_id`` / ``agent_id`` / ``team_id`` keywords of the add.
        topics: The new memory's topics.

    Returns:
        What was stored, or which memory the text duplicates.
    """
    existing = yield from find_duplicate(store, text, owner)
    if existing is not None:
        logger.info(
            "not adding a duplicate of memory %s for user %r", existing.memory_id, owner.get("user_id")
        )
        return AddOutcome(existing, duplicate=True)
    add = twin(store.add, store.aadd)
    # Two adds of one text racing past the lookup (parallel tool calls of one reply) get the
    # same id, so the store's insert-if-absent keeps one memory.
    now = now_epoch_s()
    record = UserMemory(
        memory_id=text_memory_id(scope, text),
        memory=text,
        topics=None if topics is None else list(topics),
        created_at=now,
        updated_at=now,
    )
    stored: UserMemory = yield add(record, **scope)
    if normalized_text(stored.memory) != normalized_text(text):
        # That id's memory was added earlier and has since been changed: a new id.
        stored = yield add(text, **scope, topics=topics)
    return AddOutcome(stored, duplicate=False)


def add_unless_duplicate(
    store: MemoryStore,
    text: str,
    *,
    owner: dict[str, Any],
    scope: ScopeKwargs,
    topics: Sequence[str] | None,
) -> Call[AddOutcome]:
    """:func:`add_plan` as one call in both styles (what a memory tool runs)."""

    def plan() -> Generator[Call[Any], Any, AddOutcome]:
        return add_plan(store, text, owner=owner, scope=scope, topics=topics)

    async def arun() -> AddOutcome:
        return await arun_calls(plan())

    return Call(lambda: run_calls(plan()), arun)
