"""Reads over a whole scope: word search, the distinct topics, per-user statistics.

Mixed into :class:`~langmem_agno.stores.base.MemoryStore`. Each read first lets the store delete
memories whose time to live has ended (:mod:`~langmem_agno.stores.lifecycle`), then runs one
backend primitive.
"""

from __future__ import annotations

from collections.abc import Sequence

from langmem_agno.checks import check_id
from langmem_agno.record import check_unicode
from langmem_agno.stores.lifecycle import Lifecycle, Plan
from langmem_agno.stores.search import query_terms
from langmem_agno.stores.types import ScoredMemory, UserStats
from langmem_agno.stores.validation import check_limit, page_args, scope_filter
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["ScopeQueries"]


class ScopeQueries(Lifecycle):
    """Search, topics and statistics of a scope, sync and async."""

    def list_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Return the distinct topics of one user's memories, sorted."""
        topics = twin(self._topics, self._atopics)(scope_filter(user_id, agent_id, team_id))
        found: list[str] = run_calls(self._after_sweep(topics))
        return sorted(found)

    def user_stats(
        self, *, user_id: str | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[UserStats], int]:
        """Per-user statistics, most recently active first: what a memory admin page shows.

        Args:
            user_id: Only this user; ``None`` for every user (an administrator's view).
            limit: Page size.
            offset: How many users to skip.

        Returns:
            The users' statistics and the total number of users.
        """
        return run_calls(self._after_sweep(self._stats_call(user_id, limit, offset)))

    def search(
        self,
        query: str,
        *,
        user_id: str,
        limit: int = 10,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
    ) -> list[ScoredMemory]:
        """Search one user's memories by words, best first.

        A memory matches when its text or topics contain a word of the query
        (case-insensitive, prefix match). More distinct query words matched rank
        higher; ties go to the newest. The query is never interpreted as a
        pattern or operator.

        Returns:
            Up to ``limit`` hits.
        """
        return run_calls(self._search_plan(query, user_id, limit, agent_id, team_id, topics))

    def _stats_call(
        self, user_id: str | None, limit: int | None, offset: int
    ) -> Call[tuple[list[UserStats], int]]:
        if user_id is not None:
            check_unicode("user_id", check_id("user_id", user_id))
        limit, offset = page_args(limit, offset, None)
        return twin(self._stats, self._astats)(user_id, limit, offset)

    async def alist_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Async twin of :meth:`list_topics`."""
        topics = twin(self._topics, self._atopics)(scope_filter(user_id, agent_id, team_id))
        found: list[str] = await arun_calls(self._after_sweep(topics))
        return sorted(found)

    async def auser_stats(
        self, *, user_id: str | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[UserStats], int]:
        """Async twin of :meth:`user_stats`."""
        return await arun_calls(self._after_sweep(self._stats_call(user_id, limit, offset)))

    async def asearch(
        self,
        query: str,
        *,
        user_id: str,
        limit: int = 10,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
    ) -> list[ScoredMemory]:
        """Async twin of :meth:`search`."""
        return await arun_calls(self._search_plan(query, user_id, limit, agent_id, team_id, topics))

    def _search_plan(
        self,
        query: str,
        user_id: str,
        limit: int,
        agent_id: str | None,
        team_id: str | None,
        topics: Sequence[str] | None,
    ) -> Plan[list[ScoredMemory]]:
        terms = query_terms(query)
        limit = check_limit("limit", limit, minimum=1) or 10
        if not terms:
            return []
        flt = scope_filter(user_id, agent_id, team_id, topics)
        found: list[ScoredMemory] = yield from self._after_sweep(
            twin(self._search, self._asearch)(flt, terms, limit)
        )
        return found
