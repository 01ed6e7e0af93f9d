"""Companions on PostgreSQL: documents in ``<table>_<role>`` (compare-and-set on version), and ``_values``.

Extraction's cursors and failed spans live here (tests/test_durable_*.py run the flows on it);
these tests pin the table itself and the compare-and-set, sync and async, and the LangGraph
store's values companion, on the session's throwaway cluster (or ``POSTGRES_URI``).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from langmem_agno.agents.langgraph_store import LangGraphStore
from langmem_agno.agents.store_values import value_companion
from langmem_agno.agents.store_values_postgres import PostgresValueCompanion
from langmem_agno.stores.companion_docs import CompanionDocs, companion_docs
from langmem_agno.stores.companion_postgres import PostgresDocs
from langmem_agno.stores.postgres import PostgresMemoryStore


@pytest.fixture
def store(postgres_uri: str, postgres_schema: str) -> Any:
    made = PostgresMemoryStore(postgres_uri, schema=postgres_schema, table="mem")
    yield made
    made.close()


class Twins:
    """One awaitable call style over a companion's sync methods or its async twins."""

    def __init__(self, docs: CompanionDocs, mode: str) -> None:
        self.docs, self.mode = docs, mode

    async def put(self, key: str, doc: dict[str, Any], version: int | None, **kw: Any) -> bool:
        if self.mode == "sync":
            return self.docs.put(key, doc, version, **kw)
        return await self.docs.aput(key, doc, version, **kw)

    async def get(self, key: str) -> Any:
        return self.docs.get(key) if self.mode == "sync" else await self.docs.aget(key)

    async def delete(self, key: str) -> Any:
        return self.docs.delete(key) if self.mode == "sync" else await self.docs.adelete(key)

    async def scan(self, **kw: Any) -> Any:
        return self.docs.scan(**kw) if self.mode == "sync" else await self.docs.ascan(**kw)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_put_is_a_compare_and_set_on_the_version(store: PostgresMemoryStore, mode: str) -> None:
    docs = companion_docs(store, "cursors")
    assert isinstance(docs, PostgresDocs)
    api = Twins(docs, mode)
    assert await api.get("t1") is None
    assert await api.put("t1", {"seen": 1, "text": "caf\u00e9 \x00 end"}, None, user_id="u1")
    # A second insert of the same key loses, as does a write against a version already moved on.
    assert not await api.put("t1", {"seen": 99}, None, user_id="u1")
    first = await api.get("t1")
    assert (first.doc, first.version) == ({"seen": 1, "text": "caf\u00e9 \x00 end"}, 1)
    assert await api.put("t1", {"seen": 2}, 1, user_id="u1", due=50.0)
    assert not await api.put("t1", {"seen": 3}, 1, user_id="u1")
    second = await api.get("t1")
    assert (second.doc, second.version) == ({"seen": 2}, 2)
    assert await api.delete("t1") == {"seen": 2}
    assert await api.delete("t1") is None and await api.get("t1") is None


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_scan_filters_by_user_and_due_time_in_key_order(store: PostgresMemoryStore, mode: str) -> None:
    api = Twins(companion_docs(store, "failed"), mode)
    # Keys whose byte order differs from a linguistic collation's ("B" before "a").
    for key, user, due in (
        ("u1/b", "u1", 10.0),
        ("u1/B", "u1", None),
        ("u2/a", "u2", 5.0),
        ("u1/a", "u1", 30.0),
    ):
        assert await api.put(key, {"k": key}, None, user_id=user, due=due)
    assert [d.key for d in await api.scan()] == ["u1/B", "u1/a", "u1/b", "u2/a"]
    assert [d.key for d in await api.scan(user_id="u1")] == ["u1/B", "u1/a", "u1/b"]
    assert [d.key for d in await api.scan(due_before=10.0)] == ["u1/b", "u2/a"]
    assert [d.key for d in await api.scan(user_id="u1", due_before=100.0, limit=1)] == ["u1/a"]


def test_the_documents_live_in_a_table_of_the_stores_schema_beside_agnos(
    store: PostgresMemoryStore, postgres_uri: str, postgres_schema: str
) -> None:
    store.add("Sarah prefers email", user_id="u1")
    companion_docs(store, "cursors").put("t1", {"seen": 1}, None, user_id="u1")
    with psycopg.connect(postgres_uri) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (postgres_schema,)
            )
        }
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'mem_cursors'"
        indexes = {r[0] for r in conn.execute(query, (postgres_schema,))}
        row = conn.execute(f'SELECT user_id, version, doc FROM "{postgres_schema}".mem_cursors').fetchone()
    assert {"mem", "mem_cursors"} <= tables
    assert {"lma_mem_cursors_user", "lma_mem_cursors_due"} <= indexes
    assert row == ("u1", 1, '{"seen": 1}')


def test_a_new_store_object_reads_what_another_wrote_and_clearing_a_user_clears_them(
    store: PostgresMemoryStore, postgres_uri: str, postgres_schema: str
) -> None:
    companion_docs(store, "cursors").put("u1/t", {"seen": 4}, None, user_id="u1")
    companion_docs(store, "cursors").put("u2/t", {"seen": 1}, None, user_id="u2")
    other = PostgresMemoryStore(postgres_uri, schema=postgres_schema, table="mem")
    try:
        found = companion_docs(other, "cursors").get("u1/t")
        assert found is not None and found.doc == {"seen": 4}
        assert companion_docs(other, "cursors").delete_user("u1") == 1
        assert [d.key for d in companion_docs(store, "cursors").scan()] == ["u2/t"]
    finally:
        other.close()


def test_concurrent_writers_of_one_version_have_exactly_one_winner(store: PostgresMemoryStore) -> None:
    docs = companion_docs(store, "cursors")
    assert docs.put("t", {"n": 0}, None, user_id="u1")
    start = threading.Barrier(8)
    wins: list[bool] = []

    def write(i: int) -> None:
        start.wait()
        wins.append(docs.put("t", {"n": i}, 1, user_id="u1"))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    stored = docs.get("t")
    assert stored is not None and stored.version == 2


# ------------------------------------------------------------ the LangGraph store's values
STRUCTURED = {"kind": "Preference", "content": {"content": "Sarah prefers email", "channel": "email"}, "n": 3}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_langgraph_values_outlive_the_store_object_and_die_with_their_memory(
    postgres_uri: str, postgres_schema: str, mode: str
) -> None:
    first = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    second = PostgresMemoryStore(postgres_uri, schema=postgres_schema)
    try:
        writer, reader = LangGraphStore(first), LangGraphStore(second)
        assert isinstance(value_companion(first), PostgresValueCompanion)
        if mode == "sync":
            writer.put(("memories", "sarah"), "m-1", STRUCTURED)
            item = reader.get(("memories", "sarah"), "m-1")
        else:
            await writer.aput(("memories", "sarah"), "m-1", STRUCTURED)
            item = await reader.aget(("memories", "sarah"), "m-1")
        # A new store object (another process) reads the whole value, extra keys included.
        assert item is not None and item.value == STRUCTURED
        with psycopg.connect(postgres_uri, autocommit=True) as conn:
            table = f'"{postgres_schema}".agno_memories'
            assert conn.execute(f"SELECT count(*) FROM {table}_values").fetchone() == (1,)
            # Deleted behind our back (as Agno's delete_user_memory does): the trigger drops the value.
            conn.execute(f"DELETE FROM {table} WHERE memory_id = 'm-1'")
            assert conn.execute(f"SELECT count(*) FROM {table}_values").fetchone() == (0,)
    finally:
        first.close()
        second.close()
