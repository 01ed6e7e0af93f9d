"""What the extraction tests share: a scripted extractor that echoes each user line, and what was stored."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig

from langmem_agno import MemoryStore
from langmem_agno.extraction.node import MemoryNode


def echo_facts(messages: list[BaseMessage]) -> AIMessage:
    """Add one memory ("User said: ...") per user line of the conversation the extractor is shown."""
    lines = str(messages[-1].content).splitlines()
    calls = [
        {
            "name": "add_memory",
            "args": {"memory": "User said: " + line[6:]},
            "id": f"c{i}",
            "type": "tool_call",
        }
        for i, line in enumerate(lines)
        if line.startswith("user: ")
    ]
    return AIMessage("", tool_calls=calls)


def said(store: MemoryStore, user_id: str = "u1") -> list[str]:
    """Every memory text ``user_id`` has, sorted."""
    return sorted(m.memory for m in store.list_memories(user_id=user_id, limit=None))


async def run_node(node: MemoryNode, state: dict[str, Any], config: RunnableConfig, mode: str) -> None:
    """Run ``node`` once, by its sync API (``mode == "sync"``) or its async one, and wait for its work."""
    if mode == "sync":
        node.invoke(state, config)
        assert node.flush(timeout=30)
    else:
        await node.ainvoke(state, config)
        assert await node.aflush(timeout=30)
