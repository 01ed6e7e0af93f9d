from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.message import add_messages
from pydantic import BaseModel
from typing_extensions import TypedDict

from conftest import POSTGRES
from extraction_support import echo_facts
from langmem_agno import InvalidMemoryError, MemoryStore, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.node import MemoryNode, create_memory_node
from langmem_agno.scripted import ScriptedChatModel


def reply(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage(f"ok ({len(state['messages'])})")]}


def chat_graph(node: MemoryNode, state_schema: Any = MessagesState, **kwargs: Any) -> Any:
    graph = StateGraph(state_schema, **kwargs)
    graph.add_node("chat", reply)
    graph.add_node("memory", node)
    graph.add_edge(START, "chat")
    graph.add_edge("chat", "memory")
    graph.add_edge("memory", END)
    return graph.compile(checkpointer=InMemorySaver())


def conversation_of(call: list[BaseMessage]) -> str:
    return str(call[-1].content)


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_each_turn_of_a_thread_processes_only_its_new_messages(
    store_factory: Any, backend: str, mode: str
) -> None:
    store: MemoryStore = store_factory(backend, "sync" if mode == "sync" else "async")
    model = ScriptedChatModel(responder=echo_facts)
    graph = chat_graph(create_memory_node(MemoryManager(model, store)))
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    turns = ["I live in Oslo", "I have two cats", "I work as a nurse"]
    for text in turns:
        if mode == "sync":
            graph.invoke({"messages": [HumanMessage(text)]}, config)
        else:
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config)

    assert len(model.calls) == 3
    for i, call in enumerate(model.calls):
        seen = conversation_of(call)
        assert f"user: {turns[i]}" in seen
        assert all(other not in seen for other in turns if other != turns[i])
        assert f"assistant: ok ({2 * i + 1})" in seen
    page = store.list_memories(user_id="u1") if mode == "sync" else await store.alist_memories(user_id="u1")
    assert sorted(m.memory for m in page) == sorted(f"User said: {t}" for t in turns)


def test_running_the_node_twice_over_the_same_state_costs_no_second_call() -> None:
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, SQLiteMemoryStore(":memory:")))
    state = {"messages": [HumanMessage("I like tea", id="m1"), AIMessage("Nice", id="m2")]}
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    assert node.invoke(state, config) == {}
    assert node.invoke(state, config) == {}
    assert len(model.calls) == 1
    # Another thread of the same user, or the same thread of another user, is its own history.
    for thread_id, user_id in (("t2", "u1"), ("t1", "u2")):
        node.invoke(state, RunnableConfig(configurable={"thread_id": thread_id, "user_id": user_id}))
    assert len(model.calls) == 3
    # Trimmed history: only the message not seen before is new.
    state = {"messages": [AIMessage("Nice", id="m2"), HumanMessage("I like cake", id="m3")]}
    node.invoke(state, config)
    assert len(model.calls) == 4
    assert conversation_of(model.calls[-1]) == "New messages:\nuser: I like cake"


def test_messages_without_ids_use_the_processed_count() -> None:
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, SQLiteMemoryStore(":memory:")))
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    node.invoke({"messages": [("user", "I like tea")]}, config)
    node.invoke({"messages": [("user", "I like tea"), ("ai", "ok"), ("user", "I like jam")]}, config)
    assert [conversation_of(c) for c in model.calls] == [
        "New messages:\nuser: I like tea",
        "New messages:\nassistant: ok\nuser: I like jam",
    ]


def test_a_failed_extraction_is_retried_with_the_next_turn() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts, error=RuntimeError("down"))
    node = create_memory_node(MemoryManager(model, store))
    graph = chat_graph(node)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    graph.invoke({"messages": [HumanMessage("I like tea")]}, config)
    assert node.last_result is not None and node.last_result.error is not None
    model.error = None
    graph.invoke({"messages": [HumanMessage("I like jam")]}, config)
    assert {m.memory for m in store.list_memories(user_id="u1")} == {
        "User said: I like tea",
        "User said: I like jam",
    }


@dataclass
class Context:
    user_id: str
    agent_id: str | None = None


class AgentState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    mood: str


class PydanticState(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages]
    mood: str = "calm"


@pytest.mark.parametrize("schema", [AgentState, PydanticState], ids=["typeddict", "pydantic"])
async def test_custom_states_and_scope_from_runtime_context(schema: Any) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    graph = chat_graph(create_memory_node(MemoryManager(model, store)), schema, context_schema=Context)
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "ignored"}}
    state = {"messages": [HumanMessage("I like tea")], "mood": "happy"}
    graph.invoke(state, config, context=Context(user_id="u1", agent_id="a1"))
    await graph.ainvoke({"messages": [HumanMessage("I like jam")]}, config, context=Context(user_id="u1"))
    memories = store.list_memories(user_id="u1").items
    assert {(m.memory, m.agent_id) for m in memories} == {
        ("User said: I like tea", "a1"),
        ("User said: I like jam", None),
    }
    assert store.list_memories(user_id="ignored").total == 0


def test_node_errors_name_what_is_missing() -> None:
    node = create_memory_node(MemoryManager(ScriptedChatModel(), SQLiteMemoryStore(":memory:")))
    with pytest.raises(InvalidMemoryError, match="'messages'"):
        node.invoke({"chat": []}, {"configurable": {"user_id": "u1"}})
    with pytest.raises(ValueError, match="user_id"):
        node.invoke({"messages": [HumanMessage("hi")]}, {"configurable": {}})
    with pytest.raises(ValueError, match="background=True"):
        create_memory_node(node.manager, debounce_seconds=1.0)


def test_after_a_create_agent_subgraph_in_an_agent_state_graph() -> None:
    from langchain.agents import AgentState, create_agent
    from langchain_core.tools import tool

    @tool
    def weather(city: str) -> str:
        """Return the weather of a city."""
        return f"Sunny in {city}, 25C"

    agent_model = ScriptedChatModel(
        responses=[
            AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Lisbon"}, "id": "w1"}]),
            AIMessage("It is sunny in Lisbon."),
        ]
    )
    store = SQLiteMemoryStore(":memory:")
    extraction_model = ScriptedChatModel(responder=echo_facts)
    graph = StateGraph(AgentState)
    graph.add_node("agent", create_agent(agent_model, tools=[weather]))
    graph.add_node("memory", create_memory_node(MemoryManager(extraction_model, store)))
    graph.add_edge(START, "agent")
    graph.add_edge("agent", "memory")
    graph.add_edge("memory", END)
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    app.invoke({"messages": [HumanMessage("I live in Lisbon, how is the weather?")]}, config)

    assert len(extraction_model.calls) == 1
    assert conversation_of(extraction_model.calls[0]) == (
        "New messages:\nuser: I live in Lisbon, how is the weather?\nassistant: It is sunny in Lisbon."
    )
    assert {m.memory for m in store.list_memories(user_id="u1")} == {
        "User said: I live in Lisbon, how is the weather?"
    }


def test_extraction_tool_calls_do_not_leak_into_a_messages_stream() -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=echo_facts)
    graph = chat_graph(create_memory_node(MemoryManager(model, store)))
    config: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}
    streamed = list(graph.stream({"messages": [HumanMessage("I like tea")]}, config, stream_mode="messages"))
    assert len(model.calls) == 1
    assert store.list_memories(user_id="u1").total == 1
    assert [meta["langgraph_node"] for _, meta in streamed] == ["chat"]
    assert all(not getattr(chunk, "tool_calls", None) for chunk, _ in streamed)
