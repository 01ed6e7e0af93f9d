"""History and time-to-live rows on SQLite: tables ``<table>_history`` and ``<table>_expiry``.

They share the memory store's connection and lock (a ``:memory:`` database is private to that
connection). Rows Agno's ``SqliteDb`` writes directly are not recorded: recording is done by our
store's write methods, not by triggers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langmem_agno.stores.history import HistoryRow, LifecycleRows, entry_from_row
from langmem_agno.stores.sqlite import SQLiteMemoryStore
from langmem_agno.stores.types import HistoryEntry

__all__ = ["SQLiteLifecycleRows"]

_COLS = "key, seq, user_id, memory_id, event, path, at, old_memory, new_memory, old_topics, new_topics"


def _topics(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(json.loads(value))


def _json(topics: tuple[str, ...] | None) -> str | None:
    return None if topics is None else json.dumps(list(topics), ensure_ascii=False)


class SQLiteLifecycleRows(LifecycleRows):
    """History and expiry in the SQLite database of a :class:`SQLiteMemoryStore`.

    Args:
        store: The memory store.
    """

    def __init__(self, store: SQLiteMemoryStore) -> None:
        self.store = store
        self.history = f"{store.table}_history"
        self.expiry = f"{store.table}_expiry"
        self.where = f"SQLite database {store.path!r}, tables {self.history} and {self.expiry}"
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        h, e = self.history, self.expiry
        with self.store.companion_cursor(write=True) as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {h} (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
                "user_id TEXT NOT NULL, memory_id TEXT NOT NULL, event TEXT NOT NULL, path TEXT NOT NULL, "
                "at INTEGER NOT NULL, old_memory TEXT, new_memory TEXT, old_topics TEXT, new_topics TEXT)"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{h}_memory ON {h} (user_id, memory_id, at, seq)")
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{h}_at ON {h} (at)")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {e} (memory_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                "expires_at INTEGER NOT NULL)"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{e}_due ON {e} (expires_at)")
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{e}_user ON {e} (user_id)")
        self._ready = True

    def write_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.write_history`: one transaction, ``INSERT OR IGNORE``."""
        self._ensure()
        values = [
            (
                r.key,
                r.seq,
                r.entry.user_id,
                r.entry.memory_id,
                r.entry.event,
                r.entry.path,
                r.entry.at,
                r.entry.old_memory,
                r.entry.new_memory,
                _json(r.entry.old_topics),
                _json(r.entry.new_topics),
            )
            for r in rows
        ]
        with self.store.companion_cursor(write=True) as cur:
            cur.executemany(
                f"INSERT OR IGNORE INTO {self.history} ({_COLS}) VALUES ({', '.join('?' * 11)})", values
            )

    def read_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.read_history`."""
        self._ensure()
        params: list[Any] = [
            user_id,
            memory_id,
            -1 if since is None else since,
            -1 if newest is None else newest,
        ]
        sql = (
            f"SELECT {_COLS} FROM {self.history} WHERE user_id = ? AND memory_id = ? AND at >= ? "
            "ORDER BY at DESC, seq DESC LIMIT ?"
        )
        with self.store.companion_cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [entry_from_row(r, _topics) for r in reversed(rows)]

    def purge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.purge_history`."""
        self._ensure()
        gone = 0
        with self.store.companion_cursor(write=True) as cur:
            if before is not None:
                cur.execute(f"DELETE FROM {self.history} WHERE at < ?", (before,))
                gone += cur.rowcount
            if keep is not None:
                cur.execute(
                    f"DELETE FROM {self.history} WHERE key IN (SELECT key FROM (SELECT key, ROW_NUMBER() "
                    "OVER (PARTITION BY user_id, memory_id ORDER BY at DESC, seq DESC) AS n "
                    f"FROM {self.history}) WHERE n > ?)",
                    (keep,),
                )
                gone += cur.rowcount
        return gone

    def set_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.set_expiry`."""
        self._ensure()
        with self.store.companion_cursor(write=True) as cur:
            cur.executemany(
                f"INSERT OR REPLACE INTO {self.expiry} (memory_id, user_id, expires_at) VALUES (?, ?, ?)",
                [(mid, user_id, at) for mid, at in expires],
            )

    def drop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.drop_expiry`."""
        if memory_ids:
            self._ensure()
            self.store.delete_companion_rows(self.expiry, user_id, memory_ids)

    def next_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.next_expiry`."""
        self._ensure()
        with self.store.companion_cursor() as cur:
            row = cur.execute(f"SELECT MIN(expires_at) FROM {self.expiry}").fetchone()
        return None if row[0] is None else int(row[0])

    def due_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.due_expiry`."""
        self._ensure()
        sql = (
            f"SELECT user_id, memory_id FROM {self.expiry} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?"
        )
        with self.store.companion_cursor() as cur:
            return [(str(r[0]), str(r[1])) for r in cur.execute(sql, (now, limit)).fetchall()]

    def delete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.delete_user`."""
        self._ensure()
        with self.store.companion_cursor(write=True) as cur:
            cur.execute(f"DELETE FROM {self.history} WHERE user_id = ?", (user_id,))
            cur.execute(f"DELETE FROM {self.expiry} WHERE user_id = ?", (user_id,))
