"""AgentOS's memory routes over one :class:`~langmem_agno.stores.base.MemoryStore`.

Paths, parameters and response shapes are AgentOS's (``agno/os/routers/memory``), so AgentOS's
``AgentOSClient`` and tools built for it work unchanged. Where we differ, it is to keep the store's
guarantees: every memory route is scoped to one user (``user_id`` is required; another user's id
is a 404, exactly like an unknown one), an update changes only the fields it is given, an unknown
id is a 404 on update and delete (AgentOS would create it, or say nothing), and ``limit`` is
bounded. AgentOS's ``db_id`` and ``table`` parameters are ignored: this server serves one store.

The handlers are plain functions: FastAPI runs them on its worker threads, with the store's sync
methods, so any backend serves, whatever its async driver.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime, and
# they use this module's closure variables (max_limit).
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from langmem_agno.errors import InvalidMemoryError, MemoryNotFoundError
from langmem_agno.record import UserMemory
from langmem_agno.server.schemas import (
    DeleteMany,
    MemoryCreate,
    MemoryList,
    MemoryOut,
    MemoryPatch,
    PageInfo,
    UserStatsList,
    UserStatsOut,
)
from langmem_agno.stores.base import SEARCH_SCAN_LIMIT, MemoryStore
from langmem_agno.stores.history import recording

#: The largest page ``limit`` accepted (AgentOS has no bound; one request must not read everything).
MAX_PAGE_LIMIT = 500
#: The highest page number: its offset stays within what every backend stores as an integer.
MAX_PAGE = 10**9
#: The one sort key the store keeps an index for.
SORT_KEYS = ("updated_at",)

UserQuery = Annotated[str, Query(description="The user whose memories these are (required)")]


def split_topics(values: list[str] | None) -> list[str] | None:
    """Topics from ``?topics=a,b`` (AgentOS's form) and ``?topics=a&topics=b`` (its client's), merged."""
    if not values:
        return None
    topics = [t.strip() for value in values for t in value.split(",") if t.strip()]
    return topics or None


def _page(items: list[UserMemory], page: int, limit: int, total: int, started: float) -> MemoryList:
    return MemoryList(
        data=[MemoryOut.of(m) for m in items],
        meta=PageInfo.of(page, limit, total, round((time.perf_counter() - started) * 1000, 3)),
    )


async def _recorded_as_server() -> AsyncIterator[None]:
    # A dependency of every route: the changes a request makes are recorded with path "server".
    with recording("server"):
        yield


def memory_router(store: MemoryStore, *, max_limit: int = MAX_PAGE_LIMIT) -> APIRouter:
    """The memory routes over ``store``.

    Args:
        store: Where the memories live.
        max_limit: The largest ``limit`` a listing accepts.

    Returns:
        A router to include in a FastAPI app (under any dependencies, such as the token check).
    """
    router = APIRouter(tags=["Memory"], dependencies=[Depends(_recorded_as_server)])

    @router.get("/memories", response_model=MemoryList, operation_id="get_memories", summary="List Memories")
    def get_memories(
        user_id: UserQuery,
        agent_id: Annotated[str | None, Query(description="Only this agent's memories")] = None,
        team_id: Annotated[str | None, Query(description="Only this team's memories")] = None,
        topics: Annotated[
            list[str] | None, Query(description="Only memories with one of these topics (comma-separated)")
        ] = None,
        search_content: Annotated[
            str | None,
            Query(description="Words to find in the text or topics (prefix match)", max_length=1000),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=max_limit, description="Memories per page")] = 20,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
        sort_by: Annotated[str, Query(description="Sort key: updated_at")] = "updated_at",
        sort_order: Annotated[Literal["asc", "desc"], Query(description="asc or desc")] = "desc",
    ) -> MemoryList:
        """One page of one user's memories, filtered, searched and sorted."""
        started = time.perf_counter()
        if sort_by not in SORT_KEYS:
            raise InvalidMemoryError(f"sort_by must be one of {list(SORT_KEYS)}, got {sort_by!r:.80}")
        wanted = split_topics(topics)
        if search_content and search_content.strip():
            hits = store.search(
                search_content,
                user_id=user_id,
                limit=SEARCH_SCAN_LIMIT,
                agent_id=agent_id,
                team_id=team_id,
                topics=wanted,
            )
            # AgentOS filters by the search and orders by sort_by, not by relevance.
            found = sorted(
                (h.memory for h in hits), key=lambda m: m.updated_at or 0, reverse=sort_order == "desc"
            )
            start = (page - 1) * limit
            return _page(found[start : start + limit], page, limit, len(found), started)
        listed = store.list_memories(
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            topics=wanted,
            sort=sort_order,
            limit=limit,
            page=page,
        )
        return _page(listed.items, page, limit, listed.total, started)

    @router.post("/memories", response_model=MemoryOut, operation_id="create_memory", summary="Create Memory")
    def create_memory(payload: MemoryCreate) -> MemoryOut:
        """Store one memory for ``payload.user_id``."""
        stored = store.add(
            payload.memory,
            user_id=payload.user_id,
            agent_id=payload.agent_id,
            team_id=payload.team_id,
            topics=payload.topics,
        )
        return MemoryOut.of(stored)

    @router.get(
        "/memories/{memory_id}",
        response_model=MemoryOut,
        operation_id="get_memory",
        summary="Get Memory by ID",
    )
    def get_memory(memory_id: Annotated[str, Path()], user_id: UserQuery) -> MemoryOut:
        """One memory of ``user_id``; 404 when this user has none with this id."""
        found = store.get(memory_id, user_id=user_id)
        if found is None:
            raise MemoryNotFoundError(memory_id, user_id)
        return MemoryOut.of(found)

    @router.patch(
        "/memories/{memory_id}",
        response_model=MemoryOut,
        operation_id="update_memory",
        summary="Update Memory",
    )
    def update_memory(memory_id: Annotated[str, Path()], payload: MemoryPatch) -> MemoryOut:
        """Change the text and/or topics of one memory; 404 when this user has none with this id."""
        updated = store.update(
            memory_id, user_id=payload.user_id, memory=payload.memory, topics=payload.topics
        )
        return MemoryOut.of(updated)

    @router.delete(
        "/memories/{memory_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        operation_id="delete_memory",
        summary="Delete Memory",
    )
    def delete_memory(memory_id: Annotated[str, Path()], user_id: UserQuery) -> None:
        """Delete one memory; 404 when this user has none with this id."""
        if not store.delete(memory_id, user_id=user_id):
            raise MemoryNotFoundError(memory_id, user_id)

    @router.delete(
        "/memories",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        operation_id="delete_memories",
        summary="Delete Multiple Memories",
    )
    def delete_memories(request: Annotated[DeleteMany, Body()]) -> None:
        """Delete several memories of one user; ids this user does not have are skipped."""
        store.delete_many(request.memory_ids, user_id=request.user_id)

    @router.get(
        "/memory_topics",
        response_model=list[str],
        operation_id="get_memory_topics",
        summary="Get Memory Topics",
    )
    def get_topics(user_id: UserQuery) -> list[str]:
        """The distinct topics of one user's memories, sorted."""
        return store.list_topics(user_id=user_id)

    @router.get(
        "/user_memory_stats",
        response_model=UserStatsList,
        operation_id="get_user_memory_stats",
        summary="Get User Memory Statistics",
    )
    def get_user_memory_stats(
        limit: Annotated[int, Query(ge=1, le=max_limit, description="Users per page")] = 20,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
        user_id: Annotated[str | None, Query(description="Only this user")] = None,
    ) -> UserStatsList:
        """Every user's memory count and last update, most recently active first."""
        stats, total = store.user_stats(user_id=user_id, limit=limit, offset=(page - 1) * limit)
        return UserStatsList(data=[UserStatsOut.of(s) for s in stats], meta=PageInfo.of(page, limit, total))

    return router
