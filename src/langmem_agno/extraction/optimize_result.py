"""What one optimisation planned or did: the groups of memories changed, and the counts before and after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langmem_agno.extraction.proposals import RejectedCall
from langmem_agno.record import UserMemory

__all__ = ["CHARS_PER_TOKEN", "OptimizationResult", "OptimizedGroup", "estimate_tokens"]

#: The usual characters per token of English text for OpenAI's tokenisers; token figures here are
#: estimates from the character count (no tokeniser is loaded), comparable before and after.
CHARS_PER_TOKEN = 4


def estimate_tokens(memories: Sequence[UserMemory]) -> int:
    """An estimate of the tokens of the memories' texts: characters / :data:`CHARS_PER_TOKEN`, rounded up."""
    return sum(-(-len(m.memory) // CHARS_PER_TOKEN) for m in memories)


@dataclass(frozen=True)
class OptimizedGroup:
    """One change of an optimisation.

    Attributes:
        action: ``"merge"`` (several memories become one), ``"rewrite"`` (one memory's text
            changes) or ``"drop"`` (memories are deleted).
        before: The memories as they were (for a merge, the kept one first: the earliest created).
        after: The memory that replaces them (the kept id, its earliest ``created_at``, the union
            of the topics), as stored when applied; ``None`` for a drop.
    """

    action: Literal["merge", "rewrite", "drop"]
    before: list[UserMemory]
    after: UserMemory | None

    def as_dict(self) -> dict[str, Any]:
        """The group as JSON-ready values (for ``--json`` and logs)."""
        return {
            "action": self.action,
            "before": [m.model_dump() for m in self.before],
            "after": None if self.after is None else self.after.model_dump(),
        }


@dataclass
class OptimizationResult:
    """What :meth:`MemoryManager.optimize` planned (``preview=True``) or wrote.

    Attributes:
        user_id: Whose memories were optimised.
        strategy: ``"merge"`` or ``"summarize"``.
        preview: Whether this was a preview (nothing written).
        applied: Whether the changes were written (``False`` for a preview or when nothing changed).
        groups: The changes, one per merged, rewritten or dropped group.
        memories: The user's memories after the optimisation (planned, for a preview), oldest first.
        memories_before: How many memories were considered.
        memories_after: How many remain after the changes.
        chars_before: The characters of their texts before.
        chars_after: The characters after.
        tokens_before: An estimate of their tokens before (see :func:`estimate_tokens`).
        tokens_after: The same, after.
        model_calls: How many model calls were made (one per batch).
        rejected: Tool calls refused, each with its reason (and changes another writer made moot).
    """

    user_id: str
    strategy: str
    preview: bool
    applied: bool = False
    groups: list[OptimizedGroup] = field(default_factory=list)
    memories: list[UserMemory] = field(default_factory=list)
    memories_before: int = 0
    memories_after: int = 0
    chars_before: int = 0
    chars_after: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    model_calls: int = 0
    rejected: list[RejectedCall] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the optimisation changes (or, in a preview, would change) anything."""
        return bool(self.groups)

    def count(self, before: Sequence[UserMemory], after: Sequence[UserMemory]) -> None:
        """Fill in the counts, characters and estimated tokens from the memories before and after."""
        self.memories_before, self.memories_after = len(before), len(after)
        self.chars_before = sum(len(m.memory) for m in before)
        self.chars_after = sum(len(m.memory) for m in after)
        self.tokens_before, self.tokens_after = estimate_tokens(before), estimate_tokens(after)

    def summary(self) -> dict[str, Any]:
        """The counts as JSON-ready values."""
        return {
            "user_id": self.user_id,
            "strategy": self.strategy,
            "preview": self.preview,
            "applied": self.applied,
            "memories_before": self.memories_before,
            "memories_after": self.memories_after,
            "chars_before": self.chars_before,
            "chars_after": self.chars_after,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "model_calls": self.model_calls,
            "rejected": [{"tool": r.tool, "args": r.args, "reason": r.reason} for r in self.rejected],
        }
