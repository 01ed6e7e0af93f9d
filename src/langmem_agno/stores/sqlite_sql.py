"""The SQL text of the SQLite store: Agno's table, our word index and its triggers, the filters.

Kept apart from :mod:`~langmem_agno.stores.sqlite`, which runs it: everything here is a string
builder, a SQL function registered on the store's connection, or a step of opening the file.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from langmem_agno.record import MEMORY_FIELDS, UserMemory, unreadable_reason
from langmem_agno.stores.types import MemoryFilter

__all__ = [
    "TERM_HITS_LIMIT",
    "enable_wal",
    "filter_sql",
    "owner_token",
    "schema_ddl",
    "search_text",
    "sync_words",
    "unreadable",
]

# The store's logger: these lines were logged under it before this module existed.
logger = logging.getLogger("langmem_agno.stores.sqlite")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _ddl(table: str) -> list[str]:
    # Same columns, types and index names as Agno's SqliteDb, so that either
    # side can create the table first and the other finds what it expects.
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            memory_id VARCHAR NOT NULL,
            memory JSON NOT NULL,
            input VARCHAR,
            agent_id VARCHAR,
            team_id VARCHAR,
            user_id VARCHAR,
            topics JSON,
            feedback VARCHAR,
            created_at BIGINT NOT NULL,
            updated_at BIGINT,
            PRIMARY KEY (memory_id)
        )""",
        f"CREATE INDEX IF NOT EXISTS idx_{table}_user_id ON {table} (user_id)",
        f"CREATE INDEX IF NOT EXISTS idx_{table}_created_at ON {table} (created_at)",
        f"CREATE INDEX IF NOT EXISTS idx_{table}_updated_at ON {table} (updated_at)",
        # Ours: "this user's memories, newest first" without a sort step.
        f"CREATE INDEX IF NOT EXISTS lma_{table}_user_updated ON {table} (user_id, updated_at)",
    ]


def _json_text_sql(column: str) -> str:
    """SQL for a JSON text column's plain value (Agno stores ``"text"``, quotes and escapes included).

    Only built-in functions: the word index's triggers run in every writer's connection
    (Agno's too), where no function of ours is defined. Nested CASE, because SQLite only
    promises lazy evaluation there, and ``json_type`` raises on text that is not JSON.
    """
    return (
        f"CASE WHEN json_valid({column}) THEN CASE json_type({column}) "
        f"WHEN 'text' THEN json_extract({column}, '$') ELSE {column} END ELSE {column} END"
    )


def _json_tags_sql(column: str) -> str:
    return (
        f"CASE WHEN json_valid({column}) AND json_type({column}) = 'array' "
        f"THEN (SELECT group_concat(value, ' ') FROM json_each({column})) ELSE {column} END"
    )


#: Words as the shared word search splits them (``\w+``, underscores included), not stemmed:
#: search matches words by prefix, which a stemmed index would miss ("runni" in "running").
_WORDS_TOKENIZE = "unicode61 remove_diacritics 0 tokenchars '_'"


def _words_ddl(table: str) -> list[str]:
    """The store's word index ``<table>_words``: FTS5 over each row's text and topics, kept by triggers.

    The triggers fire for every writer of the file, so a row Agno writes is searchable at once.
    Its rowid is the memory row's; reads match ``memory_id`` too, and :meth:`SQLiteMemoryStore.__init__`
    rebuilds it when it disagrees with the table (a ``VACUUM`` renumbered rowids, rows written
    before the index existed).
    """
    words = f"{table}_words"
    row = (
        f"new.rowid, new.memory_id, {_owner_sql('new.user_id')}, "
        f"{_json_text_sql('new.memory')}, {_json_tags_sql('new.topics')}"
    )
    cols = "rowid, mid, owner, body, tags"
    return [
        # owner: the user as one token (its UTF-8 bytes in hex), so the index itself keeps a
        # search inside one user's memories, and "the newest N" of a search means this user's.
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {words} USING fts5("
        f'mid UNINDEXED, owner, body, tags, tokenize="{_WORDS_TOKENIZE}")',
        f"CREATE TRIGGER IF NOT EXISTS lma_{table}_words_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT OR REPLACE INTO {words}({cols}) VALUES ({row}); END",
        f"CREATE TRIGGER IF NOT EXISTS lma_{table}_words_au AFTER UPDATE ON {table} BEGIN "
        f"DELETE FROM {words} WHERE rowid = old.rowid; "
        f"INSERT OR REPLACE INTO {words}({cols}) VALUES ({row}); END",
        f"CREATE TRIGGER IF NOT EXISTS lma_{table}_words_ad AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {words} WHERE rowid = old.rowid; END",
    ]


def _owner_sql(column: str) -> str:
    # hex() of text is its UTF-8 bytes: one token of [0-9A-F] for any user id, "x" alone for none.
    return f"'x' || hex(CAST({column} AS TEXT))"


def owner_token(user_id: str) -> str:
    """The word index's one-token form of ``user_id`` (what :func:`_owner_sql` computes in SQL)."""
    return "x" + user_id.encode("utf-8").hex().upper()


#: How many of the user's memories holding one search term take part in the ranking, newest first.
#: A word found in more of them counts in only its newest this many, so a search costs the same
#: at 100,000 memories as at 1,000; rarer words (most of a query's) are matched everywhere.
TERM_HITS_LIMIT = 100


def sync_words(cur: sqlite3.Cursor, table: str) -> None:
    """Rebuild the word index if it does not hold exactly the table's rows."""
    words = f"{table}_words"
    rows, indexed, matched = cur.execute(
        f"SELECT (SELECT COUNT(*) FROM {table}), (SELECT COUNT(*) FROM {words}), "
        f"(SELECT COUNT(*) FROM {table} JOIN {words} "
        f"ON {words}.rowid = {table}.rowid AND {words}.mid = {table}.memory_id)"
    ).fetchone()
    if rows == indexed == matched:
        return
    logger.info("rebuilding %s: %d rows, %d indexed, %d matching", words, rows, indexed, matched)
    cur.execute(f"DELETE FROM {words}")
    cur.execute(
        f"INSERT INTO {words}(rowid, mid, owner, body, tags) SELECT rowid, memory_id, "
        f"{_owner_sql('user_id')}, {_json_text_sql('memory')}, {_json_tags_sql('topics')} FROM {table}"
    )


def search_text(value: object) -> str | None:
    r"""SQL function ``lma_text``: a JSON column's text, lowercased the way Python does.

    Agno's SQLAlchemy ``JSON`` columns escape non-ASCII (``"Caf\u00e9"``) and
    SQLite's ``lower()`` folds ASCII only, so a plain ``lower(memory) LIKE`` misses
    "café" or "École". Decoding first makes every row searchable the same way.
    """
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = value
    text = decoded if isinstance(decoded, str) else json.dumps(decoded, ensure_ascii=False)
    return text.lower()


def unreadable(*values: object) -> int:
    """SQL function ``lma_unreadable``: 1 for a row (its ten columns) that reading would skip, else 0."""
    row = dict(zip(MEMORY_FIELDS, values, strict=True))
    return int(unreadable_reason(row, UserMemory.from_row) is not None)


def enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL, waiting for other connections that hold it.

    Run outside any transaction: inside one, SQLite silently keeps the old mode.
    The switch needs the file to itself, and SQLite answers "database is locked"
    at once, without its busy handler, when several connections open a new file
    together; so it is retried here until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def filter_sql(flt: MemoryFilter, ids: Sequence[str] | None = None, *, table: str) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (columns qualified by ``table``) and its parameters for a filter.

    Args:
        flt: Whose memories: the user, and optionally the agent, team and topics.
        ids: Only these memory ids, when given.
        table: The memory table, a checked identifier.

    Returns:
        The clause, without ``WHERE``, and the values to bind, in order.
    """
    clauses = [f"{table}.user_id = ?"]
    params: list[Any] = [flt.user_id]
    for column, value in (("agent_id", flt.agent_id), ("team_id", flt.team_id)):
        if value is not None:
            clauses.append(f"{table}.{column} = ?")
            params.append(value)
    if flt.topics is not None:
        marks = ",".join("?" * len(flt.topics))
        clauses.append(f"EXISTS (SELECT 1 FROM json_each({table}.topics) WHERE json_each.value IN ({marks}))")
        params.extend(flt.topics)
    if ids is not None:
        clauses.append(f"{table}.memory_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    return " AND ".join(clauses), params


def schema_ddl(table: str) -> list[str]:
    """Every statement that creates the table, its indexes, the word index and its triggers (idempotent)."""
    return [*_ddl(table), *_words_ddl(table)]
