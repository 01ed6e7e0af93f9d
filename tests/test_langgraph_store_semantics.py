"""LangGraphStore against BaseStore's own rules.

A put replaces the item, a filter applies before the page is cut, every match condition counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from langgraph.store.base import ListNamespacesOp, MatchCondition

import test_langgraph_store
from langmem_agno import MemoryStore
from langmem_agno.agents.langgraph_store import LangGraphStore
from langmem_agno.errors import InvalidMemoryError
from test_langgraph_store import NS, Api

# The backend-parametrized fixture of test_langgraph_store, every backend in both modes.
lg = test_langgraph_store.lg


async def test_a_filter_with_a_query_applies_before_the_page_is_cut(lg: Api) -> None:
    # The two items of kind "b" are the oldest: the top 2 by the query alone holds neither.
    for i in range(10):
        await lg("put", NS, f"c{i}", {"content": f"Carol email note {i}", "kind": "b" if i < 2 else "a"})
    hits = await lg("search", NS, query="email note", filter={"kind": "b"}, limit=2)
    assert sorted(h.key for h in hits) == ["c0", "c1"]
    assert all(h.score is not None for h in hits)
    second = await lg("search", NS, query="email note", filter={"kind": "b"}, limit=1, offset=1)
    assert len(second) == 1 and second[0].key in {"c0", "c1"} and second[0].key != hits[0].key


async def test_put_replaces_the_topics_too(lg: Api) -> None:
    await lg("put", NS, "k1", {"content": "Sarah drinks tea", "topics": ["food"]})
    await lg("put", NS, "k1", {"content": "Sarah drinks coffee"})
    (memory,) = await lg.memories("sarah")
    assert memory.memory == "Sarah drinks coffee" and not memory.topics


async def test_a_value_that_is_not_json_is_refused_before_anything_is_written(lg: Api) -> None:
    await lg("put", NS, "k1", {"content": "Sarah drinks tea"})
    with pytest.raises(InvalidMemoryError, match="'k2'"):
        await lg("put", NS, "k2", {"content": "Sarah flies", "when": datetime(2026, 1, 1, tzinfo=UTC)})
    with pytest.raises(InvalidMemoryError, match="'k1'"):
        await lg("put", NS, "k1", {"content": "Sarah drinks coffee", "blob": {1, 2}})
    assert [(m.memory_id, m.memory) for m in await lg.memories("sarah")] == [("k1", "Sarah drinks tea")]
    assert (await lg("get", NS, "k1")).value == {"content": "Sarah drinks tea"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_item_of_no_agent_is_listed_under_a_namespace_get_accepts(
    store_factory: Any, mode: str
) -> None:
    memory_store: MemoryStore = store_factory("sqlite-file", mode)
    api = Api(LangGraphStore(memory_store, namespace=("memories", "{user_id}", "{agent_id}")), mode)
    try:
        await api("put", ("memories", "sarah", "planner"), "a1", {"content": "Sarah flies Friday"})
        await api("put", ("memories", "sarah"), "n1", {"content": "Sarah likes tea"})
        hits = {h.key: tuple(h.namespace) for h in await api("search", ("memories", "sarah"))}
        assert hits == {"a1": ("memories", "sarah", "planner"), "n1": ("memories", "sarah")}
        for key, namespace in hits.items():
            assert (await api("get", namespace, key)).key == key
        (no_agent,) = [m for m in await api.memories("sarah") if m.memory_id == "n1"]
        assert no_agent.agent_id is None
    finally:
        await memory_store.aclose()


async def test_list_namespaces_meets_every_condition(store_factory: Any) -> None:
    memory_store: MemoryStore = store_factory("sqlite-file", "sync")
    store = LangGraphStore(memory_store, namespace=("memories", "{user_id}", "{agent_id}"))
    try:
        for agent in ("booker", "planner"):
            store.put(("memories", "u", agent), f"k-{agent}", {"content": f"note for {agent}"})
        assert store.list_namespaces(prefix=("memories", "u"), suffix=("planner",)) == [
            ("memories", "u", "planner")
        ]
        assert store.list_namespaces(prefix=("memories", "u"), suffix=("*",)) == [
            ("memories", "u", "booker"),
            ("memories", "u", "planner"),
        ]
        both = ListNamespacesOp(
            match_conditions=(
                MatchCondition("prefix", ("memories", "u")),
                MatchCondition("prefix", ("memories", "u", "booker")),
            )
        )
        assert store.batch([both]) == [[("memories", "u", "booker")]]
        assert store.list_namespaces(prefix=("memories", "u"), suffix=("nobody",)) == []
    finally:
        memory_store.close()
