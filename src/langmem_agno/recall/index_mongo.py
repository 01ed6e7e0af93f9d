"""Recall on MongoDB: vectors in ``<collection>_vectors``, ranking in the server when Atlas can.

Vectors live in a companion collection, one document per (memory, model):
``{memory_id, model, user_id, text_hash, vector, updated_at}``. When that
collection has an Atlas Vector Search index (``type: "vectorSearch"`` on path
``vector`` with ``user_id`` and ``model`` as filter fields, see
:func:`vector_search_index_model`), dense ranking runs in the server with
``$vectorSearch``. Otherwise, and for lexical ranking (SecantusDB and
self-hosted servers have neither ``$vectorSearch`` nor ``$text``), ranking
runs in the process over the user's memories.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from pymongo import ASCENDING, DeleteMany, ReplaceOne
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.operations import SearchIndexModel

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.recall.dense import StoredVector, Vector
from langmem_agno.recall.index import RecallIndex
from langmem_agno.record import UserMemory, now_epoch_s, read_all
from langmem_agno.stores.mongo import MongoMemoryStore
from langmem_agno.stores.mongo_plans import filter_document
from langmem_agno.stores.types import MemoryFilter, ScoredMemory

__all__ = ["VECTORS_SUFFIX", "VECTOR_INDEX_NAME", "MongoRecallIndex", "vector_search_index_model"]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.stores.recall_mongo")
VECTORS_SUFFIX = "vectors"
#: The Atlas Vector Search index name looked for on the vectors collection.
VECTOR_INDEX_NAME = "lma_vector_index"


def vector_search_index_model(dimensions: int, *, similarity: str = "cosine") -> SearchIndexModel:
    """Return the Atlas Vector Search index definition the server path expects.

    Create it once with ``store.companion_collection("vectors").create_search_index(model)``.

    Args:
        dimensions: The embedding width.
        similarity: ``"cosine"``, ``"dotProduct"`` or ``"euclidean"``.
    """
    return SearchIndexModel(
        definition={
            "fields": [
                {"type": "vector", "path": "vector", "numDimensions": dimensions, "similarity": similarity},
                {"type": "filter", "path": "user_id"},
                {"type": "filter", "path": "model"},
            ]
        },
        name=VECTOR_INDEX_NAME,
        type="vectorSearch",
    )


def _search_pipeline(
    flt: MemoryFilter, query: Vector, model: str, limit: int, collection: str
) -> list[dict[str, Any]]:
    return [
        {
            "$vectorSearch": {
                "index": VECTOR_INDEX_NAME,
                "path": "vector",
                "queryVector": [float(x) for x in query],
                "numCandidates": max(limit * 20, 100),
                # Agent/team/topic filters apply after the join, so ask for more.
                "limit": limit * 4,
                "filter": {"user_id": flt.user_id, "model": model},
            }
        },
        {"$project": {"_id": 0, "memory_id": 1, "score": {"$meta": "vectorSearchScore"}}},
        {"$lookup": {"from": collection, "localField": "memory_id", "foreignField": "memory_id", "as": "m"}},
        {"$unwind": "$m"},
        {"$match": filter_document(flt, prefix="m.")},
        {"$limit": limit},
    ]


class MongoRecallIndex(RecallIndex):
    """Vectors in a companion collection; ``$vectorSearch`` where an Atlas index exists.

    Args:
        store: The MongoDB memory store.
    """

    def __init__(self, store: MongoMemoryStore) -> None:
        super().__init__(store)
        self.mongo = store
        self._indexes_ready = False
        self._server_search: bool | None = None

    def _coll(self) -> Any:
        coll = self.mongo.companion_collection(VECTORS_SUFFIX)
        if not self._indexes_ready:
            coll.create_index(
                [("memory_id", ASCENDING), ("model", ASCENDING)], name="lma_memory_model", unique=True
            )
            coll.create_index([("user_id", ASCENDING), ("model", ASCENDING)], name="lma_user_model")
            self._indexes_ready = True
        return coll

    async def _acoll(self) -> Any:
        coll = self.mongo.companion_collection(VECTORS_SUFFIX, use_async=True)
        if not self._indexes_ready:
            await coll.create_index(
                [("memory_id", ASCENDING), ("model", ASCENDING)], name="lma_memory_model", unique=True
            )
            await coll.create_index([("user_id", ASCENDING), ("model", ASCENDING)], name="lma_user_model")
            self._indexes_ready = True
        return coll

    def _error(self, exc: PyMongoError) -> StoreUnavailableError:
        return StoreUnavailableError(f"MongoDB {self.mongo.collection}_{VECTORS_SUFFIX}: {exc}")

    # ------------------------------------------------------------ vectors
    @staticmethod
    def _loaded(
        docs: Sequence[dict[str, Any]], memory_ids: Sequence[str], complete: bool
    ) -> tuple[dict[str, StoredVector], list[str]]:
        wanted = set(memory_ids)
        found = {
            d["memory_id"]: StoredVector(d["text_hash"], np.asarray(d["vector"], dtype=np.float32))
            for d in docs
            if d["memory_id"] in wanted
        }
        # Only a complete list tells which vectors lost their memory (deleted by us or by Agno).
        orphans = [d["memory_id"] for d in docs if d["memory_id"] not in wanted] if complete else []
        return found, orphans

    @staticmethod
    def _query(user_id: str, model: str) -> dict[str, Any]:
        return {"user_id": user_id, "model": model}

    def load_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Return this user's stored vectors of ``model``; drop orphans when ``complete``."""
        try:
            coll = self._coll()
            docs = list(
                coll.find(
                    self._query(user_id, model), {"_id": 0, "memory_id": 1, "text_hash": 1, "vector": 1}
                )
            )
            found, orphans = self._loaded(docs, memory_ids, complete)
            if orphans:
                coll.bulk_write([DeleteMany({**self._query(user_id, model), "memory_id": {"$in": orphans}})])
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return found

    async def aload_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Async twin of :meth:`load_vectors`, on the async client."""
        try:
            coll = await self._acoll()
            cursor = coll.find(
                self._query(user_id, model), {"_id": 0, "memory_id": 1, "text_hash": 1, "vector": 1}
            )
            found, orphans = self._loaded(await cursor.to_list(None), memory_ids, complete)
            if orphans:
                await coll.bulk_write(
                    [DeleteMany({**self._query(user_id, model), "memory_id": {"$in": orphans}})]
                )
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return found

    @staticmethod
    def _writes(user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]]) -> list[ReplaceOne[Any]]:
        now = now_epoch_s()
        return [
            ReplaceOne(
                {"memory_id": mid, "model": model},
                {
                    "memory_id": mid,
                    "model": model,
                    "user_id": user_id,
                    "text_hash": v.text_hash,
                    "vector": [float(x) for x in v.vector],
                    "updated_at": now,
                },
                upsert=True,
            )
            for mid, v in rows
        ]

    def save_vectors(self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]]) -> None:
        """Store (or replace) vectors in one bulk write."""
        if rows:
            try:
                self._coll().bulk_write(self._writes(user_id, model, rows), ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    async def asave_vectors(self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]]) -> None:
        """Async twin of :meth:`save_vectors`."""
        if rows:
            try:
                await (await self._acoll()).bulk_write(self._writes(user_id, model, rows), ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    # ------------------------------------------------------------ $vectorSearch
    @staticmethod
    def _has_index(indexes: Sequence[dict[str, Any]]) -> bool:
        return any(
            i.get("name") == VECTOR_INDEX_NAME
            and i.get("type") == "vectorSearch"
            and i.get("queryable", True)
            for i in indexes
        )

    @staticmethod
    def _hits(docs: Sequence[dict[str, Any]]) -> list[ScoredMemory]:
        # A document another writer stored that we cannot read is skipped (with a warning), not fatal.
        readable = {m.memory_id: m for m in read_all([d["m"] for d in docs], UserMemory.from_document)}
        return [
            ScoredMemory(memory=readable[d["m"].get("memory_id")], score=float(d["score"]))
            for d in docs
            if isinstance(d["m"].get("memory_id"), str) and d["m"]["memory_id"] in readable
        ]

    def server_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Rank with ``$vectorSearch`` when the Atlas index exists; ``None`` otherwise."""
        coll = self._coll()
        if self._server_search is None:
            try:
                self._server_search = self._has_index(list(coll.list_search_indexes()))
            except (OperationFailure, PyMongoError) as exc:
                logger.info("no Atlas Search on %s (%s): ranking in process", coll.full_name, exc)
                self._server_search = False
        if not self._server_search:
            return None
        try:
            docs = list(coll.aggregate(_search_pipeline(flt, query, model, limit, self.mongo.collection)))
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return self._hits(docs)

    async def aserver_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Async twin of :meth:`server_dense`."""
        coll = await self._acoll()
        if self._server_search is None:
            try:
                cursor = coll.list_search_indexes()
                if inspect.isawaitable(cursor):
                    cursor = await cursor
                self._server_search = self._has_index(await cursor.to_list(None))
            except (OperationFailure, PyMongoError) as exc:
                logger.info("no Atlas Search on %s (%s): ranking in process", coll.full_name, exc)
                self._server_search = False
        if not self._server_search:
            return None
        try:
            cursor = coll.aggregate(_search_pipeline(flt, query, model, limit, self.mongo.collection))
            if inspect.isawaitable(cursor):
                cursor = await cursor
            docs = await cursor.to_list(None)
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return self._hits(docs)
