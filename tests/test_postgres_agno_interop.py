"""Interoperability with Agno 3.1's own ``PostgresDb``: one table, written and read by both sides.

Agno's rows are read by our store field for field (a memory Agno wrote without a
``created_at`` included); ours are read by Agno's readers with only its fields; either
side may create the table first, and the table we create is the one Agno creates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from agno.db.postgres import PostgresDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory

from langmem_agno.record import MEMORY_FIELDS
from langmem_agno.stores.postgres import PostgresMemoryStore
from test_agno_interop import (
    T_CREATED,
    add_ours,
    agno_fields,
    assert_agno_reads_ours,
    assert_update_kept_agnos_fields,
    full_agno_memory,
    our_fields,
)

TABLE = "agno_memories"


def agno_url(uri: str) -> str:
    # Agno's PostgresDb hands db_url to SQLAlchemy as is, whose plain "postgresql://" means psycopg2.
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def agno(postgres_uri: str, postgres_schema: str) -> Iterator[PostgresDb]:
    db = PostgresDb(db_url=agno_url(postgres_uri), db_schema=postgres_schema, memory_table=TABLE)
    yield db
    db.db_engine.dispose()


@pytest.fixture
def store(postgres_uri: str, postgres_schema: str) -> Iterator[PostgresMemoryStore]:
    s = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    yield s
    s.close()


@pytest.fixture
def agno_warnings(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Any:
    """Warnings and errors Agno logs (its logger does not propagate, so let it for this test)."""
    monkeypatch.setattr(logging.getLogger("agno"), "propagate", True)
    caplog.set_level(logging.WARNING)
    return lambda: [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def _call(store: PostgresMemoryStore, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        return getattr(store, name)(*args, **kwargs)
    return await getattr(store, "a" + name)(*args, **kwargs)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_agno_writes_are_read_by_us(agno: PostgresDb, store: PostgresMemoryStore, mode: str) -> None:
    agno.upsert_user_memory(full_agno_memory("single"))
    agno.upsert_memories(
        [full_agno_memory("bulk"), full_agno_memory("other", user_id="u2")], preserve_updated_at=True
    )
    # Agno's own single upsert of a memory with no created_at: Agno fills it in, we read what it wrote.
    agno.upsert_user_memory(AgnoUserMemory(memory_id="bare", memory="No dates given", user_id="u1"))
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
        bare = await _call(store, mode, "get", "bare", user_id="u1")
        assert our_fields(bare) == agno_fields(agno.get_user_memory("bare"))
        assert bare.created_at > 0 and bare.topics is None
        page = await _call(store, mode, "list_memories", user_id="u1", topics=["été"])
        assert page.total == 2
        assert sorted(await _call(store, mode, "list_topics", user_id="u1")) == ["contact", "été"]
        hits = await _call(store, mode, "search", "CAFÉ", user_id="u1")
        assert {h.memory.memory_id for h in hits} == {"single", "bulk"}
        stats, total = await _call(store, mode, "user_stats")
        assert total == 2
        assert {(s.user_id, s.total_memories) for s in stats} == {("u1", 3), ("u2", 1)}
        assert await _call(store, mode, "get", "other", user_id="u1") is None
    finally:
        await store.aclose()


def test_ours_are_read_by_agno(agno: PostgresDb, store: PostgresMemoryStore) -> None:
    a, b = add_ours(store)
    assert_agno_reads_ours(agno, a, b)


def test_our_update_keeps_fields_and_agno_reads_it(agno: PostgresDb, store: PostgresMemoryStore) -> None:
    agno.upsert_memories([full_agno_memory("m1")], preserve_updated_at=True)
    after = store.update("m1", user_id="u1", memory="Sarah prefers Signal", topics=["Chat"])
    assert_update_kept_agnos_fields(agno, after)


def _layout(uri: str, schema: str) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    with psycopg.connect(uri) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, TABLE),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
            (schema, TABLE),
        ).fetchall()
    return columns, {name: definition.replace(schema, "S") for name, definition in indexes}


def test_our_table_is_agnos_table(postgres_uri: str) -> None:
    ours, theirs = "lma_layout_ours", "lma_layout_agno"
    try:
        with PostgresMemoryStore(postgres_uri, schema=ours) as store:
            store.list_memories(user_id="u1")
        db = PostgresDb(db_url=agno_url(postgres_uri), db_schema=theirs, memory_table=TABLE)
        db.upsert_user_memory(full_agno_memory("m1"))
        db.db_engine.dispose()
        our_cols, our_idx = _layout(postgres_uri, ours)
        agno_cols, agno_idx = _layout(postgres_uri, theirs)
        assert our_cols == agno_cols
        assert {n: d for n, d in our_idx.items() if not n.startswith("lma_")} == agno_idx
        assert set(agno_idx) == {
            "agno_memories_pkey",
            "idx_agno_memories_user_id",
            "idx_agno_memories_created_at",
            "idx_agno_memories_updated_at",
        }
        assert [c[1] for c in our_cols] == [
            "character varying",
            "jsonb",
            "text",
            "text",
            "character varying",
            "character varying",
            "character varying",
            "jsonb",
            "bigint",
            "bigint",
        ]
    finally:
        with psycopg.connect(postgres_uri, autocommit=True) as conn:
            for schema in (ours, theirs):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.parametrize("first", ["agno", "ours"])
def test_table_creation_in_either_order(
    postgres_uri: str, postgres_schema: str, first: str, agno_warnings: Any
) -> None:
    def agno_db() -> PostgresDb:
        return PostgresDb(db_url=agno_url(postgres_uri), db_schema=postgres_schema, memory_table=TABLE)

    store = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    try:
        if first == "agno":
            agno_db().upsert_user_memory(full_agno_memory("m1"))
            store.add("ours", user_id="u1")
        else:
            store.add("ours", user_id="u1")
            agno_db().upsert_user_memory(full_agno_memory("m1"))
        assert store.list_memories(user_id="u1").total == 2
        assert len(agno_db().get_user_memories(user_id="u1")) == 2
    finally:
        store.close()
    assert agno_warnings() == []


def test_no_extra_columns_or_values(postgres_uri: str, store: PostgresMemoryStore) -> None:
    m = store.add("x", user_id="u1", topics=["t"])
    store.update(m.memory_id, user_id="u1", feedback="f")
    with psycopg.connect(postgres_uri) as conn:
        cur = conn.execute(f'SELECT * FROM "{store.schema}"."{TABLE}"')
        rows = cur.fetchall()
        names = [d.name for d in cur.description or []]
    assert sorted(names) == sorted(MEMORY_FIELDS)
    [row] = rows
    record = dict(zip(names, row, strict=True))
    assert (record["memory"], record["topics"], record["feedback"]) == ("x", ["t"], "f")


def test_clear_leaves_agno_written_memories_of_other_users(
    agno: PostgresDb, store: PostgresMemoryStore
) -> None:
    agno.upsert_memories(
        [full_agno_memory("a1"), full_agno_memory("b1", user_id="u2")], preserve_updated_at=True
    )
    assert store.clear(user_id="u1") == 1
    assert [m.memory_id for m in agno.get_user_memories(user_id="u2")] == ["b1"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_rows_agno_writes_later_are_in_the_word_index(
    agno: PostgresDb, store: PostgresMemoryStore, mode: str
) -> None:
    store.add("ours, about tea", user_id="u1")  # the table, its companion and trigger now exist
    agno.upsert_user_memory(full_agno_memory("later"))
    agno.upsert_user_memory(
        AgnoUserMemory(memory_id="mail", memory="Write to sarah@example.com", user_id="u1")
    )
    hits = await _call(store, mode, "search", "café example", user_id="u1")
    assert {h.memory.memory_id for h in hits} == {"later", "mail"}
    agno.upsert_user_memory(AgnoUserMemory(memory_id="later", memory="Now about jazz", user_id="u1"))
    assert [h.memory.memory_id for h in await _call(store, mode, "search", "jazz", user_id="u1")] == ["later"]
    assert await _call(store, mode, "search", "café", user_id="u1") == []
    agno.delete_user_memory("later", user_id="u1")
    assert await _call(store, mode, "search", "jazz", user_id="u1") == []
    await store.aclose()
