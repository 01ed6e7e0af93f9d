"""The values the store interface takes and returns: filters, pages, statistics, change sets, hits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langmem_agno.record import UserMemory

__all__ = [
    "ChangeEvent",
    "ChangeRequest",
    "ChangeSet",
    "HistoryEntry",
    "LifecycleOptions",
    "MemoryFilter",
    "MemoryPage",
    "MemoryUpdate",
    "ScoredMemory",
    "SortOrder",
    "StoredRow",
    "UserStats",
]

SortOrder = Literal["asc", "desc"]
#: What a history entry records: a memory added, changed or deleted.
ChangeEvent = Literal["add", "update", "delete"]


@dataclass(frozen=True)
class MemoryFilter:
    """Which memories of one user a read or a bulk operation applies to.

    Attributes:
        user_id: The owner; always applied.
        agent_id: Only memories written by this agent, when set.
        team_id: Only memories written by this team, when set.
        topics: Only memories carrying at least one of these topics, when set.
    """

    user_id: str
    agent_id: str | None = None
    team_id: str | None = None
    topics: tuple[str, ...] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """The filter as the ``user_id=, agent_id=, team_id=, topics=`` keywords of the store's reads."""
        return {
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "team_id": self.team_id,
            "topics": self.topics,
        }


@dataclass(frozen=True)
class MemoryPage:
    """One page of a listing.

    Attributes:
        items: The memories on this page.
        total: How many memories match the filter, over all pages.
        limit: The page size asked for, or ``None`` for everything.
        offset: How many matching memories come before this page.
    """

    items: list[UserMemory]
    total: int
    limit: int | None = None
    offset: int = 0

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class UserStats:
    """What a memory admin page shows for one user.

    Attributes:
        user_id: The user.
        total_memories: How many memories the user has.
        last_memory_updated_at: Epoch seconds of the user's most recent change.
        unreadable_memories: How many of ``total_memories`` cannot be read (an empty text, an id
            out of limits, a field of the wrong type: rows another writer stored). Reads skip
            them; ``langmem-agno doctor`` lists and repairs them.
    """

    user_id: str
    total_memories: int
    last_memory_updated_at: int | None
    unreadable_memories: int = 0


@dataclass(frozen=True)
class MemoryUpdate:
    """One change to an existing memory, for :meth:`MemoryStore.apply_changes`.

    Fields left as ``None`` are not touched (``topics=[]`` clears the topics);
    ``updated_at`` is always refreshed.

    Attributes:
        memory_id: The memory to change.
        memory: Its new text.
        topics: Its new topics.
        input: The user text the new version came from.
        feedback: Feedback on the memory.
    """

    memory_id: str
    memory: str | None = None
    topics: Sequence[str] | None = None
    input: str | None = None
    feedback: str | None = None


@dataclass(frozen=True)
class ChangeRequest:
    """A validated :meth:`MemoryStore.apply_changes` call, as a backend receives it.

    Attributes:
        flt: The scope the updates and deletes must fall in (user, and agent or team when given).
        adds: The records to insert if absent.
        updates: ``(memory_id, fields to set)`` pairs, ``updated_at`` included.
        deletes: The ids to delete.
    """

    flt: MemoryFilter
    adds: list[UserMemory]
    updates: list[tuple[str, dict[str, Any]]]
    deletes: list[str]


@dataclass(frozen=True)
class ChangeSet:
    """What one :meth:`MemoryStore.apply_changes` call wrote.

    Attributes:
        added: The added memories as stored, in the order given (a retried add
            returns the memory stored the first time).
        updated: The updated memories as stored after the change, in the order given.
        deleted: The ids of the memories deleted, in the order given.
        missing_updates: Ids of updates whose memory is not in the scope (unknown,
            another user's or another agent's or team's): nothing was written for them.
        missing_deletes: The same for deletes.
    """

    added: list[UserMemory] = field(default_factory=list)
    updated: list[UserMemory] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    missing_updates: list[str] = field(default_factory=list)
    missing_deletes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScoredMemory:
    """A search hit.

    Attributes:
        memory: The memory found.
        score: Higher is more relevant; only comparable within one search.
        matched_terms: The query terms the memory contains.
    """

    memory: UserMemory
    score: float
    matched_terms: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class StoredRow:
    """A row as stored, and why reads skip it, if they do.

    Attributes:
        memory_id: The stored id, as stored (possibly not text, or out of limits).
        user_id: The stored owner, as stored.
        reason: Why reads skip it; ``None`` for a readable row.
        row: The ten stored fields, JSON columns decoded.
    """

    memory_id: Any
    user_id: Any
    reason: str | None
    row: dict[str, Any]


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of one memory (:meth:`MemoryStore.history`).

    Attributes:
        memory_id: The memory changed.
        user_id: Its owner.
        event: ``"add"``, ``"update"`` or ``"delete"``.
        path: Which way the change came: ``"api"`` (a direct call), ``"tool"``, ``"extraction"``,
            ``"optimization"``, ``"cli"``, ``"server"``, ``"import"``, ``"prune"`` or ``"expiry"``.
        at: When, in epoch seconds (UTC), as Agno's timestamps.
        old_memory: The text before the change (``None`` for an add).
        new_memory: The text after it (``None`` for a delete).
        old_topics: The topics before.
        new_topics: The topics after.
    """

    memory_id: str
    user_id: str
    event: ChangeEvent
    path: str
    at: int
    old_memory: str | None = None
    new_memory: str | None = None
    old_topics: tuple[str, ...] | None = None
    new_topics: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LifecycleOptions:
    """How a store keeps history and checks expiry (:meth:`MemoryStore.configure_lifecycle`).

    Attributes:
        history: Record every change in ``<collection>_history``; ``False`` records nothing.
        history_retention_days: Entries older than this are not shown and are purged
            (at most once per ``purge_interval``); ``None`` keeps them all.
        history_limit: Only the newest this many entries per memory are shown and kept;
            ``None`` keeps them all.
        expiry_check_interval: Seconds between looks at ``<collection>_expiry`` for time-to-live
            rows another process wrote; ``None`` never looks (only this process's TTLs count).
        purge_interval: Seconds between purges of history past its retention.
    """

    history: bool = True
    history_retention_days: float | None = None
    history_limit: int | None = None
    expiry_check_interval: float | None = 60.0
    purge_interval: float = 3600.0
