"""``private_to_agent``: the memory tools of one agent never read or change another agent's memories."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from langmem_agno import MemoryStore
from langmem_agno.tools import create_memory_tools
from test_tools import MODES, ToolEnv, _error, _ok


@pytest.fixture(params=MODES, ids=[f"{b}-{m}" for b, m in MODES])
async def agents(request: pytest.FixtureRequest, store_factory: Any) -> Any:
    """Tools of agent a1 (shared, the default) and of agent a2 (private) over one store."""
    backend, mode = request.param
    store = store_factory(backend, mode)
    yield ToolEnv(store, mode, agent_id="a1"), ToolEnv(store, mode, agent_id="a2", private_to_agent=True)
    await store.aclose()


async def test_a_private_agent_cannot_find_change_or_delete_another_agents_memory(
    agents: tuple[ToolEnv, ToolEnv],
) -> None:
    a1, a2 = agents
    theirs = (await a1.call("add_memory", {"memory": "The user banks at Acme", "topics": ["bank"]})).artifact
    before = await a1.snapshot()
    assert "No memories match" in _ok(await a2.call("search_memories", {"query": "Acme bank"}))
    unknown = str(uuid.uuid4())
    for tool, extra in (("update_memory", {"memory": "Owned", "topics": None}), ("delete_memory", {})):
        foreign = _error(await a2.call(tool, {"memory_id": theirs["memory_id"], **extra}))
        missing = _error(await a2.call(tool, {"memory_id": unknown, **extra}))
        worded = foreign.replace(theirs["memory_id"], "ID")
        assert worded == missing.replace(unknown, "ID")
        assert "a1" not in worded and "Acme" not in worded
    assert await a1.snapshot() == before
    # a1's tools are not private: they still see everything of the user, a2's memories included.
    mine = (await a2.call("add_memory", {"memory": "The user banks online"})).artifact
    assert mine["agent_id"] == "a2"
    assert mine["memory_id"] in _ok(await a1.call("search_memories", {"query": "banks"}))


async def test_a_private_agent_works_on_its_own_memories(agents: tuple[ToolEnv, ToolEnv]) -> None:
    a1, a2 = agents
    await a1.call("add_memory", {"memory": "The user likes jazz"})
    mine = (await a2.call("add_memory", {"memory": "The user likes rock"})).artifact["memory_id"]
    found = await a2.call("search_memories", {"query": "likes jazz rock"})
    _ok(found)
    assert [hit["memory_id"] for hit in found.artifact] == [mine]
    _ok(await a2.call("update_memory", {"memory_id": mine, "memory": "The user likes punk", "topics": None}))
    _ok(await a2.call("delete_memory", {"memory_id": mine}))
    assert [m.memory for m in await a1.memories("u1")] == ["The user likes jazz"]


def _call(tool: Any, args: dict[str, Any], configurable: dict[str, Any]) -> ToolMessage:
    result = tool.invoke(
        {"type": "tool_call", "id": "c1", "name": tool.name, "args": args},
        config={"configurable": configurable},
    )
    assert isinstance(result, ToolMessage)
    return result


def _found(msg: ToolMessage) -> set[str]:
    _ok(msg)
    return {hit["memory"].removeprefix("The user plays ") for hit in msg.artifact}


def _seed(store: MemoryStore) -> None:
    store.add("The user plays chess", user_id="u1", agent_id="coach", team_id="games")
    store.add("The user plays go", user_id="u1", agent_id="tutor", team_id="games")
    store.add("The user plays cards", user_id="u1", team_id="casino")


def test_the_agent_and_team_can_come_from_the_run(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    _seed(store)
    search = create_memory_tools(store, include=["search"], private_to_agent=True)[0]
    query = {"query": "plays chess go cards"}
    assert _found(_call(search, query, {"user_id": "u1", "agent_id": "coach"})) == {"chess"}
    assert _found(_call(search, query, {"user_id": "u1", "team_id": "games"})) == {"chess", "go"}
    assert _found(_call(search, query, {"user_id": "u1", "agent_id": "tutor", "team_id": "casino"})) == set()


def test_private_with_no_agent_or_team_is_a_configuration_error(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    _seed(store)
    tools = {t.name: t for t in create_memory_tools(store, private_to_agent=True)}
    some_id = store.list_memories(user_id="u1").items[0].memory_id
    for name, args in (
        ("search_memories", {"query": "plays"}),
        ("update_memory", {"memory_id": some_id, "memory": "Owned", "topics": None}),
        ("delete_memory", {"memory_id": some_id}),
    ):
        with pytest.raises(ValueError, match=r"private_to_agent=True but the run names no agent_id"):
            _call(tools[name], args, {"user_id": "u1"})
    assert store.list_memories(user_id="u1").total == 3


def test_private_none_filters_only_when_the_run_names_an_agent(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    _seed(store)
    search = create_memory_tools(store, include=["search"], private_to_agent=None)[0]
    query = {"query": "plays chess go cards"}
    assert _found(_call(search, query, {"user_id": "u1"})) == {"chess", "go", "cards"}
    assert _found(_call(search, query, {"user_id": "u1", "agent_id": "tutor"})) == {"go"}


def test_private_to_agent_must_be_a_bool_or_none(store_factory: Any) -> None:
    with pytest.raises(ValueError, match="private_to_agent"):
        create_memory_tools(store_factory("sqlite-memory", "sync"), private_to_agent="yes")  # type: ignore[arg-type]
