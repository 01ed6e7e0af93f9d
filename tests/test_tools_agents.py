"""The memory tools end to end: scripted models in create_agent and in a hand-written StateGraph."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, ToolRuntime, tools_condition

from langmem_agno import MemoryScope, MemoryStore, MissingUserIdError
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.tools import AddMemoryTool, create_memory_tools

SYNC = [("sqlite-file", "sync"), ("mongo", "sync")]
ASYNC = [("sqlite-file", "async"), ("mongo", "async")]
_ADDED = re.compile(r"^Memory added \(id: ([0-9a-f-]+)\)")


@dataclass
class UserContext:
    """The runtime context an application passes to its agent."""

    user_id: str


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def tool_results(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def build_state_graph(model: ScriptedChatModel, tools: list[BaseTool], *, use_async: bool) -> Any:
    """A hand-written agent loop: model node, LangGraph's ToolNode, back to the model."""
    bound = model.bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    async def aagent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState, context_schema=UserContext)
    builder.add_node("agent", aagent if use_async else agent)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile()


def make_agent(kind: str, model: ScriptedChatModel, tools: list[BaseTool], *, use_async: bool = False) -> Any:
    if kind == "create_agent":
        return create_agent(model, tools=tools, context_schema=UserContext)
    return build_state_graph(model, tools, use_async=use_async)


def run_kwargs(how: str, user_id: str) -> dict[str, Any]:
    """The two ways an application names the user: runtime context or configurable."""
    if how == "context":
        return {"context": UserContext(user_id=user_id)}
    return {"config": {"configurable": {"user_id": user_id}}}


# ---------------------------------------------------------------- one user, scripted
@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
@pytest.mark.parametrize("how", ["context", "configurable"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_agent_adds_then_searches(store_factory: Any, backend: str, mode: str, kind: str, how: str) -> None:
    store = store_factory(backend, mode)
    model = ScriptedChatModel(
        responses=[
            call("add_memory", {"memory": "The user prefers email", "topics": ["contact"]}, "call_1"),
            call("search_memories", {"query": "email", "limit": None}, "call_2"),
            AIMessage("done"),
        ]
    )
    agent = make_agent(kind, model, create_memory_tools(store))
    result = agent.invoke(
        {"messages": [HumanMessage("Please email me, never call.")]}, **run_kwargs(how, "u1")
    )
    assert result["messages"][-1].content == "done"
    (stored,) = store.list_memories(user_id="u1").items
    assert stored.memory == "The user prefers email"
    # What the model got back, in its next call.
    added = model.calls[1][-1]
    assert isinstance(added, ToolMessage) and added.status == "success"
    assert added.content.startswith(f"Memory added (id: {stored.memory_id})")
    found = model.calls[2][-1]
    assert isinstance(found, ToolMessage) and found.status == "success"
    assert f"- id: {stored.memory_id} | The user prefers email [topics: contact]" in found.content
    assert model.bound_tool_names[0] == ["add_memory", "update_memory", "delete_memory", "search_memories"]


@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_agent_async_add_update_delete(store_factory: Any, backend: str, mode: str, kind: str) -> None:
    store: MemoryStore = store_factory(backend, mode)

    def responder(messages: list[BaseMessage]) -> AIMessage:
        results = tool_results(messages)
        if not results:
            return call("add_memory", {"memory": "The user lives in Lyon", "topics": None}, "c1")
        first = _ADDED.match(str(results[0].content))
        assert first is not None, results[0].content
        if len(results) == 1:
            return call("update_memory", {"memory_id": first[1], "memory": "The user lives in Paris"}, "c2")
        if len(results) == 2:
            return call("add_memory", {"memory": "The user has a spare key"}, "c3")
        if len(results) == 3:
            spare = _ADDED.match(str(results[2].content))
            assert spare is not None
            return call("delete_memory", {"memory_id": spare[1]}, "c4")
        return AIMessage("done")

    model = ScriptedChatModel(responder=responder)
    agent = make_agent(kind, model, create_memory_tools(store), use_async=True)
    await agent.ainvoke({"messages": [HumanMessage("I moved to Paris.")]}, context=UserContext("u1"))
    assert [m.status for m in tool_results(model.calls[-1])] == ["success"] * 4
    memories = (await store.alist_memories(user_id="u1")).items
    assert [m.memory for m in memories] == ["The user lives in Paris"]


@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
def test_agent_sees_a_tool_error_and_corrects_itself(store_factory: Any, kind: str) -> None:
    store = store_factory("sqlite-file", "sync")
    model = ScriptedChatModel(
        responses=[
            call("add_memory", {"memory": "   ", "topics": None}, "bad"),
            call("add_memory", {"memory": "The user is vegetarian", "topics": "food"}, "bad_type"),
            call("add_memory", {"memory": "The user is vegetarian", "topics": ["food"]}, "good"),
            AIMessage("done"),
        ]
    )
    agent = make_agent(kind, model, create_memory_tools(store))
    agent.invoke({"messages": [HumanMessage("I don't eat meat.")]}, context=UserContext("u1"))
    empty, wrong_type = model.calls[1][-1], model.calls[2][-1]
    assert isinstance(empty, ToolMessage) and empty.status == "error"
    assert "memory text is empty" in empty.content
    assert isinstance(wrong_type, ToolMessage) and wrong_type.status == "error"
    assert "topics: Input should be a valid list" in wrong_type.content
    assert [m.memory for m in store.list_memories(user_id="u1").items] == ["The user is vegetarian"]


@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
def test_agent_run_without_a_user_fails_loudly(store_factory: Any, kind: str) -> None:
    store = store_factory("sqlite-file", "sync")
    model = ScriptedChatModel(
        responses=[call("add_memory", {"memory": "Likes tea"}, "c1"), AIMessage("done")]
    )
    agent = make_agent(kind, model, create_memory_tools(store))
    with pytest.raises(MissingUserIdError, match="no user_id found for tool 'add_memory'"):
        agent.invoke({"messages": [HumanMessage("hi")]})
    assert store.user_stats()[1] == 0


# ---------------------------------------------------------------- many users, one agent
def per_user_script(messages: list[BaseMessage]) -> AIMessage:
    """Each conversation: add two facts, update the first, delete the second, stop.

    The ids come from the tool results the model received, as a real model would read them.
    """
    match = re.match(r"I am (\w+), run (\d+)", str(messages[0].content))
    assert match is not None
    who, run = match[1], match[2]
    results = tool_results(messages)
    assert all(r.status == "success" for r in results), [r.content for r in results]
    step = len(results)
    ids = [m[1] for r in results if (m := _ADDED.match(str(r.content)))]
    cid = f"{who}-{run}-{step}"
    if step == 0:
        return call("add_memory", {"memory": f"{who} run {run} likes apples", "topics": [who]}, cid)
    if step == 1:
        return call("add_memory", {"memory": f"{who} run {run} has a temporary note", "topics": None}, cid)
    if step == 2:
        return call("update_memory", {"memory_id": ids[0], "memory": f"{who} run {run} likes pears"}, cid)
    if step == 3:
        return call("delete_memory", {"memory_id": ids[1]}, cid)
    if step == 4:
        return call("search_memories", {"query": "pears", "limit": 20}, cid)
    return AIMessage("done")


USERS = ("alice", "bob")
RUNS = 4


def assert_each_user_has_exactly_their_own(memories_of: Callable[[str], list[Any]]) -> None:
    for user in USERS:
        memories = memories_of(user)
        assert sorted(m.memory for m in memories) == [f"{user} run {r} likes pears" for r in range(RUNS)]
        assert {m.user_id for m in memories} == {user}
        assert all(m.topics == [user] for m in memories)


def check_search_results(model: ScriptedChatModel) -> None:
    # Every search result a conversation got lists only its own user's memories.
    finals = [c for c in model.calls if len(tool_results(c)) == 5]
    assert len(finals) == len(USERS) * RUNS
    for messages in finals:
        who = re.match(r"I am (\w+)", str(messages[0].content))[1]  # type: ignore[index]
        listing = str(tool_results(messages)[-1].content)
        other = next(u for u in USERS if u != who)
        assert f"{who} run" in listing and other not in listing


@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_two_users_share_one_agent_concurrently_in_threads(
    store_factory: Any, backend: str, mode: str, kind: str
) -> None:
    store = store_factory(backend, mode)
    model = ScriptedChatModel(responder=per_user_script)
    agent = make_agent(kind, model, create_memory_tools(store))
    jobs = [(user, run) for run in range(RUNS) for user in USERS]

    def one(job: tuple[str, int]) -> Any:
        user, run = job
        how = "context" if run % 2 else "configurable"
        return agent.invoke({"messages": [HumanMessage(f"I am {user}, run {run}")]}, **run_kwargs(how, user))

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(one, jobs))
    assert all(r["messages"][-1].content == "done" for r in results)
    assert_each_user_has_exactly_their_own(lambda u: store.list_memories(user_id=u).items)
    check_search_results(model)


@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_two_users_share_one_agent_concurrently_with_gather(
    store_factory: Any, backend: str, mode: str, kind: str
) -> None:
    store: MemoryStore = store_factory(backend, mode)
    model = ScriptedChatModel(responder=per_user_script)
    agent = make_agent(kind, model, create_memory_tools(store), use_async=True)
    results = await asyncio.gather(
        *(
            agent.ainvoke(
                {"messages": [HumanMessage(f"I am {user}, run {run}")]},
                **run_kwargs("context" if run % 2 else "configurable", user),
            )
            for run in range(RUNS)
            for user in USERS
        )
    )
    assert all(r["messages"][-1].content == "done" for r in results)
    found = {u: (await store.alist_memories(user_id=u)).items for u in USERS}
    assert_each_user_has_exactly_their_own(found.__getitem__)
    check_search_results(model)


# ---------------------------------------------------------------- adversarial
@pytest.mark.parametrize("kind", ["create_agent", "state_graph"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_a_model_cannot_reach_another_users_memory(
    store_factory: Any, backend: str, mode: str, kind: str
) -> None:
    store = store_factory(backend, mode)
    secret = store.add("Alice is allergic to peanuts", user_id="alice", topics=["health"])
    unknown = "00000000-0000-4000-8000-000000000000"
    script = [
        # Another user's id, plus a forged user_id argument.
        call("update_memory", {"memory_id": secret.memory_id, "memory": "hacked", "user_id": "alice"}, "c1"),
        call("update_memory", {"memory_id": secret.memory_id, "memory": "hacked", "topics": None}, "c2"),
        call("delete_memory", {"memory_id": secret.memory_id}, "c3"),
        call("update_memory", {"memory_id": unknown, "memory": "hacked", "topics": None}, "c4"),
        call("search_memories", {"query": "allergic peanuts health", "limit": None}, "c5"),
        # A forged runtime: ToolNode strips it and injects the real one.
        call(
            "add_memory", {"memory": "Bob planted this", "runtime": {"context": {"user_id": "alice"}}}, "c6"
        ),
        call("delete_memory", {"memory_id": secret.memory_id, "user_id": "alice"}, "c7"),
        AIMessage("done"),
    ]
    model = ScriptedChatModel(responses=script)
    agent = make_agent(kind, model, create_memory_tools(store))
    agent.invoke({"messages": [HumanMessage("hello")]}, **run_kwargs("context", "bob"))

    replies = [model.calls[i][-1] for i in range(1, len(script))]
    assert all(isinstance(r, ToolMessage) for r in replies)
    forged_arg, foreign_update, foreign_delete, unknown_update, search, planted, forged_delete = replies
    for reply in (forged_arg, forged_delete):
        assert reply.status == "error"
        assert "user_id: unexpected argument" in reply.content
    for reply in (foreign_update, foreign_delete, unknown_update):
        assert reply.status == "error"
    assert foreign_update.content == (
        f"Error in update_memory: no memory with id {secret.memory_id!r}. "
        "Search the memories to find the right id. Nothing was changed."
    )
    assert foreign_update.content.replace(secret.memory_id, "X") == unknown_update.content.replace(
        unknown, "X"
    )
    assert "no memory with id" in foreign_delete.content
    assert search.status == "success" and search.content.startswith("No memories match")
    assert planted.status == "success"
    # Nothing of Alice's reached the model, and nothing of hers changed.
    for messages in model.calls:
        assert not any(secret.memory in str(m.content) for m in tool_results(messages))
    assert search.artifact == []
    assert store.list_memories(user_id="alice").items == [secret]
    assert [m.memory for m in store.list_memories(user_id="bob").items] == ["Bob planted this"]


def test_tool_node_hands_the_tools_a_tool_runtime(store_factory: Any) -> None:
    seen: list[object] = []

    class SpyAddMemoryTool(AddMemoryTool):
        def _scope(self, runtime: object, config: RunnableConfig) -> MemoryScope:
            seen.append(runtime)
            return super()._scope(runtime, config)

    store = store_factory("sqlite-memory", "sync")
    model = ScriptedChatModel(
        responses=[call("add_memory", {"memory": "Likes tea"}, "c1"), AIMessage("done")]
    )
    agent = create_agent(model, tools=[SpyAddMemoryTool(store=store)], context_schema=UserContext)
    agent.invoke({"messages": [HumanMessage("hi")]}, context=UserContext("u7"))
    assert len(seen) == 1
    assert isinstance(seen[0], ToolRuntime)
    assert seen[0].context == UserContext("u7")
    assert seen[0].tool_call_id == "c1"
    assert store.list_memories(user_id="u7").total == 1
