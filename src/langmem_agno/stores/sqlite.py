"""The embedded default: memories in a SQLite file, in Agno's ``agno_memories`` layout.

One connection per store, guarded by a lock, so any number of threads may share
a store and concurrent writers queue instead of failing with "database is
locked". File databases use WAL, so readers in other processes (an Agno app on
the same file) are not blocked by our writes. The async twins run the same
code on a worker thread, so they never block the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from langmem_agno.errors import ConfigurationError, InvalidMemoryError, StoreUnavailableError
from langmem_agno.record import (
    DEFAULT_MAX_MEMORY_CHARS,
    MEMORY_FIELDS,
    UserMemory,
    decode_row,
    read_all,
    unreadable_reason,
)
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.base import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    MemoryStore,
    ScoredMemory,
    SortOrder,
    UserStats,
    rank_by_terms,
)
from langmem_agno.stores.validation import stored_or_unreadable

logger = logging.getLogger(__name__)
T = TypeVar("T")
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


def _owner_token(user_id: str) -> str:
    return "x" + user_id.encode("utf-8").hex().upper()


#: How many of the user's memories holding one search term take part in the ranking, newest first.
#: A word found in more of them counts in only its newest this many, so a search costs the same
#: at 100,000 memories as at 1,000; rarer words (most of a query's) are matched everywhere.
TERM_HITS_LIMIT = 100


def _sync_words(cur: sqlite3.Cursor, table: str) -> None:
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


def _search_text(value: object) -> str | None:
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


def _unreadable(*values: object) -> int:
    """SQL function ``lma_unreadable``: 1 for a row (its ten columns) that reading would skip, else 0."""
    row = dict(zip(MEMORY_FIELDS, values, strict=True))
    return int(unreadable_reason(row, UserMemory.from_row) is not None)


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
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


class SQLiteMemoryStore(MemoryStore):
    """Memories in a SQLite database, readable and writable by Agno's ``SqliteDb``.

    Args:
        path: A file path, or ``":memory:"`` for a private in-process database.
        table: The table name (Agno's ``memory_table`` option); ``agno_memories`` by default.
        max_memory_chars: The longest memory text accepted on add and update.
        secret_filter: Refuse text holding an obvious secret; ``False`` turns it off.
        timeout: Seconds to wait for another process's lock on the file.

    Example:
        >>> store = SQLiteMemoryStore(":memory:")
        >>> store.add("Sarah prefers email", user_id="u1").memory
        'Sarah prefers email'
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "agno.db",
        *,
        table: str = "agno_memories",
        max_memory_chars: int | None = DEFAULT_MAX_MEMORY_CHARS,
        secret_filter: SecretFilter | bool = True,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(max_memory_chars=max_memory_chars, secret_filter=secret_filter)
        if not _TABLE_NAME.match(table):
            raise ConfigurationError(f"table name must be a plain SQL identifier, got {table!r}")
        self.path = str(path)
        self.table = table
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                os.path.expanduser(self.path), timeout=timeout, check_same_thread=False, isolation_level=None
            )
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailableError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("lma_text", 1, _search_text, deterministic=True)
        self._conn.create_function("lma_unreadable", len(MEMORY_FIELDS), _unreadable, deterministic=True)
        try:
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            if self.path != ":memory:":
                _enable_wal(self._conn, timeout)
                # Safe under WAL (a crash loses at most the last commits, never
                # consistency) and it makes a commit ~10x cheaper than FULL's fsync.
                self._conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreUnavailableError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        with self._tx() as cur:
            for stmt in [*_ddl(table), *_words_ddl(table)]:
                cur.execute(stmt)
            _sync_words(cur, table)
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteMemoryStore({self.path!r}, table={self.table!r})"

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        """One transaction under the store's lock: all of it is written, or none."""
        with self._lock:
            try:
                cur = self._conn.cursor()
            except sqlite3.Error as exc:  # closed store
                raise StoreUnavailableError(f"SQLite database {self.path!r}: {exc}") from exc
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreUnavailableError(f"SQLite database {self.path!r}: {exc}") from exc
                raise
            finally:
                cur.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Cursor]:
        """A cursor for reads under the store's lock; database errors become StoreUnavailableError."""
        with self._lock:
            try:
                cur = self._conn.cursor()
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"SQLite database {self.path!r}: {exc}") from exc
            try:
                yield cur
            except sqlite3.Error as exc:
                raise StoreUnavailableError(f"SQLite database {self.path!r}: {exc}") from exc
            finally:
                cur.close()

    @contextmanager
    def companion_cursor(self, *, write: bool = False) -> Iterator[sqlite3.Cursor]:
        """A cursor on the store's connection, under its lock, for tables kept beside the memories.

        Recall keeps its full-text index and vectors in companion tables of the
        same database (never extra columns in the memory table); they must share
        this connection, since a ``":memory:"`` database is private to it.

        Args:
            write: Run the block as one write transaction (all of it or none).

        Yields:
            The cursor, valid only inside the block.
        """
        if write:
            with self._tx() as cur:
                yield cur
            return
        with self._read() as cur:
            yield cur

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if not self._closed:
                self._conn.close()
                self._closed = True

    # ------------------------------------------------------------ SQL pieces
    def _where(self, flt: MemoryFilter, ids: Sequence[str] | None = None) -> tuple[str, list[Any]]:
        return filter_sql(flt, ids, table=self.table)

    def _select(
        self, cur: sqlite3.Cursor, where: str, params: Sequence[Any], tail: str = ""
    ) -> list[UserMemory]:
        cols = ", ".join(MEMORY_FIELDS)
        rows = cur.execute(f"SELECT {cols} FROM {self.table} WHERE {where} {tail}", params).fetchall()
        return read_all(rows, UserMemory.from_row)

    # ------------------------------------------------------------ primitives
    def _insert_absent(self, cur: sqlite3.Cursor, records: Sequence[UserMemory]) -> None:
        """Insert the records this user does not have yet; refuse all if an id is another user's."""
        if not records:
            return
        cols = ", ".join(MEMORY_FIELDS)
        marks = ", ".join("?" * len(MEMORY_FIELDS))
        ids = [r.memory_id for r in records]
        marks_ids = ",".join("?" * len(ids))
        owners = dict(
            cur.execute(
                f"SELECT memory_id, user_id FROM {self.table} WHERE memory_id IN ({marks_ids})", ids
            ).fetchall()
        )
        for rec in records:
            if rec.memory_id in owners and owners[rec.memory_id] != rec.user_id:
                raise InvalidMemoryError(f"memory_id {rec.memory_id!r} is already in use")
        cur.executemany(
            f"INSERT INTO {self.table} ({cols}) VALUES ({marks})",
            [tuple(r.to_row()[c] for c in MEMORY_FIELDS) for r in records if r.memory_id not in owners],
        )

    def _set_fields(self, cur: sqlite3.Cursor, memory_id: str, user_id: str, changes: dict[str, Any]) -> bool:
        """Set ``changes`` on the memory if this user owns it; return whether it did."""
        # memory and topics are JSON columns, encoded as Agno's SQLAlchemy JSON type does.
        encoded = {
            k: json.dumps(v, ensure_ascii=False) if k in ("memory", "topics") else v
            for k, v in changes.items()
        }
        sets = ", ".join(f"{k} = ?" for k in encoded)
        cur.execute(
            f"UPDATE {self.table} SET {sets} WHERE memory_id = ? AND user_id = ?",
            [*encoded.values(), memory_id, user_id],
        )
        return cur.rowcount > 0

    def _by_id(self, cur: sqlite3.Cursor, user_id: str, ids: Sequence[str]) -> dict[str, UserMemory]:
        if not ids:
            return {}
        return {m.memory_id: m for m in self._select(cur, *self._where(MemoryFilter(user_id), ids))}

    def _insert(self, records: list[UserMemory]) -> list[UserMemory]:
        ids = [r.memory_id for r in records]
        with self._tx() as cur:
            self._insert_absent(cur, records)
            stored = self._by_id(cur, records[0].user_id or "", ids)
        return [stored_or_unreadable(stored, i) for i in ids]

    def _apply(self, request: ChangeRequest) -> ChangeSet:
        flt = request.flt
        update_ids = [i for i, _ in request.updates]
        with self._tx() as cur:
            self._insert_absent(cur, request.adds)
            targets = [*update_ids, *request.deletes]
            where, params = self._where(flt, targets)
            present = {r[0] for r in cur.execute(f"SELECT memory_id FROM {self.table} WHERE {where}", params)}
            # Owned by this user and in the agent's or team's scope, checked once: the
            # UPDATE itself filters by user only, and the transaction keeps this true.
            updated = [
                i
                for i, changes in request.updates
                if i in present and self._set_fields(cur, i, flt.user_id, changes)
            ]
            deleted = [i for i in request.deletes if i in present]
            if deleted:
                del_where, del_params = self._where(flt, deleted)
                cur.execute(f"DELETE FROM {self.table} WHERE {del_where}", del_params)
            stored = self._by_id(cur, flt.user_id, [*(r.memory_id for r in request.adds), *updated])
        return ChangeSet(
            added=[stored_or_unreadable(stored, r.memory_id) for r in request.adds],
            updated=[stored[i] for i in updated if i in stored],
            deleted=deleted,
            missing_updates=[i for i in update_ids if i not in present or i not in stored],
            missing_deletes=[i for i in request.deletes if i not in present],
        )

    def _find(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        where, params = self._where(flt, ids)
        direction = "DESC" if sort == "desc" else "ASC"
        # Timestamps are whole seconds, so ties are common; rowid keeps
        # same-second memories in the order they were written.
        tail = f"ORDER BY updated_at {direction}, rowid {direction} LIMIT ? OFFSET ?"
        with self._read() as cur:
            items = self._select(cur, where, [*params, -1 if limit is None else limit, offset], tail)
            count_sql = f"SELECT COUNT(*) FROM {self.table} WHERE {where}"
            total = cur.execute(count_sql, params).fetchone()[0] if count else 0
        return items, int(total)

    def _raw(self, user_id: str | None, ids: Sequence[str] | None) -> list[dict[str, Any]]:
        cols = ", ".join(MEMORY_FIELDS)
        # No user: the rows whose user_id is missing or not text, which no scoped read sees.
        no_user = "(user_id IS NULL OR typeof(user_id) != 'text')"
        clauses = ["user_id = ?"] if user_id is not None else [no_user]
        params: list[Any] = [user_id] if user_id is not None else []
        if ids is not None:
            clauses.append(f"memory_id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        sql = f"SELECT {cols} FROM {self.table} WHERE {' AND '.join(clauses)} ORDER BY rowid"
        with self._read() as cur:
            return [decode_row(r) for r in cur.execute(sql, params).fetchall()]

    def _update(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        with self._tx() as cur:
            if not self._set_fields(cur, memory_id, user_id, changes):
                return None
            found = self._by_id(cur, user_id, [memory_id])
        return found.get(memory_id)

    def _delete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        where, params = self._where(flt, ids)
        with self._tx() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE {where}", params)
            return int(cur.rowcount)

    def _topics(self, flt: MemoryFilter) -> list[str]:
        where, params = self._where(flt)
        sql = (
            f"SELECT DISTINCT json_each.value FROM {self.table}, json_each({self.table}.topics) "
            f"WHERE {where} AND json_valid({self.table}.topics)"
        )
        with self._read() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [r[0] for r in rows if isinstance(r[0], str) and r[0]]

    def _stats(self, user_id: str | None, limit: int | None, offset: int) -> tuple[list[UserStats], int]:
        where = "user_id = ?" if user_id is not None else "user_id IS NOT NULL"
        params: list[Any] = [user_id] if user_id is not None else []
        with self._read() as cur:
            cols = ", ".join(MEMORY_FIELDS)
            rows = cur.execute(
                f"SELECT user_id, COUNT(*), MAX(updated_at), SUM(lma_unreadable({cols})) "
                f"FROM {self.table} WHERE {where} "
                "GROUP BY user_id ORDER BY MAX(updated_at) DESC, user_id LIMIT ? OFFSET ?",
                [*params, -1 if limit is None else limit, offset],
            ).fetchall()
            total = cur.execute(
                f"SELECT COUNT(DISTINCT user_id) FROM {self.table} WHERE {where}", params
            ).fetchone()[0]
        return [UserStats(r[0], int(r[1]), r[2], int(r[3] or 0)) for r in rows], int(total)

    def _search(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        # The word index finds, for each term, this user's newest rows holding it (a prefix query
        # inside the user's own token, stopped after TERM_HITS_LIMIT rows), so the cost is bounded
        # by the query, not by the user's memory count. The shared ranking then counts every term
        # each candidate holds (a row found by its rare word still scores its common ones) and
        # orders them as every backend does. Terms are bound, never spliced: each is one FTS5 string.
        words = f"{self.table}_words"
        one_term = f"SELECT rowid AS rid FROM {words} WHERE {words} MATCH ? ORDER BY rowid DESC LIMIT ?"
        hits = " UNION ".join(f"SELECT rid FROM ({one_term})" for _ in terms)
        where, params = self._where(flt)
        cols = ", ".join(f"{self.table}.{c}" for c in MEMORY_FIELDS)
        sql = (
            f"SELECT {cols} FROM ({hits}) AS found CROSS JOIN {self.table} "
            f"ON {self.table}.rowid = found.rid WHERE {where}"
        )
        owner = _owner_token(flt.user_id)
        match_params: list[Any] = []
        for term in terms:
            match_params += [f'owner : "{owner}" AND {{body tags}} : "{term}"*', TERM_HITS_LIMIT]
        with self._read() as cur:
            rows = cur.execute(sql, [*match_params, *params]).fetchall()
        return rank_by_terms(read_all(rows, UserMemory.from_row), terms, limit)
