"""Rule-based "brains" for :class:`~langmem_agno.scripted.ScriptedChatModel` in the notebooks.

The notebooks must run with no API key, so when no real model is configured
they plug one of these responders into a ``ScriptedChatModel``. Each reads the
messages the model would get and answers with a real ``AIMessage``, tool calls
included, so every line of library code a real model would exercise still runs.
Only the wording and the choice of tool calls come from simple rules.

- :func:`automatic_memory_brain`: the chat and extraction rules of ``langmem-agno demo``.
- :func:`agentic_memory_brain`: an agent that drives the memory tools: it adds
  ("remember that ..."), corrects ("actually, ...") and forgets ("forget that ...")
  facts, searching first to find the id, and answers questions from a search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.messages.tool import tool_call

from langmem_agno.extraction.prompt import EXTRACTION_MARKER
from langmem_agno.recall.text import STOP_WORDS, message_text

__all__ = [
    "MEMORY_HEADER",
    "agentic_memory_brain",
    "automatic_memory_brain",
    "demo_reply",
    "fact_of",
    "keywords",
]

# The words of the brains' own grammar ("remember that ...", "forget ...", "actually, ...")
# say nothing about which memory is meant, beside the function words every part drops.
_STOP_WORDS = STOP_WORDS | {"actually", "anymore", "don't", "forget", "i'm", "longer", "remember"}
_SEARCH_HIT = re.compile(r"^- id: (\S+) \| (.*?)(?: \[topics: [^\]]*\])?$", re.MULTILINE)
_REMEMBER = re.compile(r"^\s*(?:please\s+)?remember(?:\s+that)?\s+(.+?)[.!]?\s*$", re.IGNORECASE)
_CORRECT = re.compile(r"^\s*actually,?\s+(.+?)[.!]?\s*$", re.IGNORECASE)
_FORGET = re.compile(r"^\s*(?:please\s+)?forget(?:\s+that|\s+about)?\s+(.+?)[.!]?\s*$", re.IGNORECASE)
_TOPIC_WORDS = {
    "contact": ("email", "phone", "call", "calls", "slack", "contact"),
    "food": ("vegetarian", "vegan", "eat", "food", "allergic", "peanuts", "meat"),
    "home": ("live", "lives", "moved", "city"),
    "pets": ("cat", "dog", "pet"),
    "travel": ("flight", "flights", "seat", "seats", "hotel", "trip", "window", "aisle"),
    "work": ("work", "works", "job", "engineer", "office"),
}


#: The line before the memories in the demo's system prompt, which the scripted chat reads.
MEMORY_HEADER = "What you remember about the user from earlier conversations:"

# ------------------------------------------------------------------ the demo's rules
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


def fact_of(clause: str) -> str | None:
    """The third-person fact a first-person clause states ("I prefer email" -> "User prefers email")."""
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
            fact = fact_of(clause)
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


def demo_reply(messages: list[BaseMessage]) -> AIMessage:
    """The demo's scripted model: extraction tool calls for the extraction prompt, else a chat answer."""
    first = message_text(messages[0]) if messages else ""
    if first.startswith(EXTRACTION_MARKER):
        return _scripted_extraction(messages)
    return _scripted_chat(messages)


def automatic_memory_brain(messages: list[BaseMessage]) -> AIMessage:
    """Answer as the demo's scripted model: extraction prompts get ``add_memory`` calls, chats a reply.

    Chat replies quote the memories (``- ...`` lines of the first system message)
    whose topic matches the question's (contact, food, name).

    Args:
        messages: The messages the model receives.

    Returns:
        The model's answer.
    """
    return demo_reply(messages)


def keywords(text: str) -> str:
    """Return the words of ``text`` worth searching memories for, lowercased, in order.

    Args:
        text: A user request, e.g. ``"Actually, I live in Porto now, not Lisbon"``.

    Returns:
        The words joined by spaces, e.g. ``"live porto lisbon"``.
    """
    words = re.findall(r"[\w']+", text.lower())
    return " ".join(w for w in words if w not in _STOP_WORDS and len(w) > 1)


def _memoryfact_of(clause: str) -> str:
    """A third-person fact from a first-person clause ("I have a cat" -> "User has a cat")."""
    fact = fact_of(clause) or f"User said: {clause}"
    return re.sub(r"^User haves\b", "User has", fact)


def _topics(fact: str) -> list[str] | None:
    words = set(re.findall(r"\w+", fact.lower()))
    return [topic for topic, keys in _TOPIC_WORDS.items() if words & set(keys)] or None


def _call(name: str, args: dict[str, object], number: int) -> AIMessage:
    return AIMessage(content="", tool_calls=[tool_call(name=name, args=args, id=f"call_{name}_{number}")])


def _last_human(messages: Sequence[BaseMessage]) -> tuple[int, str]:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index, message_text(messages[index])
    return -1, ""


def _start(request: str, number: int) -> AIMessage:
    """The first step for a new user request."""
    if m := _REMEMBER.match(request):
        fact = _memoryfact_of(m.group(1))
        return _call("add_memory", {"memory": fact, "topics": _topics(fact)}, number)
    if m := _CORRECT.match(request):
        return _call("search_memories", {"query": keywords(m.group(1)), "limit": 1}, number)
    if m := _FORGET.match(request):
        return _call("search_memories", {"query": keywords(m.group(1)), "limit": 1}, number)
    if request.rstrip().endswith("?"):
        return _call("search_memories", {"query": keywords(request), "limit": 3}, number)
    return AIMessage("Okay.")


def _follow_up(request: str, result: ToolMessage, number: int) -> AIMessage:
    """The next step once a tool answered."""
    content = message_text(result)
    if result.status == "error":
        return AIMessage(f"That did not work: {content}")
    if result.name != "search_memories":
        # The tool's own words after the id, e.g. "Memory added (id: ...): User has a cat".
        return AIMessage(f"Done: {content.split('): ', 1)[-1]}")
    hits = _SEARCH_HIT.findall(content)
    if m := _CORRECT.match(request):
        if not hits:
            return AIMessage("I had nothing stored about that, so there is nothing to correct.")
        new_fact = _memoryfact_of(re.split(r",\s*not\b|\binstead of\b", m.group(1))[0])
        return _call("update_memory", {"memory_id": hits[0][0], "memory": new_fact, "topics": None}, number)
    if _FORGET.match(request):
        if not hits:
            return AIMessage("I had nothing stored about that.")
        return _call("delete_memory", {"memory_id": hits[0][0]}, number)
    if not hits:
        return AIMessage("I don't know that about you yet.")
    return AIMessage("From my memory: " + "; ".join(text for _, text in hits) + ".")


def agentic_memory_brain(messages: list[BaseMessage]) -> AIMessage:
    """Drive the memory tools from the user's last request, one step per call.

    The request decides the plan: ``remember that X`` adds X; ``actually, X``
    searches for the memory X corrects and updates it; ``forget that X``
    searches and deletes; a question searches and answers from the hits. After
    the last tool result of the plan it replies in plain text.

    Args:
        messages: The messages the agent's model receives (tool results included).

    Returns:
        The next tool call, or the final reply.
    """
    start, request = _last_human(messages)
    steps = sum(isinstance(m, ToolMessage) for m in messages[start + 1 :])
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        return _follow_up(request, last, steps + 1)
    return _start(request, steps + 1)
