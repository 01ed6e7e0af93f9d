"""Word search that every backend shares: the query's terms, and ranking by the terms matched."""

from __future__ import annotations

import re
from collections.abc import Sequence

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import UserMemory
from langmem_agno.stores.types import ScoredMemory

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "MAX_TERM_CHARS",
    "SEARCH_SCAN_LIMIT",
    "query_terms",
    "rank_by_terms",
]

_WORD = re.compile(r"\w+", re.UNICODE)
_TRAILING_WORD = re.compile(r"\w+$", re.UNICODE)
#: How many of a user's memories a text search looks at, newest first, when the
#: backend has no index to rank with. Bounded so one prolific user cannot make
#: every search scan everything.
SEARCH_SCAN_LIMIT = 5_000
#: Longest search term kept; a longer word is cut to this prefix (matching is by prefix anyway),
#: so a pasted blob cannot become a pattern the database refuses (MongoDB caps ``$regex`` size).
MAX_TERM_CHARS = 100
#: Most distinct terms one search uses (the first ones): each costs an index lookup, and a model
#: chooses the query, so its cost must not be the model's to choose.
MAX_QUERY_TERMS = 16
#: Only the first this many characters of a query are read, for the same reason.
MAX_QUERY_CHARS = 1_000


def query_terms(text: str) -> list[str]:
    """Split search text into distinct lowercase word terms, in order (at most ``MAX_QUERY_TERMS``).

    Only the first :data:`MAX_QUERY_CHARS` characters are read.

    The terms are used only as literal values (escaped for ``$regex``, bound as
    SQL parameters): nothing in the query text is ever interpreted.
    """
    if not isinstance(text, str):
        raise InvalidMemoryError(f"search query must be a string, got {type(text).__name__} {text!r:.80}")
    seen: dict[str, None] = {}
    head = text[:MAX_QUERY_CHARS]
    if len(text) > MAX_QUERY_CHARS and _WORD.match(text, MAX_QUERY_CHARS):
        # The cut fell inside a word: drop its start rather than search for a prefix nobody typed.
        head = _TRAILING_WORD.sub("", head)
    for word in _WORD.findall(head.lower()):
        seen.setdefault(word[:MAX_TERM_CHARS])
        if len(seen) == MAX_QUERY_TERMS:
            break
    return list(seen)


def rank_by_terms(memories: Sequence[UserMemory], terms: Sequence[str], limit: int) -> list[ScoredMemory]:
    """Rank memories by how many distinct query terms their text or topics contain.

    Ties go to the most recently updated memory. Memories that match no term are dropped.
    """
    hits: list[ScoredMemory] = []
    for mem in memories:
        words = set(_WORD.findall(mem.memory.lower()))
        for topic in mem.topics or ():
            words.update(_WORD.findall(topic))
        matched = tuple(t for t in terms if t in words or any(w.startswith(t) for w in words))
        if matched:
            hits.append(ScoredMemory(memory=mem, score=len(matched) / len(terms), matched_terms=matched))
    hits.sort(key=lambda h: (h.score, h.memory.updated_at or 0), reverse=True)
    return hits[:limit]
