"""Scope resolution: explicit > runtime context > configurable > default, also inside a real graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from langmem_agno import InvalidMemoryError, MemoryScope, MissingUserIdError, resolve_scope


@dataclass
class Ctx:
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None


def cfg(**configurable: Any) -> RunnableConfig:
    return {"configurable": configurable}


def test_explicit_wins_over_everything() -> None:
    scope = resolve_scope(
        cfg(user_id="cfg-u", agent_id="cfg-a", team_id="cfg-t"),
        user_id="arg-u",
        agent_id="arg-a",
        team_id="arg-t",
        context=Ctx("ctx-u", "ctx-a", "ctx-t"),
        default_user_id="def-u",
    )
    assert scope == MemoryScope("arg-u", "arg-a", "arg-t")


@pytest.mark.parametrize("context", [Ctx("ctx-u", "ctx-a"), {"user_id": "ctx-u", "agent_id": "ctx-a"}])
def test_runtime_context_wins_over_configurable(context: Any) -> None:
    scope = resolve_scope(cfg(user_id="cfg-u", agent_id="cfg-a", team_id="cfg-t"), context=context)
    # Field by field: the context has no team, so configurable's is used.
    assert scope == MemoryScope("ctx-u", "ctx-a", "cfg-t")


def test_configurable_wins_over_default() -> None:
    assert resolve_scope(
        cfg(user_id="cfg-u"), default_user_id="def-u", default_agent_id="def-a"
    ) == MemoryScope("cfg-u", "def-a", None)


def test_langmem_style_configurable_names() -> None:
    assert resolve_scope(cfg(langgraph_user_id="lm-u")).user_id == "lm-u"
    assert resolve_scope(cfg(user_id="u", langgraph_user_id="lm-u")).user_id == "u"
    assert resolve_scope(cfg(langgraph_user_id="lm-u", langgraph_agent_id="lm-a")).agent_id == "lm-a"


def test_the_platforms_authenticated_user() -> None:
    # Set by the LangGraph Platform's custom auth from the authenticated request.
    assert resolve_scope(cfg(langgraph_auth_user_id="auth-u")).user_id == "auth-u"
    assert resolve_scope(cfg(user_id="u", langgraph_auth_user_id="auth-u")).user_id == "u"


def test_default_is_the_last_resort() -> None:
    assert resolve_scope(None, default_user_id="def-u", default_team_id="def-t") == MemoryScope(
        "def-u", None, "def-t"
    )
    assert resolve_scope({}, default_user_id="def-u").user_id == "def-u"


def test_context_object_without_the_attribute_falls_through() -> None:
    class Other:
        locale = "fr"

    assert resolve_scope(cfg(user_id="cfg-u"), context=Other()).user_id == "cfg-u"
    assert resolve_scope(cfg(user_id="cfg-u"), context={"user_id": None}).user_id == "cfg-u"


@pytest.mark.parametrize("config", [None, {}, cfg(), cfg(thread_id="t1")])
def test_missing_user_id_says_how_to_pass_one(config: Any) -> None:
    with pytest.raises(MissingUserIdError) as err:
        resolve_scope(config, where="search_memories")
    msg = str(err.value)
    assert msg.startswith("no user_id found for search_memories: ")
    for hint in (
        "user_id=...",
        "context={'user_id': ...}",
        "config={'configurable': {'user_id': ...}}",
        "default_user_id=...",
    ):
        assert hint in msg
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config": cfg(user_id={"$ne": None})}, "user_id must be a string, got dict {'$ne': None}"),
        ({"user_id": ""}, "user_id must not be empty"),
        ({"user_id": "u", "context": {"agent_id": 7}}, "agent_id must be a string, got int 7"),
        ({"user_id": "u", "team_id": "t" * 201}, "team_id is 201 characters"),
    ],
)
def test_bad_ids_are_refused_naming_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidMemoryError) as err:
        resolve_scope(**kwargs)
    assert message in str(err.value)


def test_memory_scope_validates() -> None:
    with pytest.raises(InvalidMemoryError, match="user_id must not be empty, got '  '"):
        MemoryScope("  ")
    assert MemoryScope("u").agent_id is None


# ------------------------------------------------------------------ inside a real LangGraph graph
class State(TypedDict):
    scope: MemoryScope | None


def _node(state: State, config: RunnableConfig) -> State:
    return {"scope": resolve_scope(config, where="test node")}


def _graph(context_schema: Any) -> Any:
    g = StateGraph(State, context_schema=context_schema)
    g.add_node("remember", _node)
    g.add_edge(START, "remember")
    g.add_edge("remember", END)
    return g.compile()


def test_graph_runtime_context_dataclass() -> None:
    out = _graph(Ctx).invoke({"scope": None}, context=Ctx(user_id="u1", agent_id="a1"))
    assert out["scope"] == MemoryScope("u1", "a1", None)


def test_graph_runtime_context_dict() -> None:
    out = _graph(dict).invoke({"scope": None}, context={"user_id": "u1", "team_id": "t1"})
    assert out["scope"] == MemoryScope("u1", None, "t1")


def test_graph_runtime_context_beats_configurable() -> None:
    out = _graph(Ctx).invoke(
        {"scope": None}, config=cfg(user_id="cfg-u", agent_id="cfg-a"), context=Ctx("u1")
    )
    assert out["scope"] == MemoryScope("u1", "cfg-a", None)


def test_graph_configurable_alone() -> None:
    out = _graph(Ctx).invoke({"scope": None}, config=cfg(langgraph_user_id="lm-u"))
    assert out["scope"] == MemoryScope("lm-u")


async def test_graph_async_runtime_context() -> None:
    out = await _graph(Ctx).ainvoke({"scope": None}, context=Ctx(user_id="u1"))
    assert out["scope"] == MemoryScope("u1")


def test_graph_without_any_user_fails_with_the_hint() -> None:
    with pytest.raises(MissingUserIdError, match="no user_id found for test node"):
        _graph(Ctx).invoke({"scope": None}, context=Ctx())
