"""What the MemoryMiddleware tests share: backends, run arguments, seeded memories and prompt readers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from langmem_agno import (
    MemoryRetriever,
    MemoryStore,
    render_memories,
)
from langmem_agno.testing.scripted import ScriptedChatModel

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
