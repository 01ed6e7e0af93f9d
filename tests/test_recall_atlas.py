"""MongoDB with an Atlas vector index: dense recall runs ``$vectorSearch``, pre-filtered on the scope.

Without Atlas (SecantusDB, self-hosted servers) the index is reported present by
patching the detection: the aggregate is really sent, the server refuses the stage,
and recall falls back to the per-user view with the same results and one warning.
The test against a real Atlas deployment runs only with ``MONGODB_URI``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient, monitoring

from langmem_agno import MongoMemoryStore
from langmem_agno.recall import MemoryRetriever
from langmem_agno.recall.index_mongo import (
    VECTOR_INDEX_NAME,
    MongoRecallIndex,
    _search_pipeline,
    vector_search_index_model,
)
from langmem_agno.recall.registry import recall_index
from langmem_agno.stores.types import MemoryFilter
from recall_helpers import LABELLED, ConceptEmbeddings

MEMORIES = [m for m, _, _ in LABELLED]
QUESTIONS = [q for _, q, _ in LABELLED]
EVERY_FILTER = frozenset({"user_id", "model", "agent_id", "team_id"})
# Set while the stand-in for Atlas's own ranking reads: its reads are the server's, not ours.
_standing_in = [False]


class Commands(monitoring.CommandListener):
    """Every command a client sends, by name, with its body."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not _standing_in[0]:
            self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def vector_searches(self) -> list[dict[str, Any]]:
        return [
            body["pipeline"][0]["$vectorSearch"]
            for name, body in self.sent
            if name == "aggregate" and body.get("pipeline") and "$vectorSearch" in body["pipeline"][0]
        ]

    def memory_reads(self, collection: str) -> list[dict[str, Any]]:
        """Finds on the memory collection that may return more than one document."""
        return [
            body
            for name, body in self.sent
            if name == "find" and body.get("find") == collection and body.get("limit", 0) != 1
        ]


def _store(mode: str, uri: str, db: str, listener: Commands) -> MongoMemoryStore:
    if mode == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return MongoMemoryStore(async_client=AsyncIOMotorClient(uri, event_listeners=[listener]), database=db)
    if mode == "async":
        return MongoMemoryStore(async_client=AsyncMongoClient(uri, event_listeners=[listener]), database=db)
    return MongoMemoryStore(client=MongoClient(uri, event_listeners=[listener]), database=db)


async def _rank(retriever: MemoryRetriever, mode: str, question: str, **scope: str) -> list[str]:
    hits = (
        retriever.rank(question, k=3, **scope)
        if mode == "sync"
        else await retriever.arank(question, k=3, **scope)
    )
    return [h.memory.memory for h in hits]


def _pretend_atlas(monkeypatch: pytest.MonkeyPatch) -> None:
    async def adetect(self: MongoRecallIndex) -> frozenset[str]:
        return EVERY_FILTER

    monkeypatch.setattr(MongoRecallIndex, "detect_vector_index", lambda self: EVERY_FILTER)
    monkeypatch.setattr(MongoRecallIndex, "adetect_vector_index", adetect)


@pytest.mark.parametrize("mode", ["sync", "async", "motor"])
@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
async def test_a_refused_vector_search_falls_back_to_the_view_with_the_same_results(
    mode: str,
    ranking: str,
    mongo_uri: str,
    mongo_db_name: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    asked = Commands()
    plain = _store(mode, mongo_uri, mongo_db_name, asked)
    if mode == "sync":
        plain.add_many(MEMORIES, user_id="u1")
    else:
        await plain.aadd_many(MEMORIES, user_id="u1")
    view_only = MemoryRetriever(store=plain, embeddings=ConceptEmbeddings(), ranking=ranking)
    expected = [await _rank(view_only, mode, q, user_id="u1") for q in QUESTIONS]
    assert [e[0] for e in expected[:3]] == MEMORIES[:3]  # the view path itself is right
    # Without Atlas the index is looked for once, and the server's "no" is kept.
    lookups = [b for n, b in asked.sent if n == "aggregate" and "$listSearchIndexes" in b["pipeline"][0]]
    assert len(lookups) == 1

    _pretend_atlas(monkeypatch)
    listener = Commands()
    atlas = _store(mode, mongo_uri, mongo_db_name, listener)  # a new store: a new index, asked anew
    retriever = MemoryRetriever(store=atlas, embeddings=ConceptEmbeddings(), ranking=ranking)
    with caplog.at_level(logging.WARNING):
        got = [await _rank(retriever, mode, q, user_id="u1") for q in QUESTIONS]
    assert got == expected
    sent = listener.vector_searches()
    assert len(sent) == 1, "refused once, then the view serves without asking again"
    assert sent[0]["index"] == VECTOR_INDEX_NAME
    assert sent[0]["filter"] == {"user_id": "u1", "model": retriever.guard.name}
    refusals = [r for r in caplog.records if "$vectorSearch" in r.getMessage()]
    assert len(refusals) == 1
    assert refusals[0].levelno == logging.WARNING
    assert recall_index(atlas).server_search() is False
    for store in (plain, atlas):
        if mode == "sync":
            store.close()
        else:
            await store.aclose()


def test_the_search_is_pre_filtered_on_the_scope_the_index_declares() -> None:
    query = ConceptEmbeddings()._vector("guitar")
    flt = MemoryFilter("u1", agent_id="a1", team_id="t1")
    import numpy as np

    vector = np.asarray(query, dtype=np.float32)
    stage = _search_pipeline(flt, vector, "m", 5, "agno_memories", EVERY_FILTER)[0]["$vectorSearch"]
    assert stage["filter"] == {"user_id": "u1", "model": "m", "agent_id": "a1", "team_id": "t1"}
    assert stage["limit"] == 5  # nothing is filtered after the join, so no more than asked
    # An index made before agent and team were filter fields: user only, the rest after the join.
    old = _search_pipeline(flt, vector, "m", 5, "agno_memories", frozenset({"user_id", "model"}))
    assert old[0]["$vectorSearch"]["filter"] == {"user_id": "u1", "model": "m"}
    assert old[0]["$vectorSearch"]["limit"] == 20
    assert {"$match": {"m.user_id": "u1", "m.agent_id": "a1", "m.team_id": "t1"}} in old
    paths = {f["path"] for f in vector_search_index_model(8).document["definition"]["fields"]}
    assert paths == {"vector", "model", "user_id", "agent_id", "team_id"}


def test_index_detection_reads_the_filter_paths_of_a_queryable_index() -> None:
    model = vector_search_index_model(8).document
    listed = [{**model, "queryable": True, "latestDefinition": model["definition"]}]
    assert MongoRecallIndex._index_filters(listed) == EVERY_FILTER
    assert MongoRecallIndex._index_filters([{**listed[0], "queryable": False}]) == frozenset()
    assert MongoRecallIndex._index_filters([{**listed[0], "name": "other"}]) == frozenset()
    assert MongoRecallIndex._index_filters([]) == frozenset()


def _cosine_in_the_collection(
    self: MongoRecallIndex, flt: MemoryFilter, query: Any, model: str, limit: int
) -> list[Any]:
    """Stands in for Atlas's ranking (SecantusDB has no ``$vectorSearch``): cosine over the vectors."""
    import numpy as np

    from langmem_agno.stores.types import ScoredMemory

    self.server_calls = getattr(self, "server_calls", 0) + 1
    _standing_in[0] = True
    try:
        docs = list(self._coll().find({"user_id": flt.user_id, "model": model}))
        by_id = {m.memory_id: m for m in self.store.list_memories(**flt.as_kwargs()).items}
    finally:
        _standing_in[0] = False
    q = np.asarray(query, dtype=np.float64)
    scored = [
        (float(np.dot(d["vector"], q) / (np.linalg.norm(d["vector"]) * np.linalg.norm(q))), d["memory_id"])
        for d in docs
        if d["memory_id"] in by_id
    ]
    return [ScoredMemory(by_id[i], (1 + s) / 2) for s, i in sorted(scored, reverse=True)[:limit]]


def test_served_recall_embeds_only_what_changed_and_reads_no_memories_per_query(
    mongo_uri: str, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pretend_atlas(monkeypatch)
    monkeypatch.setattr(MongoRecallIndex, "server_dense", _cosine_in_the_collection)
    listener = Commands()
    store = _store("sync", mongo_uri, mongo_db_name, listener)
    for text in MEMORIES:
        store.add(text, user_id="u1", agent_id="a1")
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense", k=1)
    assert [d.page_content for d in retriever.invoke("Which instrument is her hobby?", user_id="u1")] == [
        "Sarah plays jazz guitar"
    ]
    assert len(embeddings.documents_embedded) == len(MEMORIES)
    vectors = store.companion_collection("vectors")
    assert {(d["agent_id"], d["team_id"]) for d in vectors.find({})} == {("a1", None)}

    listener.sent.clear()
    assert [d.page_content for d in retriever.invoke("Does she have a pet?", user_id="u1")] == [
        "Sarah has a labrador called Max"
    ]
    assert listener.memory_reads(store.collection) == [], "an unchanged scope is not read"
    assert len(embeddings.documents_embedded) == len(MEMORIES)

    store.add("Sarah keeps two cats", user_id="u1", agent_id="a1")
    email = next(m for m in store.list_memories(user_id="u1").items if m.memory == MEMORIES[0])
    store.update(email.memory_id, memory="Sarah prefers text messages over phone calls", user_id="u1")
    found = retriever.rank("any animal at home?", user_id="u1", k=3)
    assert "Sarah keeps two cats" in [h.memory.memory for h in found]
    # Only the added and the changed memory were embedded again.
    assert embeddings.documents_embedded[len(MEMORIES) :] in (
        ["Sarah keeps two cats", "Sarah prefers text messages over phone calls"],
        ["Sarah prefers text messages over phone calls", "Sarah keeps two cats"],
    )
    assert recall_index(store).server_calls == 3  # type: ignore[attr-defined]
    store.close()


async def test_served_recall_async_matches_sync(
    mongo_uri: str, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pretend_atlas(monkeypatch)

    async def aserver_dense(self: MongoRecallIndex, *args: Any) -> list[Any]:
        return _cosine_in_the_collection(self, *args)

    monkeypatch.setattr(MongoRecallIndex, "server_dense", _cosine_in_the_collection)
    monkeypatch.setattr(MongoRecallIndex, "aserver_dense", aserver_dense)
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    await store.aadd_many(MEMORIES, user_id="u1")
    for ranking in ("dense", "hybrid"):
        retriever = MemoryRetriever(store=store, embeddings=ConceptEmbeddings(), ranking=ranking, k=2)
        for question in QUESTIONS:
            sync = [h.memory.memory for h in retriever.rank(question, user_id="u1")]
            assert [h.memory.memory for h in await retriever.arank(question, user_id="u1")] == sync
            assert sync[0] == MEMORIES[QUESTIONS.index(question)]
    await store.aclose()


# ---------------------------------------------------------------- a real Atlas deployment
@pytest.mark.real_mongo
def test_atlas_vector_search_ranks_in_the_server(mongo_uri: str, mongo_db_name: str) -> None:
    listener = Commands()
    store = _store("sync", mongo_uri, mongo_db_name, listener)
    store.add_many(MEMORIES, user_id="u1")
    store.add("Bob plays guitar", user_id="u2")
    vectors = store.companion_collection("vectors")
    vectors.insert_one(
        {"memory_id": "probe", "model": "none", "user_id": "none", "text_hash": "", "vector": [0.0]}
    )
    vectors.create_search_index(vector_search_index_model(dimensions=len(ConceptEmbeddings()._vector("x"))))
    deadline = time.monotonic() + 120
    while not any(
        i.get("name") == VECTOR_INDEX_NAME and i.get("queryable") for i in vectors.list_search_indexes()
    ):
        assert time.monotonic() < deadline, "Atlas vector index never became queryable"
        time.sleep(2)
    retriever = MemoryRetriever(store=store, k=1, embeddings=ConceptEmbeddings(), ranking="dense")
    retriever.invoke("warm-up: fills the vectors", user_id="u1")
    time.sleep(5)  # Atlas Search indexes new vectors asynchronously
    listener.sent.clear()
    assert [d.page_content for d in retriever.invoke("Which instrument is her hobby?", user_id="u1")] == [
        "Sarah plays jazz guitar"
    ]
    index = recall_index(store)
    assert isinstance(index, MongoRecallIndex)
    assert index.server_search() is True
    assert len(listener.vector_searches()) == 1
    assert listener.memory_reads(store.collection) == []
    store.close()


def test_served_recall_keeps_each_vector_s_agent_and_team_those_of_its_memory(
    mongo_uri: str, mongo_db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from langmem_agno.recall.dense import StoredVector, text_hash

    _pretend_atlas(monkeypatch)
    monkeypatch.setattr(MongoRecallIndex, "server_dense", _cosine_in_the_collection)
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    added = [store.add(text, user_id="u1", agent_id="a1") for text in MEMORIES]
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense", k=1)
    # Vectors as an older release wrote them: no agent or team, which $vectorSearch would filter out.
    index = recall_index(store)
    rows = [
        (m.memory_id, StoredVector(text_hash(m.memory), np.asarray(embeddings._vector(m.memory), np.float32)))
        for m in added
    ]
    index.save_vectors("u1", retriever.guard.name, rows)
    vectors = store.companion_collection("vectors")
    assert {d["agent_id"] for d in vectors.find({})} == {None}
    assert [h.memory.memory for h in retriever.rank("Does she have a pet?", user_id="u1")] == [MEMORIES[4]]
    assert embeddings.documents_embedded == []  # the vectors were current: only their owners were not
    assert {d["agent_id"] for d in vectors.find({})} == {"a1"}
    # Another writer (Agno replaces whole documents) hands the memory to another agent, text unchanged.
    memories = vectors.database[store.collection]
    later = max(m.updated_at for m in added) + 5
    memories.update_one({"memory_id": added[4].memory_id}, {"$set": {"agent_id": "a2", "updated_at": later}})
    retriever.rank("Does she have a pet?", user_id="u1")
    owners = {d["memory_id"]: d["agent_id"] for d in vectors.find({})}
    assert owners[added[4].memory_id] == "a2"
    assert {a for mid, a in owners.items() if mid != added[4].memory_id} == {"a1"}
    store.close()
