"""What recall needs from a store beyond the MemoryStore interface, sync and async.

A :class:`RecallIndex` ranks one user's memories lexically and keeps their
vectors. The base class works over any :class:`MemoryStore`: it ranks in the
process and keeps vectors in memory only. The SQLite and MongoDB subclasses
keep a full-text index and vectors in companion tables or collections, and
MongoDB can rank in the server with Atlas ``$vectorSearch``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from langmem_agno.recall.dense import StoredVector, Vector
from langmem_agno.recall.lexical import rank_in_process
from langmem_agno.recall.text import content_terms, stem_prefix
from langmem_agno.recall.view import ScopeView
from langmem_agno.record import UserMemory
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.types import MemoryFilter, MemoryPage, ScoredMemory

__all__ = ["CANDIDATE_LIMIT", "CHANGED_PAGE", "VIEW_CACHE_SIZE", "Owners", "RecallIndex", "VectorSync"]

#: How many of a user's memories (newest first) the in-process paths rank.
#: Bounded so one prolific user cannot make every turn load everything.
CANDIDATE_LIMIT = 20_000
#: How many scopes' views (memories, lexicon, vector matrices) a store keeps, least recently used
#: evicted first: about 15 MB for a scope of 10,000 memories with 384-wide vectors.
VIEW_CACHE_SIZE = 64
#: Page size of the newest-first walk that finds the memories changed since a vector sync.
CHANGED_PAGE = 200
#: Per memory id, the agent and team that wrote it (kept with its vector where the database filters on them).
Owners = Mapping[str, tuple[str | None, str | None]]


#: How many of the newest memories the stamp reads: the writes of one second, unless a bulk
#: write put more than this many in it (then a change among the rest waits for the next write).
STAMP_PAGE = 20


def _stamp(page: MemoryPage) -> Hashable:
    if not page.items:
        return (page.total, None)
    times = [m.updated_at or m.created_at for m in page.items]
    newest = max(times)
    last_second = sorted(
        (m.memory_id, m.memory, tuple(m.topics or ()))
        for m, at in zip(page.items, times, strict=True)
        if at == newest
    )
    return (page.total, newest, hash(tuple(last_second)))


@dataclass(frozen=True)
class VectorSync:
    """How far a scope's vectors of one model are known to be current.

    Attributes:
        stamp: The scope's change stamp when they were last brought up to date.
        mark: The newest ``updated_at`` looked at then (``None``: nothing yet).
    """

    stamp: Hashable
    mark: int | None


class RecallIndex:
    """Lexical ranking and vector keeping for one store; this base class works for any store.

    Args:
        store: The memory store.
        candidate_limit: How many of a user's memories the in-process paths look at.
    """

    #: Whether :meth:`lexical` needs the user's memories handed in (ranks in the process).
    lexical_in_process = True

    def __init__(self, store: MemoryStore, *, candidate_limit: int = CANDIDATE_LIMIT) -> None:
        self.store = store
        self.candidate_limit = candidate_limit
        self._vectors: dict[tuple[str, str], dict[str, StoredVector]] = {}
        self._lock = threading.Lock()
        self._views: OrderedDict[MemoryFilter, ScopeView] = OrderedDict()
        self._synced: OrderedDict[tuple[MemoryFilter, str], VectorSync] = OrderedDict()

    # ------------------------------------------------------------ scope views
    def stamp(self, flt: MemoryFilter) -> Hashable:
        """A value that changes when the user's memories change, from one bounded, indexed read.

        Here: the count, the newest ``updated_at`` (every write sets it, Agno's too) and what
        the memories written in that second say. Times are whole seconds, so a second write
        within the newest second leaves the count and the time as they were: only the texts
        show it. SQLite overrides this with a counter its triggers keep.
        """
        return _stamp(self.store.list_memories(user_id=flt.user_id, limit=STAMP_PAGE))

    async def astamp(self, flt: MemoryFilter) -> Hashable:
        """Async twin of :meth:`stamp`."""
        return _stamp(await self.store.alist_memories(user_id=flt.user_id, limit=STAMP_PAGE))

    def cached_view(self, flt: MemoryFilter, stamp: Hashable) -> ScopeView | None:
        """The kept view of this scope if nothing changed since it was read (``stamp`` equal)."""
        with self._lock:
            view = self._views.get(flt)
            if view is None or view.stamp != stamp:
                return None
            self._views.move_to_end(flt)
            return view

    def _keep(self, flt: MemoryFilter, view: ScopeView) -> ScopeView:
        with self._lock:
            self._views[flt] = view
            self._views.move_to_end(flt)
            while len(self._views) > VIEW_CACHE_SIZE:
                self._views.popitem(last=False)
        return view

    def build_view(self, flt: MemoryFilter, stamp: Hashable) -> ScopeView:
        """Read the scope's memories once and keep them as a view stamped ``stamp``.

        ``stamp`` must be read *before* the memories, so a write in between leaves the
        view with an older stamp than the data: the next query rebuilds, never misses it.
        """
        memories, complete = self.candidates(flt)
        return self._keep(flt, ScopeView(stamp, memories, complete))

    async def abuild_view(self, flt: MemoryFilter, stamp: Hashable) -> ScopeView:
        """Async twin of :meth:`build_view`."""
        memories, complete = await self.acandidates(flt)
        view = await asyncio.to_thread(ScopeView, stamp, memories, complete)
        # Indexing thousands of memories is CPU work: off the event loop, once per change.
        await asyncio.to_thread(lambda: view.lexicon)
        return self._keep(flt, view)

    # ------------------------------------------------------------ vector upkeep without a view
    def vector_sync(self, flt: MemoryFilter, model: str) -> VectorSync | None:
        """Where the scope's vectors of ``model`` were last brought up to date, if ever."""
        with self._lock:
            return self._synced.get((flt, model))

    def mark_vector_sync(self, flt: MemoryFilter, model: str, stamp: Hashable, mark: int | None) -> None:
        """Remember that the scope's vectors were current at ``stamp``, memories up to ``mark`` seen."""
        with self._lock:
            self._synced[(flt, model)] = VectorSync(stamp, mark)
            self._synced.move_to_end((flt, model))
            while len(self._synced) > VIEW_CACHE_SIZE * 16:
                self._synced.popitem(last=False)

    def changed_since(self, flt: MemoryFilter, since: int | None) -> list[UserMemory]:
        """The scope's memories updated at or after ``since`` (all when ``None``), newest first.

        Walks the newest-first index a page at a time and stops at the first page that
        reaches older memories, so a scope that changed by one memory costs one page.
        """
        if since is None:
            return self.candidates(flt)[0]
        found: list[UserMemory] = []
        while True:
            page = self.store.list_memories(**flt.as_kwargs(), limit=CHANGED_PAGE, offset=len(found)).items
            found += page
            if len(page) < CHANGED_PAGE or (page[-1].updated_at or page[-1].created_at) < since:
                return [m for m in found if (m.updated_at or m.created_at) >= since]

    async def achanged_since(self, flt: MemoryFilter, since: int | None) -> list[UserMemory]:
        """Async twin of :meth:`changed_since`."""
        if since is None:
            return (await self.acandidates(flt))[0]
        found: list[UserMemory] = []
        while True:
            page = (
                await self.store.alist_memories(**flt.as_kwargs(), limit=CHANGED_PAGE, offset=len(found))
            ).items
            found += page
            if len(page) < CHANGED_PAGE or (page[-1].updated_at or page[-1].created_at) < since:
                return [m for m in found if (m.updated_at or m.created_at) >= since]

    # ------------------------------------------------------------ candidates
    def candidates(self, flt: MemoryFilter) -> tuple[list[UserMemory], bool]:
        """Return the user's memories matching ``flt``, newest first, and whether that is all of them."""
        page = self.store.list_memories(**flt.as_kwargs(), limit=self.candidate_limit)
        return page.items, page.total <= len(page.items)

    async def acandidates(self, flt: MemoryFilter) -> tuple[list[UserMemory], bool]:
        """Async twin of :meth:`candidates`."""
        page = await self.store.alist_memories(**flt.as_kwargs(), limit=self.candidate_limit)
        return page.items, page.total <= len(page.items)

    def newest(self, flt: MemoryFilter, limit: int) -> list[UserMemory]:
        """The ``limit`` newest memories matching ``flt``: one bounded read of the newest-first index."""
        return self.store.list_memories(**flt.as_kwargs(), limit=limit).items

    async def anewest(self, flt: MemoryFilter, limit: int) -> list[UserMemory]:
        """Async twin of :meth:`newest`."""
        return (await self.store.alist_memories(**flt.as_kwargs(), limit=limit)).items

    def word_candidates(self, flt: MemoryFilter, query: str) -> list[UserMemory]:
        """The memories that can score for ``query`` in BM25: those with a word starting like a query word.

        Each content word is cut to a short prefix (see :func:`stem_prefix`), so
        the word forms the Porter stemmer joins ("prefers", "preferred") are
        found too; the store's word search runs that filter in the database.
        """
        prefixes = " ".join(stem_prefix(t) for t in content_terms(query))
        if not prefixes:
            return []
        hits = self.store.search(prefixes, **flt.as_kwargs(), limit=self.candidate_limit)
        return [h.memory for h in hits]

    async def aword_candidates(self, flt: MemoryFilter, query: str) -> list[UserMemory]:
        """Async twin of :meth:`word_candidates`."""
        prefixes = " ".join(stem_prefix(t) for t in content_terms(query))
        if not prefixes:
            return []
        hits = await self.store.asearch(prefixes, **flt.as_kwargs(), limit=self.candidate_limit)
        return [h.memory for h in hits]

    # ------------------------------------------------------------ lexical
    def lexical(
        self, flt: MemoryFilter, query: str, limit: int, candidates: Sequence[UserMemory] | None
    ) -> list[ScoredMemory]:
        """Rank by BM25, best first; in-process over ``candidates``."""
        return rank_in_process(candidates or [], query, limit)

    async def alexical(
        self, flt: MemoryFilter, query: str, limit: int, candidates: Sequence[UserMemory] | None
    ) -> list[ScoredMemory]:
        """Async twin of :meth:`lexical`; CPU work goes to a thread so the loop stays free."""
        return await asyncio.to_thread(self.lexical, flt, query, limit, candidates)

    def related(self, flt: MemoryFilter, query: str, limit: int) -> list[UserMemory]:
        """Memories related to ``query``, best first, by the cheapest good ranking the backend has.

        The default is the store's own word search (run in the server on MongoDB);
        SQLite overrides it with its full-text index.
        """
        hits = self.store.search(query, **flt.as_kwargs(), limit=limit)
        return [h.memory for h in hits]

    async def arelated(self, flt: MemoryFilter, query: str, limit: int) -> list[UserMemory]:
        """Async twin of :meth:`related`."""
        hits = await self.store.asearch(query, **flt.as_kwargs(), limit=limit)
        return [h.memory for h in hits]

    # ------------------------------------------------------------ vectors
    def load_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Return the stored vectors of these memories.

        When ``complete`` (``memory_ids`` is every memory the user has), vectors
        of memories that no longer exist are dropped.
        """
        with self._lock:
            mine = self._vectors.setdefault((user_id, model), {})
            if complete:
                for gone in set(mine) - set(memory_ids):
                    del mine[gone]
            return {i: mine[i] for i in memory_ids if i in mine}

    async def aload_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Async twin of :meth:`load_vectors`."""
        return self.load_vectors(user_id, model, memory_ids, complete)

    def save_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Store (or replace) vectors, keyed by memory id and model.

        ``owners`` (memory id to agent and team) is kept where the database filters
        vectors by them (MongoDB's ``$vectorSearch``); the other backends ignore it.
        """
        with self._lock:
            self._vectors.setdefault((user_id, model), {}).update(rows)

    async def asave_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Async twin of :meth:`save_vectors`."""
        self.save_vectors(user_id, model, rows, owners)

    def keep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Bring the agent and team kept with these memories' vectors up to date (where kept at all)."""

    async def akeep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Async twin of :meth:`keep_owners`."""

    def server_search(self) -> bool:
        """Whether the database ranks by vectors itself (then :meth:`server_dense` serves dense recall)."""
        return False

    async def aserver_search(self) -> bool:
        """Async twin of :meth:`server_search`."""
        return False

    def server_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Rank by vector similarity in the database, or return ``None`` where it cannot."""
        return None

    async def aserver_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Async twin of :meth:`server_dense`."""
        return None
