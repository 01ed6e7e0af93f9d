"""What an extraction turn shows its model: the memories related to the new messages, and the newest.

Read apart they are a related-memory read (the recall index's, by default the store's word search)
and a listing page. A store that reads both at once (MongoDB's
:class:`~langmem_agno.stores.mongo_turn.TurnReads`: one aggregate) is asked once instead, when the
related read it would replace is the default word search; every other store is read as before.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from langmem_agno.recall.index import RecallIndex
from langmem_agno.recall.registry import recall_index
from langmem_agno.record import UserMemory
from langmem_agno.stores.base import MemoryFilter, MemoryPage, MemoryStore
from langmem_agno.stores.mongo_turn import TurnReads
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["TurnMemories", "aread_turn", "read_turn"]

#: The related memories, the newest ones, and whether the newest are every memory of the scope.
TurnMemories = tuple[list[UserMemory], list[UserMemory], bool]


def _turn_plan(
    store: MemoryStore, flt: MemoryFilter, query: str, search_limit: int, recent_limit: int
) -> Generator[Call[Any], Any, TurnMemories]:
    index = recall_index(store)
    query = query if search_limit else ""
    scope: dict[str, Any] = {"user_id": flt.user_id, "agent_id": flt.agent_id, "team_id": flt.team_id}
    # Folded only where the related read is the store's own word search, which the one read runs.
    if isinstance(store, TurnReads) and type(index).related is RecallIndex.related and recent_limit:
        both = twin(store.search_and_newest, store.asearch_and_newest)
        found, page = yield both(query, **scope, limit=search_limit or 1, newest=recent_limit)
        return [h.memory for h in found], page.items, page.total <= len(page.items)
    hits: list[UserMemory] = (
        (yield twin(index.related, index.arelated)(flt, query, search_limit)) if query else []
    )
    if not recent_limit:
        return hits, [], False
    listing: MemoryPage = yield twin(store.list_memories, store.alist_memories)(**scope, limit=recent_limit)
    return hits, listing.items, listing.total <= len(listing.items)


def read_turn(
    store: MemoryStore, flt: MemoryFilter, query: str, search_limit: int, recent_limit: int
) -> TurnMemories:
    """The turn's memories: up to ``search_limit`` related to ``query``, and the ``recent_limit`` newest.

    Args:
        store: Where the memories live.
        flt: Whose memories (user, agent, team).
        query: The new messages' search words (empty: no related read).
        search_limit: Most related memories (0: none).
        recent_limit: How many of the newest (0: none, and never complete).

    Returns:
        The related memories, the newest, and whether the newest are every memory of the scope.
    """
    return run_calls(_turn_plan(store, flt, query, search_limit, recent_limit))


async def aread_turn(
    store: MemoryStore, flt: MemoryFilter, query: str, search_limit: int, recent_limit: int
) -> TurnMemories:
    """Async twin of :func:`read_turn`."""
    return await arun_calls(_turn_plan(store, flt, query, search_limit, recent_limit))
