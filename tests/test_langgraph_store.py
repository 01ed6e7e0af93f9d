"""LangGraphStore: LangGraph's BaseStore semantics over our stores, sync and async, SQLite and MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from agno.db.sqlite import SqliteDb
from langgraph.store.base import GetOp, ListNamespacesOp, MatchCondition, PutOp

from conftest import BACKEND_MODES
from langmem_agno import MemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.agents.langgraph_store import LangGraphStore, UnmappedNamespaceError
from langmem_agno.errors import ConfigurationError, InvalidMemoryError, LangmemAgnoError

NS = ("memories", "sarah")
OTHER = ("memories", "tom")
STRUCTURED = {"kind": "Preference", "content": {"content": "Sarah prefers email", "channel": "email"}, "n": 3}


class Api:
    """One call style over the sync methods and the async twins of a LangGraphStore."""

    def __init__(self, store: LangGraphStore, mode: str) -> None:
        self.store, self.mode = store, mode

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return getattr(self.store, name)(*args, **kwargs)
        return await getattr(self.store, "a" + name)(*args, **kwargs)

    async def memories(self, user_id: str) -> list[UserMemory]:
        """What the memory store underneath holds for ``user_id`` (what Agno would read)."""
        store = self.store.store
        page = (
            store.list_memories(user_id=user_id)
            if self.mode == "sync"
            else await store.alist_memories(user_id=user_id)
        )
        return page.items


@pytest.fixture(params=BACKEND_MODES, ids=[f"{b}-{m}" for b, m in BACKEND_MODES])
async def lg(request: pytest.FixtureRequest, store_factory: Any) -> AsyncIterator[Api]:
    backend, mode = request.param
    memory_store: MemoryStore = store_factory(backend, mode)
    yield Api(LangGraphStore(memory_store), "sync" if mode == "sync" else "async")
    await memory_store.aclose()


async def test_a_value_round_trips_exactly_and_its_text_is_the_memory(lg: Api) -> None:
    await lg("put", NS, "m-1", STRUCTURED)
    item = await lg("get", NS, "m-1")
    assert item.value == STRUCTURED and item.key == "m-1" and item.namespace == NS
    (stored,) = await lg.memories("sarah")
    assert stored.memory == "Sarah prefers email" and stored.memory_id == "m-1"
    await lg("put", NS, "m-1", {"content": "Sarah prefers phone calls"})
    assert (await lg("get", NS, "m-1")).value == {"content": "Sarah prefers phone calls"}
    assert [m.memory for m in await lg.memories("sarah")] == ["Sarah prefers phone calls"]


async def test_put_none_deletes_and_ops_run_in_order(lg: Api) -> None:
    ops = [
        PutOp(NS, "a", {"content": "Sarah likes tea"}),
        GetOp(NS, "a"),
        PutOp(NS, "a", None),
        GetOp(NS, "a"),
    ]
    results = lg.store.batch(ops) if lg.mode == "sync" else await lg.store.abatch(ops)
    assert results[0] is None and results[2] is None and results[3] is None
    assert results[1].value == {"content": "Sarah likes tea"}
    assert await lg.memories("sarah") == []


async def test_search_ranks_by_query_pages_and_filters(lg: Api) -> None:
    await lg("put", NS, "tea", {"content": "Sarah drinks green tea every morning", "kind": "habit"})
    await lg("put", NS, "mail", {"content": "Sarah prefers email over phone calls", "kind": "contact"})
    await lg("put", NS, "dog", {"content": "Sarah has a dog named Rex", "kind": "pets"})
    hits = await lg("search", ("memories", "sarah"), query="how should I email her?")
    assert hits[0].key == "mail" and hits[0].score is not None
    newest = await lg("search", NS, limit=2)
    assert [h.key for h in newest] == ["dog", "mail"] and newest[0].score is None
    assert [h.key for h in await lg("search", NS, limit=2, offset=2)] == ["tea"]
    assert [h.key for h in await lg("search", NS, filter={"kind": "pets"})] == ["dog"]
    assert {h.key for h in await lg("search", NS, filter={"kind": {"$ne": "pets"}})} == {"tea", "mail"}


async def test_list_namespaces_of_one_user(lg: Api) -> None:
    await lg("put", NS, "a", {"content": "Sarah likes tea"})
    prefix = MatchCondition(match_type="prefix", path=("memories", "sarah"))
    op = ListNamespacesOp(match_conditions=(prefix,))
    result = lg.store.batch([op]) if lg.mode == "sync" else await lg.store.abatch([op])
    assert result == [[NS]]


async def test_another_users_namespace_never_reads_or_writes_mine(lg: Api) -> None:
    await lg("put", NS, "m-1", {"content": "Sarah's secret plan"})
    assert await lg("get", OTHER, "m-1") is None
    assert await lg("search", OTHER, query="secret plan") == []
    with pytest.raises(InvalidMemoryError):
        await lg("put", OTHER, "m-1", {"content": "Tom overwrites it"})  # the id is Sarah's
    await lg("put", OTHER, "m-1", None)  # deleting another user's key deletes nothing
    assert (await lg("get", NS, "m-1")).value == {"content": "Sarah's secret plan"}
    for namespace in [("memories",), ("other", "sarah"), ("memories", "sarah", "extra"), ()]:
        with pytest.raises(UnmappedNamespaceError):
            await lg("get", namespace, "m-1")
    for prefix in [("memories",), ()]:
        with pytest.raises(UnmappedNamespaceError):
            await lg("search", prefix, query="plan")
    assert isinstance(UnmappedNamespaceError("x"), LangmemAgnoError)


async def test_agent_level_namespaces_keep_agents_apart(store_factory: Any) -> None:
    lg = LangGraphStore(store_factory("sqlite-memory"), namespace=("memories", "{user_id}", "{agent_id}"))
    lg.put(("memories", "sarah", "planner"), "p", {"content": "Sarah flies on Friday"})
    lg.put(("memories", "sarah", "booker"), "b", {"content": "Sarah wants an aisle seat"})
    assert lg.get(("memories", "sarah", "booker"), "p") is None
    assert [h.key for h in lg.search(("memories", "sarah", "planner"))] == ["p"]
    assert {h.key for h in lg.search(("memories", "sarah"))} == {"p", "b"}  # the user's prefix sees both
    assert lg.store.get("p", user_id="sarah").agent_id == "planner"  # what Agno's agent_id column says


def test_templates_must_name_the_user() -> None:
    store = SQLiteMemoryStore(":memory:")
    for bad in [("memories",), ("memories", "{user}"), ("{user_id}", "{user_id}")]:
        with pytest.raises(ConfigurationError):
            LangGraphStore(store, namespace=bad)


def test_agno_reads_what_langgraph_writes_and_the_other_way(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    lg = LangGraphStore(SQLiteMemoryStore(db))
    lg.put(NS, "m-1", STRUCTURED)
    agno = SqliteDb(db_file=str(db), memory_table="agno_memories")
    (read,) = agno.get_user_memories(user_id="sarah")
    assert (read.memory_id, read.memory, read.user_id) == ("m-1", "Sarah prefers email", "sarah")
    # Agno edits the text: the stored structured value is no longer the truth.
    read.memory = "Sarah prefers text messages"
    agno.upsert_user_memory(read)
    assert lg.get(NS, "m-1").value == {"content": "Sarah prefers text messages"}
    agno.upsert_user_memory(type(read)(memory="Sarah is vegetarian", user_id="sarah", memory_id="agno-1"))
    assert lg.get(NS, "agno-1").value == {"content": "Sarah is vegetarian"}
    assert [h.key for h in lg.search(NS, query="vegetarian food")] == ["agno-1"]
    # A memory Agno deletes takes its stored value with it.
    agno.delete_user_memory("m-1", user_id="sarah")
    lg.store.add(UserMemory(memory_id="m-1", memory="Sarah prefers email", user_id="sarah"), user_id="sarah")
    assert lg.get(NS, "m-1").value == {"content": "Sarah prefers email"}


def test_a_store_gives_its_langgraph_store() -> None:
    store = SQLiteMemoryStore(":memory:")
    lg = store.as_langgraph_store(namespace=("memories", "{user_id}", "{agent_id}"))
    assert isinstance(lg, LangGraphStore) and lg.store is store
    assert lg.template.parts == ("memories", "{user_id}", "{agent_id}")
