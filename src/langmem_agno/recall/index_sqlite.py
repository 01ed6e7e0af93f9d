"""Recall on SQLite: an FTS5 table and a vectors table beside ``agno_memories``.

``<table>_fts`` holds each memory's text and topics for BM25 ranking, and is
kept current by triggers on the memory table, so memories written by Agno's
``SqliteDb`` (or any other writer) are indexed the moment they are written.
Its rowid is the memory row's rowid; every read also matches ``memory_id``,
and the index is checked against the table once per process and rebuilt when
they disagree (after a ``VACUUM`` renumbered rowids, say).

``<table>_vectors`` keeps one vector per (memory, model) with the hash of the
text it came from; the delete trigger removes a memory's vectors with it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from langmem_agno.recall.dense import StoredVector
from langmem_agno.recall.index import Owners, RecallIndex
from langmem_agno.recall.lexical import (
    BODY_WEIGHT,
    FTS_TOKENIZE,
    TAGS_WEIGHT,
    match_expression,
)
from langmem_agno.recall.text import content_terms
from langmem_agno.record import MEMORY_FIELDS, UserMemory, now_epoch_s, read_all
from langmem_agno.stores.sqlite import SQLiteMemoryStore, filter_sql
from langmem_agno.stores.types import MemoryFilter, ScoredMemory

__all__ = ["SQLiteRecallIndex"]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.stores.recall_sqlite")


def _decoded(column: str) -> str:
    """SQL for a JSON text column's plain value: Agno stores ``"text"`` with its quotes.

    Nested CASE, because SQLite only promises lazy evaluation there, and
    ``json_type`` raises on text that is not JSON (rows written by hand).
    """
    return (
        f"CASE WHEN json_valid({column}) THEN CASE json_type({column}) "
        f"WHEN 'text' THEN json_extract({column}, '$') ELSE {column} END ELSE {column} END"
    )


def _decoded_topics(column: str) -> str:
    return (
        f"CASE WHEN json_valid({column}) AND json_type({column}) = 'array' "
        f"THEN (SELECT group_concat(value, ' ') FROM json_each({column})) ELSE {column} END"
    )


class SQLiteRecallIndex(RecallIndex):
    """BM25 through a persistent FTS5 index, and vectors in a companion table.

    Args:
        store: The SQLite memory store.
    """

    lexical_in_process = False

    def __init__(self, store: SQLiteMemoryStore) -> None:
        super().__init__(store)
        self.sqlite = store
        self.table = store.table
        self.fts = f"{store.table}_fts"
        self.vectors_table = f"{store.table}_vectors"
        self.changes_table = f"{store.table}_changes"
        self._ready = False

    # ------------------------------------------------------------ schema
    def _ddl(self) -> list[str]:
        t, fts, vec, chg = self.table, self.fts, self.vectors_table, self.changes_table
        row = f"new.rowid, new.memory_id, {_decoded('new.memory')}, {_decoded_topics('new.topics')}"

        def bump(who: str) -> str:
            # A per-user change counter: recall's cached view of a user is current while it holds.
            return (
                f"INSERT INTO {chg}(user_id, gen) VALUES (coalesce({who}.user_id, ''), 1) "
                "ON CONFLICT(user_id) DO UPDATE SET gen = gen + 1;"
            )

        return [
            f"CREATE TABLE IF NOT EXISTS {chg} (user_id VARCHAR PRIMARY KEY, gen INTEGER NOT NULL)",
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_chg_ai AFTER INSERT ON {t} BEGIN {bump('new')} END",
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_chg_au AFTER UPDATE ON {t} BEGIN "
            f"{bump('old')} {bump('new')} END",
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_chg_ad AFTER DELETE ON {t} BEGIN {bump('old')} END",
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
            f"mid UNINDEXED, body, tags, tokenize='{FTS_TOKENIZE}')",
            f"""CREATE TABLE IF NOT EXISTS {vec} (
                memory_id VARCHAR NOT NULL,
                model VARCHAR NOT NULL,
                user_id VARCHAR NOT NULL,
                text_hash VARCHAR NOT NULL,
                vector BLOB NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (memory_id, model)
            )""",
            f"CREATE INDEX IF NOT EXISTS lma_{vec}_user_model ON {vec} (user_id, model)",
            # OR REPLACE: a writer that re-inserts a row may be handed the same rowid again.
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_fts_ai AFTER INSERT ON {t} BEGIN "
            f"INSERT OR REPLACE INTO {fts}(rowid, mid, body, tags) VALUES ({row}); END",
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_fts_au AFTER UPDATE ON {t} BEGIN "
            f"DELETE FROM {fts} WHERE rowid = old.rowid; "
            f"INSERT OR REPLACE INTO {fts}(rowid, mid, body, tags) VALUES ({row}); END",
            f"CREATE TRIGGER IF NOT EXISTS lma_{t}_fts_ad AFTER DELETE ON {t} BEGIN "
            f"DELETE FROM {fts} WHERE rowid = old.rowid; "
            f"DELETE FROM {vec} WHERE memory_id = old.memory_id; END",
        ]

    def _rebuild_sql(self) -> list[str]:
        t, fts = self.table, self.fts
        return [
            f"DELETE FROM {fts}",
            f"INSERT INTO {fts}(rowid, mid, body, tags) SELECT rowid, memory_id, "
            f"{_decoded('memory')}, {_decoded_topics('topics')} FROM {t}",
        ]

    def ensure(self) -> None:
        """Create the companion tables and triggers, and repair the index if it drifted; once per process."""
        if self._ready:
            return
        with self.sqlite.companion_cursor(write=True) as cur:
            for stmt in self._ddl():
                cur.execute(stmt)
            t, fts = self.table, self.fts
            rows, indexed, matched = cur.execute(
                f"SELECT (SELECT COUNT(*) FROM {t}), (SELECT COUNT(*) FROM {fts}), "
                f"(SELECT COUNT(*) FROM {t} JOIN {fts} "
                f"ON {fts}.rowid = {t}.rowid AND {fts}.mid = {t}.memory_id)"
            ).fetchone()
            if not rows == indexed == matched:
                logger.info(
                    "rebuilding %s: %d rows, %d indexed, %d matching", self.fts, rows, indexed, matched
                )
                for stmt in self._rebuild_sql():
                    cur.execute(stmt)
        self._ready = True

    # ------------------------------------------------------------ change stamp
    def stamp(self, flt: MemoryFilter) -> Hashable:
        """The user's change counter, kept by triggers on the memory table: one primary-key read.

        The triggers fire for every writer of the file (Agno's ``SqliteDb`` included), so a
        memory added, changed or deleted anywhere changes the stamp.
        """
        self.ensure()
        with self.sqlite.companion_cursor() as cur:
            row = cur.execute(
                f"SELECT gen FROM {self.changes_table} WHERE user_id = ?", (flt.user_id,)
            ).fetchone()
        return None if row is None else int(row[0])

    async def astamp(self, flt: MemoryFilter) -> Hashable:
        """Async twin of :meth:`stamp`, on a worker thread."""
        return await asyncio.to_thread(self.stamp, flt)

    # ------------------------------------------------------------ lexical
    def _where(self, flt: MemoryFilter) -> tuple[str, list[Any]]:
        where, params = filter_sql(flt, table=self.table)
        # The join clause binds nothing, so the parameters keep their order.
        return f"{where} AND {self.table}.memory_id = {self.fts}.mid", params

    def lexical(
        self, flt: MemoryFilter, query: str, limit: int, candidates: Sequence[UserMemory] | None
    ) -> list[ScoredMemory]:
        """Rank this user's memories by BM25 in the FTS5 index, best first."""
        terms = content_terms(query)
        if not terms:
            return []
        self.ensure()
        where, params = self._where(flt)
        cols = ", ".join(f"{self.table}.{c}" for c in MEMORY_FIELDS)
        sql = (
            f"SELECT {cols}, bm25({self.fts}, 0, {BODY_WEIGHT}, {TAGS_WEIGHT}) AS lma_score "
            f"FROM {self.fts} CROSS JOIN {self.table} ON {self.table}.rowid = {self.fts}.rowid "
            f"WHERE {self.fts} MATCH ? AND {where} ORDER BY lma_score, {self.fts}.rowid LIMIT ?"
        )
        with self.sqlite.companion_cursor() as cur:
            expression = match_expression(terms)
            rows = cur.execute(sql, [expression, *params, limit]).fetchall()
        # A row another writer stored that we cannot read is skipped (with a warning), not fatal.
        readable = {m.memory_id: m for m in read_all(rows, UserMemory.from_row)}
        return [
            ScoredMemory(memory=readable[r["memory_id"]], score=-float(r["lma_score"]))
            for r in rows
            if isinstance(r["memory_id"], str) and r["memory_id"] in readable
        ]

    def related(self, flt: MemoryFilter, query: str, limit: int) -> list[UserMemory]:
        """Memories related to ``query`` by BM25 in the full-text index (a few ms at 10,000 memories)."""
        return [h.memory for h in self.lexical(flt, query, limit, None)]

    async def arelated(self, flt: MemoryFilter, query: str, limit: int) -> list[UserMemory]:
        """Async twin of :meth:`related`, on a worker thread."""
        return await asyncio.to_thread(self.related, flt, query, limit)

    async def alexical(
        self, flt: MemoryFilter, query: str, limit: int, candidates: Sequence[UserMemory] | None
    ) -> list[ScoredMemory]:
        """Async twin of :meth:`lexical`, on a worker thread as the store's own twins are."""
        return await asyncio.to_thread(self.lexical, flt, query, limit, candidates)

    # ------------------------------------------------------------ vectors
    def load_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Return this user's stored vectors of ``model`` for these memories."""
        self.ensure()
        wanted = set(memory_ids)
        with self.sqlite.companion_cursor() as cur:
            rows = cur.execute(
                f"SELECT memory_id, text_hash, vector FROM {self.vectors_table} "
                "WHERE user_id = ? AND model = ?",
                (user_id, model),
            ).fetchall()
        # Orphans cannot pile up here: the delete trigger removes a memory's vectors.
        return {
            r[0]: StoredVector(r[1], np.frombuffer(r[2], dtype=np.float32)) for r in rows if r[0] in wanted
        }

    async def aload_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Async twin of :meth:`load_vectors`."""
        return await asyncio.to_thread(self.load_vectors, user_id, model, memory_ids, complete)

    def save_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Store (or replace) vectors in one transaction (``owners`` is not needed here)."""
        self.ensure()
        now = now_epoch_s()
        with self.sqlite.companion_cursor(write=True) as cur:
            cur.executemany(
                f"INSERT OR REPLACE INTO {self.vectors_table} "
                "(memory_id, model, user_id, text_hash, vector, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (mid, model, user_id, v.text_hash, sqlite3.Binary(v.vector.astype("<f4").tobytes()), now)
                    for mid, v in rows
                ],
            )

    async def asave_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Async twin of :meth:`save_vectors`."""
        await asyncio.to_thread(self.save_vectors, user_id, model, rows)
