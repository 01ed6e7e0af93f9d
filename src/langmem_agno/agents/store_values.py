"""The full values of LangGraph store items, in the ``<collection>_values`` companion.

Agno's memory record holds one text; a LangGraph item holds any JSON value
(LangMem's ``{"content": ...}``, or its structured ``{"kind": ..., "content": {...}}``).
The memory table keeps the text Agno reads; the whole value is kept here, beside it,
keyed by ``memory_id``, with the text it was stored with. A value whose memory text
changed since (Agno edited it) is no longer the truth: the adapter then rebuilds it
from the text.

Every read first fetches the memory through the scoped store API, so a row of this
table is only ever read for a memory the caller may see.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ReplaceOne
from pymongo.errors import PyMongoError

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.record import now_epoch_s
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.extensions import build_for_postgres
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = ["StoredValue", "ValueCompanion", "value_companion"]

SUFFIX = "values"


@dataclass(frozen=True)
class StoredValue:
    """An item's full value, and the memory text it was stored with."""

    text: str
    value: dict[str, Any]


class ValueCompanion:
    """Values kept in process memory: for stores without a companion table of their own."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], StoredValue] = {}
        self._lock = threading.Lock()

    def load(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """The stored values of these memories of ``user_id`` (absent ones left out)."""
        with self._lock:
            return {i: self._rows[(user_id, i)] for i in memory_ids if (user_id, i) in self._rows}

    def save(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Store (or replace) the values of these memories."""
        with self._lock:
            self._rows.update({(user_id, memory_id): row for memory_id, row in rows})

    def delete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Forget the values of these memories."""
        with self._lock:
            for memory_id in memory_ids:
                self._rows.pop((user_id, memory_id), None)

    async def aload(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """Async twin of :meth:`load`."""
        return await asyncio.to_thread(self.load, user_id, memory_ids)

    async def asave(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Async twin of :meth:`save`."""
        await asyncio.to_thread(self.save, user_id, rows)

    async def adelete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Async twin of :meth:`delete`."""
        await asyncio.to_thread(self.delete, user_id, memory_ids)


class SQLiteValueCompanion(ValueCompanion):
    """Values in the table ``<table>_values`` of the store's own database.

    A trigger deletes a memory's value when the memory is deleted, whoever deletes it
    (Agno, a clear of the user, the CLI), so no value outlives its memory.
    """

    def __init__(self, store: SQLiteMemoryStore) -> None:
        super().__init__()
        self.store = store
        self.table = f"{store.table}_{SUFFIX}"
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        t, memories = self.table, self.store.table
        with self.store.companion_cursor(write=True) as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {t} (memory_id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, "
                "text TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL)"
            )
            cur.execute(
                f"CREATE TRIGGER IF NOT EXISTS lma_{memories}_values_ad AFTER DELETE ON {memories} "
                f"BEGIN DELETE FROM {t} WHERE memory_id = old.memory_id; END"
            )
        self._ready = True

    def load(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """The stored values of these memories of ``user_id`` (absent ones left out)."""
        if not memory_ids:
            return {}
        self._ensure()
        marks = ",".join("?" * len(memory_ids))
        with self.store.companion_cursor() as cur:
            rows = cur.execute(
                f"SELECT memory_id, text, value FROM {self.table} "
                f"WHERE user_id = ? AND memory_id IN ({marks})",
                [user_id, *memory_ids],
            ).fetchall()
        return {mid: StoredValue(text, json.loads(value)) for mid, text, value in rows}

    def save(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Store (or replace) the values of these memories."""
        if not rows:
            return
        self._ensure()
        now = now_epoch_s()
        with self.store.companion_cursor(write=True) as cur:
            cur.executemany(
                f"INSERT OR REPLACE INTO {self.table} (memory_id, user_id, text, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (mid, user_id, row.text, json.dumps(row.value, ensure_ascii=False), now)
                    for mid, row in rows
                ],
            )

    def delete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Forget the values of these memories."""
        if memory_ids:
            self._ensure()
            self.store.delete_companion_rows(self.table, user_id, memory_ids)


class MongoValueCompanion(ValueCompanion):
    """Values in the collection ``<collection>_values``, on the store's sync and async clients.

    A value whose memory was deleted elsewhere is never read (the memory is fetched
    first) and is replaced when the id is written again.
    """

    def __init__(self, store: MongoMemoryStore) -> None:
        super().__init__()
        self.store = store

    def _unavailable(self, exc: PyMongoError) -> StoreUnavailableError:
        where = f"MongoDB {self.store.database}.{self.store.collection}_{SUFFIX}"
        return StoreUnavailableError(f"{where}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _query(user_id: str, memory_ids: Sequence[str]) -> dict[str, Any]:
        return {"user_id": user_id, "memory_id": {"$in": list(memory_ids)}}

    @staticmethod
    def _documents(docs: Sequence[dict[str, Any]]) -> dict[str, StoredValue]:
        return {d["memory_id"]: StoredValue(d["text"], d["value"]) for d in docs}

    @staticmethod
    def _replacements(user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> list[ReplaceOne[Any]]:
        now = now_epoch_s()
        return [
            ReplaceOne(
                {"memory_id": mid},
                {
                    "memory_id": mid,
                    "user_id": user_id,
                    "text": row.text,
                    "value": row.value,
                    "updated_at": now,
                },
                upsert=True,
            )
            for mid, row in rows
        ]

    def load(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """The stored values of these memories of ``user_id`` (absent ones left out)."""
        if not memory_ids:
            return {}
        try:
            coll = self.store.companion_collection(SUFFIX)
            return self._documents(list(coll.find(self._query(user_id, memory_ids), {"_id": 0})))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc

    async def aload(self, user_id: str, memory_ids: Sequence[str]) -> dict[str, StoredValue]:
        """Async twin of :meth:`load`, on the async client."""
        if not memory_ids:
            return {}
        try:
            coll = self.store.companion_collection(SUFFIX, use_async=True)
            cursor = coll.find(self._query(user_id, memory_ids), {"_id": 0})
            return self._documents(await cursor.to_list(None))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc

    def save(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Store (or replace) the values of these memories."""
        if not rows:
            return
        try:
            self.store.companion_collection(SUFFIX).bulk_write(self._replacements(user_id, rows))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc

    async def asave(self, user_id: str, rows: Sequence[tuple[str, StoredValue]]) -> None:
        """Async twin of :meth:`save`, on the async client."""
        if not rows:
            return
        try:
            coll = self.store.companion_collection(SUFFIX, use_async=True)
            await coll.bulk_write(self._replacements(user_id, rows))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc

    def delete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Forget the values of these memories."""
        if not memory_ids:
            return
        try:
            self.store.companion_collection(SUFFIX).delete_many(self._query(user_id, memory_ids))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc

    async def adelete(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """Async twin of :meth:`delete`, on the async client."""
        if not memory_ids:
            return
        try:
            coll = self.store.companion_collection(SUFFIX, use_async=True)
            await coll.delete_many(self._query(user_id, memory_ids))
        except PyMongoError as exc:
            raise self._unavailable(exc) from exc


def _build(store: MemoryStore) -> ValueCompanion:
    if isinstance(store, SQLiteMemoryStore):
        return SQLiteValueCompanion(store)
    if isinstance(store, MongoMemoryStore):
        return MongoValueCompanion(store)
    # The PostgreSQL companion builds on this module, so it is loaded by name.
    companion: ValueCompanion | None = build_for_postgres(
        store, "langmem_agno.agents.store_values_postgres", "PostgresValueCompanion"
    )
    return ValueCompanion() if companion is None else companion


def value_companion(store: MemoryStore) -> ValueCompanion:
    """The values companion of ``store``: one per store, built on first use."""
    return store.extension("langgraph_values", _build)
