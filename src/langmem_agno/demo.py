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

import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolCall
from langchain_core.messages.tool import tool_call
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from langmem_agno.extraction import MemoryManager
from langmem_agno.node import create_memory_node
from langmem_agno.prompts import EXTRACTION_MARKER
from langmem_agno.recall.text import message_text
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.sqlite import SQLiteMemoryStore

USER_ID = "sarah"
SESSION_1 = ["Hi, I'm Sarah.", "I prefer email over phone calls.", "I'm vegetarian, by the way."]
SESSION_2 = ["How should you contact me?", "What should I eat tonight?"]
_MEMORY_HEADER = "What you remember about the user from earlier conversations:"

# ------------------------------------------------------------------ scripted rules
_NAME = re.compile(r"^(?:[Ii]'?m|[Ii] am|[Mm]y name is)\s+([A-Z][\w-]*)$")
_IS = re.compile(r"^(?:i'?m|i am)\s+(.+)$", re.IGNORECASE)
_VERB = re.compile(r"^i\s+(\w+)\s+(.+)$", re.IGNORECASE)
_TOPICS = {
    "contact": ("email", "phone", "call", "text", "contact"),
    "food": ("vegetarian", "vegan", "eat", "food", "allergic", "meat"),
    "name": ("name",),
}
_QUESTION_TOPICS = {
    "contact": ("contact", "reach", "email", "call", "phone"),
    "food": ("eat", "food", "dinner", "lunch", "meal", "cook", "restaurant"),
    "name": ("name", "who"),
}


def _third_person(verb: str) -> str:
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x")) else "s")


def _fact(clause: str) -> str | None:
    """Turn one first-person clause into a third-person fact, or ``None``."""
    clause = clause.strip()
    if m := _NAME.match(clause):
        return f"User's name is {m.group(1)}"
    if m := _IS.match(clause):
        return f"User is {m.group(1)}"
    if m := _VERB.match(clause):
        return f"User {_third_person(m.group(1).lower())} {m.group(2)}"
    return None


def _topics_of(text: str) -> list[str]:
    words = set(re.findall(r"\w+", text.lower()))
    return [topic for topic, keys in _TOPICS.items() if words & set(keys)]


def _scripted_extraction(messages: list[BaseMessage]) -> AIMessage:
    calls: list[ToolCall] = []
    for line in message_text(messages[-1]).splitlines():
        if not line.startswith("user: "):
            continue
        for clause in re.split(r"[.,;!?]|\band\b", line.removeprefix("user: ")):
            if clause.strip().lower() in ("by the way", "hi", "hello", ""):
                continue
            fact = _fact(clause)
            if fact:
                args = {"memory": fact, "topics": _topics_of(fact)}
                calls.append(tool_call(name="add_memory", args=args, id=f"call_{len(calls) + 1}"))
    return AIMessage(content="", tool_calls=calls)


def _scripted_chat(messages: list[BaseMessage]) -> AIMessage:
    system = message_text(messages[0]) if isinstance(messages[0], SystemMessage) else ""
    memories = [line[2:] for line in system.splitlines() if line.startswith("- ")]
    question = message_text(messages[-1])
    words = set(re.findall(r"\w+", question.lower()))
    if not question.rstrip().endswith("?"):
        return AIMessage("Thanks, noted.")
    asked = [t for t, keys in _QUESTION_TOPICS.items() if words & set(keys)]
    relevant = [m for m in memories if any(t in _topics_of(m) for t in asked)]
    if not relevant:
        return AIMessage("I don't know that about you yet.")
    return AIMessage("From what I remember: " + "; ".join(relevant) + ". I'll go by that.")


def _scripted_reply(messages: list[BaseMessage]) -> AIMessage:
    first = message_text(messages[0]) if messages else ""
    if first.startswith(EXTRACTION_MARKER):
        return _scripted_extraction(messages)
    return _scripted_chat(messages)


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
        system = SystemMessage(f"You are a helpful assistant. Answer briefly.\n{_MEMORY_HEADER}\n{lines}")
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
    scripted = ScriptedChatModel(responder=_scripted_reply)
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
