"""History and time-to-live rows on MongoDB: collections ``<collection>_history`` and ``<collection>_expiry``.

History is indexed by (user, memory, time); writing entries is one ``insert_many``. The expiry
collection has a TTL index on ``purge_at``, a date a grace period *after* the memory's time to
live ends: the store deletes an expired memory itself (first the memory, then its row), and the
TTL monitor only clears rows left behind (a memory Agno deleted), so a memory never loses its
expiry to the monitor before the store has deleted it. Documents Agno's ``MongoDb`` writes directly
are not recorded: recording is done by our store's write methods.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.stores.history import HistoryRow, LifecycleRows, entry_from_row
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.mongo_changes import HISTORY_INDEXES, history_doc
from langmem_agno.stores.types import HistoryEntry

__all__ = ["PURGE_GRACE_S", "MongoLifecycleRows"]

#: How long after a memory's time to live the TTL monitor may remove its expiry row.
PURGE_GRACE_S = 7 * 86_400
_HISTORY_INDEXES = HISTORY_INDEXES
_EXPIRY_INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    ([("expires_at", ASCENDING)], {"name": "lma_expires"}),
    ([("user_id", ASCENDING)], {"name": "lma_user"}),
    ([("purge_at", ASCENDING)], {"name": "lma_purge_ttl", "expireAfterSeconds": 0}),
]


_doc = history_doc


def _entry(doc: dict[str, Any]) -> HistoryEntry:
    return entry_from_row(doc, lambda value: None if value is None else tuple(value))


def _only_duplicates(exc: BulkWriteError) -> bool:
    # A retried add's entry has the key of the first one: refused as a duplicate, which is the point.
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and all(e.get("code") == 11000 for e in errors)


def _history_query(user_id: str, memory_id: str, since: int | None) -> dict[str, Any]:
    query: dict[str, Any] = {"user_id": user_id, "memory_id": memory_id}
    if since is not None:
        query["at"] = {"$gte": since}
    return query


def _expiry_writes(user_id: str, expires: Sequence[tuple[str, int]]) -> list[UpdateOne]:
    return [
        UpdateOne(
            {"_id": mid},
            {
                "$set": {
                    "user_id": user_id,
                    "expires_at": at,
                    "purge_at": dt.datetime.fromtimestamp(at + PURGE_GRACE_S, dt.UTC),
                }
            },
            upsert=True,
        )
        for mid, at in expires
    ]


_SORT_NEWEST = [("at", DESCENDING), ("seq", DESCENDING)]
#: The companions a user's documents are cleared from: ours, and the LangGraph store's values.
_USER_ROLES = ("history", "expiry", "values")


class MongoLifecycleRows(LifecycleRows):
    """History and expiry in the database of a :class:`MongoMemoryStore`, with native async twins.

    Args:
        store: The memory store (its clients and database are used).
    """

    def __init__(self, store: MongoMemoryStore) -> None:
        self.store = store
        self.where = f"MongoDB {store.database}.{store.collection}_history / _expiry"
        self._indexed: set[str] = set()

    def _fail(self, exc: PyMongoError) -> StoreUnavailableError:
        return StoreUnavailableError(f"{self.where}: {type(exc).__name__}: {exc}")

    def _coll(
        self, role: str, indexes: list[tuple[list[tuple[str, int]], dict[str, Any]]] | None = None
    ) -> Any:
        coll = self.store.companion_collection(role)
        if indexes is not None and role not in self._indexed:
            for keys, options in indexes:
                coll.create_index(keys, **options)
            self._indexed.add(role)
        return coll

    async def _acoll(
        self, role: str, indexes: list[tuple[list[tuple[str, int]], dict[str, Any]]] | None = None
    ) -> Any:
        coll = self.store.companion_collection(role, use_async=True)
        if indexes is not None and role not in self._indexed:
            for keys, options in indexes:
                await coll.create_index(keys, **options)
            self._indexed.add(role)
        return coll

    def _guard(self, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    # ------------------------------------------------------------ history
    def write_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.write_history`: one unordered ``insert_many``."""
        if not rows:
            return
        try:
            self._coll("history", _HISTORY_INDEXES).insert_many([_doc(r) for r in rows], ordered=False)
        except BulkWriteError as exc:
            if not _only_duplicates(exc):
                raise self._fail(exc) from exc
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    async def awrite_history(self, rows: Sequence[HistoryRow]) -> None:
        """See :meth:`LifecycleRows.awrite_history`."""
        if not rows:
            return
        try:
            coll = await self._acoll("history", _HISTORY_INDEXES)
            await coll.insert_many([_doc(r) for r in rows], ordered=False)
        except BulkWriteError as exc:
            if not _only_duplicates(exc):
                raise self._fail(exc) from exc
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    def read_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.read_history`."""
        query = _history_query(user_id, memory_id, since)
        docs = self._guard(
            lambda: list(self._coll("history").find(query, sort=_SORT_NEWEST, limit=newest or 0))
        )
        return [_entry(d) for d in reversed(docs)]

    async def aread_history(
        self, user_id: str, memory_id: str, *, since: int | None, newest: int | None
    ) -> list[HistoryEntry]:
        """See :meth:`LifecycleRows.aread_history`."""
        query = _history_query(user_id, memory_id, since)
        try:
            coll = await self._acoll("history")
            docs = await coll.find(query, sort=_SORT_NEWEST, limit=newest or 0).to_list(None)
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return [_entry(d) for d in reversed(docs)]

    def purge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.purge_history`: the memories past ``keep`` found by one aggregation."""
        gone = 0
        try:
            coll = self._coll("history")
            if before is not None:
                gone += coll.delete_many({"at": {"$lt": before}}).deleted_count
            if keep is not None:
                for group in list(coll.aggregate(_over_pipeline(keep))):
                    query = {"user_id": group["_id"]["u"], "memory_id": group["_id"]["m"]}
                    ids = [d["_id"] for d in coll.find(query, {"_id": 1}, sort=_SORT_NEWEST, skip=keep)]
                    gone += coll.delete_many({"_id": {"$in": ids}}).deleted_count
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return int(gone)

    async def apurge_history(self, before: int | None, keep: int | None) -> int:
        """See :meth:`LifecycleRows.apurge_history`."""
        gone = 0
        try:
            coll = await self._acoll("history")
            if before is not None:
                gone += (await coll.delete_many({"at": {"$lt": before}})).deleted_count
            if keep is not None:
                cursor = coll.aggregate(_over_pipeline(keep))
                if inspect.isawaitable(cursor):  # PyMongo's async aggregate is a coroutine, Motor's is not
                    cursor = await cursor
                for group in await cursor.to_list(None):
                    query = {"user_id": group["_id"]["u"], "memory_id": group["_id"]["m"]}
                    old = await coll.find(query, {"_id": 1}, sort=_SORT_NEWEST, skip=keep).to_list(None)
                    ids = [d["_id"] for d in old]
                    gone += (await coll.delete_many({"_id": {"$in": ids}})).deleted_count
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return int(gone)

    # ------------------------------------------------------------ expiry
    def set_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.set_expiry`: one bulk write of upserts."""
        if expires:
            self._guard(
                lambda: self._coll("expiry", _EXPIRY_INDEXES).bulk_write(_expiry_writes(user_id, expires))
            )

    async def aset_expiry(self, user_id: str, expires: Sequence[tuple[str, int]]) -> None:
        """See :meth:`LifecycleRows.aset_expiry`."""
        if not expires:
            return
        try:
            coll = await self._acoll("expiry", _EXPIRY_INDEXES)
            await coll.bulk_write(_expiry_writes(user_id, expires))
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    def drop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.drop_expiry`."""
        if memory_ids:
            query = {"_id": {"$in": list(memory_ids)}, "user_id": user_id}
            self._guard(lambda: self._coll("expiry").delete_many(query))

    async def adrop_expiry(self, user_id: str, memory_ids: Sequence[str]) -> None:
        """See :meth:`LifecycleRows.adrop_expiry`."""
        if not memory_ids:
            return
        try:
            await (await self._acoll("expiry")).delete_many(
                {"_id": {"$in": list(memory_ids)}, "user_id": user_id}
            )
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    def next_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.next_expiry`: one find of one document (no index is created here)."""
        docs = self._guard(
            lambda: list(self._coll("expiry").find({}, {"expires_at": 1}, sort=[("expires_at", 1)], limit=1))
        )
        return int(docs[0]["expires_at"]) if docs else None

    async def anext_expiry(self) -> int | None:
        """See :meth:`LifecycleRows.anext_expiry`."""
        try:
            coll = await self._acoll("expiry")
            docs = await coll.find({}, {"expires_at": 1}, sort=[("expires_at", 1)], limit=1).to_list(None)
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return int(docs[0]["expires_at"]) if docs else None

    def due_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.due_expiry`."""
        query = {"expires_at": {"$lte": now}}
        docs = self._guard(
            lambda: list(self._coll("expiry").find(query, sort=[("expires_at", 1)], limit=limit))
        )
        return [(str(d["user_id"]), str(d["_id"])) for d in docs]

    async def adue_expiry(self, now: int, limit: int) -> list[tuple[str, str]]:
        """See :meth:`LifecycleRows.adue_expiry`."""
        try:
            coll = await self._acoll("expiry")
            docs = await coll.find(
                {"expires_at": {"$lte": now}}, sort=[("expires_at", 1)], limit=limit
            ).to_list(None)
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return [(str(d["user_id"]), str(d["_id"])) for d in docs]

    def delete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.delete_user`; also the LangGraph store's ``values`` of the user.

        On SQLite and PostgreSQL a trigger drops a memory's value with the memory; MongoDB has no
        trigger, so clearing a user drops them here, by the ``user_id`` each value document holds.
        """
        try:
            for role in _USER_ROLES:
                self._coll(role).delete_many({"user_id": user_id})
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    async def adelete_user(self, user_id: str) -> None:
        """See :meth:`LifecycleRows.adelete_user`."""
        try:
            for role in _USER_ROLES:
                await (await self._acoll(role)).delete_many({"user_id": user_id})
        except PyMongoError as exc:
            raise self._fail(exc) from exc


def _over_pipeline(keep: int) -> list[dict[str, Any]]:
    """The (user, memory) pairs with more than ``keep`` entries: counts only, never the entries."""
    return [
        {"$group": {"_id": {"u": "$user_id", "m": "$memory_id"}, "n": {"$sum": 1}}},
        {"$match": {"n": {"$gt": keep}}},
    ]
