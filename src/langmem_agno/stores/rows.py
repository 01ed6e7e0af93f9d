"""Rows as stored, readable or not: what ``langmem-agno doctor`` and ``export`` look at and repair.

A separate job from the scoped reads and writes of :class:`~langmem_agno.stores.base.MemoryStore`
(which mixes this class in): these methods see every row of a user, those the reads skip
(an empty text, an id out of limits, a field of the wrong type: rows another writer stored).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langmem_agno.checks import check_id
from langmem_agno.errors import MemoryNotFoundError, StoreUnavailableError
from langmem_agno.record import UserMemory, repair_record, unreadable_reason
from langmem_agno.stores.primitives import StorePrimitives
from langmem_agno.stores.types import MemoryFilter, StoredRow
from langmem_agno.stores.validation import check_lookup_id, id_list

__all__ = ["RowInspection"]


class RowInspection(StorePrimitives):
    """Inspect and repair stored rows; a backend provides :meth:`_raw`."""

    def inspect_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """The stored rows of one user as stored, each with why reads skip it, if they do.

        What ``langmem-agno doctor`` and ``export`` use to see every row, those the scoped
        reads cannot (out of limits, unreadable, with no user) included.

        Args:
            user_id: The owner, any stored text (even one outside the write limits); ``None`` for
                the rows that have no user (``user_id`` missing or not text).
            memory_ids: Only these ids (any stored id, even one outside the write limits).

        Returns:
            The rows, in storage order.
        """
        if user_id is not None:
            check_lookup_id(user_id, name="user_id")
        ids = None if memory_ids is None else id_list(memory_ids)
        return [
            StoredRow(
                row.get("memory_id"),
                row.get("user_id"),
                unreadable_reason(row, UserMemory.from_document),
                row,
            )
            for row in self._raw(user_id, ids)
        ]

    def unreadable_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """The rows of :meth:`inspect_rows` that reads skip (``reason`` is set on each)."""
        return [r for r in self.inspect_rows(user_id=user_id, memory_ids=memory_ids) if r.reason is not None]

    def repair(self, memory_id: str, *, user_id: str) -> UserMemory | None:
        """Repair one unreadable row of ``user_id``: rewrite it readable, or delete it if it holds no text.

        What is kept and what is dropped is :func:`~langmem_agno.record.repair_record`'s rule;
        an id out of limits gets a fresh one (the new id is on the returned memory). The old
        row is deleted and the repaired one inserted as two writes.

        Returns:
            The repaired memory as stored, or ``None`` when the row was deleted.

        Raises:
            MemoryNotFoundError: If this user has no unreadable row with this id.
        """
        check_id("user_id", user_id)
        found = self.unreadable_rows(user_id=user_id, memory_ids=[check_lookup_id(memory_id)])
        if not found:
            raise MemoryNotFoundError(memory_id, user_id)
        repaired = repair_record(found[0].row)
        self._delete(MemoryFilter(user_id), [memory_id])
        return None if repaired is None else self._insert([repaired])[0]

    def _raw(self, user_id: str | None, ids: Sequence[str] | None) -> list[dict[str, Any]]:
        """The stored rows of ``user_id`` (``None``: rows with no user) as ten-field dicts, unchecked."""
        raise StoreUnavailableError(f"{type(self).__name__} cannot list its stored rows")

    async def ainspect_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """Async twin of :meth:`inspect_rows`."""
        return await asyncio.to_thread(self.inspect_rows, user_id=user_id, memory_ids=memory_ids)

    async def aunreadable_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """Async twin of :meth:`unreadable_rows`."""
        return await asyncio.to_thread(self.unreadable_rows, user_id=user_id, memory_ids=memory_ids)

    async def arepair(self, memory_id: str, *, user_id: str) -> UserMemory | None:
        """Async twin of :meth:`repair`."""
        return await asyncio.to_thread(self.repair, memory_id, user_id=user_id)
