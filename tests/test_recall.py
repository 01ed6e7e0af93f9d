"""MemoryRetriever: ranking, scope, filters, vectors kept once, on every backend, sync and async."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langgraph.graph import END, START, MessagesState, StateGraph

from langmem_agno import MemoryStore, MissingUserIdError, MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.recall import MemoryRetriever
from langmem_agno.record import MEMORY_FIELDS
from langmem_agno.vectors import EmbeddingError
from raw_rows import companion_row_count, memory_columns
from recall_helpers import LABELLED, ConceptEmbeddings

MEMORIES = [m for m, _, _ in LABELLED]


def seed(store: MemoryStore, user_id: str = "u1") -> dict[str, str]:
    """Add the labelled memories; return text -> memory_id."""
    return {m.memory: m.memory_id for m in store.add_many(MEMORIES, user_id=user_id)}


def texts(docs: list[Document]) -> list[str]:
    return [d.page_content for d in docs]


# ---------------------------------------------------------------- ranking
@pytest.mark.parametrize(("memory", "paraphrase", "lexical"), LABELLED)
def test_lexical_ranking_puts_the_right_memory_first(
    store: MemoryStore, memory: str, paraphrase: str, lexical: str
) -> None:
    seed(store)
    docs = MemoryRetriever(store=store, k=3).invoke(lexical, user_id="u1")
    assert texts(docs)[0] == memory


@pytest.mark.parametrize(("memory", "paraphrase", "lexical"), LABELLED)
def test_dense_ranking_finds_paraphrases_with_no_shared_word(
    store: MemoryStore, memory: str, paraphrase: str, lexical: str
) -> None:
    seed(store)
    retriever = MemoryRetriever(store=store, k=3, embeddings=ConceptEmbeddings())
    assert texts(retriever.invoke(paraphrase, user_id="u1"))[0] == memory


def test_lexical_alone_misses_a_paraphrase_that_dense_finds(store: MemoryStore) -> None:
    # The point of the embeddings option: this question shares no word with the memory.
    seed(store)
    question = "How do I get in touch with her?"
    lexical = texts(MemoryRetriever(store=store, k=8).invoke(question, user_id="u1"))
    assert "Sarah prefers email over phone calls" not in lexical
    hybrid = MemoryRetriever(store=store, k=1, embeddings=ConceptEmbeddings())
    assert texts(hybrid.invoke(question, user_id="u1")) == ["Sarah prefers email over phone calls"]


def test_documents_carry_every_field_and_the_score(store: MemoryStore) -> None:
    ids = seed(store)
    doc = MemoryRetriever(store=store, k=1).invoke("labrador", user_id="u1")[0]
    assert doc.id == ids["Sarah has a labrador called Max"]
    assert set(doc.metadata) == {*MEMORY_FIELDS, "score"}
    assert doc.metadata["user_id"] == "u1"
    assert doc.metadata["score"] > 0


def test_recency_blend_prefers_the_newer_of_two_equal_matches(store: MemoryStore) -> None:
    old = store.add("Sarah likes tea", user_id="u1")
    store.update(old.memory_id, user_id="u1", memory="Sarah likes tea")  # same text, same BM25 score
    from langmem_agno.record import UserMemory

    older = UserMemory(memory="Sarah likes tea a lot", user_id="u1", created_at=1_000, updated_at=1_000)
    store.add(older, user_id="u1")
    plain = MemoryRetriever(store=store, k=2).invoke("tea lot", user_id="u1")
    assert texts(plain)[0] == "Sarah likes tea a lot"  # more words matched
    recent = MemoryRetriever(store=store, k=2, recency_weight=0.9).invoke("tea lot", user_id="u1")
    assert texts(recent)[0] == "Sarah likes tea"


def test_fill_with_recent_pads_when_nothing_matches(store: MemoryStore) -> None:
    seed(store)
    assert MemoryRetriever(store=store, k=2).invoke("hello there", user_id="u1") == []
    padded = MemoryRetriever(store=store, k=2, fill_with_recent=True).invoke("hello there", user_id="u1")
    assert len(padded) == 2
    assert {d.metadata["score"] for d in padded} == {0.0}


def test_query_text_is_never_an_fts_operator(store: MemoryStore) -> None:
    seed(store)
    for query in ['"', "NEAR(a b)", "guitar OR *", "AND", "x:y", "'; DROP TABLE agno_memories; --"]:
        MemoryRetriever(store=store, k=3).invoke(query, user_id="u1")
    assert store.list_memories(user_id="u1").total == len(MEMORIES)


# ---------------------------------------------------------------- scope
def test_user_b_never_gets_user_a_memories(store: MemoryStore) -> None:
    seed(store, "alice")
    store.add("Bob plays guitar in a band", user_id="bob")
    for embeddings in (None, ConceptEmbeddings()):
        retriever = MemoryRetriever(store=store, k=10, embeddings=embeddings, fill_with_recent=True)
        docs = retriever.invoke("guitar email Lisbon labrador", config={"configurable": {"user_id": "bob"}})
        assert texts(docs) == ["Bob plays guitar in a band"]
        assert {d.metadata["user_id"] for d in docs} == {"bob"}


def test_missing_user_id_is_a_clear_error(store: MemoryStore) -> None:
    with pytest.raises(MissingUserIdError, match="user_id"):
        MemoryRetriever(store=store).invoke("anything")
    seed(store, "fallback")
    assert MemoryRetriever(store=store, default_user_id="fallback").invoke("guitar")


def test_scope_from_langgraph_runtime_context(store: MemoryStore) -> None:
    seed(store, "ctx-user")
    retriever = MemoryRetriever(store=store, k=1)
    seen: list[list[str]] = []

    def recall(state: MessagesState) -> dict[str, Any]:
        seen.append(texts(retriever.invoke("guitar")))
        return {}

    builder = StateGraph(MessagesState, context_schema=dict)
    builder.add_node("recall", recall)
    builder.add_edge(START, "recall")
    builder.add_edge("recall", END)
    builder.compile().invoke({"messages": []}, context={"user_id": "ctx-user"})
    assert seen == [["Sarah plays jazz guitar"]]


def test_agent_team_and_topic_filters(store: MemoryStore) -> None:
    store.add("Sarah plays guitar", user_id="u1", agent_id="a1", team_id="t1", topics=["music"])
    store.add("Sarah plays guitar loudly", user_id="u1", agent_id="a2", topics=["noise"])
    run = {"configurable": {"user_id": "u1"}}
    for embeddings in (None, ConceptEmbeddings()):
        for kwargs, expected in (
            ({"agent_id": "a1"}, ["Sarah plays guitar"]),
            ({"team_id": "t1"}, ["Sarah plays guitar"]),
            ({"topics": ["Noise"]}, ["Sarah plays guitar loudly"]),
        ):
            retriever = MemoryRetriever(store=store, k=5, embeddings=embeddings, **kwargs)
            assert texts(retriever.invoke("guitar", config=run)) == expected
        by_run = MemoryRetriever(store=store, k=5, embeddings=embeddings)
        assert texts(
            by_run.invoke("guitar", config={"configurable": {"user_id": "u1", "agent_id": "a2"}})
        ) == ["Sarah plays guitar loudly"]


def test_bad_settings_are_rejected(store: MemoryStore) -> None:
    with pytest.raises(ValueError, match="needs embeddings"):
        MemoryRetriever(store=store, ranking="dense")
    with pytest.raises(ValueError, match="agent_id"):
        MemoryRetriever(store=store, agent_id="")
    with pytest.raises(ValueError, match="k"):
        MemoryRetriever(store=store, k=0)


# ---------------------------------------------------------------- vectors
def test_vectors_are_computed_once_and_refreshed_when_text_changes(store: MemoryStore) -> None:
    ids = seed(store)
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, k=3, embeddings=embeddings, ranking="dense")
    retriever.invoke("where does she live", user_id="u1")
    assert sorted(embeddings.documents_embedded) == sorted(MEMORIES)
    retriever.invoke("what does she eat", user_id="u1")
    assert len(embeddings.documents_embedded) == len(MEMORIES)  # nothing embedded twice
    store.update(ids["Sarah lives in Lisbon"], user_id="u1", memory="Sarah moved to a new city: Porto")
    store.add("Sarah owns a cat", user_id="u1")  # written without the retriever, like Agno would
    docs = retriever.invoke("which city is her home", user_id="u1")
    assert embeddings.documents_embedded[len(MEMORIES) :] in (
        ["Sarah moved to a new city: Porto", "Sarah owns a cat"],
        ["Sarah owns a cat", "Sarah moved to a new city: Porto"],
    )
    assert texts(docs)[0] == "Sarah moved to a new city: Porto"


def test_two_models_keep_separate_vectors(store: MemoryStore) -> None:
    seed(store)
    first, second = ConceptEmbeddings(), ConceptEmbeddings()
    MemoryRetriever(store=store, embeddings=first, embeddings_key="m1").invoke("pets", user_id="u1")
    MemoryRetriever(store=store, embeddings=second, embeddings_key="m2").invoke("pets", user_id="u1")
    assert len(first.documents_embedded) == len(second.documents_embedded) == len(MEMORIES)


def test_a_broken_embeddings_model_is_reported_and_stores_nothing(store: MemoryStore) -> None:
    seed(store)

    class Short(ConceptEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return super().embed_documents(texts)[:-1]

    with pytest.raises(EmbeddingError, match="vectors for"):
        MemoryRetriever(store=store, embeddings=Short()).invoke("pets", user_id="u1")
    good = ConceptEmbeddings()
    MemoryRetriever(store=store, embeddings=good, embeddings_key=f"{Short.__module__}").invoke(
        "pets", user_id="u1"
    )
    assert len(good.documents_embedded) == len(MEMORIES)
    assert store.list_memories(user_id="u1").total == len(MEMORIES)


def test_memory_rows_and_documents_keep_exactly_agno_fields(
    store: MemoryStore, request: pytest.FixtureRequest
) -> None:
    seed(store)
    MemoryRetriever(store=store, embeddings=ConceptEmbeddings()).invoke("pets guitar", user_id="u1")
    if isinstance(store, MongoMemoryStore):
        coll = store.companion_collection("vectors").database[store.collection]
        assert all(set(doc) == {"_id", *MEMORY_FIELDS} for doc in coll.find({}))
    else:
        assert memory_columns(store) == set(MEMORY_FIELDS)
    assert companion_row_count(store, "vectors") == len(MEMORIES)


def test_deleted_memories_lose_their_vectors(store: MemoryStore) -> None:
    ids = seed(store)
    retriever = MemoryRetriever(store=store, k=8, embeddings=ConceptEmbeddings(), ranking="dense")
    retriever.invoke("pets", user_id="u1")
    store.delete(ids["Sarah has a labrador called Max"], user_id="u1")
    docs = retriever.invoke("does she have an animal", user_id="u1")
    assert "Sarah has a labrador called Max" not in texts(docs)
    assert companion_row_count(store, "vectors") == len(MEMORIES) - 1


# ---------------------------------------------------------------- async
async def test_async_retriever_ranks_within_the_users_scope(astore: MemoryStore) -> None:
    await astore.aadd_many(MEMORIES, user_id="u1")
    await astore.aadd("Bob plays guitar", user_id="u2")
    for embeddings in (None, ConceptEmbeddings()):
        retriever = MemoryRetriever(store=astore, k=2, embeddings=embeddings)
        docs = await retriever.ainvoke("guitar music", config={"configurable": {"user_id": "u1"}})
        assert texts(docs)[0] == "Sarah plays jazz guitar"
        assert all(d.metadata["user_id"] == "u1" for d in docs)
    dense = MemoryRetriever(store=astore, k=1, embeddings=ConceptEmbeddings(), ranking="dense")
    assert texts(await dense.ainvoke("Which instrument is her hobby?", user_id="u1")) == [
        "Sarah plays jazz guitar"
    ]


async def test_async_retriever_inside_an_async_graph(astore: MemoryStore) -> None:
    await astore.aadd_many(MEMORIES, user_id="u1")
    retriever = MemoryRetriever(store=astore, k=1)

    async def recall(query: str) -> list[str]:
        return texts(await retriever.ainvoke(query))

    chain = RunnableLambda(recall)
    assert await chain.ainvoke("labrador", config={"configurable": {"user_id": "u1"}}) == [
        "Sarah has a labrador called Max"
    ]


# ---------------------------------------------------------------- SQLite: FTS index upkeep
def test_fts_index_follows_writes_made_outside_the_store(tmp_path: Any) -> None:
    path = tmp_path / "agno.db"
    store = SQLiteMemoryStore(path)
    seed(store)
    retriever = MemoryRetriever(store=store, k=1)
    assert texts(retriever.invoke("guitar", user_id="u1")) == ["Sarah plays jazz guitar"]
    # Another process writes the table directly, as Agno's SqliteDb does (JSON-encoded text).
    other = sqlite3.connect(path)
    other.execute(
        "INSERT INTO agno_memories (memory_id, memory, user_id, topics, created_at, updated_at) "
        "VALUES ('x1', ?, 'u1', ?, 1, 1)",
        (json.dumps("Sarah collects vinyl records \u00e9clectiques"), json.dumps(["music"])),
    )
    other.execute(
        "UPDATE agno_memories SET memory = ? WHERE memory = ?",
        (json.dumps("Sarah plays drums"), json.dumps("Sarah plays jazz guitar")),
    )
    other.commit()
    other.close()
    assert texts(retriever.invoke("vinyl eclectiques", user_id="u1")) == [
        "Sarah collects vinyl records \u00e9clectiques"
    ]
    assert texts(retriever.invoke("drums", user_id="u1")) == ["Sarah plays drums"]
    assert retriever.invoke("jazz", user_id="u1") == []
    store.close()


def test_fts_index_is_rebuilt_when_it_drifted(tmp_path: Any) -> None:
    path = tmp_path / "agno.db"
    store = SQLiteMemoryStore(path)
    seed(store)
    MemoryRetriever(store=store).invoke("guitar", user_id="u1")
    with store.companion_cursor(write=True) as cur:
        cur.execute("DELETE FROM agno_memories_fts")
    store.close()
    reopened = SQLiteMemoryStore(path)
    assert texts(MemoryRetriever(store=reopened, k=1).invoke("guitar", user_id="u1")) == [
        "Sarah plays jazz guitar"
    ]
    reopened.close()


# ---------------------------------------------------------------- lexical details
def test_other_users_memories_never_change_which_words_a_user_is_searched_by(tmp_path: Any) -> None:
    """2,100 other users' memories about email must not drop "email" from user a's query."""
    store = SQLiteMemoryStore(tmp_path / "a.db")
    store.add_many(["Sarah prefers email", "The phone is broken"], user_id="a")
    for n in range(21):
        store.add_many([f"Other person {n}-{i} reads email daily" for i in range(100)], user_id=f"other{n}")
    retriever = MemoryRetriever(store=store, k=5, ranking="lexical")
    found = {d.page_content for d in retriever.invoke("email or phone?", user_id="a")}
    assert found == {"Sarah prefers email", "The phone is broken"}
    store.close()


def test_large_sqlite_index_still_ranks_the_rare_match_first(tmp_path: Any) -> None:
    store = SQLiteMemoryStore(tmp_path / "big.db")
    store.add_many([f"The user noted item {i}" for i in range(2_500)], user_id="u1")
    store.add("The user plays the theremin", user_id="u1")
    store.add("The user owns a theremin too", user_id="other")
    retriever = MemoryRetriever(store=store, k=3)
    # "user" is in every memory, so BM25 gives it almost no weight: the rare word decides.
    assert (
        texts(retriever.invoke("does the user play a theremin", user_id="u1"))[0]
        == "The user plays the theremin"
    )
    assert len(retriever.invoke("user", user_id="u1")) == 3
    store.close()


def test_a_store_used_for_recall_can_be_freed(tmp_path: Any) -> None:
    import gc
    import weakref

    store = SQLiteMemoryStore(tmp_path / "a.db")
    store.add("Sarah prefers email", user_id="u1")
    MemoryRetriever(store=store, k=1).invoke("email", user_id="u1")
    ref = weakref.ref(store)
    store.close()
    del store
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("k", [0, -1, 1001, "3", 2.5, True])
def test_a_bad_k_is_refused_by_name(k: object) -> None:
    with SQLiteMemoryStore(":memory:") as store:
        store.add("Sarah prefers email", user_id="u1")
        retriever = MemoryRetriever(store=store)
        with pytest.raises(InvalidMemoryError, match=rf"^k must be .*got {re.escape(repr(k))}$"):
            retriever.rank("email", user_id="u1", k=k)  # type: ignore[arg-type]
        with pytest.raises(InvalidMemoryError, match=r"^k must be"):
            retriever.invoke("email", user_id="u1", k=k)
        # At the bounds, k is taken as given.
        assert len(retriever.rank("email", user_id="u1", k=1000)) == 1


@pytest.mark.parametrize("limit", [0, -1, "3", 2.5, True])
def test_a_bad_block_limit_is_refused_by_name(limit: object) -> None:
    with SQLiteMemoryStore(":memory:") as store:
        retriever = MemoryRetriever(store=store)
        with pytest.raises(InvalidMemoryError, match=rf"^limit must be .*got {re.escape(repr(limit))}$"):
            retriever.rank_for_block("email", limit=limit, user_id="u1")  # type: ignore[arg-type]


async def test_a_bad_k_is_refused_by_the_async_twins_too() -> None:
    with SQLiteMemoryStore(":memory:") as store:
        retriever = MemoryRetriever(store=store)
        with pytest.raises(InvalidMemoryError, match=r"^k must be .*got 0$"):
            await retriever.arank("email", user_id="u1", k=0)
        with pytest.raises(InvalidMemoryError, match=r"^limit must be .*got -3$"):
            await retriever.arank_for_block("email", limit=-3, user_id="u1")
