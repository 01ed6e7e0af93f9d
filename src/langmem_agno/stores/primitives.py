"""The few operations a backend implements; :class:`~langmem_agno.stores.base.MemoryStore` builds on them.

Each primitive gets an already-checked request and runs it against the database.
The async primitives default to running the sync one on a worker thread, so a
backend with a sync-only driver (SQLite) writes no async code at all; a backend
with a native async driver (MongoDB) overrides them. See CONTRIBUTING.md.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from langmem_agno.record import UserMemory
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    ScoredMemory,
    SortOrder,
    UserStats,
)

__all__ = ["StorePrimitives"]


class StorePrimitives(ABC):
    """The backend's side of a store: eight sync primitives and their async twins."""

    @abstractmethod
    def _insert(self, records: list[UserMemory]) -> list[UserMemory]:
        """Insert records that are absent (by ``memory_id``) in one write; return all as stored, in order."""

    @abstractmethod
    def _apply(self, request: ChangeRequest) -> ChangeSet:
        """Write a validated change set as one atomic write (see :meth:`apply_changes`)."""

    @abstractmethod
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
        """Return the matching memories by ``updated_at`` and, when ``count``, their total (else 0)."""

    @abstractmethod
    def _update(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        """Set ``changes`` on the memory if this user owns it; return it after, or ``None``."""

    @abstractmethod
    def _delete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        """Delete the matching memories (only ``ids`` when given); return the count."""

    @abstractmethod
    def _topics(self, flt: MemoryFilter) -> list[str]:
        """Return the distinct topics of the matching memories."""

    @abstractmethod
    def _stats(self, user_id: str | None, limit: int | None, offset: int) -> tuple[list[UserStats], int]:
        """Return per-user statistics, most recently active first, and the number of users."""

    @abstractmethod
    def _search(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        """Return the best ``limit`` memories for ``terms``."""

    # Async twins of the primitives: the sync primitive on a worker thread, so the
    # event loop never blocks on a sync-only driver. Native async backends override them.
    async def _ainsert(self, records: list[UserMemory]) -> list[UserMemory]:
        """Async twin of :meth:`_insert`."""
        return await asyncio.to_thread(self._insert, records)

    async def _aapply(self, request: ChangeRequest) -> ChangeSet:
        """Async twin of :meth:`_apply`."""
        return await asyncio.to_thread(self._apply, request)

    async def _afind(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        """Async twin of :meth:`_find`."""
        return await asyncio.to_thread(
            self._find, flt, ids=ids, sort=sort, limit=limit, offset=offset, count=count
        )

    async def _aupdate(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        """Async twin of :meth:`_update`."""
        return await asyncio.to_thread(self._update, memory_id, user_id, changes)

    async def _adelete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        """Async twin of :meth:`_delete`."""
        return await asyncio.to_thread(self._delete, flt, ids)

    async def _atopics(self, flt: MemoryFilter) -> list[str]:
        """Async twin of :meth:`_topics`."""
        return await asyncio.to_thread(self._topics, flt)

    async def _astats(
        self, user_id: str | None, limit: int | None, offset: int
    ) -> tuple[list[UserStats], int]:
        """Async twin of :meth:`_stats`."""
        return await asyncio.to_thread(self._stats, user_id, limit, offset)

    async def _asearch(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        """Async twin of :meth:`_search`."""
        return await asyncio.to_thread(self._search, flt, terms, limit)
