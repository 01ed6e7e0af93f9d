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

from langmem_agno.recall.text import content_terms, topics_text
from langmem_agno.record import UserMemory
from langmem_agno.stores.types import ScoredMemory

__all__ = ["BODY_WEIGHT", "FTS_TOKENIZE", "TAGS_WEIGHT", "match_expression", "rank_in_process"]

#: Porter stemming over Unicode words, accents folded.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"
#: bm25() weights of the text and topic columns: a topic word is a weaker signal.
BODY_WEIGHT = 1.0
TAGS_WEIGHT = 0.5


def match_expression(terms: Sequence[str]) -> str | None:
    """Turn terms into an FTS5 query matching any of them, each quoted so none is an operator.

    Returns:
        The expression, or ``None`` when there are no terms.
    """
    # \w+ terms hold no double quote; quoting makes AND/OR/NEAR/* plain words.
    return " OR ".join(f'"{t}"' for t in terms) or None


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
