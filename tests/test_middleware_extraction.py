"""MemoryMiddleware in create_agent: automatic extraction, many users at once, closing, and Agno's rule.

Recall and the memory tools are in ``test_middleware.py``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from langmem_agno import (
    ClosedError,
    MemoryStore,
)
from langmem_agno.agents.middleware import MemoryMiddleware
from langmem_agno.testing.scripted import ScriptedChatModel
from middleware_support import (
    ASYNC,
    SYNC,
    Ctx,
    add_call,
    human_text,
    run_kwargs,
    system_text,
)


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
