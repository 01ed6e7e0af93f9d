"""Lexical ranking without a model: BM25 through SQLite's FTS5.

FTS5 ships with Python's ``sqlite3`` and ranks with BM25; the Porter stemmer
lets "emails" find "email" and "prefers" find "preferred". The SQLite store
keeps a persistent FTS5 table beside the memories; other stores rank in the
process with :func:`rank_in_process`, which builds the same index in memory
over the user's memories that share a word stem with the query (found by the
database). The tokenizer and scoring are the same on both paths; only the
document frequencies differ, counted over that pool instead of the whole table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from langmem_agno.record import UserMemory
from langmem_agno.stores.base import ScoredMemory, query_terms

#: Function words of English questions. They match nearly every memory, and in
#: a fused ranking such matches would outvote a true semantic hit; BM25's IDF
#: only discounts them within one user's small corpus.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves""".split()  # noqa: SIM905 - reads better than 130 quoted words
)
#: Porter stemming over Unicode words, accents folded.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
#: bm25() weights of the text and topic columns: a topic word is a weaker signal.
BODY_WEIGHT = 1.0
TAGS_WEIGHT = 0.5


def content_terms(query: str) -> list[str]:
    """Return the distinct lowercase words of ``query`` less function words (all of them if that is all)."""
    terms = query_terms(query)
    return [t for t in terms if t not in STOP_WORDS] or terms


def stem_prefix(term: str) -> str:
    """Return a prefix of ``term`` that every word form sharing its Porter stem starts with.

    Porter stemming strips or rewrites endings, and can cut a word back to its
    first three letters ("running", "runs": "run"), so three letters is the
    longest prefix all forms are sure to share. Used to pre-filter candidates in
    a database; BM25 then decides what really matches.
    """
    return term[:3]


def match_expression(terms: Sequence[str]) -> str | None:
    """Turn terms into an FTS5 query matching any of them, each quoted so none is an operator.

    Returns:
        The expression, or ``None`` when there are no terms.
    """
    # \w+ terms hold no double quote; quoting makes AND/OR/NEAR/* plain words.
    return " OR ".join(f'"{t}"' for t in terms) or None


def topics_text(topics: Sequence[str] | None) -> str:
    """Return topics as one space-separated string for indexing."""
    return " ".join(topics or ())


def rank_in_process(memories: Sequence[UserMemory], query: str, limit: int) -> list[ScoredMemory]:
    """Rank memories for ``query`` by BM25, best first, in a throwaway in-memory FTS5 index.

    Args:
        memories: The candidates (one user's, already filtered).
        query: Free text.
        limit: How many hits at most.

    Returns:
        The hits that share at least one (stemmed) word with the query.
    """
    terms = content_terms(query)
    if not terms or not memories:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE idx USING fts5(body, tags, tokenize='{FTS_TOKENIZE}')")
        conn.executemany(
            "INSERT INTO idx(rowid, body, tags) VALUES (?, ?, ?)",
            [(i, m.memory, topics_text(m.topics)) for i, m in enumerate(memories)],
        )
        rows = conn.execute(
            f"SELECT rowid, bm25(idx, {BODY_WEIGHT}, {TAGS_WEIGHT}) AS s FROM idx WHERE idx MATCH ? "
            "ORDER BY s, rowid LIMIT ?",
            (match_expression(terms), limit),
        ).fetchall()
    finally:
        conn.close()
    # bm25() is lower-is-better; flip it so higher is better like every other score.
    return [ScoredMemory(memory=memories[i], score=-float(s)) for i, s in rows]
