"""MongoDB word search, run in the server: a bounded match, scored and cut there, ranked exactly here.

The server finds the scope's memories holding a query word, counts for each how many distinct
words it holds, sorts by that count and by recency and hands back only the best few: never a
scan of the user's documents sent to the process. The shared ranking
(:func:`~langmem_agno.stores.search.rank_by_terms`) then scores those few exactly as every
backend does, so the order is the same as on SQLite or PostgreSQL.

A word matches where a word of the text or topics *starts* with it, case-insensitively: the
pattern is the escaped term after the start of the text or a non-word character. When the
collection has a text index over both ``memory`` and ``topics`` (made by its owner: neither we
nor Agno create one), the first stage is a ``$text`` match served by that index instead; a text
index matches whole stemmed words, so there a bare prefix ("pref") finds fewer memories.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pymongo import DESCENDING

from langmem_agno.record import UserMemory, read_all
from langmem_agno.stores.mongo_plans import (
    PROJECTION,
    _Aggregate,
    _ListIndexes,
    _Plan,
    _SearchAndNewest,
    _UnionAll,
    filter_document,
)
from langmem_agno.stores.search import rank_by_terms
from langmem_agno.stores.types import MemoryFilter, ScoredMemory

__all__ = [
    "SEARCH_SLACK",
    "has_text_index",
    "search_and_newest_plan",
    "search_each_plan",
    "search_pipeline",
    "search_plan",
]

#: How many hits beyond the limit the server hands back: room for rows the shared reader skips
#: (unreadable ones Agno or a script wrote) and for the rare word the server's regex engine and
#: Python's split differently, so the ranking here still fills the limit.
SEARCH_SLACK = 10
_SCORE = "_lma_terms"


def has_text_index(indexes: Sequence[dict[str, Any]]) -> bool:
    """Whether one of these index descriptions is a text index covering ``memory`` and ``topics``."""
    for index in indexes:
        if "_fts" not in dict(index.get("key") or {}):
            continue
        weights = dict(index.get("weights") or {})
        if "$**" in weights or {"memory", "topics"} <= set(weights):
            return True
    return False


def _word_start(term: str) -> str:
    # The term is word characters only (query_terms), so "a word starts with it" is "it follows
    # the start or a non-word character". Escaped: the query is matched literally, never a pattern.
    return r"(?:^|\W)" + re.escape(term)


def _is_string(expr: str) -> dict[str, Any]:
    return {"$eq": [{"$type": expr}, "string"]}


def _matches(expr: str, pattern: str) -> dict[str, Any]:
    # $cond, not $and: $regexMatch fails on a number or an object, so it must not run on one.
    regex = {"$regexMatch": {"input": expr, "regex": pattern, "options": "i"}}
    return {"$cond": [_is_string(expr), regex, False]}


def _term_hit(pattern: str) -> dict[str, Any]:
    topics = {"$cond": [{"$isArray": "$topics"}, "$topics", []]}
    in_topics = {"$anyElementTrue": [{"$map": {"input": topics, "as": "t", "in": _matches("$$t", pattern)}}]}
    return {"$cond": [{"$or": [_matches("$memory", pattern), in_topics]}, 1, 0]}


def search_pipeline(flt: MemoryFilter, terms: Sequence[str], limit: int, *, text_index: bool) -> list[Any]:
    """The aggregation that finds, scores, orders and cuts the scope's hits for ``terms``.

    Args:
        flt: Whose memories.
        terms: The query's words (:func:`~langmem_agno.stores.search.query_terms`).
        limit: How many hits the caller wants; the server returns at most ``limit + SEARCH_SLACK``.
        text_index: Match with ``$text`` (a text index over memory and topics exists).
    """
    patterns = [_word_start(t) for t in terms]
    match = filter_document(flt)
    if text_index:
        match["$text"] = {"$search": " ".join(terms)}
    else:
        match["$or"] = [
            {field: {"$regex": p, "$options": "i"}} for p in patterns for field in ("memory", "topics")
        ]
    return [
        {"$match": match},
        {"$addFields": {_SCORE: {"$add": [_term_hit(p) for p in patterns]}}},
        # Same order as the shared ranking: terms matched, then newest; _id breaks same-second ties.
        {"$sort": {_SCORE: DESCENDING, "updated_at": DESCENDING, "_id": DESCENDING}},
        {"$limit": limit + SEARCH_SLACK},
        {"$project": PROJECTION},
    ]


def search_plan(
    flt: MemoryFilter, terms: Sequence[str], limit: int, text_index: bool | None
) -> _Plan[tuple[list[ScoredMemory], bool]]:
    """Search in the server; ``text_index`` is what an earlier search found, ``None`` to ask once.

    Returns:
        The hits, best first, and whether the collection has a text index (for the caller to keep).
    """
    if text_index is None:
        text_index = has_text_index((yield _ListIndexes()))
    docs = yield _Aggregate(search_pipeline(flt, terms, limit, text_index=text_index))
    return rank_by_terms(read_all(docs, UserMemory.from_document), terms, limit), text_index


def search_and_newest_plan(
    flt: MemoryFilter, terms: Sequence[str], limit: int, newest: int, text_index: bool | None
) -> _Plan[tuple[list[ScoredMemory], list[UserMemory], int, bool | None]]:
    """:func:`search_plan`'s hits, and the scope's ``newest`` newest memories and total: one aggregate.

    No ``terms``: no search, only the newest. Returns the hits, the newest, the scope's total and
    what is known of a text index (for the caller to keep).
    """
    if terms and text_index is None:
        text_index = has_text_index((yield _ListIndexes()))
    search = search_pipeline(flt, terms, limit, text_index=bool(text_index)) if terms else []
    order = [("updated_at", DESCENDING), ("_id", DESCENDING)]
    hits, recent, total = yield _SearchAndNewest(search, filter_document(flt), order, newest)
    ranked = rank_by_terms(read_all(hits, UserMemory.from_document), terms, limit) if terms else []
    return ranked, read_all(recent, UserMemory.from_document), int(total), text_index


def search_each_plan(
    flt: MemoryFilter, queries: Sequence[Sequence[str]], limit: int, text_index: bool | None
) -> _Plan[tuple[list[list[ScoredMemory]], bool | None]]:
    """:func:`search_plan` for each of several term lists, in one aggregate of their pipelines.

    With a text index the searches run one by one: ``$text`` may open only the first pipeline.
    """
    if text_index is None:
        text_index = has_text_index((yield _ListIndexes()))
    wanted = [list(terms) for terms in queries if terms]
    docs: list[list[dict[str, Any]]] = []
    if text_index:
        for terms in wanted:
            docs.append((yield _Aggregate(search_pipeline(flt, terms, limit, text_index=True))))
    elif wanted:
        docs = yield _UnionAll([search_pipeline(flt, t, limit, text_index=False) for t in wanted])
    found = iter(
        rank_by_terms(read_all(d, UserMemory.from_document), t, limit)
        for d, t in zip(docs, wanted, strict=True)
    )
    return [next(found) if terms else [] for terms in queries], text_index
