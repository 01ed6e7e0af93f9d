"""MemoryMiddleware in create_agent: recall and the memory tools, sync and async, SQLite and MongoDB.

Extraction, many users at once and closing are in ``test_middleware_extraction.py``; the shared
helpers in ``middleware_support.py``.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from pymongo import AsyncMongoClient, MongoClient

from langmem_agno import (
    MemoryRetriever,
    MemoryStore,
    MissingUserIdError,
    MongoMemoryStore,
    SQLiteMemoryStore,
    render_memories,
)
from langmem_agno.agents.middleware import MemoryMiddleware
from langmem_agno.testing.scripted import ScriptedChatModel
from middleware_support import (
    ASYNC,
    QUESTION,
    SYNC,
    SYSTEM,
    TAG,
    Ctx,
    add_call,
    aseed,
    check_recall_for_u1,
    expected_block,
    run_kwargs,
    seed,
    system_text,
)


# ---------------------------------------------------------------- recall
@pytest.mark.parametrize("how", ["context", "configurable"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_model_receives_exactly_the_users_relevant_memories(
    store_factory: Any, backend: str, mode: str, how: str
) -> None:
    store: MemoryStore = store_factory(backend, mode)
    seed(store)
    model = ScriptedChatModel(responses=[AIMessage("Email it is.")])
    memory = MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)
    agent = create_agent(model, system_prompt=SYSTEM, middleware=[memory], context_schema=Ctx)
    out = agent.invoke({"messages": [HumanMessage(QUESTION)]}, **run_kwargs(how, "u1"))
    check_recall_for_u1(model, expected_block(store, "u1", QUESTION))
    # The block goes to the model call only: nothing of it is kept in the agent's messages.
    assert [type(m) for m in out["messages"]] == [HumanMessage, AIMessage]


@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_model_receives_the_users_memories_async(store_factory: Any, backend: str, mode: str) -> None:
    store: MemoryStore = store_factory(backend, mode)
    await aseed(store)
    model = ScriptedChatModel(responses=[AIMessage("Email it is.")])
    memory = MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)
    agent = create_agent(model, system_prompt=SYSTEM, middleware=[memory], context_schema=Ctx)
    out = await agent.ainvoke({"messages": [HumanMessage(QUESTION)]}, context=Ctx("u1"))
    hits = await MemoryRetriever(store=store).arank(QUESTION, user_id="u1", k=5)
    check_recall_for_u1(model, render_memories(hits, max_memories=5))
    assert [type(m) for m in out["messages"]] == [HumanMessage, AIMessage]


def test_every_model_call_of_a_run_gets_the_block_for_the_latest_user_turn(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    model = ScriptedChatModel(responses=[add_call("The user is moving to Lyon"), AIMessage("Noted.")])
    memory = MemoryMiddleware(store=store, adaptive=False, extract=False)
    agent = create_agent(model, system_prompt=SYSTEM, middleware=[memory], context_schema=Ctx)
    agent.invoke({"messages": [HumanMessage(QUESTION)]}, context=Ctx("u1"))
    assert len(model.calls) == 2  # before and after the tool call
    check_recall_for_u1(model, expected_block(store, "u1", QUESTION))


def test_no_relevant_memory_leaves_the_system_prompt_alone(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    model = ScriptedChatModel(responses=[AIMessage("Hi.")])
    agent = create_agent(
        model, system_prompt=SYSTEM, middleware=[MemoryMiddleware(store=store, adaptive=False, extract=False)]
    )
    agent.invoke({"messages": [HumanMessage("What is the boiling point of water?")]}, context=Ctx("u1"))
    assert system_text(model.calls[0]) == SYSTEM


def test_block_is_appended_to_a_system_prompt_made_of_content_blocks(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    prompt = SystemMessage(content=[{"type": "text", "text": SYSTEM}])
    agent = create_agent(
        model,
        system_prompt=prompt,
        middleware=[MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)],
    )
    agent.invoke({"messages": [HumanMessage(QUESTION)]}, context=Ctx("u1"))
    check_recall_for_u1(model, expected_block(store, "u1", QUESTION))


def test_budget_limits_the_injected_block(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    for i in range(30):
        store.add(f"The user sent email number {i} about the quarterly budget report", user_id="u1")
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    memory = MemoryMiddleware(store=store, extract=False, tools=False, k=20, max_memories=8, max_chars=600)
    create_agent(model, middleware=[memory]).invoke(
        {"messages": [HumanMessage("what about the budget report email?")]}, context=Ctx("u1")
    )
    block = system_text(model.calls[0])
    assert TAG in block and len(block) <= 600
    assert block.count("\n- ") <= 8


def test_agent_id_limits_recall_to_this_agents_memories(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    store.add("The user prefers email for invoices", user_id="u1", agent_id="billing")
    store.add("The user prefers email for bug reports", user_id="u1", agent_id="support")
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    memory = MemoryMiddleware(store=store, extract=False, tools=False, agent_id="billing")
    create_agent(model, middleware=[memory]).invoke(
        {"messages": [HumanMessage("should I email you?")]}, context=Ctx("u1")
    )
    assert "invoices" in system_text(model.calls[0])
    assert "bug reports" not in system_text(model.calls[0])


@pytest.mark.parametrize(
    ("options", "found"),
    [
        ({"agent_id": "billing"}, ["The user prefers email for invoices"]),
        ({"agent_id": "billing", "private_to_agent": False}, ["bug reports", "invoices"]),
        ({}, ["bug reports", "invoices"]),
    ],
    ids=["agent-default-private", "agent-opted-out", "no-agent"],
)
def test_tools_see_what_recall_sees_by_default(
    store_factory: Any, options: dict[str, Any], found: list[str]
) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    store.add("The user prefers email for invoices", user_id="u1", agent_id="billing")
    store.add("The user prefers email for bug reports", user_id="u1", agent_id="support")
    search = {"name": "search_memories", "args": {"query": "email", "limit": None}, "id": "s1"}
    model = ScriptedChatModel(responses=[AIMessage("", tool_calls=[search]), AIMessage("ok")])
    memory = MemoryMiddleware(store=store, extract=False, recall=False, **options)
    out = create_agent(model, middleware=[memory]).invoke(
        {"messages": [HumanMessage("what do you know about my email?")]}, context=Ctx("u1")
    )
    (reply,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    hits = sorted(hit["memory"] for hit in reply.artifact)
    assert len(hits) == len(found) and all(word in hit for word, hit in zip(found, hits, strict=True))


@pytest.mark.parametrize("use_async", [False, True])
async def test_an_unreachable_store_costs_the_memories_not_the_answer(use_async: bool) -> None:
    dead = MongoClient("mongodb://127.0.0.1:9", serverSelectionTimeoutMS=100)
    store = MongoMemoryStore(
        client=dead, async_client=AsyncMongoClient("mongodb://127.0.0.1:9", serverSelectionTimeoutMS=100)
    )
    model = ScriptedChatModel(responses=[AIMessage("Hello!")])
    agent = create_agent(
        model, system_prompt=SYSTEM, middleware=[MemoryMiddleware(store=store, extract=False)]
    )
    turn = {"messages": [HumanMessage(QUESTION)]}
    out = await agent.ainvoke(turn, context=Ctx("u1")) if use_async else agent.invoke(turn, context=Ctx("u1"))
    assert out["messages"][-1].content == "Hello!"
    assert system_text(model.calls[0]) == SYSTEM
    dead.close()


def test_recall_off_injects_nothing(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    agent = create_agent(
        model, system_prompt=SYSTEM, middleware=[MemoryMiddleware(store=store, recall=False, extract=False)]
    )
    agent.invoke({"messages": [HumanMessage(QUESTION)]}, context=Ctx("u1"))
    assert system_text(model.calls[0]) == SYSTEM


def test_missing_user_is_a_clear_error_unless_a_default_is_set(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    agent = create_agent(model, middleware=[MemoryMiddleware(store=store, extract=False, tools=False)])
    with pytest.raises(MissingUserIdError, match="user_id"):
        agent.invoke({"messages": [HumanMessage(QUESTION)]})
    default = MemoryMiddleware(store=store, extract=False, tools=False, default_user_id="u2")
    create_agent(model, middleware=[default]).invoke({"messages": [HumanMessage(QUESTION)]})
    assert "never email" in system_text(model.calls[-1])


# ---------------------------------------------------------------- tools
@pytest.mark.parametrize("how", ["context", "configurable"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_memory_tools_are_registered_and_write_for_the_runs_user(
    store_factory: Any, backend: str, mode: str, how: str
) -> None:
    store: MemoryStore = store_factory(backend, mode)
    model = ScriptedChatModel(responses=[add_call("The user drinks green tea"), AIMessage("Noted.")])
    memory = MemoryMiddleware(store=store, recall=False, extract=False, agent_id="helper")
    agent = create_agent(model, middleware=[memory], context_schema=Ctx)
    out = agent.invoke({"messages": [HumanMessage("I drink green tea")]}, **run_kwargs(how, "u1"))
    assert model.bound_tool_names[-1] == ["add_memory", "update_memory", "delete_memory", "search_memories"]
    result = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    assert result.status == "success" and result.content.startswith("Memory added")
    (saved,) = store.list_memories(user_id="u1").items
    assert (saved.memory, saved.agent_id) == ("The user drinks green tea", "helper")
    assert store.list_memories(user_id="u2").items == []


@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_memory_tools_work_async(store_factory: Any, backend: str, mode: str) -> None:
    store: MemoryStore = store_factory(backend, mode)
    model = ScriptedChatModel(responses=[add_call("The user drinks green tea"), AIMessage("Noted.")])
    agent = create_agent(model, middleware=[MemoryMiddleware(store=store, recall=False, extract=False)])
    await agent.ainvoke({"messages": [HumanMessage("I drink green tea")]}, context=Ctx("u1"))
    assert [m.memory for m in (await store.alist_memories(user_id="u1")).items] == [
        "The user drinks green tea"
    ]


@tool
def today() -> str:
    """Return today's date."""
    return "2026-01-01"


def test_tool_actions_and_tools_off(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    only_search = MemoryMiddleware(store=store, extract=False, tool_actions=("search",))
    assert [t.name for t in only_search.tools] == ["search_memories"]
    model = ScriptedChatModel(responses=[add_call("The user drinks green tea"), AIMessage("done")])
    no_tools = MemoryMiddleware(store=store, tools=False, extract=False)
    assert no_tools.tools == []
    agent = create_agent(model, tools=[today], middleware=[no_tools])
    out = agent.invoke({"messages": [HumanMessage("I drink green tea")]}, context=Ctx("u1"))
    assert model.bound_tool_names[-1] == ["today"]
    # The model's call to a tool the agent does not have is answered with an error; nothing is stored.
    (answer,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert answer.status == "error" and "add_memory" in answer.text
    assert store.list_memories(user_id="u1").items == []


# ---------------------------------------------------------------- recall once per user turn
def tool_loop_model() -> ScriptedChatModel:
    """An agent model that calls a tool twice before answering: three model calls per run."""
    call = {"name": "today", "args": {}, "id": "d1"}
    return ScriptedChatModel(
        responses=[
            AIMessage("", tool_calls=[call]),
            AIMessage("", tool_calls=[{**call, "id": "d2"}]),
            AIMessage("Email it is."),
        ]
    )


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_tool_loop_recalls_once_per_user_turn(
    store_factory: Any, monkeypatch: pytest.MonkeyPatch, use_async: bool
) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    reads: list[str] = []
    rank, arank = MemoryRetriever.rank, MemoryRetriever.arank

    def spy_rank(self: MemoryRetriever, query: str, *args: Any, **kwargs: Any) -> Any:
        if self is retriever:
            reads.append(query)
        return rank(self, query, *args, **kwargs)

    async def spy_arank(self: MemoryRetriever, query: str, *args: Any, **kwargs: Any) -> Any:
        if self is retriever:
            reads.append(query)
        return await arank(self, query, *args, **kwargs)

    monkeypatch.setattr(MemoryRetriever, "rank", spy_rank)
    monkeypatch.setattr(MemoryRetriever, "arank", spy_arank)
    model = tool_loop_model()
    memory = MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)
    assert memory.injector is not None
    retriever = memory.injector.retriever
    agent = create_agent(
        model, tools=[today], system_prompt=SYSTEM, middleware=[memory], checkpointer=InMemorySaver()
    )
    thread = run_kwargs("context", "u1", thread="t1")

    async def run(text: str) -> None:
        turn = {"messages": [HumanMessage(text)]}
        await agent.ainvoke(turn, **thread) if use_async else agent.invoke(turn, **thread)

    await run(QUESTION)
    assert len(model.calls) == 3
    assert reads == [QUESTION]
    check_recall_for_u1(model, expected_block(store, "u1", QUESTION))
    # The next user turn recalls again, for its own words.
    await run("Do I have a dog?")
    assert reads == [QUESTION, "Do I have a dog?"]
    assert "dog named Rex" in system_text(model.calls[-1])


def test_the_same_words_in_another_run_or_for_another_user_are_recalled_again(
    store_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    seed(store)
    reads: list[str | None] = []
    rank = MemoryRetriever.rank

    def spy_rank(self: MemoryRetriever, query: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("user_id"))
        return rank(self, query, *args, **kwargs)

    monkeypatch.setattr(MemoryRetriever, "rank", spy_rank)
    model = ScriptedChatModel(responses=[AIMessage("ok")])
    memory = MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)
    agent = create_agent(model, system_prompt=SYSTEM, middleware=[memory])
    for user in ("u1", "u1", "u2"):
        agent.invoke({"messages": [HumanMessage(QUESTION)]}, context=Ctx(user))
    assert reads == ["u1", "u1", "u2"]
    assert "never email" in system_text(model.calls[-1]) and "prefers email" not in system_text(
        model.calls[-1]
    )


# ---------------------------------------------------------------- a record the store cannot read
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_stored_record_that_cannot_be_read_costs_the_memories_not_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, use_async: bool
) -> None:
    path = tmp_path / "agno.db"
    store = SQLiteMemoryStore(path)
    seed(store)
    # Another program wrote a timestamp that is not epoch seconds.
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE agno_memories SET created_at = 'yesterday' WHERE user_id = 'u1'")
    model = ScriptedChatModel(responses=[AIMessage("Hello!")])
    agent = create_agent(
        model,
        system_prompt=SYSTEM,
        middleware=[MemoryMiddleware(store=store, adaptive=False, extract=False, tools=False)],
    )
    turn = {"messages": [HumanMessage(QUESTION)]}
    with caplog.at_level(logging.WARNING):
        out = (
            await agent.ainvoke(turn, context=Ctx("u1"))
            if use_async
            else agent.invoke(turn, context=Ctx("u1"))
        )
    assert out["messages"][-1].content == "Hello!"
    assert system_text(model.calls[0]) == SYSTEM
    # Reported by the middleware (recall failed) or by the store's reader (the row skipped).
    warnings = [
        r.getMessage() for r in caplog.records if r.name in ("langmem_agno.middleware", "langmem_agno.record")
    ]
    assert warnings and all("'yesterday'" in w for w in warnings)
    # The other user's memories are untouched and still recalled.
    agent.invoke(turn, context=Ctx("u2"))
    assert "never email" in system_text(model.calls[-1])
