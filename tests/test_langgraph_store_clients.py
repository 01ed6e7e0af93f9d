"""Clients no one here wrote, on LangGraphStore: LangMem's tools in create_agent, runtime.store in a graph.

What they write is then read by Agno's own SqliteDb and by our tools and retriever; what
Agno writes is found by LangMem's search tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langmem import create_manage_memory_tool, create_memory_store_manager, create_search_memory_tool
from pydantic import BaseModel

from langmem_agno import MemoryRetriever, ScriptedChatModel, SQLiteMemoryStore, create_memory_tools
from langmem_agno.agents.langgraph_store import LangGraphStore

LANGMEM_NAMESPACE = ("memories", "{langgraph_user_id}")


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "agno.db"


def langmem_agent(lg: LangGraphStore, *replies: AIMessage) -> Any:
    tools = [create_manage_memory_tool(LANGMEM_NAMESPACE), create_search_memory_tool(LANGMEM_NAMESPACE)]
    return create_agent(ScriptedChatModel(responses=list(replies)), tools=tools, store=lg)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_langmem_tools_in_create_agent_write_memories_agno_and_our_tools_read(
    db: Path, mode: str
) -> None:
    lg = LangGraphStore(SQLiteMemoryStore(db))
    config = {"configurable": {"langgraph_user_id": "sarah"}}
    remember = call("manage_memory", {"content": "Sarah prefers email over calls", "action": "create"}, "c1")
    agent = langmem_agent(lg, remember, AIMessage("I'll remember that."))
    turn = {"messages": [HumanMessage("Email me, never call.")]}
    result = agent.invoke(turn, config) if mode == "sync" else await agent.ainvoke(turn, config)
    assert result["messages"][-1].content == "I'll remember that."

    (agno_read,) = SqliteDb(db_file=str(db), memory_table="agno_memories").get_user_memories(user_id="sarah")
    assert (agno_read.memory, agno_read.user_id) == ("Sarah prefers email over calls", "sarah")
    assert lg.get(("memories", "sarah"), agno_read.memory_id).value == {
        "content": "Sarah prefers email over calls"
    }
    search = {t.name: t for t in create_memory_tools(lg.store)}["search_memories"]
    found = search.invoke({"query": "email"}, config={"configurable": {"user_id": "sarah"}})
    assert agno_read.memory_id in found
    docs = MemoryRetriever(store=lg.store).invoke("how do I reach her by email?", user_id="sarah")
    assert [d.page_content for d in docs] == ["Sarah prefers email over calls"]
    assert lg.store.list_memories(user_id="tom").total == 0


def test_langmem_search_finds_what_agno_wrote_and_nothing_of_another_user(db: Path) -> None:
    agno = SqliteDb(db_file=str(db), memory_table="agno_memories")
    agno.upsert_user_memory(
        AgnoUserMemory(memory="Sarah is allergic to peanuts", user_id="sarah", memory_id="a1")
    )
    agno.upsert_user_memory(
        AgnoUserMemory(memory="Tom is allergic to shellfish", user_id="tom", memory_id="a2")
    )
    lg = LangGraphStore(SQLiteMemoryStore(db))
    look = call("search_memory", {"query": "allergic"}, "s1")
    agent = langmem_agent(lg, look, AIMessage("Noted."))
    result = agent.invoke(
        {"messages": [HumanMessage("What am I allergic to?")]},
        {"configurable": {"langgraph_user_id": "sarah"}},
    )
    (tool_message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    hits = json.loads(str(tool_message.content))
    assert [(h["key"], h["value"]) for h in hits] == [("a1", {"content": "Sarah is allergic to peanuts"})]
    assert hits[0]["namespace"] == ["memories", "sarah"]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_graph_node_reads_and_writes_through_runtime_store(db: Path, mode: str) -> None:
    lg = LangGraphStore(SQLiteMemoryStore(db))
    lg.put(("memories", "sarah"), "diet", {"content": "Sarah is vegetarian", "source": "onboarding"})

    def remember(state: MessagesState, runtime: Runtime[Any]) -> dict[str, Any]:
        assert runtime.store is not None
        namespace = ("memories", "sarah")
        known = runtime.store.search(namespace, query="is she vegetarian?")
        runtime.store.put(namespace, "city", {"content": "Sarah lives in Porto"})
        return {"messages": [AIMessage("; ".join(h.value["content"] for h in known))]}

    async def aremember(state: MessagesState, runtime: Runtime[Any]) -> dict[str, Any]:
        assert runtime.store is not None
        namespace = ("memories", "sarah")
        known = await runtime.store.asearch(namespace, query="is she vegetarian?")
        await runtime.store.aput(namespace, "city", {"content": "Sarah lives in Porto"})
        return {"messages": [AIMessage("; ".join(h.value["content"] for h in known))]}

    builder = StateGraph(MessagesState)
    builder.add_node("remember", remember if mode == "sync" else aremember)
    builder.add_edge(START, "remember")
    graph = builder.compile(store=lg)
    turn = {"messages": [HumanMessage("Dinner ideas?")]}
    out = graph.invoke(turn) if mode == "sync" else await graph.ainvoke(turn)
    assert out["messages"][-1].content == "Sarah is vegetarian"
    assert lg.get(("memories", "sarah"), "diet").value == {
        "content": "Sarah is vegetarian",
        "source": "onboarding",
    }
    agno = SqliteDb(db_file=str(db), memory_table="agno_memories")
    assert sorted(m.memory for m in agno.get_user_memories(user_id="sarah")) == [
        "Sarah is vegetarian",
        "Sarah lives in Porto",
    ]


class Preference(BaseModel):
    """A preference of the user."""

    content: str
    channel: str


def test_langmems_store_manager_writes_structured_memories_agno_reads_as_text(db: Path) -> None:
    def extract(messages: list[Any]) -> AIMessage:
        args = {"content": "Sarah prefers email", "channel": "email"}
        return AIMessage(
            "", tool_calls=[{"name": "Preference", "args": args, "id": "t1", "type": "tool_call"}]
        )

    lg = LangGraphStore(SQLiteMemoryStore(db))
    manager = create_memory_store_manager(
        ScriptedChatModel(responder=extract), schemas=[Preference], namespace=LANGMEM_NAMESPACE, store=lg
    )
    manager.invoke(
        {"messages": [{"role": "user", "content": "Email me, please."}]},
        config={"configurable": {"langgraph_user_id": "sarah"}},
    )
    (item,) = lg.search(("memories", "sarah"))
    assert item.value == {
        "kind": "Preference",
        "content": {"content": "Sarah prefers email", "channel": "email"},
    }
    (read,) = SqliteDb(db_file=str(db), memory_table="agno_memories").get_user_memories(user_id="sarah")
    assert (read.memory_id, read.memory) == (item.key, "Sarah prefers email")
