"""With both the memory tools and extraction on, the extractor is told what the tools changed in the run.

The scripted extractor re-adds the user's fact in its own words unless its prompt says the tools
already saved it, as a real model that cannot see the tools' work would; so a store holding
one memory after the run shows the tool changes reached the prompt.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langmem_agno import MemoryManager, MemoryMiddleware, ScriptedChatModel
from langmem_agno.extraction.prompt import TOOL_CHANGES_HEADER, tool_changes
from langmem_agno.testing.brains import agentic_memory_brain


def rewording_extractor(messages: list[BaseMessage]) -> AIMessage:
    system = str(messages[0].content)
    if TOOL_CHANGES_HEADER in system and "User likes green tea" in system.split(TOOL_CHANGES_HEADER)[1]:
        return AIMessage("")
    call = {
        "name": "add_memory",
        "args": {"memory": "User is fond of green tea"},
        "id": "x1",
        "type": "tool_call",
    }
    return AIMessage("", tool_calls=[call])


@pytest.mark.parametrize(
    ("backend", "mode"), [("sqlite-file", "sync"), ("sqlite-file", "async"), ("mongo", "sync")]
)
async def test_the_extractor_sees_what_the_tools_saved_and_adds_no_rewording(
    backend: str, mode: str, store_factory: Any
) -> None:
    store = store_factory(backend, mode)
    extractor = ScriptedChatModel(responder=rewording_extractor)
    memory = MemoryMiddleware(store=store, model=extractor, tools=True, extract=True)
    agent = create_agent(ScriptedChatModel(responder=agentic_memory_brain), tools=[], middleware=[memory])
    config: Any = {"configurable": {"user_id": "u1", "thread_id": "t1"}}
    request = {"messages": [HumanMessage("Remember that I like green tea")]}
    if mode == "sync":
        agent.invoke(request, config)
        assert memory.flush(10)
        memories = store.list_memories(user_id="u1").items
    else:
        await agent.ainvoke(request, config)
        assert await memory.aflush(10)
        memories = (await store.alist_memories(user_id="u1")).items
    assert [m.memory for m in memories] == ["User likes green tea"]
    (prompt,) = extractor.calls
    changes = str(prompt[0].content).split(TOOL_CHANGES_HEADER)[1]
    assert "- saved" in changes and "User likes green tea" in changes
    memory.close()
    await store.aclose()


def test_without_the_tool_results_the_same_extractor_would_add_the_rewording(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    store.add("User likes green tea", user_id="u1")
    manager = MemoryManager(
        ScriptedChatModel(responder=rewording_extractor), store, recent_limit=0, search_limit=0
    )
    result = manager.extract(["Remember that I like green tea"], user_id="u1")
    # The exact-text check cannot catch a rewording: only the prompt can.
    assert [m.memory for m in result.added] == ["User is fond of green tea"]


def test_tool_changes_read_from_tool_results() -> None:
    added = {"memory_id": "m1", "memory": "User likes tea", "topics": None}
    found = [{"memory_id": "m2", "memory": "User has a cat", "score": 1.0}]
    messages = [
        HumanMessage("hi"),
        ToolMessage("Memory added", tool_call_id="a", artifact=added),
        ToolMessage("found", tool_call_id="b", artifact=found),
        ToolMessage("deleted", tool_call_id="c", artifact={"memory_id": "m2", "deleted": True}),
        ToolMessage("dup", tool_call_id="d", artifact={**added, "memory_id": "m1", "duplicate_of": "m1"}),
        ToolMessage("Error", tool_call_id="e", artifact={"memory_id": "m3", "memory": "x"}, status="error"),
        ToolMessage("updated", tool_call_id="f", artifact={"memory_id": "m1", "memory": "User loves tea"}),
    ]
    changes = tool_changes(messages)
    assert [(c.memory_id, c.text, c.deleted) for c in changes] == [
        ("m1", "User loves tea", False),
        ("m2", "User has a cat", True),
    ]
