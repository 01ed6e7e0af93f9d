from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from conftest import POSTGRES
from extraction_support import echo_facts, run_node
from langmem_agno import ClosedError, MemoryStore, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.node import MemoryNode, create_memory_node
from langmem_agno.scripted import ScriptedChatModel


def chat_graph(node: MemoryNode) -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("chat", lambda state: {"messages": [AIMessage("ok")]})
    graph.add_node("memory", node)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", "memory")
    graph.add_edge("memory", END)
    return graph.compile(checkpointer=InMemorySaver())


def memories(store: MemoryStore, user_id: str) -> set[str]:
    return {m.memory for m in store.list_memories(user_id=user_id)}


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_flush_loses_nothing_when_many_turns_are_queued(store_factory: Any, backend: str) -> None:
    store = store_factory(backend)
    gate = threading.Event()

    def gated(messages: list[BaseMessage]) -> AIMessage:
        gate.wait(10)
        return echo_facts(messages)

    model = ScriptedChatModel(responder=gated)
    node = create_memory_node(MemoryManager(model, store), background=True)
    graph = chat_graph(node)
    expected: dict[str, set[str]] = {"u1": set(), "u2": set()}
    for turn in range(10):
        for user in expected:
            config: RunnableConfig = {"configurable": {"thread_id": f"{user}-t", "user_id": user}}
            graph.invoke({"messages": [HumanMessage(f"fact {turn} of {user}")]}, config)
            expected[user].add(f"User said: fact {turn} of {user}")
    # The node returned at once: the model is still held at the gate, nothing is written.
    assert store.list_memories(user_id="u1").total == 0
    assert node.worker is not None and node.worker.pending > 0
    gate.set()
    assert node.flush(timeout=30)
    assert node.errors == []
    assert len(model.calls) == 20
    for user, facts in expected.items():
        assert memories(store, user) == facts


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
async def test_async_background_with_aflush(store_factory: Any, backend: str) -> None:
    store = store_factory(backend, "async")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=True)
    graph = chat_graph(node)
    for turn in range(8):
        config: RunnableConfig = {"configurable": {"thread_id": "t", "user_id": "u1"}}
        await graph.ainvoke({"messages": [HumanMessage(f"fact {turn}")]}, config)
    assert await node.aflush(timeout=30)
    assert node.errors == []
    page = await store.alist_memories(user_id="u1")
    assert {m.memory for m in page} == {f"User said: fact {t}" for t in range(8)}
    # Each turn's job saw only its own turn.
    assert len(model.calls) == 8


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_debounce_merges_quick_turns_of_a_thread_into_one_call(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    # A debounce far longer than the test: only flush() makes the merged job run.
    node = create_memory_node(MemoryManager(model, store), background=True, debounce_seconds=60)
    graph = chat_graph(node)
    turns = ["I like tea", "I like jam", "I like toast"]
    for text in turns:
        config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
        if mode == "sync":
            graph.invoke({"messages": [HumanMessage(text)]}, config)
        else:
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config)
    other = {"configurable": {"thread_id": "t2", "user_id": "u2"}}
    if mode == "sync":
        graph.invoke({"messages": [HumanMessage("I like rain")]}, other)
        assert model.calls == []
        assert node.flush(timeout=30)
    else:
        await graph.ainvoke({"messages": [HumanMessage("I like rain")]}, other)
        assert model.calls == []
        assert await node.aflush(timeout=30)
    assert len(model.calls) == 2
    merged = next(str(c[-1].content) for c in model.calls if "tea" in str(c[-1].content))
    assert all(f"user: {t}" in merged for t in turns)
    assert memories(store, "u1") == {f"User said: {t}" for t in turns}
    assert memories(store, "u2") == {"User said: I like rain"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_background_errors_are_kept_and_nothing_is_written(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts, error=RuntimeError("quota exceeded"))
    node = create_memory_node(MemoryManager(model, store), background=True)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    state = {"messages": [HumanMessage("I like tea")]}
    await run_node(node, state, config, mode)
    assert len(node.errors) == 1
    error = node.errors[0]
    assert error.user_id == "u1" and "quota exceeded" in str(error.error)
    assert store.list_memories(user_id="u1").total == 0


def test_background_errors_raised_by_the_manager_are_kept_too() -> None:
    model = ScriptedChatModel(error=RuntimeError("boom"))
    manager = MemoryManager(model, SQLiteMemoryStore(":memory:"), raise_on_error=True)
    node = create_memory_node(manager, background=True)
    node.invoke({"messages": [HumanMessage("I like tea")]}, {"configurable": {"user_id": "u1"}})
    assert node.flush(timeout=30)
    assert [str(e.error.__cause__) for e in node.errors] == ["boom"]


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
def test_two_users_in_parallel_never_mix_memories(background: bool, tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=background)
    graph = chat_graph(node)

    def converse(user: str) -> None:
        for turn in range(15):
            config: RunnableConfig = {"configurable": {"thread_id": f"{user}-thread", "user_id": user}}
            graph.invoke({"messages": [HumanMessage(f"{user} fact {turn}")]}, config)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(converse, ["alice", "bob"]))
    assert node.flush(timeout=30)
    for user in ("alice", "bob"):
        assert memories(store, user) == {f"User said: {user} fact {t}" for t in range(15)}


@pytest.mark.slow  # a subprocess: interpreter exit is what is tested
def test_pending_work_is_flushed_at_interpreter_exit(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    script = textwrap.dedent(
        """
        import threading
        from langchain_core.messages import AIMessage, HumanMessage
        from langmem_agno import SQLiteMemoryStore
        from langmem_agno.extraction import MemoryManager
        from langmem_agno.node import create_memory_node
        from langmem_agno.scripted import ScriptedChatModel

        gate = threading.Event()

        def slow(messages):
            gate.wait(0.1)
            fact = str(messages[-1].content).splitlines()[-1].removeprefix("user: ")
            call = {"name": "add_memory", "args": {"memory": "User said: " + fact}, "id": "c"}
            return AIMessage("", tool_calls=[call])

        store = SQLiteMemoryStore(DB_PATH)
        node = create_memory_node(MemoryManager(ScriptedChatModel(responder=slow), store), background=True)
        for i in range(5):
            node.invoke({"messages": [HumanMessage(f"fact {i}")]}, {"configurable": {"user_id": "u1"}})
        assert node.worker.pending > 0
        # No flush: the interpreter exits with work queued.
        """
    ).replace("DB_PATH", repr(str(db)))
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert memories(SQLiteMemoryStore(db), "u1") == {f"User said: fact {i}" for i in range(5)}


def test_a_debounced_job_runs_on_its_own_without_flush() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=True, debounce_seconds=0.05)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    node.invoke({"messages": [HumanMessage("I like tea", id="m1")]}, config)
    assert node.worker is not None
    finished = threading.Event()
    # Poll (bounded) instead of flushing: flush would run the job itself.
    for _ in range(500):
        if node.worker.results:
            finished.set()
            break
        finished.wait(0.02)
    assert finished.is_set()
    assert len(model.calls) == 1
    assert memories(store, "u1") == {"User said: I like tea"}


class FailsFirst:
    """A responder whose first call fails (after ``gate`` opens) and whose later calls echo the facts."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.failed = False
        self.lock = threading.Lock()

    def __call__(self, messages: list[BaseMessage]) -> AIMessage:
        with self.lock:
            first, self.failed = not self.failed, True
        if first:
            self.gate.wait(10)
            raise RuntimeError("model overloaded")
        return echo_facts(messages)


def stored(store: MemoryStore, user_id: str) -> list[str]:
    return sorted(m.memory for m in store.list_memories(user_id=user_id))


async def run_turn(graph: Any, node: MemoryNode, text: str, mode: str) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    if mode == "sync":
        graph.invoke({"messages": [HumanMessage(text)]}, config)
        assert node.flush(timeout=30)
    else:
        await graph.ainvoke({"messages": [HumanMessage(text)]}, config)
        assert await node.aflush(timeout=30)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failed_background_extraction_is_retried_with_the_threads_next_turn(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    responder = FailsFirst()
    model = ScriptedChatModel(responder=responder)
    node = create_memory_node(MemoryManager(model, store), background=True)
    graph = chat_graph(node)
    await run_turn(graph, node, "I like tea", mode)
    assert [str(e.error.__cause__) for e in node.errors] == ["model overloaded"]
    assert stored(store, "u1") == []
    await run_turn(graph, node, "I like jam", mode)
    # The second call carried the failed turn and the new one together.
    assert ["user: I like tea" in str(c[-1].content) for c in model.calls] == [True, True]
    assert stored(store, "u1") == ["User said: I like jam", "User said: I like tea"]
    await run_turn(graph, node, "I like toast", mode)
    assert "I like tea" not in str(model.calls[-1][-1].content)
    assert "I like jam" not in str(model.calls[-1][-1].content)
    assert stored(store, "u1") == [
        "User said: I like jam",
        "User said: I like tea",
        "User said: I like toast",
    ]
    assert len(node.errors) == 1


def test_a_turn_overlapping_a_failing_job_neither_repeats_nor_loses_messages() -> None:
    store = SQLiteMemoryStore(":memory:")
    responder = FailsFirst()
    responder.gate.clear()
    model = ScriptedChatModel(responder=responder)
    node = create_memory_node(MemoryManager(model, store), background=True)
    graph = chat_graph(node)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    graph.invoke({"messages": [HumanMessage("I like tea")]}, config)
    # The second turn is claimed while the first job is still running (held at the gate).
    graph.invoke({"messages": [HumanMessage("I like jam")]}, config)
    responder.gate.set()
    assert node.flush(timeout=30)
    assert len(node.errors) == 1
    assert len(model.calls) == 2 and "I like tea" not in str(model.calls[1][-1].content)
    assert stored(store, "u1") == ["User said: I like jam"]
    graph.invoke({"messages": [HumanMessage("I like toast")]}, config)
    assert node.flush(timeout=30)
    last = str(model.calls[-1][-1].content)
    assert "user: I like tea" in last and "user: I like toast" in last and "I like jam" not in last
    assert stored(store, "u1") == [
        "User said: I like jam",
        "User said: I like tea",
        "User said: I like toast",
    ]


def test_messages_handed_back_twice_are_retried_once() -> None:
    store = SQLiteMemoryStore(":memory:")
    calls = 0

    def fails_twice(messages: list[BaseMessage]) -> AIMessage:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError(f"failure {calls}")
        return echo_facts(messages)

    model = ScriptedChatModel(responder=fails_twice)
    node = create_memory_node(MemoryManager(model, store), background=True)
    graph = chat_graph(node)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    for text in ("I like tea", "I like jam", "I like toast"):
        graph.invoke({"messages": [HumanMessage(text)]}, config)
        assert node.flush(timeout=30)
    last = str(model.calls[-1][-1].content)
    assert [last.count(f"user: I like {food}") for food in ("tea", "jam", "toast")] == [1, 1, 1]
    assert stored(store, "u1") == [
        "User said: I like jam",
        "User said: I like tea",
        "User said: I like toast",
    ]


def test_retry_works_for_messages_without_ids() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=FailsFirst())
    node = create_memory_node(MemoryManager(model, store), background=True)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    history: list[BaseMessage] = [HumanMessage("I like tea"), AIMessage("ok")]
    node.invoke({"messages": history}, config)
    assert node.flush(timeout=30)
    history += [HumanMessage("I like jam"), AIMessage("ok")]
    node.invoke({"messages": history}, config)
    assert node.flush(timeout=30)
    assert all(m.id is None for m in history)
    assert str(model.calls[-1][-1].content).count("user: I like tea") == 1
    assert stored(store, "u1") == ["User said: I like jam", "User said: I like tea"]


# ------------------------------------------------------------ one event loop per request
def request_on_its_own_loop(node: MemoryNode, fact: str) -> None:
    """One web request served with ``asyncio.run()``: its loop is closed when the request ends."""
    config: RunnableConfig = {"configurable": {"thread_id": fact, "user_id": "u1"}}
    asyncio.run(node.ainvoke({"messages": [HumanMessage(fact)]}, config))


async def next_request_then_aflush(node: MemoryNode) -> bool:
    config: RunnableConfig = {"configurable": {"thread_id": "fact 3", "user_id": "u1"}}
    await node.ainvoke({"messages": [HumanMessage("fact 3")]}, config)
    return await node.aflush(timeout=30)


def next_sync_request_then_flush(node: MemoryNode) -> bool:
    config: RunnableConfig = {"configurable": {"thread_id": "fact 3", "user_id": "u1"}}
    node.invoke({"messages": [HumanMessage("fact 3")]}, config)
    return node.flush(timeout=30)


@pytest.mark.parametrize("debounce", [0.0, 60.0], ids=["no-debounce", "debounced"])
@pytest.mark.parametrize("then", ["flush", "aflush-on-a-new-loop", "next-async-request", "next-sync-request"])
def test_jobs_stranded_on_closed_event_loops_are_run_by_whoever_comes_next(
    then: str, debounce: float
) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=True, debounce_seconds=debounce)
    facts = [f"fact {i}" for i in range(3)]
    for fact in facts:
        request_on_its_own_loop(node, fact)
    if then == "flush":
        assert node.flush(timeout=30)
    elif then == "aflush-on-a-new-loop":
        assert asyncio.run(node.aflush(timeout=30))
    elif then == "next-async-request":
        assert asyncio.run(next_request_then_aflush(node))
        facts.append("fact 3")
    else:
        assert next_sync_request_then_flush(node)
        facts.append("fact 3")
    assert node.worker is not None and node.worker.pending == 0
    assert node.errors == []
    assert memories(store, "u1") == {f"User said: {fact}" for fact in facts}


def test_flush_returns_false_for_work_on_an_open_loop_that_is_not_running() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=True, debounce_seconds=60)
    loop = asyncio.new_event_loop()
    try:
        config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
        loop.run_until_complete(node.ainvoke({"messages": [HumanMessage("I like tea")]}, config))
        # The loop is open but stopped: nothing can run its job until it runs again.
        assert not node.flush(timeout=30)
        assert node.worker is not None and node.worker.pending == 1
        assert loop.run_until_complete(node.aflush(timeout=30))
    finally:
        loop.close()
    assert memories(store, "u1") == {"User said: I like tea"}


async def test_sync_flush_inside_a_running_loop_does_not_claim_its_jobs_are_done() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), background=True, debounce_seconds=60)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    await node.ainvoke({"messages": [HumanMessage("I like tea")]}, config)
    # This loop's job cannot run while flush() blocks the loop's thread.
    assert not node.flush(timeout=30)
    assert await node.aflush(timeout=30)
    assert memories(store, "u1") == {"User said: I like tea"}


# ------------------------------------------------------------ close
def memory_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "langmem-agno-memory"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_close_finishes_the_work_stops_the_thread_and_refuses_more(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    before = memory_threads()
    for request in range(4):
        # One node per request, as a web handler might build it.
        node = create_memory_node(
            MemoryManager(ScriptedChatModel(responder=echo_facts), store), background=True
        )
        config: RunnableConfig = {"configurable": {"thread_id": "t", "user_id": f"u{request}"}}
        state = {"messages": [HumanMessage(f"fact {request}")]}
        # Sync work starts the worker thread in both modes; async work adds a task on this loop.
        node.invoke(state, config)
        if mode == "sync":
            assert node.close(timeout=30)
        else:
            turns = [HumanMessage(f"fact {request}"), HumanMessage(f"more {request}")]
            await node.ainvoke({"messages": turns}, config)
            assert await node.aclose(timeout=30)
        assert node.worker is not None and node.worker.pending == 0 and node.worker.closed
        late: RunnableConfig = {"configurable": {"thread_id": "late", "user_id": f"u{request}"}}
        with pytest.raises(ClosedError, match="extractor is closed") as closed:
            node.invoke({"messages": [HumanMessage("late")]}, late)
        assert isinstance(closed.value, RuntimeError)  # what callers caught before ClosedError existed
        with pytest.raises(ClosedError, match="extractor is closed"):
            await node.ainvoke({"messages": [HumanMessage("late")]}, late)
        assert node.close(timeout=30)  # closing twice is harmless
    assert memory_threads() <= before
    for request in range(4):
        expected = {f"User said: fact {request}"}
        if mode == "async":
            expected.add(f"User said: more {request}")
        assert memories(store, f"u{request}") == expected


def test_a_foreground_node_closes_as_a_no_op() -> None:
    store = SQLiteMemoryStore(":memory:")
    node = create_memory_node(MemoryManager(ScriptedChatModel(responder=echo_facts), store))
    assert node.close() and node.worker is None
    node.invoke({"messages": [HumanMessage("I like tea")]}, {"configurable": {"user_id": "u1"}})
    assert memories(store, "u1") == {"User said: I like tea"}
