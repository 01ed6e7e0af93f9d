"""PostgresMemoryStore on a real PostgreSQL server: the store contract sync and async, pools, errors.

The whole backend-parametrized suite runs on PostgreSQL too when ``LANGMEM_AGNO_POSTGRES=1``
(see ``conftest.py``); these tests always run where PostgreSQL is installed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from conftest import StoreAPI
from langmem_agno import UserMemory
from langmem_agno.errors import ConfigurationError, InvalidMemoryError, StoreUnavailableError
from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.types import MemoryUpdate

T0 = 1_700_000_000


@pytest.fixture(params=["sync", "async"])
async def pg(
    request: pytest.FixtureRequest, postgres_uri: str, postgres_schema: str
) -> AsyncIterator[StoreAPI]:
    store = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    yield StoreAPI(store, str(request.param))
    await store.aclose()
    store.close()


def rows(uri: str, store: PostgresMemoryStore) -> list[tuple[Any, ...]]:
    with psycopg.connect(uri) as conn:
        try:
            return conn.execute(
                f'SELECT memory_id, user_id, memory, topics FROM "{store.schema}"."{store.table}" '
                "ORDER BY memory_id"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


async def test_add_get_update_delete(pg: StoreAPI) -> None:
    m = await pg.add("Lives in Paris", user_id="u1", topics=["Home"], agent_id="a1")
    assert (m.memory, m.topics, m.user_id, m.agent_id) == ("Lives in Paris", ["home"], "u1", "a1")
    assert await pg.get(m.memory_id, user_id="u1") == m
    assert await pg.get(m.memory_id, user_id="u2") is None
    after = await pg.update(m.memory_id, user_id="u1", memory="Lives in Lyon")
    assert (after.memory, after.topics, after.agent_id, after.created_at) == (
        "Lives in Lyon",
        ["home"],
        "a1",
        m.created_at,
    )
    assert await pg.delete(m.memory_id, user_id="u2") is False
    assert await pg.delete(m.memory_id, user_id="u1") is True
    assert (await pg.list_memories(user_id="u1")).total == 0


async def test_adds_are_idempotent_by_memory_id(pg: StoreAPI, postgres_uri: str) -> None:
    first = await pg.add(UserMemory(memory_id="m1", memory="Likes tea", created_at=T0), user_id="u1")
    again = await pg.add(UserMemory(memory_id="m1", memory="Likes tea", created_at=T0), user_id="u1")
    assert again == first
    many = await pg.add_many(["a", UserMemory(memory_id="m1", memory="Likes tea")], user_id="u1")
    assert many[1] == first
    assert len(rows(postgres_uri, pg.store)) == 2


async def test_a_batch_with_another_users_id_writes_nothing(pg: StoreAPI, postgres_uri: str) -> None:
    await pg.add(UserMemory(memory_id="theirs", memory="Bob's"), user_id="u2")
    before = rows(postgres_uri, pg.store)
    with pytest.raises(InvalidMemoryError, match="theirs"):
        await pg.add_many(["new one", UserMemory(memory_id="theirs", memory="mine")], user_id="u1")
    assert rows(postgres_uri, pg.store) == before


async def test_list_pages_filters_and_counts(pg: StoreAPI) -> None:
    for i in range(5):
        await pg.add(
            UserMemory(memory=f"fact {i}", topics=["odd" if i % 2 else "even"], created_at=T0 + i),
            user_id="u1",
        )
    page = await pg.list_memories(user_id="u1", limit=2, offset=1)
    assert page.total == 5
    assert [m.memory for m in page.items] == ["fact 3", "fact 2"]
    past = await pg.list_memories(user_id="u1", limit=2, offset=10)
    assert (past.items, past.total) == ([], 5)
    odd = await pg.list_memories(user_id="u1", topics=["odd"], sort="asc")
    assert [m.memory for m in odd.items] == ["fact 1", "fact 3"]
    assert sorted(await pg.list_topics(user_id="u1")) == ["even", "odd"]


async def test_apply_changes_is_one_transaction(pg: StoreAPI) -> None:
    keep = await pg.add("Keep me", user_id="u1")
    gone = await pg.add("Delete me", user_id="u1")
    theirs = await pg.add("Not yours", user_id="u2")
    result = await pg.apply_changes(
        user_id="u1",
        adds=["Brand new"],
        updates=[
            MemoryUpdate(keep.memory_id, memory="Kept, changed"),
            MemoryUpdate(theirs.memory_id, memory="x"),
        ],
        deletes=[gone.memory_id, "unknown"],
    )
    assert [m.memory for m in result.added] == ["Brand new"]
    assert [m.memory for m in result.updated] == ["Kept, changed"]
    assert result.deleted == [gone.memory_id]
    assert result.missing_updates == [theirs.memory_id]
    assert result.missing_deletes == ["unknown"]
    assert (await pg.get(theirs.memory_id, user_id="u2")).memory == "Not yours"
    with pytest.raises(InvalidMemoryError):
        await pg.apply_changes(
            user_id="u1",
            adds=[UserMemory(memory_id=theirs.memory_id, memory="steal")],
            deletes=[keep.memory_id],
        )
    # The delete of the refused change set was not written.
    assert await pg.get(keep.memory_id, user_id="u1") is not None


async def test_search_is_literal_and_case_insensitive(pg: StoreAPI) -> None:
    await pg.add("Prefers the café near École 42", user_id="u1", topics=["food"])
    await pg.add("100% sure about under_scores", user_id="u1")
    await pg.add("café for someone else", user_id="u2")
    hits = await pg.search("CAFÉ école", user_id="u1")
    assert [h.memory.memory for h in hits] == ["Prefers the café near École 42"]
    assert [h.memory.memory for h in await pg.search("100%", user_id="u1")] == [
        "100% sure about under_scores"
    ]
    await pg.add("Likes a color scheme", user_id="u1")
    # LIKE's wildcard is escaped: "r_s" is not "r s" in "color scheme".
    assert await pg.search("r_s", user_id="u1") == []
    assert [h.memory.memory for h in await pg.search("under_scores", user_id="u1")] == [
        "100% sure about under_scores"
    ]
    assert [h.memory.memory for h in await pg.search("food", user_id="u1")] == [
        "Prefers the café near École 42"
    ]


async def test_stats_and_clear_are_per_user(pg: StoreAPI) -> None:
    await pg.add("a", user_id="u1")
    await pg.add("b", user_id="u1")
    await pg.add("c", user_id="u2")
    stats, total = await pg.user_stats()
    assert total == 2
    assert {(s.user_id, s.total_memories) for s in stats} == {("u1", 2), ("u2", 1)}
    assert await pg.clear(user_id="u1") == 2
    assert (await pg.list_memories(user_id="u2")).total == 1


async def test_unreadable_rows_are_skipped_and_counted(pg: StoreAPI, postgres_uri: str) -> None:
    await pg.add("fine", user_id="u1")
    with psycopg.connect(postgres_uri) as conn:
        conn.execute(
            f'INSERT INTO "{pg.store.schema}"."{pg.store.table}" '
            "(memory_id, memory, user_id, created_at, updated_at) "
            "VALUES ('bad', '\"   \"', 'u1', 1, 1)"
        )
    assert [m.memory for m in (await pg.list_memories(user_id="u1")).items] == ["fine"]
    stats, _ = await pg.user_stats(user_id="u1")
    assert stats[0].unreadable_memories == 1
    assert [r.memory_id for r in await pg.unreadable_rows(user_id="u1")] == ["bad"]


def test_pools_passed_in_are_used_and_left_open(postgres_uri: str, postgres_schema: str) -> None:
    pool: ConnectionPool[Any] = ConnectionPool(postgres_uri, min_size=1, max_size=2, open=True)
    try:
        store = PostgresMemoryStore(pool=pool, schema=postgres_schema)
        store.add("via my pool", user_id="u1")
        store.close()
        assert not pool.closed
        assert PostgresMemoryStore(pool=pool, schema=postgres_schema).list_memories(user_id="u1").total == 1
    finally:
        pool.close()


async def test_async_pool_passed_in(postgres_uri: str, postgres_schema: str) -> None:
    apool: AsyncConnectionPool[Any] = AsyncConnectionPool(postgres_uri, min_size=1, max_size=2, open=False)
    await apool.open()
    try:
        store = PostgresMemoryStore(async_pool=apool, schema=postgres_schema)
        await store.aadd("via my async pool", user_id="u1")
        await store.aclose()
        assert not apool.closed
        # The sync methods open a pool of their own from the async pool's connection string.
        assert store.list_memories(user_id="u1").total == 1
        store.close()
    finally:
        await apool.close()


def test_one_store_on_several_event_loops(postgres_uri: str, postgres_schema: str) -> None:
    store = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    try:
        asyncio.run(store.aadd("first loop", user_id="u1"))
        asyncio.run(store.aadd("second loop", user_id="u1"))
        found = asyncio.run(store.alist_memories(user_id="u1"))
        assert found.total == 2
    finally:
        store.close()


def test_threads_share_one_store(postgres_uri: str, postgres_schema: str) -> None:
    store = PostgresMemoryStore(postgres_uri, schema=postgres_schema, max_size=4)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                store.add(f"thread {n} fact {i}", user_id="u1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert store.list_memories(user_id="u1").total == 60
    finally:
        store.close()


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="uri, a pool or an async_pool"):
        PostgresMemoryStore()
    with pytest.raises(ConfigurationError, match="'bad-name'"):
        PostgresMemoryStore("postgresql://localhost/x", table="bad-name")
    with pytest.raises(ConfigurationError, match="'x; drop'"):
        PostgresMemoryStore("postgresql://localhost/x", schema="x; drop")
    with pytest.raises(ConfigurationError, match="min_size"):
        PostgresMemoryStore("postgresql://localhost/x", min_size=3, max_size=2)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_server_down_is_store_unavailable(mode: str) -> None:
    store = PostgresMemoryStore("postgresql://postgres:secret@127.0.0.1:1/nothing", timeout=1.0)
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:1/nothing") as caught:
        if mode == "sync":
            store.add("x", user_id="u1")
        else:
            await store.aadd("x", user_id="u1")
    assert "secret" not in str(caught.value)
    await store.aclose()
    store.close()


async def test_a_nul_byte_is_refused_by_name(pg: StoreAPI) -> None:
    with pytest.raises(InvalidMemoryError):
        await pg.add("nul \x00 inside", user_id="u1")
    assert (await pg.list_memories(user_id="u1")).total == 0
