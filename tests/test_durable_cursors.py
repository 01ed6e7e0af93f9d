"""Durable cursors: a thread's progress lives in the store's database, compact, and survives a new node."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from conftest import POSTGRES
from cursor_clock import frozen_cursor_clock
from extraction_support import echo_facts, said
from langmem_agno import MemoryStore, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import ThreadCursorStore, message_digest, new_start, thread_key
from langmem_agno.extraction.node import MemoryNode, create_memory_node
from langmem_agno.record import MEMORY_FIELDS
from langmem_agno.scope import MemoryScope
from langmem_agno.stores.companion_docs import MemoryDocs, companion_docs
from langmem_agno.testing.scripted import ScriptedChatModel
from langmem_agno.twins import run_calls

ROOT = Path(__file__).resolve().parents[1]
CONFIG: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
AGNO_FIELDS = set(MEMORY_FIELDS)


def manager(store: MemoryStore, model: ScriptedChatModel) -> MemoryManager:
    # No related-memory search: these tests count calls and memories, not recall.
    return MemoryManager(model, store, search_limit=0, recent_limit=0)


def reply(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(f"ok ({len(state['messages'])})")]}


def graph_with(node: MemoryNode, checkpointer: InMemorySaver) -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("chat", reply)
    graph.add_node("memory", node)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", "memory")
    graph.add_edge("memory", END)
    return graph.compile(checkpointer=checkpointer)


def conversation_of(call: list[BaseMessage]) -> str:
    return str(call[-1].content)


# ------------------------------------------------------------ the tail and its place
def test_new_start_finds_the_place_in_trimmed_and_id_less_histories() -> None:
    history = [HumanMessage(f"fact {i}") if i % 2 == 0 else AIMessage("ok") for i in range(20)]
    tail = [message_digest(m) for m in history[:10][-8:]]
    assert new_start(tail, history) == 10
    # Trimmed to a window that starts inside the tail: the matching part reaches the first message.
    assert new_start(tail, history[6:]) == 4
    # Nothing matches (trimmed past the tail): everything is new.
    assert new_start(tail, history[12:]) == 0
    # A repeated id-less reply does not fool it: the whole tail must match.
    assert new_start([message_digest(AIMessage("ok")), message_digest(HumanMessage("x"))], history) == 0
    assert new_start([], history) == 0


# ------------------------------------------------------------ restart
@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_new_node_over_the_same_database_sends_only_the_new_turn(
    store_factory: Any, backend: str, mode: str
) -> None:
    checkpointer = InMemorySaver()
    model = ScriptedChatModel(responder=echo_facts)
    turns = [f"I like food number {i}" for i in range(6)]

    async def run(node: MemoryNode, text: str) -> None:
        graph = graph_with(node, checkpointer)
        state = {"messages": [HumanMessage(text)]}
        if mode == "sync":
            graph.invoke(state, CONFIG)
        else:
            await graph.ainvoke(state, CONFIG)

    first = store_factory(backend, "sync" if mode == "sync" else "async")
    node = create_memory_node(manager(first, model))
    for text in turns[:5]:
        await run(node, text)
    assert len(model.calls) == 5
    # A "restart": a new store object and a new node, the same database and checkpointer.
    second = store_factory(backend, "sync" if mode == "sync" else "async")
    await run(create_memory_node(manager(second, model)), turns[5])
    assert len(model.calls) == 6
    last = conversation_of(model.calls[-1])
    assert f"user: {turns[5]}" in last and all(t not in last for t in turns[:5])
    check = store_factory(backend, "sync")
    assert said(check) == sorted(f"User said: {t}" for t in turns)


def test_the_cursor_lives_in_a_companion_table_not_in_agnos_rows(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    node = create_memory_node(manager(store, ScriptedChatModel(responder=echo_facts)))
    node.invoke({"messages": [HumanMessage("I like tea")]}, CONFIG)
    with store.companion_cursor() as cur:
        tables = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {r[1] for r in cur.execute("PRAGMA table_info(agno_memories)")}
    assert "agno_memories_cursors" in tables
    assert "cursor" not in " ".join(columns) and "thread" not in " ".join(columns)


# ------------------------------------------------------------ long and trimmed threads
def test_a_5000_message_thread_is_extracted_completely_and_exactly_once(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(manager(store, model))
    messages: list[BaseMessage] = []
    for turn in range(500):
        for j in range(5):
            n = turn * 5 + j
            messages += [HumanMessage(f"fact {n}", id=f"h{n}"), AIMessage("noted", id=f"a{n}")]
        node.invoke({"messages": list(messages)}, CONFIG)
    assert len(messages) == 5_000 and len(model.calls) == 500
    # Well past the 2,000 ids the old in-memory cursor remembered: nothing counts as new again.
    node.invoke({"messages": messages}, CONFIG)
    create_memory_node(manager(store, model)).invoke({"messages": messages}, CONFIG)
    assert len(model.calls) == 500
    assert said(store) == sorted(f"User said: fact {n}" for n in range(2_500))
    # Compact: the cursor's document does not grow with the thread.
    stored = companion_docs(store, "cursors").get(thread_key(MemoryScope("u1"), "t1"))
    assert stored is not None and stored.doc["seen"] == 5_000 and stored.doc["spans"] == []
    assert len(json.dumps(stored.doc)) < 400


@pytest.mark.parametrize("window", [4, 7])
def test_a_trimmed_thread_without_ids_is_extracted_completely_and_exactly_once(window: int) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(manager(store, model))
    history: list[BaseMessage] = []
    for i in range(10):
        history += [HumanMessage(f"fact {i}"), AIMessage("ok")]
        node.invoke({"messages": history[-window:]}, CONFIG)
    assert len(model.calls) == 10
    assert said(store) == sorted(f"User said: fact {i}" for i in range(10))


def test_a_summarised_history_extracts_only_what_follows_the_summary() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(manager(store, model))
    history: list[BaseMessage] = [HumanMessage("I like tea", id="1"), AIMessage("ok", id="2")]
    node.invoke({"messages": history}, CONFIG)
    summarised = [AIMessage("Summary: likes tea", id="s"), history[-1], HumanMessage("I like jam", id="3")]
    node.invoke({"messages": summarised}, CONFIG)
    assert conversation_of(model.calls[-1]) == "New messages:\nuser: I like jam"


def test_in_memory_cursors_stay_available_for_tests() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    cursors = ThreadCursorStore()
    node = create_memory_node(manager(store, model), cursors=cursors)
    state = {"messages": [HumanMessage("I like tea")]}
    node.invoke(state, CONFIG)
    node.invoke(state, CONFIG)
    assert len(model.calls) == 1 and isinstance(cursors.cursors, MemoryDocs)
    with store.companion_cursor() as cur:
        names = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "agno_memories_cursors" not in names
    # A node with its own in-memory cursors does not know what the first one did.
    create_memory_node(manager(store, model), cursors=ThreadCursorStore()).invoke(state, CONFIG)
    assert len(model.calls) == 2


# ------------------------------------------------------------ exactly-once claims
def slow_echo(messages: list[BaseMessage]) -> AIMessage:
    time.sleep(0.2)
    return echo_facts(messages)


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_two_nodes_and_two_concurrent_runs_make_one_model_call_per_turn(
    store_factory: Any, backend: str
) -> None:
    model = ScriptedChatModel(responder=slow_echo)
    nodes = [create_memory_node(manager(store_factory(backend), model)) for _ in range(2)]
    history: list[BaseMessage] = []
    for turn in range(3):
        history += [HumanMessage(f"fact {turn}", id=f"h{turn}"), AIMessage("ok", id=f"a{turn}")]
        state = {"messages": list(history)}
        # Two node instances and a second concurrent run on the first: three runs of one turn.
        runs = [threading.Thread(target=n.invoke, args=(state, CONFIG)) for n in (*nodes, nodes[0])]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        assert len(model.calls) == turn + 1
    assert said(store_factory(backend)) == [f"User said: fact {i}" for i in range(3)]


def test_a_crashed_workers_span_is_taken_over_after_its_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = frozen_cursor_clock(monkeypatch)
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    cursors = ThreadCursorStore(store, lease_seconds=60)
    state = {"messages": [HumanMessage("I like tea", id="h1")]}
    key = thread_key(MemoryScope("u1"), "t1")
    # A worker claims the turn and dies before extracting it.
    claimed = run_calls(cursors.claim(key, MemoryScope("u1"), state["messages"], "dead-worker"))
    assert [len(s.messages) for s in claimed.spans] == [1]
    node = create_memory_node(manager(store, model), cursors=cursors)
    node.invoke(state, CONFIG)
    clock.now += 59
    node.invoke(state, CONFIG)
    assert model.calls == []  # still leased
    clock.now += 2
    node.invoke(state, CONFIG)
    node.invoke(state, CONFIG)
    assert len(model.calls) == 1 and said(store) == ["User said: I like tea"]


def test_mongo_cursor_documents_are_indexed_for_the_scans(store_factory: Any) -> None:
    store = store_factory("mongo")
    node = create_memory_node(manager(store, ScriptedChatModel(responder=echo_facts)))
    node.invoke({"messages": [HumanMessage("I like tea")]}, CONFIG)
    assert node.recover() == 0
    names = set(store.companion_collection("cursors").index_information())
    assert {"lma_user", "lma_due"} <= names
    raw = store.companion_collection("cursors").find_one()
    assert raw is not None and raw["user_id"] == "u1" and json.loads(raw["doc"])["seen"] == 1
    # Agno's own documents carry no cursor field.
    assert all(
        set(d) - {"_id"} <= AGNO_FIELDS
        for d in store.companion_collection("cursors").database[store.collection].find()
    )


@pytest.mark.slow  # subprocesses: a real restart, the history kept in a file as a checkpointer keeps it
def test_a_second_process_over_the_same_files_sends_only_the_new_turn(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from langchain_core.messages import AIMessage, HumanMessage, messages_from_dict, messages_to_dict
        from langmem_agno import SQLiteMemoryStore
        from langmem_agno.extraction import MemoryManager
        from langmem_agno.node import create_memory_node
        from langmem_agno.scripted import ScriptedChatModel

        def echo(messages):
            lines = str(messages[-1].content).splitlines()
            facts = [line[6:] for line in lines if line.startswith("user: ")]
            calls = [{{"name": "add_memory", "args": {{"memory": "User said: " + f}}, "id": str(i)}}
                     for i, f in enumerate(facts)]
            return AIMessage("", tool_calls=calls)

        saved = Path({str(tmp_path / "checkpoint.json")!r})
        history = messages_from_dict(json.loads(saved.read_text())) if saved.exists() else []
        model = ScriptedChatModel(responder=echo)
        node = create_memory_node(MemoryManager(model, SQLiteMemoryStore({str(tmp_path / "agno.db")!r})))
        for text in sys.argv[1:]:
            history += [HumanMessage(text), AIMessage("ok")]
            node.invoke({{"messages": history}}, {{"configurable": {{"user_id": "u1", "thread_id": "t1"}}}})
            saved.write_text(json.dumps(messages_to_dict(history)))
        print(json.dumps([str(c[-1].content) for c in model.calls]))
        """
    )

    def process(*turns: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", script, *turns], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout.strip().splitlines()[-1]))

    first = process(*(f"fact {i}" for i in range(5)))
    assert len(first) == 5
    # Messages without ids, as a checkpointer hands them back: the tail digests find the place.
    assert process("fact 5") == ["New messages:\nuser: fact 5\nassistant: ok"]
    assert said(SQLiteMemoryStore(tmp_path / "agno.db")) == sorted(f"User said: fact {i}" for i in range(6))


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES, "in-process"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_clearing_a_user_clears_its_cursor_documents(
    store_factory: Any, backend: str, mode: str
) -> None:
    docs = (
        MemoryDocs() if backend == "in-process" else companion_docs(store_factory(backend, mode), "cursors")
    )
    for user, thread in (("u1", "a"), ("u1", "b"), ("u2", "a")):
        if mode == "sync":
            assert docs.put(f"{user}/{thread}", {"tail": []}, None, user_id=user)
        else:
            assert await docs.aput(f"{user}/{thread}", {"tail": []}, None, user_id=user)
    removed = docs.delete_user("u1") if mode == "sync" else await docs.adelete_user("u1")
    assert removed == 2
    left = docs.scan() if mode == "sync" else await docs.ascan()
    assert [d.key for d in left] == ["u2/a"]
