"""Which path a change came by, and where history and time-to-live rows are kept.

Every write through a :class:`~langmem_agno.stores.base.MemoryStore` records a
:class:`~langmem_agno.stores.types.HistoryEntry` in the companion ``<collection>_history``
(DESIGN.md section 6), never in Agno's documents. The entry names its *path*, read from the
context variable :data:`change_path`: ``"api"`` unless an entry point of the library set it
with :func:`recording` (the memory tools ``"tool"``, extraction ``"extraction"``, the command
line ``"cli"``, an import ``"import"``, the memory server ``"server"``). A context variable
follows the call into worker threads (``asyncio.to_thread``) and coroutines alike.

:class:`LifecycleRows` is the backend's side: history entries and the ``<collection>_expiry``
rows of memories with a time to live, one class per database (``lifecycle_sqlite``,
``lifecycle_mongo``, ``lifecycle_postgres``) and :class:`MemoryLifecycleRows` in this process
for any other store.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langmem_agno.errors import ConfigurationError
from langmem_agno.stores.types import HistoryEntry

__all__ = [
    "HistoryRow",
    "LifecycleRows",
    "MemoryLifecycleRows",
    "change_path",
    "entry_from_row",
    "next_seq",
    "recording",
    "select_entries",
]

#: The path the changes made in this context are recorded with.
change_path: ContextVar[str] = ContextVar("langmem_agno_change_path", default="api")
_PATH = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


@contextmanager
def recording(path: str) -> Iterator[None]:
    """Record the changes made inside the block as coming by ``path`` (``"tool"``, ``"cli"`` ...).

    Example:
        >>> with recording("cli"):
        ...     change_path.get()
        'cli'
        >>> change_path.get()
        'api'

    Raises:
        ConfigurationError: If ``path`` is not a short lowercase word.
    """
    if not isinstance(path, str) or not _PATH.match(path):
        raise ConfigurationError(f"a change path must be a short lowercase word, got {path!r}")
    token = change_path.set(path)
    try:
        yield
    finally:
        change_path.reset(token)


_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A number greater than every one this process handed out before: orders entries of one second."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns())
        return _last_seq


@dataclass(frozen=True)
class HistoryRow:
    """A history entry as written: its key (an add's is fixed, so a retried add records once) and order."""

    key: str
    seq: int
    entry: HistoryEntry


def entry_from_row(row: Mapping[str, Any], topics: Callable[[Any], tuple[str, ...] | None]) -> HistoryEntry:
    """A stored history row (columns or fields by name) as an entry; ``topics`` decodes a topics value."""
    return HistoryEntry(
        memory_id=row["memory_id"],
        user_id=row["user_id"],
        event=row["event"],
        path=row["path"],
        at=int(row["at"]),
        old_memory=row["old_memory"],
        new_memory=row["new_memory"],
        old_topics=topics(row["old_topics"]),
        new_topics=topics(row["new_topics"]),
    )


def select_entries(
    rows: Sequence[tuple[int, int, HistoryEntry]], since: int | None, newest: int | None
) -> list[HistoryEntry]:
    """Entries (with their ``at`` and ``seq``) oldest first, from ``since`` on, only the last ``newest``."""
    kept = sorted((r for r in rows if since is None or r[0] >= since), key=lambda r: (r[0], r[1]))
    if newest is not None:
        kept = kept[-newest:] if newest else []
    return [r[2] for r in kept]


class LifecycleRows(ABC):
    """History entries and time-to-live rows of one store, sync methods with async twins.

    The async twins default to the sync method on a worker thread; a backend with an
    async driver overrides them.
    """

    #: Where the rows live, for messages.
    where: str = "lifecycle rows"

    @abstractmethod
    def write_history(self, rows: Sequence[HistoryRow]) -> None:
        """Write the entries in one write; a key already stored is left as it is."""

    @abstractmethod
    def read_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """The entries of one memory of ``user_id``, oldest first: from ``since``, the last ``newest``."""

    @abstractmethod
    def purge_history(self, before: int | None, keep: int | None) -> int:
        """Delete entries older than ``before`` and all but the newest ``keep`` of each memory."""

    @abstractmethod
    def set_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """Set ``(memory_id, expires_at)`` of memories of ``user_id`` (epoch seconds)."""

    @abstractmethod
    def drop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Forget the time to live of these memories."""

    @abstractmethod
    def next_expiry(self) -> int | None:
        """The soonest ``expires_at`` of any memory, or ``None`` when none has a time to live."""

    @abstractmethod
    def due_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` ``(user_id, memory_id)`` whose time to live ended at or before ``now``."""

    @abstractmethod
    def delete_user(self, user_id: str) -> None:
        """Delete every history entry and time-to-live row of ``user_id``."""

    async def awrite_history(self, rows: Sequence[HistoryRow]) -> None:
        """Async twin of :meth:`write_history`."""
        await asyncio.to_thread(self.write_history, rows)

    async def aread_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """Async twin of :meth:`read_history`."""
        return await asyncio.to_thread(
            lambda: self.read_history(user_id, memory_id, since=since, newest=newest)
        )

    async def apurge_history(self, before: int | None, keep: int | None) -> int:
        """Async twin of :meth:`purge_history`."""
        return await asyncio.to_thread(self.purge_history, before, keep)

    async def aset_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """Async twin of :meth:`set_expiry`."""
        await asyncio.to_thread(self.set_expiry, user_id, expires)

    async def adrop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Async twin of :meth:`drop_expiry`."""
        await asyncio.to_thread(self.drop_expiry, user_id, memory_ids)

    async def anext_expiry(self) -> int | None:
        """Async twin of :meth:`next_expiry`."""
        return await asyncio.to_thread(self.next_expiry)

    async def adue_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """Async twin of :meth:`due_expiry`."""
        return await asyncio.to_thread(self.due_expiry, now, limit)

    async def adelete_user(self, user_id: str) -> None:
        """Async twin of :meth:`delete_user`."""
        await asyncio.to_thread(self.delete_user, user_id)


class MemoryLifecycleRows(LifecycleRows):
    """History and time-to-live rows in this process only, for a store with no database of its own."""

    where = "in-process history"

    def __init__(self) -> None:
        self._history: dict[str, HistoryRow] = {}
        self._expiry: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def write_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.write_history`."""
        with self._lock:
            for row in rows:
                self._history.setdefault(row.key, row)

    def read_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.read_history`."""
        with self._lock:
            rows = [
                (r.entry.at, r.seq, r.entry)
                for r in self._history.values()
                if r.entry.user_id == user_id and r.entry.memory_id == memory_id
            ]
        return select_entries(rows, since, newest)

    def purge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.purge_history`."""
        with self._lock:
            groups: dict[tuple[str, str], list[HistoryRow]] = {}
            for row in self._history.values():
                groups.setdefault((row.entry.user_id, row.entry.memory_id), []).append(row)
            gone = [
                row.key
                for rows in groups.values()
                for i, row in enumerate(sorted(rows, key=lambda r: (r.entry.at, r.seq), reverse=True))
                if (before is not None and row.entry.at < before) or (keep is not None and i >= keep)
            ]
            for key in gone:
                del self._history[key]
        return len(gone)

    def set_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.set_expiry`."""
        with self._lock:
            self._expiry.update({memory_id: (user_id, at) for memory_id, at in expires})

    def drop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.drop_expiry`."""
        with self._lock:
            for memory_id in memory_ids:
                if self._expiry.get(memory_id, ("",))[0] == user_id:
                    del self._expiry[memory_id]

    def next_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.next_expiry`."""
        with self._lock:
            return min((at for _, at in self._expiry.values()), default=None)

    def due_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.due_expiry`."""
        with self._lock:
            due = sorted((at, user, mid) for mid, (user, at) in self._expiry.items() if at <= now)
        return [(user, mid) for _, user, mid in due[:limit]]

    def delete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.delete_user`."""
        with self._lock:
            self._history = {k: r for k, r in self._history.items() if r.entry.user_id != user_id}
            self._expiry = {k: v for k, v in self._expiry.items() if v[0] != user_id}
