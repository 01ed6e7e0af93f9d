"""The text the extraction model reads: instructions, shown memories, new messages.

Kept apart from the extraction logic so the wording can be tuned (or replaced
by a caller) without touching how tool calls are validated and applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langmem_agno.recall.text import STOP_WORDS, message_text
from langmem_agno.stores.base import query_terms

__all__ = [
    "DEFAULT_CAPTURE_INSTRUCTIONS",
    "EXTRACTION_MARKER",
    "TOOL_CHANGES_HEADER",
    "ToolChange",
    "build_system_prompt",
    "render_conversation",
    "render_memory_line",
    "render_tool_changes",
    "search_query",
    "tool_changes",
]

#: What is worth remembering, unless the caller says otherwise.
DEFAULT_CAPTURE_INSTRUCTIONS = (
    "Remember lasting facts about the user that will help in future conversations: "
    "their name and personal details, preferences and dislikes, habits, goals, plans, "
    "constraints (diet, health, schedule, budget), relationships, work and projects, "
    "and how they like to be contacted or answered. "
    "Do not store small talk, one-off questions, facts about the world, "
    "or anything the assistant said that the user did not confirm."
)

#: Marks the extraction prompt, so a scripted model (or a log reader) can tell it apart.
EXTRACTION_MARKER = "You maintain a memory of facts about one user."

_OPERATIONS = {
    "add": "- add_memory(memory, topics): a new fact not already covered by an existing memory.",
    "update": (
        "- update_memory(id, memory, topics): an existing memory that the new messages change, "
        "correct or complete; `memory` is the full new text."
    ),
    "delete": "- delete_memory(id): an existing memory that the user says is wrong or no longer true.",
}

_RULES = (
    "Rules: write each memory as one short fact in the third person (e.g. 'User prefers email'). "
    "Use only the ids shown in brackets, like 1 for [1]. "
    "Prefer updating an existing memory over adding a near duplicate. "
    "Make all the changes in this one reply, as tool calls; if nothing is worth remembering, "
    "reply with no tool call."
)


def build_system_prompt(
    *,
    capture_instructions: str,
    additional_instructions: str | None,
    operations: Sequence[str],
    memories_block: str,
    tool_changes_block: str = "",
) -> str:
    """Assemble the extraction model's system prompt.

    Args:
        capture_instructions: What is worth remembering.
        additional_instructions: Extra caller instructions, appended when given.
        operations: The enabled operations, among ``"add"``, ``"update"``, ``"delete"``.
        memories_block: The existing memories, already rendered by :func:`render_memories`.
        tool_changes_block: What the agent's memory tools changed in the new messages, rendered
            by :func:`render_tool_changes` (left out when empty).

    Returns:
        The system prompt text.
    """
    parts = [EXTRACTION_MARKER, capture_instructions.strip()]
    if additional_instructions and additional_instructions.strip():
        parts.append(additional_instructions.strip())
    parts.append("Tools:\n" + "\n".join(_OPERATIONS[op] for op in operations))
    parts.append(_RULES)
    parts.append("Existing memories:\n" + (memories_block or "(none)"))
    if tool_changes_block:
        parts.append(TOOL_CHANGES_HEADER + "\n" + tool_changes_block)
    return "\n\n".join(parts)


def render_memory_line(alias: str, text: str, topics: Sequence[str] | None, max_chars: int) -> str:
    r"""Render one shown memory as ``[alias] text (topics)``, on one line, the text cut to ``max_chars``.

    Every run of whitespace in the text, line breaks included (``\n``, ``\r``, U+2028 ...),
    becomes one space: a memory holding "...\n[2] User is an admin" must not show the model
    a second ``[2]`` line, or "delete 2" would hit the real one.
    """
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    tags = f" ({', '.join(topics)})" if topics else ""
    return f"[{alias}] {text}{tags}"


def render_conversation(messages: Sequence[BaseMessage]) -> str:
    """Render the user and assistant messages as ``user: ...`` / ``assistant: ...`` lines.

    System and tool messages and empty assistant turns (pure tool calls) carry no
    fact about the user in their own words, so they are left out.
    """
    lines: list[str] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        else:
            continue
        text = message_text(message)
        if text:
            lines.append(f"{role}: {text}")
    return "\n".join(lines)


_MAX_QUERY_TERMS = 12
# The words recall drops, and the memories' own subject: the prompt makes every memory
# start with "User ...", so "user" would match them all in the related-memory search.
_SEARCH_STOP_WORDS = STOP_WORDS | {"user", "users"}


def search_query(texts: Sequence[str]) -> str:
    """Turn user text into a short word query: content words only, at most 12.

    Args:
        texts: The new user messages' texts.

    Returns:
        The space-joined query words (empty when there is no content word).
    """
    terms: list[str] = []
    for text in texts:
        for term in query_terms(text):
            if len(term) > 2 and term not in _SEARCH_STOP_WORDS and term not in terms:
                terms.append(term)
    return " ".join(terms[:_MAX_QUERY_TERMS])


#: Introduces, in the extraction prompt, what the agent's memory tools already changed.
TOOL_CHANGES_HEADER = (
    "The agent's memory tools already made these changes during the new messages; they are stored. "
    "Do not add them again, in any wording; change them only if the messages say something newer:"
)


@dataclass(frozen=True)
class ToolChange:
    """A change the agent's memory tools made, read from their results in the messages.

    Attributes:
        memory_id: The memory changed.
        text: Its text after the change, or, for a deletion, before it (when the messages show it).
        deleted: Whether the tools deleted it.
    """

    memory_id: str
    text: str | None
    deleted: bool = False


def _memory_fields(value: object) -> tuple[str, str | None] | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("memory_id"), str):
        return None
    text = value.get("memory")
    return value["memory_id"], text if isinstance(text, str) and text.strip() else None


def tool_changes(messages: Sequence[BaseMessage]) -> list[ToolChange]:
    """What the memory tools stored or deleted, from the artifacts of their ``ToolMessage`` results.

    The memory tools (:mod:`langmem_agno.agents.tools`) return the memory written as the artifact
    of their result, a deletion its id and ``deleted``, a search the memories found (which name
    the text of a memory deleted later). A refused duplicate or an error is not a change; the
    last change of each memory wins.
    """
    changes: dict[str, ToolChange] = {}
    seen: dict[str, str] = {}
    for message in messages:
        if not isinstance(message, ToolMessage) or message.status == "error":
            continue
        artifact = message.artifact
        if isinstance(artifact, list):  # a search: the texts of the memories it found
            for hit in artifact:
                if (found := _memory_fields(hit)) and found[1]:
                    seen[found[0]] = found[1]
            continue
        fields = _memory_fields(artifact)
        if fields is None or "duplicate_of" in artifact:
            continue
        memory_id, text = fields
        if artifact.get("deleted") is True:
            changes[memory_id] = ToolChange(memory_id, seen.get(memory_id), deleted=True)
        elif text is not None:
            seen[memory_id] = text
            changes[memory_id] = ToolChange(memory_id, text)
    return list(changes.values())


def render_tool_changes(changes: Sequence[ToolChange], aliases: Mapping[str, str], max_chars: int) -> str:
    """The tool changes as prompt lines: ``- saved [3]: text`` (its alias when shown), ``- deleted: text``.

    A deletion whose text the messages do not show tells the model nothing, so it is left out.

    Args:
        changes: From :func:`tool_changes`.
        aliases: The alias of each shown memory, by memory id.
        max_chars: Longest text of one line (longer ones are cut).
    """
    lines = []
    for change in changes:
        if change.text is None:
            continue
        text = render_memory_line("", change.text, None, max_chars).removeprefix("[] ")
        if change.deleted:
            lines.append(f"- deleted: {text}")
            continue
        where = f" [{aliases[change.memory_id]}]" if change.memory_id in aliases else ""
        lines.append(f"- saved{where}: {text}")
    return "\n".join(lines)
