"""Recall on MongoDB: vectors in ``<collection>_vectors``, ranking in the server when Atlas can.

Vectors live in a companion collection, one document per (memory, model):
``{memory_id, model, user_id, agent_id, team_id, text_hash, vector, updated_at}``.
When that collection has an Atlas Vector Search index (``type: "vectorSearch"``
on path ``vector`` with ``user_id`` and ``model``, and ideally ``agent_id`` and
``team_id``, as filter fields, see :func:`vector_search_index_model`), dense
ranking runs in the server with ``$vectorSearch``, pre-filtered on the scope,
without reading the user's memories per query. Whether the index exists is
asked once per process; a server that refuses the stage switches the process
to the per-user view (one warning). Elsewhere, and for lexical ranking
(SecantusDB and self-hosted servers have neither ``$vectorSearch`` nor
``$text``), ranking runs in the process over the user's memories.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from threading import Lock
from typing import Any

import numpy as np
from pymongo import ASCENDING, DeleteMany, ReplaceOne, UpdateMany
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.operations import SearchIndexModel

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.recall.dense import StoredVector, Vector
from langmem_agno.recall.index import Owners, RecallIndex
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
#: The scope fields a vector document carries for ``$vectorSearch`` to filter on.
SCOPE_PATHS = ("user_id", "agent_id", "team_id")


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
                {"type": "filter", "path": "model"},
                *({"type": "filter", "path": p} for p in SCOPE_PATHS),
            ]
        },
        name=VECTOR_INDEX_NAME,
        type="vectorSearch",
    )


def _search_pipeline(
    flt: MemoryFilter, query: Vector, model: str, limit: int, collection: str, filters: frozenset[str]
) -> list[dict[str, Any]]:
    # Pre-filter on every scope field the index declares, so another agent's vectors never
    # take the places; an index made before agent/team were declared filters by user only.
    pre: dict[str, Any] = {"user_id": flt.user_id, "model": model}
    for path, value in (("agent_id", flt.agent_id), ("team_id", flt.team_id)):
        if value is not None and path in filters:
            pre[path] = value
    # Topics, and agent/team an old index cannot filter, apply after the join: ask for more then.
    late = flt.topics is not None or any(
        v is not None and p not in pre for p, v in (("agent_id", flt.agent_id), ("team_id", flt.team_id))
    )
    return [
        {
            "$vectorSearch": {
                "index": VECTOR_INDEX_NAME,
                "path": "vector",
                "queryVector": [float(x) for x in query],
                "numCandidates": max(limit * 20, 100),
                "limit": limit * 4 if late else limit,
                "filter": pre,
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
        #: The filter paths of the Atlas vector index; ``None`` until asked, empty when there is none.
        self._filters: frozenset[str] | None = None
        self._refused = Lock()

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

    @classmethod
    def _wanted(cls, user_id: str, model: str, memory_ids: Sequence[str], complete: bool) -> dict[str, Any]:
        # Only a complete list needs every vector (to find orphans); otherwise read just these.
        query = cls._query(user_id, model)
        return query if complete else {**query, "memory_id": {"$in": list(memory_ids)}}

    def load_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Return this user's stored vectors of ``model``; drop orphans when ``complete``."""
        try:
            coll = self._coll()
            docs = list(
                coll.find(
                    self._wanted(user_id, model, memory_ids, complete),
                    {"_id": 0, "memory_id": 1, "text_hash": 1, "vector": 1},
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
                self._wanted(user_id, model, memory_ids, complete),
                {"_id": 0, "memory_id": 1, "text_hash": 1, "vector": 1},
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
    def _writes(
        user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None
    ) -> list[ReplaceOne[Any]]:
        now = now_epoch_s()
        owners = owners or {}
        return [
            ReplaceOne(
                {"memory_id": mid, "model": model},
                {
                    "memory_id": mid,
                    "model": model,
                    "user_id": user_id,
                    "agent_id": owners.get(mid, (None, None))[0],
                    "team_id": owners.get(mid, (None, None))[1],
                    "text_hash": v.text_hash,
                    "vector": [float(x) for x in v.vector],
                    "updated_at": now,
                },
                upsert=True,
            )
            for mid, v in rows
        ]

    def save_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Store (or replace) vectors in one bulk write, with their memory's agent and team."""
        if rows:
            try:
                self._coll().bulk_write(self._writes(user_id, model, rows, owners), ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    async def asave_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Async twin of :meth:`save_vectors`."""
        if rows:
            try:
                writes = self._writes(user_id, model, rows, owners)
                await (await self._acoll()).bulk_write(writes, ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    @staticmethod
    def _owner_writes(user_id: str, model: str, owners: Owners) -> list[UpdateMany]:
        # Only documents whose agent or team differ match, so an unchanged scope writes nothing.
        return [
            UpdateMany(
                {
                    "memory_id": mid,
                    "model": model,
                    "user_id": user_id,
                    "$or": [{"agent_id": {"$ne": agent}}, {"team_id": {"$ne": team}}],
                },
                {"$set": {"agent_id": agent, "team_id": team}},
            )
            for mid, (agent, team) in owners.items()
        ]

    def keep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Set the agent and team kept with these memories' vectors where they differ from the memories'.

        Vectors written before they carried owners, and memories moved to another agent
        or team without a change of text, are put right this way.
        """
        if owners:
            try:
                self._coll().bulk_write(self._owner_writes(user_id, model, owners), ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    async def akeep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Async twin of :meth:`keep_owners`."""
        if owners:
            try:
                writes = self._owner_writes(user_id, model, owners)
                await (await self._acoll()).bulk_write(writes, ordered=False)
            except PyMongoError as exc:
                raise self._error(exc) from exc

    # ------------------------------------------------------------ $vectorSearch
    @staticmethod
    def _index_filters(indexes: Sequence[dict[str, Any]]) -> frozenset[str]:
        """The filter paths of our queryable vector index among ``indexes``; empty when there is none."""
        for i in indexes:
            if (
                i.get("name") == VECTOR_INDEX_NAME
                and i.get("type") == "vectorSearch"
                and i.get("queryable", True)
            ):
                fields = (i.get("latestDefinition") or i.get("definition") or {}).get("fields", [])
                paths = frozenset(f.get("path") for f in fields if f.get("type") == "filter")
                if {"user_id", "model"} <= paths:
                    return paths
        return frozenset()

    def detect_vector_index(self) -> frozenset[str]:
        """Ask the server for the Atlas vector index; its filter paths, empty when there is none.

        Raises:
            StoreUnavailableError: If the server cannot be reached (nothing is cached then).
        """
        coll = self._coll()
        try:
            return self._index_filters(list(coll.list_search_indexes()))
        except OperationFailure as exc:  # the server has no Atlas Search: ask no more
            logger.info("no Atlas Search on %s (%s): ranking in process", coll.full_name, exc)
            return frozenset()
        except PyMongoError as exc:
            raise self._error(exc) from exc

    async def adetect_vector_index(self) -> frozenset[str]:
        """Async twin of :meth:`detect_vector_index`."""
        coll = await self._acoll()
        try:
            cursor = coll.list_search_indexes()
            if inspect.isawaitable(cursor):  # Motor returns the cursor, PyMongo's async client a coroutine
                cursor = await cursor
            return self._index_filters(await cursor.to_list(None))
        except OperationFailure as exc:
            logger.info("no Atlas Search on %s (%s): ranking in process", coll.full_name, exc)
            return frozenset()
        except PyMongoError as exc:
            raise self._error(exc) from exc

    def server_search(self) -> bool:
        """Whether ``$vectorSearch`` serves dense recall: the index is looked for once per process."""
        if self._filters is None:
            self._filters = self.detect_vector_index()
        return bool(self._filters)

    async def aserver_search(self) -> bool:
        """Async twin of :meth:`server_search`."""
        if self._filters is None:
            self._filters = await self.adetect_vector_index()
        return bool(self._filters)

    def _refuse(self, exc: OperationFailure) -> None:
        with self._refused:
            first, self._filters = bool(self._filters), frozenset()
        if first:
            logger.warning(
                "MongoDB refused $vectorSearch on %s_%s (%s): dense recall ranks in the process from now on",
                self.mongo.collection,
                VECTORS_SUFFIX,
                exc,
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

    def _pipeline(self, flt: MemoryFilter, query: Vector, model: str, limit: int) -> list[dict[str, Any]]:
        return _search_pipeline(flt, query, model, limit, self.mongo.collection, self._filters or frozenset())

    def server_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Rank with ``$vectorSearch``; ``None`` when there is no index or the server refused the stage."""
        if not self.server_search():
            return None
        try:
            docs = list(self._coll().aggregate(self._pipeline(flt, query, model, limit)))
        except OperationFailure as exc:
            self._refuse(exc)
            return None
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return self._hits(docs)

    async def aserver_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Async twin of :meth:`server_dense`."""
        if not await self.aserver_search():
            return None
        try:
            cursor = (await self._acoll()).aggregate(self._pipeline(flt, query, model, limit))
            if inspect.isawaitable(cursor):
                cursor = await cursor
            docs = await cursor.to_list(None)
        except OperationFailure as exc:
            self._refuse(exc)
            return None
        except PyMongoError as exc:
            raise self._error(exc) from exc
        return self._hits(docs)
