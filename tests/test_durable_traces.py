"""Background extraction shows in traces: its model call carries the run's callbacks, tags and metadata."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from extraction_support import run_node
from langmem_agno import SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.node import create_memory_node
from langmem_agno.testing.scripted import ScriptedChatModel


class Recorder(BaseCallbackHandler):
    """Keeps every run start: chains and chat models, with their parent, tags and metadata."""

    def __init__(self) -> None:
        self.runs: dict[UUID, dict[str, Any]] = {}

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.runs[run_id] = {"kind": "chain", **kwargs}

    def on_chat_model_start(
        self, serialized: Any, messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.runs[run_id] = {"kind": "model", **kwargs}


def remember(messages: list[BaseMessage]) -> AIMessage:
    return AIMessage(
        "", tool_calls=[{"name": "add_memory", "args": {"memory": "User likes tea"}, "id": "c1"}]
    )


@pytest.mark.parametrize("background", [True, False], ids=["background", "foreground"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_extraction_model_call_is_linked_to_the_run_that_caused_it(
    mode: str, background: bool
) -> None:
    store = SQLiteMemoryStore(":memory:")
    node = create_memory_node(
        MemoryManager(ScriptedChatModel(responder=remember), store), background=background
    )
    recorder = Recorder()
    config: RunnableConfig = {
        "configurable": {"thread_id": "t1", "user_id": "u1"},
        "callbacks": [recorder],
        "tags": ["checkout-flow"],
        "metadata": {"request_id": "r-42"},
    }
    state = {"messages": [HumanMessage("I like tea")]}
    await run_node(node, state, config, mode)
    (model_run,) = [r for r in recorder.runs.values() if r["kind"] == "model"]
    assert "checkout-flow" in model_run["tags"] and "nostream" in model_run["tags"]
    assert model_run["metadata"]["request_id"] == "r-42"
    # Its parent is the node's run, started by the same invoke.
    assert model_run["parent_run_id"] in recorder.runs
    assert recorder.runs[model_run["parent_run_id"]]["kind"] == "chain"
    assert [m.memory for m in store.list_memories(user_id="u1")] == ["User likes tea"]
