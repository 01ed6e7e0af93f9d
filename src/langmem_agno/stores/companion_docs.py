"""Small JSON documents kept beside the memories, in ``<collection>_<role>`` (DESIGN.md section 6).

Extraction keeps its per-thread cursors (``cursors``) and the spans that kept failing
(``failed``) here, in the memory store's own database, never as extra fields of
Agno's documents. Each document has a key, the user it belongs to (so a user's rows
can be found and cleared), an optional due time (when it needs attention) and a
version: :meth:`CompanionDocs.put` is a compare-and-set on that version, which is
all the atomicity a claim needs (SQLite: one ``BEGIN IMMEDIATE`` transaction; MongoDB:
one conditional single-document update, so no multi-document transaction is needed).

Backends: :class:`MemoryDocs` (this process only, for tests), :class:`SQLiteDocs`,
:class:`MongoDocs` and ``PostgresDocs`` (``companion_postgres.py``); :func:`companion_docs`
picks the one for a store.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from langmem_agno.errors import ConfigurationError, StoreUnavailableError
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.extensions import build_for_postgres
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

__all__ = ["CompanionDocs", "MemoryDocs", "MongoDocs", "SQLiteDocs", "StoredDoc", "companion_docs"]

_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
Doc = dict[str, Any]


@dataclass(frozen=True)
class StoredDoc:
    """One companion document as read: its key, content and the version to compare-and-set against."""

    key: str
    doc: Doc
    version: int


def _check_role(role: str) -> str:
    if not isinstance(role, str) or not _ROLE.match(role):
        raise ConfigurationError(f"companion role must be a short lowercase word, got {role!r}")
    return role


class CompanionDocs(ABC):
    """Versioned JSON documents of one role (``cursors``, ``failed``), with sync and async twins.

    The async twins default to the sync method on a worker thread; a backend with an
    async driver overrides them.
    """

    #: Where the documents live, for messages.
    where: str = "companion documents"

    @abstractmethod
    def get(self, key: str) -> StoredDoc | None:
        """The document stored under ``key``, or ``None``."""

    @abstractmethod
    def put(self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None) -> bool:
        """Write ``doc`` if the stored version is still ``version`` (``None``: only if absent).

        Args:
            key: The document's key.
            doc: Its new content (JSON-serialisable).
            version: The version read, or ``None`` to insert a new document.
            user_id: The user the document belongs to.
            due: When the document needs attention again (``None``: never), for :meth:`scan`.

        Returns:
            ``True`` when written; ``False`` when another writer changed it first.
        """

    @abstractmethod
    def delete(self, key: str) -> Doc | None:
        """Remove the document under ``key`` and return its content (``None`` when absent)."""

    @abstractmethod
    def scan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """Documents of ``user_id`` (all users when ``None``), only those due before ``due_before``.

        Oldest key first, at most ``limit``.
        """

    @abstractmethod
    def delete_user(self, user_id: str) -> int:
        """Remove every document of ``user_id`` (clearing a user clears its rows); return how many."""

    async def adelete_user(self, user_id: str) -> int:
        """Async twin of :meth:`delete_user`."""
        return await asyncio.to_thread(self.delete_user, user_id)

    async def aget(self, key: str) -> StoredDoc | None:
        """Async twin of :meth:`get`."""
        return await asyncio.to_thread(self.get, key)

    async def aput(
        self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None
    ) -> bool:
        """Async twin of :meth:`put`."""
        return await asyncio.to_thread(lambda: self.put(key, doc, version, user_id=user_id, due=due))

    async def adelete(self, key: str) -> Doc | None:
        """Async twin of :meth:`delete`."""
        return await asyncio.to_thread(self.delete, key)

    async def ascan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """Async twin of :meth:`scan`."""
        return await asyncio.to_thread(lambda: self.scan(user_id=user_id, due_before=due_before, limit=limit))


class MemoryDocs(CompanionDocs):
    """Documents in this process only (tests, or a store without a database of its own).

    Args:
        max_docs: How many documents to keep; the least recently written are forgotten.
    """

    where = "in-process companion documents"

    def __init__(self, max_docs: int = 10_000) -> None:
        self.max_docs = max_docs
        self._docs: OrderedDict[str, tuple[str, int, str, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.get`."""
        with self._lock:
            row = self._docs.get(key)
        # Stored as JSON text, as in a database: a caller changing its copy changes nothing here.
        return None if row is None else StoredDoc(key, json.loads(row[2]), row[1])

    def put(self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None) -> bool:
        """See :meth:`CompanionDocs.put`."""
        text = json.dumps(doc, ensure_ascii=False)
        with self._lock:
            row = self._docs.get(key)
            if (row is None) != (version is None) or (row is not None and row[1] != version):
                return False
            self._docs[key] = (user_id, (version or 0) + 1, text, due)
            self._docs.move_to_end(key)
            while len(self._docs) > self.max_docs:
                self._docs.popitem(last=False)
            return True

    def delete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.delete`."""
        with self._lock:
            row = self._docs.pop(key, None)
        return None if row is None else dict(json.loads(row[2]))

    def delete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.delete_user`."""
        with self._lock:
            keys = [key for key, row in self._docs.items() if row[0] == user_id]
            for key in keys:
                del self._docs[key]
        return len(keys)

    def scan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.scan`."""
        with self._lock:
            rows = sorted(self._docs.items())
        found = [
            StoredDoc(key, json.loads(text), version)
            for key, (owner, version, text, due) in rows
            if (user_id is None or owner == user_id)
            and (due_before is None or (due is not None and due <= due_before))
        ]
        return found[:limit]


class SQLiteDocs(CompanionDocs):
    """Documents in the table ``<table>_<role>`` of a :class:`SQLiteMemoryStore`'s database.

    Args:
        store: The memory store; its connection and lock are shared (a ``:memory:`` database
            is private to that connection).
        role: The companion's role, e.g. ``"cursors"``.
    """

    def __init__(self, store: SQLiteMemoryStore, role: str) -> None:
        self.store = store
        self.table = f"{store.table}_{_check_role(role)}"
        self.where = f"SQLite database {store.path!r}, table {self.table}"
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        with self.store.companion_cursor(write=True) as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                "version INTEGER NOT NULL, due REAL, doc TEXT NOT NULL)"
            )
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{self.table}_user ON {self.table} (user_id)")
            cur.execute(f"CREATE INDEX IF NOT EXISTS lma_{self.table}_due ON {self.table} (due)")
        self._ready = True

    def get(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.get`."""
        self._ensure()
        with self.store.companion_cursor() as cur:
            row = cur.execute(f"SELECT doc, version FROM {self.table} WHERE key = ?", (key,)).fetchone()
        return None if row is None else StoredDoc(key, json.loads(row[0]), int(row[1]))

    def put(self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None) -> bool:
        """See :meth:`CompanionDocs.put`: one ``BEGIN IMMEDIATE`` transaction."""
        self._ensure()
        text = json.dumps(doc, ensure_ascii=False)
        with self.store.companion_cursor(write=True) as cur:
            if version is None:
                cur.execute(
                    f"INSERT OR IGNORE INTO {self.table} (key, user_id, version, due, doc) "
                    "VALUES (?, ?, 1, ?, ?)",
                    (key, user_id, due, text),
                )
            else:
                cur.execute(
                    f"UPDATE {self.table} SET doc = ?, user_id = ?, due = ?, version = version + 1 "
                    "WHERE key = ? AND version = ?",
                    (text, user_id, due, key, version),
                )
            return cur.rowcount == 1

    def delete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.delete`."""
        self._ensure()
        with self.store.companion_cursor(write=True) as cur:
            row = cur.execute(f"SELECT doc FROM {self.table} WHERE key = ?", (key,)).fetchone()
            cur.execute(f"DELETE FROM {self.table} WHERE key = ?", (key,))
        return None if row is None else dict(json.loads(row[0]))

    def delete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.delete_user`."""
        self._ensure()
        with self.store.companion_cursor(write=True) as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE user_id = ?", (user_id,))
            return int(cur.rowcount)

    def scan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.scan`."""
        self._ensure()
        clauses: list[str] = ["1 = 1"]
        params: list[Any] = []
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if due_before is not None:
            clauses.append("due IS NOT NULL AND due <= ?")
            params.append(due_before)
        sql = f"SELECT key, doc, version FROM {self.table} WHERE {' AND '.join(clauses)} ORDER BY key LIMIT ?"
        with self.store.companion_cursor() as cur:
            rows = cur.execute(sql, (*params, limit)).fetchall()
        return [StoredDoc(str(r[0]), json.loads(r[1]), int(r[2])) for r in rows]


class MongoDocs(CompanionDocs):
    """Documents in the collection ``<collection>_<role>`` of a :class:`MongoMemoryStore`'s database.

    Every write is one single-document operation (an insert, or a ``find_one_and_update``
    conditional on the version), atomic on any deployment, transactions or not.

    Args:
        store: The memory store (its clients, database and timeouts are used).
        role: The companion's role, e.g. ``"cursors"``.
    """

    def __init__(self, store: MongoMemoryStore, role: str) -> None:
        self.store = store
        self.role = _check_role(role)
        self.where = f"MongoDB {store.database}.{store.collection}_{role}"
        self._indexed = False

    # Scans by user (failed spans of a user) and by due time (threads to recover) stay index reads.
    _INDEXES = (("user_id", "lma_user"), ("due", "lma_due"))

    def _coll(self) -> Any:
        coll = self.store.companion_collection(self.role)
        if not self._indexed:
            try:
                for field, name in self._INDEXES:
                    coll.create_index(field, name=name)
            except PyMongoError as exc:
                raise self._fail(exc) from exc
            self._indexed = True
        return coll

    async def _acoll(self) -> Any:
        coll = self.store.companion_collection(self.role, use_async=True)
        if not self._indexed:
            try:
                for field, name in self._INDEXES:
                    await coll.create_index(field, name=name)
            except PyMongoError as exc:
                raise self._fail(exc) from exc
            self._indexed = True
        return coll

    def _fail(self, exc: PyMongoError) -> StoreUnavailableError:
        return StoreUnavailableError(f"{self.where}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _query(user_id: str | None, due_before: float | None) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if user_id is not None:
            query["user_id"] = user_id
        if due_before is not None:
            query["due"] = {"$ne": None, "$lte": due_before}
        return query

    @staticmethod
    def _row(raw: dict[str, Any]) -> StoredDoc:
        return StoredDoc(str(raw["_id"]), json.loads(raw["doc"]), int(raw["version"]))

    @staticmethod
    def _fields(doc: Doc, user_id: str, due: float | None) -> dict[str, Any]:
        # The content as JSON text: its keys are ours (message fields, digests), not field names to index.
        return {"doc": json.dumps(doc, ensure_ascii=False), "user_id": user_id, "due": due}

    def get(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.get`."""
        try:
            raw = self._coll().find_one({"_id": key})
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return None if raw is None else self._row(raw)

    async def aget(self, key: str) -> StoredDoc | None:
        """See :meth:`CompanionDocs.aget`."""
        try:
            raw = await (await self._acoll()).find_one({"_id": key})
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return None if raw is None else self._row(raw)

    def put(self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None) -> bool:
        """See :meth:`CompanionDocs.put`."""
        fields = self._fields(doc, user_id, due)
        try:
            coll = self._coll()
            if version is None:
                coll.insert_one({"_id": key, "version": 1, **fields})
                return True
            found = coll.find_one_and_update(
                {"_id": key, "version": version}, {"$set": {**fields, "version": version + 1}}
            )
        except DuplicateKeyError:
            return False
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return found is not None

    async def aput(
        self, key: str, doc: Doc, version: int | None, *, user_id: str, due: float | None = None
    ) -> bool:
        """See :meth:`CompanionDocs.aput`."""
        fields = self._fields(doc, user_id, due)
        try:
            coll = await self._acoll()
            if version is None:
                await coll.insert_one({"_id": key, "version": 1, **fields})
                return True
            found = await coll.find_one_and_update(
                {"_id": key, "version": version}, {"$set": {**fields, "version": version + 1}}
            )
        except DuplicateKeyError:
            return False
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return found is not None

    def delete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.delete`."""
        try:
            raw = self._coll().find_one_and_delete({"_id": key})
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return None if raw is None else dict(json.loads(raw["doc"]))

    async def adelete(self, key: str) -> Doc | None:
        """See :meth:`CompanionDocs.adelete`."""
        try:
            raw = await (await self._acoll()).find_one_and_delete({"_id": key})
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return None if raw is None else dict(json.loads(raw["doc"]))

    def delete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.delete_user`."""
        try:
            return int(self._coll().delete_many({"user_id": user_id}).deleted_count)
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    async def adelete_user(self, user_id: str) -> int:
        """See :meth:`CompanionDocs.adelete_user`."""
        try:
            return int((await (await self._acoll()).delete_many({"user_id": user_id})).deleted_count)
        except PyMongoError as exc:
            raise self._fail(exc) from exc

    def scan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.scan`."""
        try:
            coll = self._coll()
            rows = list(coll.find(self._query(user_id, due_before)).sort("_id", 1).limit(limit))
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return [self._row(r) for r in rows]

    async def ascan(
        self, *, user_id: str | None = None, due_before: float | None = None, limit: int = 100
    ) -> list[StoredDoc]:
        """See :meth:`CompanionDocs.ascan`."""
        try:
            coll = await self._acoll()
            rows = await coll.find(self._query(user_id, due_before)).sort("_id", 1).limit(limit).to_list(None)
        except PyMongoError as exc:
            raise self._fail(exc) from exc
        return [self._row(r) for r in rows]


def companion_docs(store: MemoryStore, role: str) -> CompanionDocs:
    """The ``<collection>_<role>`` documents in ``store``'s own database (in-process for other stores).

    Args:
        store: The memory store.
        role: The companion's role, e.g. ``"cursors"``.
    """
    if isinstance(store, SQLiteMemoryStore):
        return SQLiteDocs(store, role)
    if isinstance(store, MongoMemoryStore):
        return MongoDocs(store, role)
    docs: CompanionDocs | None = build_for_postgres(
        store, "langmem_agno.stores.companion_postgres", "PostgresDocs", role
    )
    if docs is not None:
        return docs
    _check_role(role)
    return MemoryDocs()
