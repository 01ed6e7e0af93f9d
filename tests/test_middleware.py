"""MemoryMiddleware in create_agent: recall, tools and extraction, sync and async, SQLite and MongoDB."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from pymongo import AsyncMongoClient, MongoClient

from langmem_agno import (
    ClosedError,
    MemoryRetriever,
    MemoryStore,
    MissingUserIdError,
    MongoMemoryStore,
    SQLiteMemoryStore,
    render_memories,
)
from langmem_agno.middleware import MemoryMiddleware
from langmem_agno.scripted import ScriptedChatModel

SYNC = [("sqlite-file", "sync"), ("mongo", "sync")]
ASYNC = [("sqlite-file", "async"), ("mongo", "async")]
SYSTEM = "You are a helpful assistant."
TAG = "<memories_from_previous_interactions>"
QUESTION = "How should you contact me, email or phone?"


@dataclass
class Ctx:
    """The runtime context the application passes to its agent."""

    user_id: str


def run_kwargs(how: str, user_id: str, thread: str | None = None) -> dict[str, Any]:
    """The two ways an application names the user, plus the thread for the checkpointer."""
    configurable: dict[str, Any] = {} if thread is None else {"thread_id": thread}
    if how == "context":
        return {"context": Ctx(user_id), "config": {"configurable": configurable}}
    return {"config": {"configurable": {**configurable, "user_id": user_id}}}


def add_call(text: str, call_id: str = "c1") -> AIMessage:
    return AIMessage("", tool_calls=[{"name": "add_memory", "args": {"memory": text}, "id": call_id}])


def system_text(call: list[BaseMessage]) -> str:
    """The system prompt of one model call ("" when it has none)."""
    return call[0].text if call and isinstance(call[0], SystemMessage) else ""


def human_text(call: list[BaseMessage]) -> str:
    return next(m.text for m in reversed(call) if isinstance(m, HumanMessage))


def seed(store: MemoryStore) -> None:
    store.add("The user prefers email over phone calls", user_id="u1", topics=["contact"])
    store.add("The user has a dog named Rex", user_id="u1")
    store.add("The user wants phone calls, never email", user_id="u2", topics=["contact"])


async def aseed(store: MemoryStore) -> None:
    await store.aadd("The user prefers email over phone calls", user_id="u1", topics=["contact"])
    await store.aadd("The user has a dog named Rex", user_id="u1")
    await store.aadd("The user wants phone calls, never email", user_id="u2", topics=["contact"])


def expected_block(store: MemoryStore, user_id: str, query: str) -> str:
    hits = MemoryRetriever(store=store).rank(query, user_id=user_id, k=5)
    return render_memories(hits, max_memories=5)


def check_recall_for_u1(model: ScriptedChatModel, block: str) -> None:
    assert block and "prefers email" in block and "dog named Rex" not in block
    assert model.calls, "the agent's model was never called"
    for call in model.calls:
        assert system_text(call) == f"{SYSTEM}\n\n{block}"
        assert "never email" not in system_text(call)


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


# ---------------------------------------------------------------- extraction
def city_extractor() -> ScriptedChatModel:
    """An extraction model that adds one memory per 'I live in X' in the new messages."""

    def respond(messages: list[BaseMessage]) -> AIMessage:
        new = messages[-1].text.split("New messages:", 1)[-1]
        cities = re.findall(r"I live in (\w+)", new)
        return AIMessage(
            "",
            tool_calls=[
                {"name": "add_memory", "args": {"memory": f"The user lives in {c}"}, "id": f"c{i}"}
                for i, c in enumerate(cities)
            ],
        )

    return ScriptedChatModel(responder=respond)


def two_turns(agent: Any, memory: MemoryMiddleware, how: str, *, flush: bool) -> None:
    thread = run_kwargs(how, "u1", thread="t1")
    agent.invoke({"messages": [HumanMessage("Hello! I live in Paris")]}, **thread)
    if flush:
        assert memory.flush(timeout=30)
    agent.invoke({"messages": [HumanMessage("Now I live in Lyon")]}, **thread)
    if flush:
        assert memory.flush(timeout=30)


def check_two_turns(store: MemoryStore, extractor: ScriptedChatModel) -> None:
    # Exactly one extraction call per run, and the second sees only the second run's messages.
    assert len(extractor.calls) == 2
    first, second = (human_text(call) for call in extractor.calls)
    assert "I live in Paris" in first
    assert "I live in Lyon" in second and "I live in Paris" not in second
    saved = sorted(m.memory for m in store.list_memories(user_id="u1").items)
    assert saved == ["The user lives in Lyon", "The user lives in Paris"]


@pytest.mark.parametrize("how", ["context", "configurable"])
@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_background_extraction_after_each_run(store_factory: Any, backend: str, mode: str, how: str) -> None:
    store: MemoryStore = store_factory(backend, mode)
    extractor = city_extractor()
    memory = MemoryMiddleware(store=store, model=extractor, tools=False)
    agent_model = ScriptedChatModel(responses=[AIMessage("Nice!")])
    agent = create_agent(agent_model, middleware=[memory], context_schema=Ctx, checkpointer=InMemorySaver())
    two_turns(agent, memory, how, flush=True)
    check_two_turns(store, extractor)
    assert memory.errors == []
    # What the first run extracted is recalled for the second run.
    assert "The user lives in Paris" in system_text(agent_model.calls[1])


@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_foreground_extraction_is_done_when_invoke_returns(
    store_factory: Any, backend: str, mode: str
) -> None:
    store: MemoryStore = store_factory(backend, mode)
    extractor = city_extractor()
    memory = MemoryMiddleware(store=store, model=extractor, background=False, agent_id="helper")
    agent = create_agent(
        ScriptedChatModel(responses=[AIMessage("Nice!")]), middleware=[memory], checkpointer=InMemorySaver()
    )
    two_turns(agent, memory, "context", flush=False)
    check_two_turns(store, extractor)
    assert {m.agent_id for m in store.list_memories(user_id="u1").items} == {"helper"}
    assert memory.last_result is not None
    assert [m.memory for m in memory.last_result.added] == ["The user lives in Lyon"]


@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_extraction_async(store_factory: Any, backend: str, mode: str, background: bool) -> None:
    store: MemoryStore = store_factory(backend, mode)
    extractor = city_extractor()
    memory = MemoryMiddleware(store=store, model=extractor, background=background)
    agent = create_agent(
        ScriptedChatModel(responses=[AIMessage("Nice!")]), middleware=[memory], checkpointer=InMemorySaver()
    )
    thread = run_kwargs("context", "u1", thread="t1")
    await agent.ainvoke({"messages": [HumanMessage("Hello! I live in Paris")]}, **thread)
    assert await memory.aflush(timeout=30)
    await agent.ainvoke({"messages": [HumanMessage("Now I live in Lyon")]}, **thread)
    assert await memory.aflush(timeout=30)
    assert len(extractor.calls) == 2
    assert "I live in Paris" not in human_text(extractor.calls[1])
    saved = sorted(m.memory for m in (await store.alist_memories(user_id="u1")).items)
    assert saved == ["The user lives in Lyon", "The user lives in Paris"]
    assert memory.errors == []


def test_extraction_off_needs_no_model_and_on_needs_one(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    with pytest.raises(ValueError, match="needs model="):
        MemoryMiddleware(store=store)
    memory = MemoryMiddleware(store=store, extract=False)
    agent = create_agent(ScriptedChatModel(responses=[AIMessage("ok")]), middleware=[memory])
    agent.invoke({"messages": [HumanMessage("I live in Paris")]}, context=Ctx("u1"))
    assert memory.flush() and memory.manager is None
    assert store.list_memories(user_id="u1").items == []


def test_a_failed_background_extraction_is_recorded_and_the_reply_still_arrives(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    broken = ScriptedChatModel(error=RuntimeError("model down"))
    memory = MemoryMiddleware(store=store, model=broken)
    agent = create_agent(ScriptedChatModel(responses=[AIMessage("Nice!")]), middleware=[memory])
    out = agent.invoke({"messages": [HumanMessage("I live in Paris")]}, context=Ctx("u1"))
    assert out["messages"][-1].content == "Nice!"
    assert memory.flush(timeout=30)
    assert [e.user_id for e in memory.errors] == ["u1"]
    assert "model down" in str(memory.errors[0].error)


def test_a_failed_background_extraction_is_retried_with_the_threads_next_run(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    cities = city_extractor()
    calls = 0

    def down_once(messages: list[BaseMessage]) -> AIMessage:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model down")
        assert cities.responder is not None
        return cities.responder(messages)

    extractor = ScriptedChatModel(responder=down_once)
    memory = MemoryMiddleware(store=store, model=extractor, recall=False, tools=False)
    agent = create_agent(
        ScriptedChatModel(responses=[AIMessage("Nice!")]), middleware=[memory], checkpointer=InMemorySaver()
    )
    two_turns(agent, memory, "context", flush=True)
    assert [str(e.error.__cause__) for e in memory.errors] == ["model down"]
    assert len(extractor.calls) == 2 and "I live in Paris" in human_text(extractor.calls[1])
    assert sorted(m.memory for m in store.list_memories(user_id="u1")) == [
        "The user lives in Lyon",
        "The user lives in Paris",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"k": 0}, "k must be a positive integer"),
        ({"max_memories": "3"}, "max_memories must be a positive integer"),
        ({"agent_id": ""}, "agent_id must not be empty"),
        ({"max_chars": 0}, "max_chars must be a positive integer"),
        ({"private_to_agent": "yes"}, "private_to_agent must be True, False or None, got 'yes'"),
        (
            {"extract": True, "model": ScriptedChatModel(), "background": False, "debounce_seconds": 1.0},
            "debounce_seconds needs background=True",
        ),
    ],
)
def test_bad_options_are_rejected_by_name(store_factory: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MemoryMiddleware(store=store_factory("sqlite-memory"), **{"extract": False, **options})
    with pytest.raises(ValueError, match="store must be a MemoryStore"):
        MemoryMiddleware(store="agno.db", extract=False)  # type: ignore[arg-type]


# ---------------------------------------------------------------- many users at once
USERS = {"u1": "Paris", "u2": "Lyon", "u3": "Nice"}
RUNS = 3


def seed_cities(store: MemoryStore) -> None:
    for user, city in USERS.items():
        store.add(f"The user's home town is {city}", user_id=user)


def check_no_mixing(store_items: dict[str, list[str]], agent_model: ScriptedChatModel) -> None:
    for call in agent_model.calls:
        user = re.search(r"I am (u\d)", human_text(call))
        assert user is not None
        system = system_text(call)
        for other, city in USERS.items():
            assert (f"home town is {city}" in system) == (other == user.group(1)), (user.group(1), system)
    for user, city in USERS.items():
        assert sorted(store_items[user]) == sorted(
            [f"The user's home town is {city}", *[f"The user lives in {city}{run}" for run in range(RUNS)]]
        )


def mixed_agent(store: MemoryStore) -> tuple[Any, MemoryMiddleware, ScriptedChatModel]:
    def extract(messages: list[BaseMessage]) -> AIMessage:
        cities = re.findall(r"I live in (\w+)", messages[-1].text.split("New messages:", 1)[-1])
        return AIMessage("", tool_calls=[add_call(f"The user lives in {c}").tool_calls[0] for c in cities])

    memory = MemoryMiddleware(store=store, model=ScriptedChatModel(responder=extract), tools=False)
    agent_model = ScriptedChatModel(responses=[AIMessage("Nice!")])
    agent = create_agent(agent_model, middleware=[memory], context_schema=Ctx, checkpointer=InMemorySaver())
    return agent, memory, agent_model


def turn(user: str, run: int) -> dict[str, Any]:
    return {"messages": [HumanMessage(f"I am {user}. What about my home town? I live in {USERS[user]}{run}")]}


@pytest.mark.parametrize(("backend", "mode"), SYNC, ids=[b for b, _ in SYNC])
def test_users_in_threads_never_mix(store_factory: Any, backend: str, mode: str) -> None:
    store: MemoryStore = store_factory(backend, mode)
    seed_cities(store)
    agent, memory, agent_model = mixed_agent(store)
    jobs = [(user, run) for run in range(RUNS) for user in USERS]

    def one(job: tuple[str, int]) -> Any:
        user, run = job
        how = "context" if run % 2 else "configurable"
        return agent.invoke(turn(user, run), **run_kwargs(how, user, thread=f"{user}-{run}"))

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(one, jobs))
    assert memory.flush(timeout=60) and memory.errors == []
    check_no_mixing({u: [m.memory for m in store.list_memories(user_id=u).items] for u in USERS}, agent_model)


@pytest.mark.parametrize(("backend", "mode"), ASYNC, ids=[b for b, _ in ASYNC])
async def test_users_with_gather_never_mix(store_factory: Any, backend: str, mode: str) -> None:
    store: MemoryStore = store_factory(backend, mode)
    for user, city in USERS.items():
        await store.aadd(f"The user's home town is {city}", user_id=user)
    agent, memory, agent_model = mixed_agent(store)
    await asyncio.gather(
        *(
            agent.ainvoke(turn(user, run), **run_kwargs("context", user, thread=f"{user}-{run}"))
            for run in range(RUNS)
            for user in USERS
        )
    )
    assert await memory.aflush(timeout=60) and memory.errors == []
    found = {u: [m.memory for m in (await store.alist_memories(user_id=u)).items] for u in USERS}
    check_no_mixing(found, agent_model)


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


# ---------------------------------------------------------------- close
def memory_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "langmem-agno-memory"}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_close_finishes_extraction_and_stops_the_worker(store_factory: Any, use_async: bool) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    before = memory_threads()
    for request, city in enumerate(["Paris", "Lyon", "Nice"]):
        # One middleware and agent per request, as a web handler might build them.
        memory = MemoryMiddleware(store=store, model=city_extractor(), tools=False, recall=False)
        agent = create_agent(ScriptedChatModel(responses=[AIMessage("Nice!")]), middleware=[memory])
        turn = {"messages": [HumanMessage(f"I live in {city}")]}
        user = Ctx(f"u{request}")
        if use_async:
            agent.invoke(turn, context=user)  # starts the worker thread
            await agent.ainvoke(turn, context=user)
            assert await memory.aclose(timeout=30)
        else:
            agent.invoke(turn, context=user)
            assert memory.close(timeout=30)
        assert memory.errors == []
        assert [m.memory for m in store.list_memories(user_id=f"u{request}")] == [f"The user lives in {city}"]
        with pytest.raises(ClosedError, match="extractor is closed"):
            agent.invoke(turn, context=user)
    assert memory_threads() <= before
    assert MemoryMiddleware(store=store, extract=False).close()


def test_automatic_or_agentic_memory_as_agno_defines_them(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory")
    extractor = ScriptedChatModel(responses=[])
    # Agno's recommendation: automatic extraction on, the memory tools off.
    default = MemoryMiddleware(store=store, model=extractor)
    assert default.node is not None and default.tools == []
    # Tools on: agentic memory takes precedence, extraction is off (no model needed).
    agentic = MemoryMiddleware(store=store, tools=True)
    assert agentic.node is None and agentic.tools
    # Extraction off: the agent keeps its memory through the tools.
    assert MemoryMiddleware(store=store, extract=False).tools
    # Both, when asked for explicitly; neither, likewise.
    both = MemoryMiddleware(store=store, model=extractor, tools=True, extract=True)
    assert both.node is not None and both.tools
    neither = MemoryMiddleware(store=store, tools=False, extract=False)
    assert neither.node is None and neither.tools == []
    for memory in (default, agentic, both, neither):
        assert memory.close()
