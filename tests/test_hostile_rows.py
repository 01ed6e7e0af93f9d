"""Hostile and odd stored rows: no row another writer stored blocks a user, and each can be repaired.

Rows are written by Agno's own ``SqliteDb`` / ``MongoDb`` and by raw SQL / raw PyMongo: an empty
or blank text, a 250-character id, a null or over-long user, fields of the wrong type, MongoDB
operator objects. Reads skip each with one warning naming it, ``user_stats`` counts it, and it
can be shown, repaired and deleted by id, through the API and the command line.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agno.db.mongo import MongoDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb
from pymongo import MongoClient

from langmem_agno import InvalidMemoryError, MemoryStore, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import main
from langmem_agno.record import MEMORY_FIELDS

LONG_ID = "x" * 250
T0 = 1_700_000_000

RawWriter = Callable[[dict[str, Any]], None]


class Backend:
    """A store, how to write a raw row beside it, Agno's own class on the same data, and the CLI's --db."""

    def __init__(self, store: MemoryStore, write_raw: RawWriter, agno: Any, db_args: list[str]) -> None:
        self.store = store
        self.write_raw = write_raw
        self.agno = agno
        self.db_args = db_args


def _sqlite_row(doc: dict[str, Any]) -> dict[str, Any]:
    row = {name: doc.get(name) for name in MEMORY_FIELDS}
    for name in ("memory", "topics"):
        if row[name] is not None and not isinstance(row[name], (int, float)):
            row[name] = json.dumps(row[name])
    if row["created_at"] is None:
        row["created_at"] = T0
    return row


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "agno.db"
        store = SQLiteMemoryStore(path)

        def write_sqlite(doc: dict[str, Any]) -> None:
            row = _sqlite_row(doc)
            with sqlite3.connect(path) as conn:
                conn.execute(
                    f"INSERT INTO agno_memories ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )

        yield Backend(
            store,
            write_sqlite,
            SqliteDb(db_file=str(path), memory_table="agno_memories"),
            ["--db", str(path)],
        )
        store.close()
        return
    uri = request.getfixturevalue("mongo_uri")
    db = request.getfixturevalue("mongo_db_name")
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    store = MongoMemoryStore(uri, database=db)

    def write_mongo(doc: dict[str, Any]) -> None:
        client[db]["agno_memories"].insert_one(dict(doc))

    agno = MongoDb(db_client=client, db_name=db, memory_collection="agno_memories")
    yield Backend(store, write_mongo, agno, ["--db", uri, "--database", db])
    store.close()
    client.close()


def _doc(memory_id: str, memory: Any, user_id: Any = "u1", **extra: Any) -> dict[str, Any]:
    return {"memory_id": memory_id, "memory": memory, "user_id": user_id, "updated_at": T0, **extra}


HOSTILE_ROWS: dict[str, dict[str, Any]] = {
    "empty": _doc("empty", ""),
    "blank": _doc("blank", "   "),
    "long-id": _doc(LONG_ID, "User rides a long id"),
    "blank-id": _doc(" ", "User has a blank id"),
    "text-not-a-string": _doc("number", 42.5),
    "bad-timestamp": _doc("when", "User has a bad clock", updated_at="yesterday", created_at="soon"),
}


def test_agno_written_rows_do_not_block_the_user(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    store = backend.store
    good = store.add("User likes tea", user_id="u1", topics=["drink"])
    for memory_id, text in (("agno-empty", ""), ("agno-blank", "   "), (LONG_ID, "User wrote a long id")):
        backend.agno.upsert_user_memory(AgnoUserMemory(memory_id=memory_id, memory=text, user_id="u1"))
    caplog.set_level(logging.WARNING)
    page = store.list_memories(user_id="u1")
    assert [m.memory_id for m in page.items] == [good.memory_id]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings
    assert any("'agno-empty'" in w for w in warnings)
    assert [h.memory.memory_id for h in store.search("tea long", user_id="u1")] == [good.memory_id]
    (stats,), _ = store.user_stats(user_id="u1")
    assert (stats.total_memories, stats.unreadable_memories) == (4, 3)
    # The long id is shown, and deleted, by its id.
    assert [r.memory_id for r in store.unreadable_rows(user_id="u1", memory_ids=[LONG_ID])] == [LONG_ID]
    assert store.delete(LONG_ID, user_id="u1")
    assert not store.delete(LONG_ID, user_id="u1")


@pytest.mark.parametrize("kind", sorted(HOSTILE_ROWS))
def test_raw_rows_are_skipped_counted_and_repaired(backend: Backend, kind: str) -> None:
    store = backend.store
    good = store.add("User likes tea", user_id="u1")
    row = HOSTILE_ROWS[kind]
    backend.write_raw(row)
    assert [m.memory_id for m in store.list_memories(user_id="u1").items] == [good.memory_id]
    (stats,), _ = store.user_stats(user_id="u1")
    assert stats.unreadable_memories == 1
    (found,) = store.unreadable_rows(user_id="u1")
    assert found.memory_id == row["memory_id"] and found.reason
    repaired = store.repair(row["memory_id"], user_id="u1")
    if isinstance(row["memory"], str) and row["memory"].strip():
        assert repaired is not None and repaired.memory == row["memory"].strip()
        assert store.get(repaired.memory_id, user_id="u1") == repaired
    else:
        assert repaired is None
    assert store.unreadable_rows(user_id="u1") == []
    assert store.user_stats(user_id="u1")[0][0].unreadable_memories == 0


def test_operator_objects_in_stored_fields_are_skipped(mongo_uri: str, mongo_db_name: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    try:
        good = store.add("User likes tea", user_id="u1")
        coll = client[mongo_db_name]["agno_memories"]
        coll.insert_one({"memory_id": {"$ne": None}, "memory": "User is an operator", "user_id": "u1"})
        coll.insert_one({"memory_id": "op-text", "memory": {"$gt": ""}, "user_id": "u1", "updated_at": T0})
        coll.insert_one(
            {"memory_id": "op-topics", "memory": "User tags", "user_id": "u1", "topics": {"$in": 1}}
        )
        ids = [m.memory_id for m in store.list_memories(user_id="u1").items]
        assert good.memory_id in ids and "op-text" not in ids
        assert store.user_stats(user_id="u1")[0][0].unreadable_memories >= 1
        assert store.search("tea", user_id="u1")[0].memory.memory_id == good.memory_id
    finally:
        store.close()
        client.close()


def test_add_of_an_id_held_by_an_unreadable_row_is_our_error(backend: Backend) -> None:
    backend.write_raw(_doc("taken", ""))
    with pytest.raises(InvalidMemoryError, match="doctor"):
        backend.store.add(UserMemory(memory_id="taken", memory="User likes tea"), user_id="u1")


@pytest.mark.parametrize(
    ("field", "value"),
    [("memory_id", " "), ("agent_id", ""), ("team_id", "t" * 300), ("user_id", "u" * 201)],
)
def test_ids_on_a_passed_user_memory_are_checked_like_arguments(
    backend: Backend, field: str, value: str
) -> None:
    memory = UserMemory(memory="User likes tea", **{field: value})
    for call in (
        lambda: backend.store.add(memory, user_id="u1"),
        lambda: backend.store.add_many([memory], user_id="u1"),
        lambda: backend.store.apply_changes(user_id="u1", adds=[memory]),
    ):
        with pytest.raises(InvalidMemoryError, match=field):
            call()
    assert backend.store.list_memories(user_id="u1").total == 0


def test_export_covers_long_users_and_reports_orphans(
    backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.store.add("User likes tea", user_id="u1")
    backend.write_raw(_doc("long-user", "User has a long name", user_id="u" * 250))
    backend.write_raw(_doc("orphan", "Nobody's memory", user_id=None))
    out = tmp_path / "out.jsonl"
    assert main([*backend.db_args, "export", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(d["memory_id"] for d in lines) == sorted([lines[0]["memory_id"], "long-user"])
    assert "--include-orphans" in capsys.readouterr().err
    assert main([*backend.db_args, "export", str(out), "--include-orphans"]) == 0
    ids = {json.loads(line)["memory_id"] for line in out.read_text().splitlines()}
    assert {"long-user", "orphan"} <= ids and len(ids) == 3


def test_cli_list_doctor_and_delete_of_unreadable_rows(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.store.add("User likes tea", user_id="u1")
    backend.write_raw(_doc(LONG_ID, "User rides a long id"))
    backend.write_raw(_doc("empty", ""))
    assert main([*backend.db_args, "list", "--user", "u1"]) == 0
    assert "likes tea" in capsys.readouterr().out
    assert main([*backend.db_args, "doctor", "--user", "u1"]) == 1
    report = capsys.readouterr().out
    assert "'empty'" in report and LONG_ID[:40] in report
    assert main([*backend.db_args, "show", "empty", "--user", "u1"]) == 0
    assert "unreadable" in capsys.readouterr().out
    assert main([*backend.db_args, "delete", LONG_ID, "--user", "u1"]) == 0
    assert main([*backend.db_args, "doctor", "--fix"]) == 0
    assert main([*backend.db_args, "doctor"]) == 0
    assert backend.store.list_memories(user_id="u1").total == 1
