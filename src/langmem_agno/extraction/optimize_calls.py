"""The optimisation model's side: the tools it may call on the memories it is shown, and its prompt.

Like extraction, the model sees each memory under a short alias (``[1] ...``), never its id
nor its owner; every call names aliases, which are mapped back to ids of memories of the user
being optimised. Nothing here does I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from langmem_agno.errors import InvalidMemoryError

__all__ = [
    "OPTIMIZE_MARKER",
    "OPTIMIZE_SCHEMAS",
    "OPTIMIZE_TOOL_NAMES",
    "DropMemory",
    "MergeMemories",
    "OptimizeStrategy",
    "RewriteMemory",
    "check_strategy",
    "optimize_system_prompt",
]

#: ``"merge"`` folds only duplicates and contradictions; ``"summarize"`` (Agno's) folds everything into one.
OptimizeStrategy = Literal["merge", "summarize"]
#: Marks the optimisation prompt, so a scripted model (or a log reader) can tell it apart.
OPTIMIZE_MARKER = "You tidy a list of stored facts about one user."


def _alias(value: object) -> object:
    # Models often send an alias as a number.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class MergeMemories(BaseModel):
    """Replace several shown memories by one memory that says all of what they say."""

    model_config = ConfigDict(title="merge_memories")

    ids: list[str] = Field(description="The ids shown in brackets of the memories to merge, e.g. ['1', '4'].")
    memory: str = Field(description="The one fact, in the third person, that replaces them.")
    topics: list[str] | None = Field(default=None, description="Extra short lowercase tags, if any.")

    @field_validator("ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        return [_alias(v) for v in value] if isinstance(value, list) else value


class RewriteMemory(BaseModel):
    """Rewrite one shown memory that other memories contradict or make out of date."""

    model_config = ConfigDict(title="rewrite_memory")

    id: str = Field(description="The id shown in brackets, e.g. '2' for [2].")
    memory: str = Field(description="The full corrected text of the fact.")

    _id_as_text = field_validator("id", mode="before")(_alias)


class DropMemory(BaseModel):
    """Delete one shown memory that another shown memory already says in full."""

    model_config = ConfigDict(title="drop_memory")

    id: str = Field(description="The id shown in brackets, e.g. '3' for [3].")

    _id_as_text = field_validator("id", mode="before")(_alias)


OPTIMIZE_SCHEMAS: dict[str, type[BaseModel]] = {
    "merge": MergeMemories,
    "rewrite": RewriteMemory,
    "drop": DropMemory,
}
OPTIMIZE_TOOL_NAMES = {"merge": "merge_memories", "rewrite": "rewrite_memory", "drop": "drop_memory"}

_STRATEGY_RULES: dict[str, str] = {
    "merge": (
        "Fold only what repeats or conflicts. Merge memories that say the same thing in other words. "
        "When memories contradict each other, keep the most recent fact (the list is oldest first): "
        "rewrite or merge them into it. Drop a memory another one already says in full. "
        "Leave every distinct fact as it is, in its own memory: do not merge unrelated facts."
    ),
    "summarize": (
        "Merge all the memories shown into one memory: a single comprehensive summary, in the third "
        "person, that keeps every fact, removes repetition and keeps only the most recent of "
        "conflicting facts (the list is oldest first). Call merge_memories once, with every id shown."
    ),
}


def optimize_system_prompt(strategy: OptimizeStrategy, memories_block: str, max_chars: int) -> str:
    """The optimisation model's system prompt for one batch of memories.

    Args:
        strategy: How much to fold (see :data:`OptimizeStrategy`).
        memories_block: The batch, one ``[alias] text (topics)`` line per memory, oldest first.
        max_chars: The longest memory text the store accepts (a longer merge is refused).

    Returns:
        The system prompt text.
    """
    tools = (
        "Tools:\n"
        "- merge_memories(ids, memory, topics): replace the memories with these ids by one memory.\n"
        "- rewrite_memory(id, memory): correct one memory.\n"
        "- drop_memory(id): delete one memory that another memory already says."
    )
    rules = (
        "Use only the ids shown in brackets, each in at most one call. Write facts in the third person "
        "('User prefers email'); never invent a fact. A memory holds at most "
        f"{max_chars} characters: say a long summary concisely. Make all the changes in this one reply, "
        "as tool calls; if nothing needs to change, reply with no tool call."
    )
    return "\n\n".join(
        [OPTIMIZE_MARKER, _STRATEGY_RULES[strategy], tools, rules, "Memories:\n" + memories_block]
    )


def check_strategy(strategy: object) -> OptimizeStrategy:
    """``strategy`` if it is ``"merge"`` or ``"summarize"``.

    Raises:
        InvalidMemoryError: Naming ``strategy``, otherwise.
    """
    if strategy == "merge" or strategy == "summarize":
        return strategy
    raise InvalidMemoryError(f"strategy must be 'merge' or 'summarize', got {strategy!r:.80}")
