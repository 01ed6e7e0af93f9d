"""The per-scope view (memories, lexicon, vector matrix): built once, rebuilt when the scope changes.

Changes by Agno's own ``SqliteDb`` on the same file count: SQLite's triggers keep a
per-user change counter that the view's stamp reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb

from langmem_agno import MemoryRetriever, SQLiteMemoryStore, UserMemory
from langmem_agno.recall.registry import recall_index
from recall_helpers import ConceptEmbeddings

HOBBY = "Which instrument is her hobby?"


def agno_memory(memory_id: str, text: str) -> AgnoUserMemory:
    return AgnoUserMemory(memory_id=memory_id, memory=text, user_id="u1", created_at=1_700_000_000)


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
def test_the_dense_cache_sees_what_agno_adds_and_changes(tmp_path: Path, ranking: str) -> None:
    path = tmp_path / "agno.db"
    store = SQLiteMemoryStore(path)
    store.add("Sarah prefers email over phone calls", user_id="u1")
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, k=1, embeddings=embeddings, ranking=ranking)
    assert [d.page_content for d in retriever.invoke(HOBBY, user_id="u1")] != ["Sarah plays jazz guitar"]
    embedded = len(embeddings.documents_embedded)
    retriever.invoke(HOBBY, user_id="u1")
    assert len(embeddings.documents_embedded) == embedded  # served from the cache

    agno = SqliteDb(db_file=str(path), memory_table="agno_memories")
    agno.upsert_user_memory(agno_memory("agno-1", "Sarah plays jazz guitar"))
    assert [d.page_content for d in retriever.invoke(HOBBY, user_id="u1")] == ["Sarah plays jazz guitar"]
    assert embeddings.documents_embedded[-1] == "Sarah plays jazz guitar"

    agno.upsert_user_memory(agno_memory("agno-1", "Sarah has a labrador called Max"))
    docs = retriever.invoke("Does she have a pet?", user_id="u1")
    assert [d.page_content for d in docs] == ["Sarah has a labrador called Max"]
    assert retriever.invoke(HOBBY, user_id="u1")[0].page_content != "Sarah plays jazz guitar"

    agno.delete_user_memory("agno-1", user_id="u1")
    assert "Sarah has a labrador called Max" not in [
        d.page_content
        for d in MemoryRetriever(store=store, k=5, embeddings=embeddings).invoke("pet", user_id="u1")
    ]
    store.close()


async def test_the_cache_follows_our_own_writes_async(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "a.db")
    retriever = MemoryRetriever(store=store, k=1, embeddings=ConceptEmbeddings())
    assert await retriever.ainvoke(HOBBY, user_id="u1") == []
    added = await store.aadd("Sarah plays jazz guitar", user_id="u1")
    assert [d.page_content for d in await retriever.ainvoke(HOBBY, user_id="u1")] == [
        "Sarah plays jazz guitar"
    ]
    await store.aupdate(added.memory_id, user_id="u1", memory="Sarah is allergic to peanuts")
    docs = await retriever.ainvoke("Any medical issues to know about?", user_id="u1")
    assert [d.page_content for d in docs] == ["Sarah is allergic to peanuts"]
    await store.adelete(added.memory_id, user_id="u1")
    assert await retriever.ainvoke("Any medical issues to know about?", user_id="u1") == []
    store.close()


def test_a_query_reads_no_memory_row_when_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteMemoryStore(tmp_path / "a.db")
    store.add_many([f"Sarah note {i}" for i in range(50)], user_id="u1")
    retriever = MemoryRetriever(store=store, k=3, embeddings=ConceptEmbeddings())
    retriever.invoke("guitar", user_id="u1")
    decoded: list[Any] = []
    original = UserMemory.from_row

    def counting(row: Any) -> UserMemory:
        decoded.append(row)
        return original(row)

    monkeypatch.setattr(UserMemory, "from_row", staticmethod(counting))
    for _ in range(5):
        retriever.invoke("guitar", user_id="u1")
    assert decoded == []
    store.add("Sarah plays jazz guitar", user_id="u1")
    decoded.clear()
    assert retriever.invoke("guitar", user_id="u1")[0].page_content == "Sarah plays jazz guitar"
    assert len(decoded) == 51  # one reload after the change
    store.close()


@pytest.mark.slow
def test_a_dense_query_at_10000_memories_loads_no_vector_and_embeds_only_the_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How fast this is, is measured by benchmarks/bench_recall.py --dense-only, not here.
    store = SQLiteMemoryStore(tmp_path / "big.db")
    store.add_many(
        [UserMemory(memory=f"Sarah noted item {i} about work") for i in range(10_000)], user_id="u1"
    )
    store.add("Sarah plays jazz guitar", user_id="u1")
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, k=5, embeddings=embeddings, ranking="hybrid")
    retriever.invoke("warm up", user_id="u1")
    index = recall_index(store)
    loads: list[Any] = []
    original = index.load_vectors
    monkeypatch.setattr(index, "load_vectors", lambda *a: loads.append(a) or original(*a))
    embedded = len(embeddings.documents_embedded)
    for _ in range(15):
        hits = retriever.rank(HOBBY, user_id="u1")
        assert hits[0].memory.memory == "Sarah plays jazz guitar"
    assert loads == []
    assert len(embeddings.documents_embedded) == embedded
    assert embeddings.queries_embedded[-15:] == [HOBBY] * 15
    store.close()
