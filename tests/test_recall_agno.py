"""Recall over memories that Agno 3.1 itself wrote: indexed, embedded lazily, and still readable by Agno."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agno.db.mongo import MongoDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb
from pymongo import MongoClient

from langmem_agno import MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.recall import MemoryRetriever
from recall_helpers import ConceptEmbeddings


def agno_memory(memory_id: str, text: str) -> AgnoUserMemory:
    return AgnoUserMemory(
        memory_id=memory_id, memory=text, topics=["misc"], user_id="u1", updated_at=1_700_000_000
    )


def test_sqlite_memories_written_by_agno_are_found_and_agno_still_reads(tmp_path: Path) -> None:
    db_file = tmp_path / "agno.db"
    ours = SQLiteMemoryStore(db_file)
    lexical = MemoryRetriever(store=ours, k=1)
    lexical.invoke("anything", user_id="u1")  # companion index and triggers exist before Agno writes
    agno = SqliteDb(db_file=str(db_file), memory_table="agno_memories")
    agno.upsert_user_memory(agno_memory("a1", "Sarah keeps bees in her garden"))
    agno.upsert_user_memory(agno_memory("a2", "Sarah speaks Portuguese"))
    assert [d.id for d in lexical.invoke("beekeeping bees", user_id="u1")] == ["a1"]
    agno.upsert_user_memory(agno_memory("a1", "Sarah keeps chickens in her garden"))  # Agno's update
    assert lexical.invoke("bees", user_id="u1") == []
    embeddings = ConceptEmbeddings()
    dense = MemoryRetriever(store=ours, k=2, embeddings=embeddings)
    assert len(dense.invoke("which language", user_id="u1")) == 2
    assert sorted(embeddings.documents_embedded) == [
        "Sarah keeps chickens in her garden",
        "Sarah speaks Portuguese",
    ]
    assert sorted(m.memory_id for m in agno.get_user_memories(user_id="u1")) == ["a1", "a2"]
    agno.delete_user_memory("a2")
    assert [d.id for d in lexical.invoke("Portuguese chickens", user_id="u1")] == ["a1"]
    ours.close()


def test_mongo_memories_written_by_agno_are_embedded_and_agno_still_reads(
    mongo_uri: str, mongo_db_name: str
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    agno = MongoDb(db_client=client, db_name=mongo_db_name, memory_collection="agno_memories")
    agno.upsert_user_memory(agno_memory("a1", "Sarah has a labrador"))
    agno.upsert_user_memory(agno_memory("a2", "Sarah plays jazz guitar"))
    store = MongoMemoryStore(client=client, database=mongo_db_name)
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, k=1, embeddings=embeddings)
    assert [d.id for d in retriever.invoke("does she own any pet animal", user_id="u1")] == ["a1"]
    assert [d.id for d in retriever.invoke("labrador", user_id="u1")] == ["a1"]
    assert len(embeddings.documents_embedded) == 2
    assert sorted(m.memory_id for m in agno.get_user_memories(user_id="u1")) == ["a1", "a2"]
    client.close()
