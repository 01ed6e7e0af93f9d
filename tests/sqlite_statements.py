"""Count the statements a SQLite store sends: one per ``execute`` / ``executemany`` call on its connection.

``sqlite3``'s trace callback is no count of round trips: it reports each row of an ``executemany``
and repeats a statement once for every trigger it fires. Wrapping the store's connection sees what
the store asks SQLite to run, as psycopg or PyMongo would see it on the wire.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = ["Statement", "StatementLog"]


class Statement(NamedTuple):
    """One call into SQLite: its first words, the parameter sets it carried, the values bound in all."""

    sql: str
    rows: int
    values: int


def _width(params: Any) -> int:
    return len(params) if isinstance(params, (list, tuple, dict)) else 0


class _Cursor:
    def __init__(self, real: sqlite3.Cursor, log: StatementLog) -> None:
        self._real = real
        self._log = log

    def execute(self, sql: str, params: Any = ()) -> Any:
        self._log.note(sql, 1, _width(params))
        return self._real.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        rows = list(rows)
        self._log.note(sql, len(rows), sum(_width(r) for r in rows))
        return self._real.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __iter__(self) -> Any:
        return iter(self._real)


class StatementLog:
    """Stands in for a store's ``_conn``: every statement its cursors run, with the rows it carried.

    Example: ``log = StatementLog.install(store)``; run something; ``log.statements`` lists
    :class:`Statement` entries (first words of the SQL, parameter sets, values bound), one per call.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.statements: list[Statement] = []

    @classmethod
    def install(cls, store: Any) -> StatementLog:
        log = cls(store._conn)
        store._conn = log
        return log

    def note(self, sql: str, rows: int, values: int = 0) -> None:
        self.statements.append(Statement(" ".join(sql.split())[:300], rows, values))

    def reset(self) -> None:
        self.statements.clear()

    def count(self) -> int:
        return len(self.statements)

    @property
    def names(self) -> list[str]:
        return [s.sql.split(None, 1)[0].upper() for s in self.statements]

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor(), self)

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.note(sql, 1, _width(params))
        return self._conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
