"""Interoperability with Agno 3.1 itself: Agno's ``MongoDb``/``SqliteDb`` and our stores share one collection.

Memories written by Agno are read back by our stores field for field, ours are read
by Agno's readers field for field, and neither side's schema set-up disturbs the other's.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agno.db.mongo import MongoDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb
from pymongo import MongoClient

from langmem_agno import MemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.record import MEMORY_FIELDS

COLLECTION = "agno_memories"
T_CREATED, T_UPDATED = 1_700_000_000, 1_700_000_500


def agno_fields(m: AgnoUserMemory) -> dict[str, Any]:
    return {name: getattr(m, name) for name in MEMORY_FIELDS}


def our_fields(m: UserMemory) -> dict[str, Any]:
    return {name: getattr(m, name) for name in MEMORY_FIELDS}


def full_agno_memory(memory_id: str, user_id: str = "u1") -> AgnoUserMemory:
    return AgnoUserMemory(
        memory_id=memory_id,
        memory="Sarah prefers email, café at 9",
        topics=["contact", "été"],
        user_id=user_id,
        input="Email me, not phone",
        agent_id="agent-1",
        team_id="team-1",
        feedback="accurate",
        created_at=T_CREATED,
        updated_at=T_UPDATED,
    )


@pytest.fixture
def agno_warnings(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Any:
    """Warnings Agno logs (its logger does not propagate, so let it for this test)."""
    monkeypatch.setattr(logging.getLogger("agno"), "propagate", True)
    caplog.set_level(logging.WARNING)

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]

    return warnings


# ====================================================================== MongoDB
@pytest.fixture
def agno_mongo(mongo_uri: str, mongo_db_name: str) -> Iterator[MongoDb]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    yield MongoDb(db_client=client, db_name=mongo_db_name, memory_collection=COLLECTION)
    client.close()


@pytest.fixture(params=["sync", "async", "motor"])
def mongo_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _call(store: MemoryStore, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        return getattr(store, name)(*args, **kwargs)
    return await getattr(store, "a" + name)(*args, **kwargs)


async def test_mongo_agno_single_upsert_is_read_by_us(
    agno_mongo: MongoDb, store_factory: Any, mongo_mode: str
) -> None:
    agno_mongo.upsert_user_memory(full_agno_memory("m1"))
    raw = agno_mongo.get_user_memory("m1", deserialize=False)
    assert "created_at" not in raw and "input" not in raw and "feedback" not in raw  # what Agno writes

    store = store_factory("mongo", mongo_mode)
    ours = await _call(store, mongo_mode, "get", "m1", user_id="u1")
    assert our_fields(ours) == {
        "memory_id": "m1",
        "memory": "Sarah prefers email, café at 9",
        "input": None,
        "agent_id": "agent-1",
        "team_id": "team-1",
        "user_id": "u1",
        "topics": ["contact", "été"],
        "feedback": None,
        "created_at": raw["updated_at"],  # the fall-back when Agno wrote no created_at
        "updated_at": raw["updated_at"],
    }
    [hit] = await _call(store, mongo_mode, "search", "ÉTÉ", user_id="u1")
    assert hit.memory == ours


async def test_mongo_agno_bulk_upsert_is_read_by_us(
    agno_mongo: MongoDb, store_factory: Any, mongo_mode: str
) -> None:
    written = [full_agno_memory("m1"), full_agno_memory("m2"), full_agno_memory("other", user_id="u2")]
    agno_mongo.upsert_memories(written, preserve_updated_at=True)
    store = store_factory("mongo", mongo_mode)
    page = await _call(store, mongo_mode, "list_memories", user_id="u1", sort="asc")
    assert page.total == 2
    assert sorted((our_fields(m) for m in page), key=lambda f: f["memory_id"]) == [
        agno_fields(written[0]),
        agno_fields(written[1]),
    ]
    assert await _call(store, mongo_mode, "list_topics", user_id="u1") == ["contact", "été"]


async def test_mongo_ours_are_read_by_agno(agno_mongo: MongoDb, store_factory: Any, mongo_mode: str) -> None:
    store = store_factory("mongo", mongo_mode)
    a = await _call(
        store,
        mongo_mode,
        "add",
        "Sarah prefers email",
        user_id="u1",
        agent_id="agent-1",
        topics=["contact"],
        input="email me",
    )
    b = await _call(
        store,
        mongo_mode,
        "add",
        UserMemory(
            memory_id="fixed",
            memory="Has a dog",
            topics=["pets"],
            feedback="ok",
            team_id="team-1",
            created_at=T_CREATED,
            updated_at=T_UPDATED,
        ),
        user_id="u1",
    )
    await _call(store, mongo_mode, "add", "Bob's fact", user_id="u2", topics=["bob"])

    got = agno_mongo.get_user_memories(user_id="u1")
    assert sorted((agno_fields(m) for m in got), key=lambda f: f["memory_id"]) == sorted(
        [our_fields(a), our_fields(b)], key=lambda f: f["memory_id"]
    )
    assert agno_fields(agno_mongo.get_user_memory("fixed", user_id="u1")) == our_fields(b)
    assert agno_mongo.get_user_memory("fixed", user_id="u2") is None
    assert sorted(agno_mongo.get_all_memory_topics(user_id="u1")) == ["contact", "pets"]
    stats, total = agno_mongo.get_user_memory_stats()
    assert total == 2
    u1 = next(s for s in stats if s["user_id"] == "u1")
    assert u1 == {"user_id": "u1", "total_memories": 2, "last_memory_updated_at": a.updated_at}


async def test_mongo_our_update_keeps_fields_and_agno_reads_it(
    agno_mongo: MongoDb, store_factory: Any, mongo_mode: str, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    agno_mongo.upsert_memories([full_agno_memory("m1")], preserve_updated_at=True)
    store = store_factory("mongo", mongo_mode)
    after = await _call(store, mongo_mode, "update", "m1", user_id="u1", memory="Sarah prefers Signal")
    assert (after.created_at, after.input, after.feedback, after.agent_id, after.team_id) == (
        T_CREATED,
        "Email me, not phone",
        "accurate",
        "agent-1",
        "team-1",
    )
    assert after.updated_at > T_UPDATED
    seen = agno_mongo.get_user_memory("m1", user_id="u1")
    assert agno_fields(seen) == our_fields(after)
    doc = mongo_client[store.database][COLLECTION].find_one({"memory_id": "m1"})
    assert set(doc) == {"_id", *MEMORY_FIELDS}


async def test_mongo_our_update_of_an_agno_single_upsert_pins_created_at(
    agno_mongo: MongoDb, store_factory: Any, mongo_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    agno_mongo.upsert_user_memory(full_agno_memory("m1"))
    store = store_factory("mongo", mongo_mode)
    before = await _call(store, mongo_mode, "get", "m1", user_id="u1")
    monkeypatch.setattr("langmem_agno.stores.validation.now_epoch_s", lambda: before.updated_at + 3600)
    after = await _call(store, mongo_mode, "update", "m1", user_id="u1", topics=["contact"])
    assert after.created_at == before.created_at
    assert after.updated_at == before.updated_at + 3600
    assert await _call(store, mongo_mode, "get", "m1", user_id="u1") == after
    assert agno_fields(agno_mongo.get_user_memory("m1", user_id="u1")) == our_fields(after)


def test_mongo_no_extra_fields_in_our_documents(
    store_factory: Any, agno_mongo: MongoDb, mongo_client: MongoClient[dict[str, Any]]
) -> None:
    store = store_factory("mongo", "sync")
    m = store.add("x", user_id="u1")
    store.add_many(["y", UserMemory(memory="z", feedback="f")], user_id="u1")
    store.update(m.memory_id, user_id="u1", feedback="good", input="i")
    for doc in mongo_client[store.database][COLLECTION].find():
        assert set(doc) == {"_id", *MEMORY_FIELDS}
    # Agno builds its UserMemory(**doc): one unknown key would make this raise.
    assert len(agno_mongo.get_user_memories(user_id="u1")) == 3


AGNO_MONGO_INDEXES = {
    "memory_id_1": ([("memory_id", 1)], True),
    **{
        f"{f}_1": ([(f, 1)], False)
        for f in ("user_id", "agent_id", "team_id", "topics", "input", "feedback", "created_at", "updated_at")
    },
}


def _index_specs(
    client: MongoClient[dict[str, Any]], db: str
) -> dict[str, tuple[list[tuple[str, int]], bool]]:
    info = client[db][COLLECTION].index_information()
    return {
        name: ([(k, int(d)) for k, d in spec["key"]], bool(spec.get("unique", False)))
        for name, spec in info.items()
        if name != "_id_"
    }


@pytest.mark.parametrize("first", ["agno", "ours"])
def test_mongo_indexes_coexist_in_either_order(
    first: str,
    agno_mongo: MongoDb,
    store_factory: Any,
    mongo_client: MongoClient[dict[str, Any]],
    mongo_db_name: str,
    agno_warnings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = store_factory("mongo", "sync")
    if first == "agno":
        agno_mongo.upsert_user_memory(full_agno_memory("m1"))
        store.add("ours", user_id="u1")
    else:
        store.add("ours", user_id="u1")
        agno_mongo.upsert_user_memory(full_agno_memory("m1"))
    assert agno_warnings() == []
    specs = _index_specs(mongo_client, mongo_db_name)
    for name, spec in AGNO_MONGO_INDEXES.items():
        assert specs[name] == spec, name
    assert specs["user_id_1_updated_at_-1__id_-1"] == (
        [("user_id", 1), ("updated_at", -1), ("_id", -1)],
        False,
    )
    assert store.list_memories(user_id="u1").total == 2
    assert len(agno_mongo.get_user_memories(user_id="u1")) == 2


async def test_mongo_async_index_creation_next_to_agno(
    agno_mongo: MongoDb, store_factory: Any, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    agno_mongo.upsert_user_memory(full_agno_memory("m1"))
    for mode in ("async", "motor"):
        store = store_factory("mongo", mode)
        assert (await store.alist_memories(user_id="u1")).total == 1
        await store.aclose()
    assert _index_specs(mongo_client, mongo_db_name)["memory_id_1"] == ([("memory_id", 1)], True)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_mongo_conflicting_index_is_left_alone_with_a_warning(
    mode: str,
    store_factory: Any,
    mongo_client: MongoClient[dict[str, Any]],
    mongo_db_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coll = mongo_client[mongo_db_name][COLLECTION]
    coll.create_index([("user_id", 1)], name="user_id_1_updated_at_-1__id_-1")  # someone's index, our name
    caplog.set_level(logging.WARNING, logger="langmem_agno")
    store = store_factory("mongo", mode)
    m = await _call(store, mode, "add", "still works", user_id="u1")
    assert await _call(store, mode, "get", m.memory_id, user_id="u1") == m
    assert _index_specs(mongo_client, mongo_db_name)["user_id_1_updated_at_-1__id_-1"] == (
        [("user_id", 1)],
        False,
    )
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "index user_id_1_updated_at_-1__id_-1 exists with another definition" in warning
    caplog.clear()
    again = store_factory("mongo", mode)
    await _call(again, mode, "list_memories", user_id="u1")
    assert [r for r in caplog.records if "memory_id_1" in r.getMessage()] == []


def test_mongo_clear_leaves_agno_written_memories_of_other_users(
    agno_mongo: MongoDb, store_factory: Any
) -> None:
    agno_mongo.upsert_memories([full_agno_memory("m1"), full_agno_memory("m2", user_id="u2")])
    store = store_factory("mongo", "sync")
    assert store.clear(user_id="u1") == 1
    assert [m.memory_id for m in agno_mongo.get_user_memories(user_id="u2")] == ["m2"]


# ====================================================================== SQLite
@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "agno.db"


def agno_sqlite(db_file: Path, table: str = COLLECTION) -> SqliteDb:
    return SqliteDb(db_file=str(db_file), memory_table=table)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_sqlite_agno_writes_are_read_by_us(db_file: Path, mode: str) -> None:
    agno = agno_sqlite(db_file)
    agno.upsert_user_memory(full_agno_memory("single"))
    agno.upsert_memories(
        [full_agno_memory("bulk"), full_agno_memory("other", user_id="u2")], preserve_updated_at=True
    )
    # Agno's JSON columns hold a quoted, ASCII-escaped string and a JSON array.
    raw = (
        sqlite3.connect(db_file)
        .execute(f"SELECT memory, topics FROM {COLLECTION} WHERE memory_id = 'bulk'")
        .fetchone()
    )
    assert raw == ('"Sarah prefers email, caf\\u00e9 at 9"', '["contact", "\\u00e9t\\u00e9"]')

    store = SQLiteMemoryStore(db_file)
    try:
        single = await _call(store, mode, "get", "single", user_id="u1")
        assert our_fields(single) == agno_fields(agno.get_user_memory("single"))
        assert (single.created_at, single.input, single.feedback) == (
            T_CREATED,
            "Email me, not phone",
            "accurate",
        )
        bulk = await _call(store, mode, "get", "bulk", user_id="u1")
        assert our_fields(bulk) == agno_fields(full_agno_memory("bulk"))
        page = await _call(store, mode, "list_memories", user_id="u1", topics=["été"])
        assert page.total == 2
        assert await _call(store, mode, "list_topics", user_id="u1") == ["contact", "été"]
        hits = await _call(store, mode, "search", "CAFÉ", user_id="u1")
        assert {h.memory.memory_id for h in hits} == {"single", "bulk"}
        stats, total = await _call(store, mode, "user_stats")
        assert total == 2
        assert {(s.user_id, s.total_memories) for s in stats} == {("u1", 2), ("u2", 1)}
    finally:
        store.close()


def add_ours(store: MemoryStore) -> tuple[UserMemory, UserMemory]:
    """Two memories of u1 written by us (one with every optional field), and one of u2."""
    a = store.add(
        "Sarah prefers email, café at 9",
        user_id="u1",
        agent_id="agent-1",
        topics=["contact", "été"],
        input="email me",
    )
    b = store.add(
        UserMemory(
            memory_id="fixed",
            memory='Says "hi" \\ often',
            topics=["pets"],
            feedback="ok",
            team_id="team-1",
            created_at=T_CREATED,
            updated_at=T_UPDATED,
        ),
        user_id="u1",
    )
    store.add("Bob's fact", user_id="u2")
    return a, b


def assert_agno_reads_ours(agno: Any, a: UserMemory, b: UserMemory) -> None:
    """Agno's own reader (``SqliteDb`` or ``PostgresDb``) sees exactly what :func:`add_ours` stored."""
    got = agno.get_user_memories(user_id="u1")
    assert sorted((agno_fields(m) for m in got), key=lambda f: f["memory_id"]) == sorted(
        [our_fields(a), our_fields(b)], key=lambda f: f["memory_id"]
    )
    assert agno_fields(agno.get_user_memory("fixed", user_id="u1")) == our_fields(b)
    assert agno.get_user_memory("fixed", user_id="u2") is None
    assert sorted(agno.get_all_memory_topics(user_id="u1")) == ["contact", "pets", "été"]
    stats, total = agno.get_user_memory_stats()
    assert total == 2
    u1 = next(s for s in stats if s["user_id"] == "u1")
    assert u1 == {"user_id": "u1", "total_memories": 2, "last_memory_updated_at": a.updated_at}
    assert [m.memory_id for m in agno.get_user_memories(user_id="u1", topics=["pets"])] == ["fixed"]


def assert_update_kept_agnos_fields(agno: Any, after: UserMemory) -> None:
    """Our update of :func:`full_agno_memory` ``m1`` kept the fields Agno wrote, and Agno reads the result."""
    assert (after.created_at, after.input, after.feedback, after.agent_id, after.team_id, after.topics) == (
        T_CREATED,
        "Email me, not phone",
        "accurate",
        "agent-1",
        "team-1",
        ["chat"],
    )
    assert agno_fields(agno.get_user_memory("m1", user_id="u1")) == our_fields(after)


def test_sqlite_ours_are_read_by_agno(db_file: Path) -> None:
    store = SQLiteMemoryStore(db_file)
    a, b = add_ours(store)
    store.close()

    agno = agno_sqlite(db_file)
    assert_agno_reads_ours(agno, a, b)


def test_sqlite_our_update_keeps_fields_and_agno_reads_it(db_file: Path) -> None:
    agno = agno_sqlite(db_file)
    agno.upsert_memories([full_agno_memory("m1")], preserve_updated_at=True)
    with SQLiteMemoryStore(db_file) as store:
        after = store.update("m1", user_id="u1", memory="Sarah prefers Signal", topics=["Chat"])
    assert_update_kept_agnos_fields(agno, after)


def _schema(db_file: Path, table: str) -> tuple[list[tuple[Any, ...]], dict[str, list[str]]]:
    con = sqlite3.connect(db_file)
    try:
        columns = [tuple(r[1:]) for r in con.execute(f"PRAGMA table_info({table})")]
        indexes = {
            r[1]: [c[2] for c in con.execute(f"PRAGMA index_info('{r[1]}')")]
            for r in con.execute(f"PRAGMA index_list({table})")
        }
    finally:
        con.close()
    return columns, indexes


@pytest.mark.parametrize("table", [COLLECTION, "team_memories"])
def test_sqlite_our_table_is_agnos_table(tmp_path: Path, table: str) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    SQLiteMemoryStore(ours, table=table).close()
    agno_sqlite(theirs, table).upsert_user_memory(full_agno_memory("m1"))
    our_cols, our_idx = _schema(ours, table)
    agno_cols, agno_idx = _schema(theirs, table)
    assert our_cols == agno_cols
    assert {n: c for n, c in our_idx.items() if not n.startswith("lma_")} == agno_idx
    assert [c[0] for c in our_cols] == list(MEMORY_FIELDS)


@pytest.mark.parametrize("first", ["agno", "ours"])
def test_sqlite_table_creation_in_either_order(db_file: Path, first: str, agno_warnings: Any) -> None:
    if first == "agno":
        agno_sqlite(db_file).upsert_user_memory(full_agno_memory("m1"))
        store = SQLiteMemoryStore(db_file)
    else:
        store = SQLiteMemoryStore(db_file)
        agno_sqlite(db_file).upsert_user_memory(full_agno_memory("m1"))
    try:
        store.add("ours", user_id="u1")
        assert store.list_memories(user_id="u1").total == 2
        assert len(agno_sqlite(db_file).get_user_memories(user_id="u1")) == 2
    finally:
        store.close()
    assert agno_warnings() == []


def test_sqlite_no_extra_columns_or_values(db_file: Path) -> None:
    with SQLiteMemoryStore(db_file) as store:
        m = store.add("x", user_id="u1", topics=["t"])
        store.update(m.memory_id, user_id="u1", feedback="f")
    con = sqlite3.connect(db_file)
    con.row_factory = sqlite3.Row
    [row] = con.execute(f"SELECT * FROM {COLLECTION}").fetchall()
    assert list(row.keys()) == list(MEMORY_FIELDS)
    assert (row["memory"], row["topics"], row["feedback"]) == ('"x"', '["t"]', "f")
    con.close()
