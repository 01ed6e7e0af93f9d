"""Optimisation over memories Agno wrote, read back by Agno's ``SqliteDb`` / ``MongoDb``; one atomic write."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from agno.db.mongo import MongoDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from langchain_core.messages import AIMessage, BaseMessage
from pymongo import MongoClient

from langmem_agno import (
    ExtractionError,
    LangmemAgnoError,
    MemoryManager,
    MongoMemoryStore,
    ScriptedChatModel,
    SQLiteMemoryStore,
    UserMemory,
)
from langmem_agno.record import MEMORY_FIELDS
from postgres_toggle import POSTGRES
from test_agno_interop import COLLECTION, agno_sqlite
from test_optimize import call, merging_brain, shown

TEA_1 = AgnoUserMemory(
    memory_id="agno-tea",
    memory="User likes green tea",
    topics=["food"],
    user_id="u1",
    agent_id="helper",
    input="I like green tea",
    feedback="ok",
    created_at=1_000,
    updated_at=1_000,
)
TEA_2 = AgnoUserMemory(
    memory_id="agno-tea-2",
    memory="User enjoys drinking green tea",
    topics=["drinks"],
    user_id="u1",
    agent_id="helper",
    created_at=2_000,
    updated_at=2_000,
)
DOG = AgnoUserMemory(
    memory_id="agno-dog", memory="User has a dog", user_id="u1", agent_id="helper", updated_at=3_000
)


def fields(m: Any) -> dict[str, Any]:
    return {name: getattr(m, name) for name in MEMORY_FIELDS}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_sqlite_agnos_memories_are_merged_and_agno_reads_the_result(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "agno.db"
    agno = agno_sqlite(db)
    agno.upsert_memories([TEA_1, TEA_2, DOG], preserve_updated_at=True)
    store = SQLiteMemoryStore(db)
    manager = MemoryManager(ScriptedChatModel(responder=merging_brain), store)
    result = manager.optimize(user_id="u1") if mode == "sync" else await manager.aoptimize(user_id="u1")
    store.close()
    assert result.applied and (result.memories_before, result.memories_after) == (3, 2)
    got = {m.memory_id: m for m in agno.get_user_memories(user_id="u1")}
    assert set(got) == {"agno-tea", "agno-dog"}
    merged = fields(got["agno-tea"])
    # Agno's reader sees its ten fields: the earliest memory's id, agent, input, feedback and
    # created_at, the merged text, the topics of both.
    assert merged == {
        **fields(TEA_1),
        "memory": "User likes drinking green tea",
        "topics": ["food", "drinks"],
        "updated_at": merged["updated_at"],
    }
    assert merged["updated_at"] > TEA_1.updated_at
    assert fields(got["agno-dog"]) == fields(agno.get_user_memory("agno-dog", user_id="u1"))


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_mongo_agnos_memories_are_merged_and_agno_reads_the_result(
    mongo_uri: str, mongo_db_name: str, store_factory: Any, mode: str
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    agno = MongoDb(db_client=client, db_name=mongo_db_name, memory_collection=COLLECTION)
    agno.upsert_memories([TEA_1, DOG], preserve_updated_at=True)
    agno.upsert_user_memory(TEA_2)  # Agno's single upsert: no created_at stored
    store = store_factory("mongo", mode)
    assert isinstance(store, MongoMemoryStore)
    manager = MemoryManager(ScriptedChatModel(responder=merging_brain), store)
    result = manager.optimize(user_id="u1") if mode == "sync" else await manager.aoptimize(user_id="u1")
    assert result.applied
    got = {m.memory_id: m for m in agno.get_user_memories(user_id="u1")}
    assert set(got) == {"agno-tea", "agno-dog"}
    assert (got["agno-tea"].memory, got["agno-tea"].topics) == (
        "User likes drinking green tea",
        ["food", "drinks"],
    )
    assert (got["agno-tea"].created_at, got["agno-tea"].input, got["agno-tea"].feedback) == (
        1_000,
        "I like green tea",
        "ok",
    )
    client.close()


def test_sqlite_a_failing_write_leaves_every_memory_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    for text, t in (
        ("User likes green tea", 10),
        ("User enjoys drinking green tea", 20),
        ("User has a cat", 30),
    ):
        store.add(UserMemory(memory=text, created_at=t, updated_at=t), user_id="u1")
    before = store.list_memories(user_id="u1").items
    # The database refuses the deletes, after the update of the same change set has run.
    with sqlite3.connect(db) as conn:
        refuse = "SELECT RAISE(ABORT, 'deletes refused')"
        conn.execute(f"CREATE TRIGGER no_delete BEFORE DELETE ON {COLLECTION} BEGIN {refuse}; END")
    manager = MemoryManager(ScriptedChatModel(responder=merging_brain), store)
    with pytest.raises(ExtractionError, match="user 'u1' failed writing its changes: deletes refused"):
        manager.optimize(user_id="u1")
    assert store.list_memories(user_id="u1").items == before
    store.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_postgres_a_failing_write_leaves_every_memory_as_it_was(
    store_factory: Any, request: pytest.FixtureRequest, mode: str
) -> None:
    if "postgres" not in POSTGRES:
        pytest.skip("PostgreSQL is off (LANGMEM_AGNO_POSTGRES=0)")
    import psycopg
    from psycopg import sql

    store = store_factory("postgres", mode)
    for text, t in (
        ("User likes green tea", 10),
        ("User enjoys drinking green tea", 20),
        ("User has a cat", 30),
    ):
        store.add(UserMemory(memory=text, created_at=t, updated_at=t), user_id="u1")
    before = store.list_memories(user_id="u1").items
    schema = sql.Identifier(store.schema)
    # The database refuses the deletes, after the update of the same change set has run.
    with psycopg.connect(request.getfixturevalue("postgres_uri")) as conn:
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {}.refuse_delete() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'deletes refused'; END $$"
            ).format(schema)
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER no_delete BEFORE DELETE ON {}.{} FOR EACH ROW EXECUTE FUNCTION {}.{}()"
            ).format(schema, sql.Identifier(store.table), schema, sql.Identifier("refuse_delete"))
        )
    manager = MemoryManager(ScriptedChatModel(responder=merging_brain), store)
    with pytest.raises(LangmemAgnoError, match="deletes refused"):
        if mode == "sync":
            manager.optimize(user_id="u1")
        else:
            await manager.aoptimize(user_id="u1")
    assert store.list_memories(user_id="u1").items == before


def test_sqlite_an_id_of_another_user_changes_nothing_of_theirs(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    mine = store.add("User likes tea", user_id="u1")
    store.add("User likes coffee", user_id="u1")
    theirs = store.add("User likes tea", user_id="u2")

    def brain(messages: list[BaseMessage]) -> AIMessage:
        a = shown(messages)
        merge = call("merge_memories", 1, ids=[a["User likes tea"], theirs.memory_id], memory="Both")
        return AIMessage("", tool_calls=[merge, call("drop_memory", 2, id=theirs.memory_id)])

    result = MemoryManager(ScriptedChatModel(responder=brain), store).optimize(user_id="u1")
    assert len(result.rejected) == 2 and not result.changed
    assert store.get(theirs.memory_id, user_id="u2") == theirs
    assert store.get(mine.memory_id, user_id="u1") == mine
