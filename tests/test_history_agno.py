"""Agno's own readers (``SqliteDb``, ``MongoDb``) on a store keeping history and times to live beside them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from agno.db.mongo import MongoDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb
from pymongo import MongoClient

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.record import MEMORY_FIELDS, now_epoch_s


def write_lifecycle_rows(store: MemoryStore) -> dict[str, str]:
    """A memory changed twice, one with a time to live, one deleted: history and expiry rows exist."""
    kept = store.add("Sarah prefers email", user_id="u1", topics=["contact"])
    store.update(kept.memory_id, user_id="u1", memory="Sarah prefers phone")
    short = store.add("Is in Paris this week", user_id="u1", ttl=3_600)
    gone = store.add("Old fact", user_id="u1")
    store.delete(gone.memory_id, user_id="u1")
    assert len(store.history(kept.memory_id, user_id="u1")) == 2
    return {kept.memory_id: "Sarah prefers phone", short.memory_id: "Is in Paris this week"}


def test_agnos_sqlite_reader_sees_only_its_ten_fields(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    expected = write_lifecycle_rows(store)
    store.close()

    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = [r[1] for r in conn.execute("PRAGMA table_info(agno_memories)")]
        history_rows = conn.execute("SELECT COUNT(*) FROM agno_memories_history").fetchone()[0]
        expiry_rows = conn.execute("SELECT COUNT(*) FROM agno_memories_expiry").fetchone()[0]
    assert {"agno_memories_history", "agno_memories_expiry"} <= tables
    assert sorted(columns) == sorted(MEMORY_FIELDS)
    assert (history_rows, expiry_rows) == (5, 1)

    agno = SqliteDb(db_file=str(db), memory_table="agno_memories")
    got = agno.get_user_memories(user_id="u1")
    assert {m.memory_id: m.memory for m in got} == expected
    for m in got:
        assert set(vars(m)) >= set(MEMORY_FIELDS)
    stats, total = agno.get_user_memory_stats()
    assert total == 1 and stats[0]["total_memories"] == 2


def test_agnos_mongo_reader_sees_only_its_ten_fields(mongo_uri: str, mongo_db_name: str) -> None:
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    expected = write_lifecycle_rows(store)
    store.close()

    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        db = client[mongo_db_name]
        docs = list(db["agno_memories"].find({}, {"_id": 0}))
        assert all(set(d) == set(MEMORY_FIELDS) for d in docs)
        assert db["agno_memories_history"].count_documents({}) == 5
        assert db["agno_memories_expiry"].count_documents({}) == 1
        ttl = {i["name"]: i for i in db["agno_memories_expiry"].list_indexes()}["lma_purge_ttl"]
        assert ttl["expireAfterSeconds"] == 0
        expiry = db["agno_memories_expiry"].find_one({})
        assert (
            expiry is not None
            and expiry["purge_at"].replace(tzinfo=dt.UTC).timestamp() > expiry["expires_at"]
        )

        agno = MongoDb(db_client=client, db_name=mongo_db_name, memory_collection="agno_memories")
        got = agno.get_user_memories(user_id="u1")
        assert {m.memory_id: m.memory for m in got} == expected
        stats, total = agno.get_user_memory_stats()
        assert total == 1 and stats[0]["total_memories"] == 2
    finally:
        client.close()


def agno_memory(memory_id: str, text: str, days_ago: int) -> AgnoUserMemory:
    at = now_epoch_s() - days_ago * 86_400
    return AgnoUserMemory(memory_id=memory_id, memory=text, user_id="u1", created_at=at, updated_at=at)


def check_agno_written_memories_take_part(store: MemoryStore, agno: Any) -> None:
    old, new = (
        agno_memory("agno-old", "Sarah lived in Rome", 200),
        agno_memory("agno-new", "Sarah prefers email", 1),
    )
    agno.upsert_memories([old, new], preserve_updated_at=True)
    # Agno's own write is not recorded; our change of its memory is, with the text Agno wrote as "before".
    assert store.history("agno-new", user_id="u1") == []
    store.update("agno-new", user_id="u1", memory="Sarah prefers phone")
    assert [(e.event, e.old_memory, e.new_memory) for e in store.history("agno-new", user_id="u1")] == [
        ("update", "Sarah prefers email", "Sarah prefers phone")
    ]
    assert store.prune(user_id="u1", older_than=90 * 86_400) == 1
    assert [(e.event, e.path, e.old_memory) for e in store.history("agno-old", user_id="u1")] == [
        ("delete", "prune", "Sarah lived in Rome")
    ]
    assert [m.memory_id for m in agno.get_user_memories(user_id="u1")] == ["agno-new"]


def test_agno_written_memories_take_part_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    try:
        check_agno_written_memories_take_part(store, SqliteDb(db_file=str(db), memory_table="agno_memories"))
    finally:
        store.close()


def test_agno_written_memories_take_part_on_mongo(mongo_uri: str, mongo_db_name: str) -> None:
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        agno = MongoDb(db_client=client, db_name=mongo_db_name, memory_collection="agno_memories")
        check_agno_written_memories_take_part(store, agno)
    finally:
        store.close()
        client.close()
