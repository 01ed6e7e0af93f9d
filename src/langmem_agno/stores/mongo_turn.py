"""What an extraction turn reads before its model call, in one server command on MongoDB.

An extraction shows its model the memories related to the new messages (a word search) and the
scope's newest ones (a listing page, whose total says whether they are all of them). Read apart
they are two commands; :class:`TurnReads` reads both in one aggregate (the newest page and its
count in ``$unionWith`` branches of the search), with exactly the results of the two calls.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TypeVar

from langmem_agno.record import UserMemory
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.lifecycle import Plan
from langmem_agno.stores.mongo_plans import _Plan
from langmem_agno.stores.mongo_search import search_and_newest_plan, search_each_plan
from langmem_agno.stores.search import query_terms
from langmem_agno.stores.types import MemoryFilter, MemoryPage, ScoredMemory
from langmem_agno.stores.validation import check_limit, scope_filter
from langmem_agno.twins import arun_calls, run_calls, twin

__all__ = ["TurnReads"]

T = TypeVar("T")


class TurnReads(MemoryStore):
    """:meth:`search` and the newest page of :meth:`list_memories` as one read, sync and async."""

    def search_and_newest(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        limit: int = 10,
        newest: int = 5,
    ) -> tuple[list[ScoredMemory], MemoryPage]:
        """``search(query, limit=limit)`` and ``list_memories(limit=newest)`` of one scope, in one read.

        Args:
            query: The search words (none: no hits, only the newest).
            user_id: The owner.
            agent_id: Only this agent's memories.
            team_id: Only this team's memories.
            limit: Most search hits.
            newest: The listing page's size.

        Returns:
            The hits, best first, and the newest memories with the scope's total.
        """
        return run_calls(self._search_and_newest_plan(query, user_id, agent_id, team_id, limit, newest))

    async def asearch_and_newest(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        limit: int = 10,
        newest: int = 5,
    ) -> tuple[list[ScoredMemory], MemoryPage]:
        """Async twin of :meth:`search_and_newest`."""
        return await arun_calls(
            self._search_and_newest_plan(query, user_id, agent_id, team_id, limit, newest)
        )

    def _search_and_newest_plan(
        self, query: str, user_id: str, agent_id: str | None, team_id: str | None, limit: int, newest: int
    ) -> Plan[tuple[list[ScoredMemory], MemoryPage]]:
        flt, terms = scope_filter(user_id, agent_id, team_id), query_terms(query)
        hits_wanted = check_limit("limit", limit, minimum=1) or 10
        page_size = check_limit("newest", newest, minimum=1) or 5
        read = twin(self._search_newest, self._asearch_newest)(flt, terms, hits_wanted, page_size)
        hits, items, total = yield from self._after_sweep(read)
        return hits, MemoryPage(items, total, page_size, 0)

    def search_each(
        self,
        queries: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        limit: int = 10,
    ) -> list[list[ScoredMemory]]:
        """:meth:`search` of each query, in one read: what an extraction's duplicate lookups ask.

        Returns:
            Each query's hits, best first, in the order of the queries.
        """
        return run_calls(self._search_each_plan(queries, user_id, agent_id, team_id, limit))

    async def asearch_each(
        self,
        queries: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        limit: int = 10,
    ) -> list[list[ScoredMemory]]:
        """Async twin of :meth:`search_each`."""
        return await arun_calls(self._search_each_plan(queries, user_id, agent_id, team_id, limit))

    def _search_each_plan(
        self, queries: Sequence[str], user_id: str, agent_id: str | None, team_id: str | None, limit: int
    ) -> Plan[list[list[ScoredMemory]]]:
        flt, terms = scope_filter(user_id, agent_id, team_id), [query_terms(q) for q in queries]
        hits_wanted = check_limit("limit", limit, minimum=1) or 10
        if not any(terms):
            return [[] for _ in queries]
        found: list[list[ScoredMemory]] = yield from self._after_sweep(
            twin(self._search_each, self._asearch_each)(flt, terms, hits_wanted)
        )
        return found

    # ------------------------------------------------------------ the store's reads
    def _search_newest(
        self, flt: MemoryFilter, terms: Sequence[str], limit: int, newest: int
    ) -> tuple[list[ScoredMemory], list[UserMemory], int]:
        plan = search_and_newest_plan(flt, terms, limit, newest, self._text_index)
        hits, recent, total, self._text_index = self._run(plan)
        return hits, recent, total

    async def _asearch_newest(
        self, flt: MemoryFilter, terms: Sequence[str], limit: int, newest: int
    ) -> tuple[list[ScoredMemory], list[UserMemory], int]:
        plan = search_and_newest_plan(flt, terms, limit, newest, self._text_index)
        hits, recent, total, self._text_index = await self._arun(plan)
        return hits, recent, total

    def _search_each(
        self, flt: MemoryFilter, terms: Sequence[Sequence[str]], limit: int
    ) -> list[list[ScoredMemory]]:
        found, self._text_index = self._run(search_each_plan(flt, terms, limit, self._text_index))
        return found

    async def _asearch_each(
        self, flt: MemoryFilter, terms: Sequence[Sequence[str]], limit: int
    ) -> list[list[ScoredMemory]]:
        found, self._text_index = await self._arun(search_each_plan(flt, terms, limit, self._text_index))
        return found

    #: Whether the collection has a text index over memory and topics (``None``: not asked yet).
    _text_index: bool | None = None

    @abstractmethod
    def _run(self, plan: _Plan[T]) -> T:
        """Run a plan of the store's requests (:mod:`~langmem_agno.stores.mongo_plans`)."""

    @abstractmethod
    async def _arun(self, plan: _Plan[T]) -> T:
        """Async twin of :meth:`_run`."""
