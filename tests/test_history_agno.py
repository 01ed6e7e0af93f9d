"""Agno's own readers (``SqliteDb``, ``MongoDb``) on a store keeping history and times to live beside them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from agno.db.mongo import MongoDb
from agno.db.sqlite import SqliteDb
from pymongo import MongoClient

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.record import MEMORY_FIELDS


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
