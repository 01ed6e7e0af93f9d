"""The request and response bodies of the memory API, field for field as AgentOS names them.

AgentOS's clients validate our answers with their own models, which ignore unknown keys; so each
response carries Agno's fields plus ``created_at`` (and the stats their ``unreadable_memories``),
which the browser page shows and AgentOS's schema lacks.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from langmem_agno.record import UserMemory
from langmem_agno.stores.types import UserStats

#: Most ids one bulk delete takes: a bigger list is refused before the store is asked.
MAX_BULK_IDS = 1_000


def _utc(epoch_s: int | None) -> datetime | None:
    return None if epoch_s is None else datetime.fromtimestamp(epoch_s, tz=UTC)


class MemoryOut(BaseModel):
    """One memory as AgentOS's ``UserMemorySchema`` gives it, plus ``created_at``."""

    memory_id: str
    memory: str
    topics: list[str] | None = None
    agent_id: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, memory: UserMemory) -> MemoryOut:
        """The response body of a stored memory (epoch seconds become UTC datetimes)."""
        return cls(
            memory_id=memory.memory_id,
            memory=memory.memory,
            topics=memory.topics or [],
            agent_id=memory.agent_id,
            team_id=memory.team_id,
            user_id=memory.user_id,
            created_at=_utc(memory.created_at),
            updated_at=_utc(memory.updated_at),
        )


class PageInfo(BaseModel):
    """AgentOS's pagination metadata (``page`` is 1-based)."""

    page: int
    limit: int
    total_pages: int
    total_count: int
    search_time_ms: float = 0.0

    @classmethod
    def of(cls, page: int, limit: int, total_count: int, search_time_ms: float = 0.0) -> PageInfo:
        """The metadata of page ``page`` of ``limit`` items, out of ``total_count``."""
        return cls(
            page=page,
            limit=limit,
            total_pages=math.ceil(total_count / limit),
            total_count=total_count,
            search_time_ms=search_time_ms,
        )


class MemoryList(BaseModel):
    """One page of memories in AgentOS's paginated envelope."""

    data: list[MemoryOut]
    meta: PageInfo


class UserStatsOut(BaseModel):
    """One user's memory statistics, as AgentOS's ``UserStatsSchema`` gives them."""

    user_id: str
    total_memories: int
    last_memory_updated_at: datetime | None = None
    unreadable_memories: int = 0

    @classmethod
    def of(cls, stats: UserStats) -> UserStatsOut:
        """The response body of one user's statistics."""
        return cls(
            user_id=stats.user_id,
            total_memories=stats.total_memories,
            last_memory_updated_at=_utc(stats.last_memory_updated_at),
            unreadable_memories=stats.unreadable_memories,
        )


class UserStatsList(BaseModel):
    """One page of user statistics in AgentOS's paginated envelope."""

    data: list[UserStatsOut]
    meta: PageInfo


class MemoryCreate(BaseModel):
    """The body of ``POST /memories``: AgentOS's fields, plus the writing agent and team.

    Unknown keys are refused, so a misspelt field is a 422 naming it rather than silently dropped.
    """

    model_config = ConfigDict(extra="forbid")

    memory: str = Field(description="The fact, in the third person")
    user_id: str = Field(description="The user the memory belongs to")
    topics: list[str] | None = Field(default=None, description="Short tags")
    agent_id: str | None = Field(default=None, description="The agent writing it")
    team_id: str | None = Field(default=None, description="The team writing it")


class MemoryPatch(BaseModel):
    """The body of ``PATCH /memories/{memory_id}``.

    Unlike AgentOS, which replaces the whole memory (and clears omitted topics), only the fields
    given change: ``topics: []`` clears the topics, an omitted ``topics`` keeps them.
    """

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(description="The owner; another user's memory is not found")
    memory: str | None = Field(default=None, description="The new text")
    topics: list[str] | None = Field(default=None, description="The new topics")


class DeleteMany(BaseModel):
    """The body of ``DELETE /memories``: AgentOS's ``DeleteMemoriesRequest``, the user required."""

    model_config = ConfigDict(extra="forbid")

    memory_ids: list[str] = Field(min_length=1, max_length=MAX_BULK_IDS)
    user_id: str
