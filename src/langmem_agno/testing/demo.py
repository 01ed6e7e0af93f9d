"""``langmem-agno demo``: a LangGraph agent that remembers a user across two sessions.

Session 1 (thread ``session-1``): the user tells the agent a few facts; the
memory node after the chat node extracts them into an embedded SQLite store.
Session 2 (thread ``session-2``, a fresh conversation): the agent's system
prompt is built from the stored memories, and its answers use them.

Without ``--model`` both the chat model and the extraction model are a
:class:`~langmem_agno.scripted.ScriptedChatModel` driven by a few rules below:
it emits real ``add_memory`` tool calls, so the library code that runs is the
same, but the wording is canned. The output says so.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from langmem_agno.extraction.manager import MemoryManager
from langmem_agno.extraction.node import create_memory_node
from langmem_agno.recall.text import message_text
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore
from langmem_agno.testing.brains import MEMORY_HEADER, demo_reply
from langmem_agno.testing.scripted import ScriptedChatModel

__all__ = ["SESSION_1", "SESSION_2", "USER_ID", "build_agent", "main"]

USER_ID = "sarah"
SESSION_1 = ["Hi, I'm Sarah.", "I prefer email over phone calls.", "I'm vegetarian, by the way."]
SESSION_2 = ["How should you contact me?", "What should I eat tonight?"]


# ------------------------------------------------------------------ the agent
def build_agent(chat_model: BaseChatModel, store: MemoryStore, manager: MemoryManager) -> Any:
    """Build the demo graph: a chat node with recalled memories, then the memory node.

    Args:
        chat_model: Answers the user.
        store: Where memories are recalled from.
        manager: Extracts memories after each turn.

    Returns:
        The compiled graph, with an in-memory checkpointer (one thread per session).
    """

    def chat(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        user_id = manager.scope_for(config).user_id
        memories = store.list_memories(user_id=user_id, limit=10)
        lines = "\n".join(f"- {m.memory}" for m in memories) or "(nothing yet)"
        system = SystemMessage(f"You are a helpful assistant. Answer briefly.\n{MEMORY_HEADER}\n{lines}")
        return {"messages": [chat_model.invoke([system, *state["messages"]])]}

    graph = StateGraph(MessagesState)
    graph.add_node("chat", chat)
    graph.add_node("memory", create_memory_node(manager))
    graph.add_edge(START, "chat")
    graph.add_edge("chat", "memory")
    graph.add_edge("memory", END)
    return graph.compile(checkpointer=InMemorySaver())


def _models(model: str | None) -> tuple[BaseChatModel, BaseChatModel, bool]:
    if model:
        from langchain.chat_models import init_chat_model

        real = init_chat_model(model)
        return real, real, False
    scripted = ScriptedChatModel(responder=demo_reply)
    return scripted, scripted, True


def main(model: str | None = None, *, db: str | None = None, out: TextIO | None = None) -> int:
    """Run the two-session demo and write it to ``out`` (standard output by default).

    Args:
        model: A ``provider:model`` spec for ``init_chat_model`` (e.g. ``openai:gpt-4o-mini``);
            ``None`` uses the scripted model.
        db: A SQLite file for the memories; a temporary one by default.
        out: Where to write the transcript.

    Returns:
        The process exit status: 0 on success, 1 when the model could not be used.
    """
    stream = out or sys.stdout

    def say(text: str = "") -> None:
        stream.write(text + "\n")

    try:
        chat_model, extraction_model, scripted = _models(model)
    except Exception as exc:
        say(f"cannot use model {model!r}: {exc}")
        return 1
    if scripted:
        say("NOTE: no --model given, so this demo uses a SCRIPTED model: its replies and its")
        say("add_memory tool calls come from simple rules, not from an LLM. Everything else")
        say("(extraction, validation, the SQLite store, the LangGraph node) is the real library.")
        say("Run `langmem-agno demo --model openai:gpt-4o-mini` to use a real model.")
    else:
        say(f"Using model {model} for the chat and for memory extraction.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db) if db else Path(tmp) / "agno.db"
        if db:
            say(f"Memories are stored in {path} (table agno_memories, Agno's layout).")
        else:
            # The temporary folder's name is not printed: it is gone once the demo ends.
            say("Memories are stored in a temporary SQLite file (table agno_memories, Agno's layout),")
            say("deleted when the demo ends; give --db FILE to keep them.")
        with SQLiteMemoryStore(path) as store:
            manager = MemoryManager(extraction_model, store, raise_on_error=True)
            agent = build_agent(chat_model, store, manager)
            try:
                for number, turns in ((1, SESSION_1), (2, SESSION_2)):
                    config = {"configurable": {"thread_id": f"session-{number}", "user_id": USER_ID}}
                    say()
                    say(f"=== Session {number} (thread session-{number}, user {USER_ID}) ===")
                    if number == 2:
                        recalled = store.list_memories(user_id=USER_ID, limit=10)
                        say(f"Recalled into the system prompt: {[m.memory for m in recalled]}")
                    for text in turns:
                        state = agent.invoke({"messages": [HumanMessage(text)]}, config)
                        say(f"user:      {text}")
                        say(f"assistant: {message_text(state['messages'][-1])}")
                    if number == 1:
                        stored = store.list_memories(user_id=USER_ID, sort="asc")
                        say(f"Memories extracted in session 1 ({stored.total}):")
                        for memory in stored:
                            say(f"  - {memory.memory}  {memory.topics or []}")
            except Exception as exc:
                say(f"the demo failed: {exc}")
                return 1
    say()
    if db:
        say(f"The memories are kept in {path}; list them with:")
        say(f"  langmem-agno --db {shlex.quote(str(path))} list --user {USER_ID}")
    else:
        say("The temporary database was deleted; give --db FILE to keep the memories.")
    return 0
