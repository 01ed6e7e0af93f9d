"""The store interface every backend implements, sync and async.

The public methods live here, once: they validate their arguments, build the
record or the change set, and hand a small, already-checked request to a
backend primitive (``_insert``, ``_find``, ``_update`` ...). A backend says how
to run those primitives against its database. The async primitives default to
running the sync ones on a worker thread, so a backend whose driver is sync-only
(SQLite) writes no async code; one with a native async driver (MongoDB)
overrides them. Everything is scoped by ``user_id``: a memory that belongs to
another user is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from langmem_agno.errors import MemoryNotFoundError
from langmem_agno.record import (
    DEFAULT_MAX_MEMORY_CHARS,
    UserMemory,
    now_epoch_s,
)
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.extensions import Extensions
from langmem_agno.stores.history import recording
from langmem_agno.stores.lifecycle import expiry_time
from langmem_agno.stores.queries import ScopeQueries
from langmem_agno.stores.rows import RowInspection
from langmem_agno.stores.search import (
    MAX_QUERY_TERMS,
    MAX_TERM_CHARS,
    SEARCH_SCAN_LIMIT,
    query_terms,
    rank_by_terms,
)
from langmem_agno.stores.text_checks import TextChecks
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    LifecycleOptions,
    MemoryFilter,
    MemoryPage,
    MemoryUpdate,
    ScoredMemory,
    SortOrder,
    StoredRow,
    UserStats,
)
from langmem_agno.stores.validation import (
    check_lookup_id,
    check_sort,
    id_list,
    page_args,
    prepare_changes,
    prepare_many,
    prepare_update,
    scope_filter,
)
from langmem_agno.twins import Call, arun_calls, run_calls, twin

# Re-exported: these names were defined here before the types and the word search got modules of their own
# (and recording, so the layers above that import the store's names find it beside them).
__all__ = [
    "MAX_QUERY_TERMS",
    "MAX_TERM_CHARS",
    "SEARCH_SCAN_LIMIT",
    "ChangeRequest",
    "ChangeSet",
    "MemoryFilter",
    "MemoryPage",
    "MemoryStore",
    "MemoryUpdate",
    "ScoredMemory",
    "SortOrder",
    "StoredRow",
    "UserStats",
    "now_epoch_s",
    "query_terms",
    "rank_by_terms",
    "recording",
]

T = TypeVar("T")


class MemoryStore(TextChecks, Extensions, RowInspection, ScopeQueries):
    """Where memories live: one interface, sync methods and ``a``-prefixed async twins.

    Every method takes the owner's ``user_id`` as a keyword and touches nothing
    outside it. Subclasses implement the private primitives only. Every change is
    recorded in the store's history, and reads never see an expired memory
    (:mod:`~langmem_agno.stores.lifecycle`; :meth:`configure_lifecycle` sets how).

    Args:
        max_memory_chars: The longest memory text accepted on add and update.
        secret_filter: Refuse memory text that holds an obvious secret (API key, password,
            card number). ``True`` (the default) uses :class:`~langmem_agno.secrets_filter.SecretFilter`;
            ``False`` turns the check off; a ``SecretFilter`` of your own configures it.
        lifecycle: How the store keeps history and checks expiry
            (``LifecycleOptions(history=False)``, ``LifecycleOptions(history_limit=50)``...); the
            defaults record every change and keep it. :meth:`configure_lifecycle` changes it later.
    """

    def __init__(
        self,
        *,
        max_memory_chars: int | None = DEFAULT_MAX_MEMORY_CHARS,
        secret_filter: SecretFilter | bool = True,
        lifecycle: LifecycleOptions | None = None,
    ) -> None:
        self.max_memory_chars = max_memory_chars
        if isinstance(secret_filter, bool):
            secret_filter = SecretFilter(enabled=secret_filter)
        self.secret_filter = secret_filter
        self._init_extensions()
        self._init_lifecycle(lifecycle)

    # ------------------------------------------------------------ sync API
    def add(
        self,
        memory: str | UserMemory,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
        input: str | None = None,
        ttl: float | dt.timedelta | None = None,
        expires_at: int | dt.datetime | None = None,
    ) -> UserMemory:
        """Store one memory for ``user_id`` and return it as stored.

        Adding a :class:`UserMemory` whose ``memory_id`` is already stored for this
        user changes nothing and returns the stored memory, so a retried add never
        makes a duplicate.

        Args:
            memory: The fact's text, or a full :class:`UserMemory`.
            user_id: The owner.
            agent_id: The agent writing it.
            team_id: The team writing it.
            topics: Tags for the memory (text form only).
            input: The user text the fact came from (text form only).
            ttl: A time to live (seconds or a ``timedelta``): once it ends the memory is never
                read again, and is deleted (see :mod:`~langmem_agno.stores.lifecycle`).
            expires_at: The same as an end time (epoch seconds or an aware ``datetime``).

        Returns:
            The stored memory.

        Raises:
            InvalidMemoryError: If the text is empty or too long, or the id belongs to another user.
            StoreUnavailableError: If the database cannot be reached.
        """
        record = self._new(memory, user_id, agent_id, team_id, topics, input)
        return run_calls(self._add_plan([record], expiry_time(ttl, expires_at)))[0]

    def add_many(self, memories: Sequence[str | UserMemory], *, user_id: str) -> list[UserMemory]:
        """Store several memories of one user in one bulk write.

        Args:
            memories: Texts or :class:`UserMemory` objects.
            user_id: The owner of them all.

        Returns:
            The stored memories, in the order given.
        """
        records = prepare_many(self.check_text, memories, user_id, check_field=self.check_field)
        return run_calls(self._add_plan(records, None)) if records else []

    def apply_changes(
        self,
        *,
        user_id: str,
        adds: Sequence[str | UserMemory] = (),
        updates: Sequence[MemoryUpdate] = (),
        deletes: Sequence[str] = (),
        agent_id: str | None = None,
        team_id: str | None = None,
        before: Sequence[UserMemory] = (),
    ) -> ChangeSet:
        """Apply adds, updates and deletes of one user as one write: all of it lands, or none.

        Every argument is validated before anything is written. SQLite runs the
        whole set in one transaction; MongoDB in one multi-document transaction
        on a replica set or sharded cluster. A standalone MongoDB server has no
        multi-document transactions: there the set is one ordered bulk write,
        which a failure can interrupt part-way, and applying the same set again
        converges (adds are insert-if-absent, updates set fixed values, deletes
        of a gone memory are no-ops).

        Args:
            user_id: The owner of every memory touched.
            adds: Texts or :class:`UserMemory` objects to add; an add whose
                ``memory_id`` this user already has changes nothing.
            updates: Changes to existing memories.
            deletes: Ids of memories to delete.
            agent_id: The agent writing: stamped on the adds, and only this agent's
                memories are updated or deleted.
            team_id: The same, for a team.
            before: The updated and deleted memories as the caller last read them, for
                their history (the text before); any not given are read in one bounded read.

        Returns:
            What was written; updates and deletes whose memory is not in the
            scope (unknown ids, another user's or agent's) are listed as missing.

        Raises:
            InvalidMemoryError: If any value is invalid, an id appears twice, or an
                add's ``memory_id`` belongs to another user; nothing is written then.
            StoreUnavailableError: If the database cannot be reached.
        """
        request = prepare_changes(
            self.check_text, user_id, adds, updates, deletes, agent_id, team_id, self.check_field
        )
        if not (request.adds or request.updates or request.deletes):
            return ChangeSet()
        return run_calls(self._apply_plan(request, before))

    def get(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Return the memory with this id, or ``None`` if this user has none such.

        With ``agent_id`` / ``team_id``, a memory another agent or team wrote is ``None`` too.
        """
        items, _ = run_calls(self._after_sweep(self._get_call(memory_id, user_id, agent_id, team_id)))
        return items[0] if items else None

    def list_memories(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
        sort: SortOrder = "desc",
        limit: int | None = None,
        offset: int = 0,
        page: int | None = None,
    ) -> MemoryPage:
        """List one user's memories, by ``updated_at``.

        Args:
            user_id: The owner.
            agent_id: Only this agent's memories.
            team_id: Only this team's memories.
            topics: Only memories with at least one of these topics.
            sort: ``"desc"`` (newest first, the default) or ``"asc"``.
            limit: Page size; ``None`` for all.
            offset: How many to skip.
            page: 1-based page number; needs ``limit`` and overrides ``offset``.

        Returns:
            The page, with the total count of matching memories.
        """
        flt = scope_filter(user_id, agent_id, team_id, topics)
        limit, offset = page_args(limit, offset, page)
        find = twin(self._find, self._afind)(
            flt, ids=None, sort=check_sort(sort), limit=limit, offset=offset, count=True
        )
        items, total = run_calls(self._after_sweep(find))
        return MemoryPage(items, total, limit, offset)

    def update(
        self,
        memory_id: str,
        *,
        user_id: str,
        memory: str | None = None,
        topics: Sequence[str] | None = None,
        input: str | None = None,
        feedback: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> UserMemory:
        """Change only the given fields of one memory; ``updated_at`` is refreshed.

        Fields left as ``None`` are not touched (pass ``topics=[]`` to clear topics).
        With ``agent_id`` / ``team_id``, only a memory that agent or team wrote is changed;
        another's is not found.

        Returns:
            The memory as stored after the change.

        Raises:
            MemoryNotFoundError: If this user has no memory with this id.
        """
        changes = prepare_update(
            self.check_text, memory_id, user_id, memory, topics, input, feedback, self.check_field
        )
        updated = run_calls(self._update_plan(memory_id, scope_filter(user_id, agent_id, team_id), changes))
        if updated is None:
            raise MemoryNotFoundError(memory_id, user_id)
        return updated

    def delete(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> bool:
        """Delete one memory; return whether this user (and this agent or team, when given) had it."""
        check_lookup_id(memory_id)
        return run_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), [memory_id])) == 1

    def delete_many(
        self,
        memory_ids: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Delete several memories of one user (of one agent or team, when given); return the count."""
        ids = id_list(memory_ids)
        return run_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), ids)) if ids else 0

    def clear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Delete every memory of one user (optionally only one agent's or team's); return the count.

        Unlike Agno's ``clear_memories()``, other users' memories are never touched. Clearing a
        whole user also deletes its history, times to live, extraction cursors, failed spans and
        LangGraph store values.
        """
        return run_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), None))

    def _get_call(
        self, memory_id: str, user_id: str, agent_id: str | None, team_id: str | None
    ) -> Call[tuple[list[UserMemory], int]]:
        check_lookup_id(memory_id)
        flt = scope_filter(user_id, agent_id, team_id)
        return twin(self._find, self._afind)(
            flt, ids=[memory_id], sort="desc", limit=1, offset=0, count=False
        )

    # ------------------------------------------------------------ async API
    async def aadd(
        self,
        memory: str | UserMemory,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
        input: str | None = None,
        ttl: float | dt.timedelta | None = None,
        expires_at: int | dt.datetime | None = None,
    ) -> UserMemory:
        """Async twin of :meth:`add`."""
        record = self._new(memory, user_id, agent_id, team_id, topics, input)
        return (await arun_calls(self._add_plan([record], expiry_time(ttl, expires_at))))[0]

    async def aadd_many(self, memories: Sequence[str | UserMemory], *, user_id: str) -> list[UserMemory]:
        """Async twin of :meth:`add_many`."""
        records = prepare_many(self.check_text, memories, user_id, check_field=self.check_field)
        return await arun_calls(self._add_plan(records, None)) if records else []

    async def aapply_changes(
        self,
        *,
        user_id: str,
        adds: Sequence[str | UserMemory] = (),
        updates: Sequence[MemoryUpdate] = (),
        deletes: Sequence[str] = (),
        agent_id: str | None = None,
        team_id: str | None = None,
        before: Sequence[UserMemory] = (),
    ) -> ChangeSet:
        """Async twin of :meth:`apply_changes`."""
        request = prepare_changes(
            self.check_text, user_id, adds, updates, deletes, agent_id, team_id, self.check_field
        )
        if not (request.adds or request.updates or request.deletes):
            return ChangeSet()
        return await arun_calls(self._apply_plan(request, before))

    async def aget(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Async twin of :meth:`get`."""
        items, _ = await arun_calls(self._after_sweep(self._get_call(memory_id, user_id, agent_id, team_id)))
        return items[0] if items else None

    async def alist_memories(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
        sort: SortOrder = "desc",
        limit: int | None = None,
        offset: int = 0,
        page: int | None = None,
    ) -> MemoryPage:
        """Async twin of :meth:`list_memories`."""
        flt = scope_filter(user_id, agent_id, team_id, topics)
        limit, offset = page_args(limit, offset, page)
        find = twin(self._find, self._afind)(
            flt, ids=None, sort=check_sort(sort), limit=limit, offset=offset, count=True
        )
        items, total = await arun_calls(self._after_sweep(find))
        return MemoryPage(items, total, limit, offset)

    async def aupdate(
        self,
        memory_id: str,
        *,
        user_id: str,
        memory: str | None = None,
        topics: Sequence[str] | None = None,
        input: str | None = None,
        feedback: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> UserMemory:
        """Async twin of :meth:`update`."""
        changes = prepare_update(
            self.check_text, memory_id, user_id, memory, topics, input, feedback, self.check_field
        )
        flt = scope_filter(user_id, agent_id, team_id)
        updated = await arun_calls(self._update_plan(memory_id, flt, changes))
        if updated is None:
            raise MemoryNotFoundError(memory_id, user_id)
        return updated

    async def adelete(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> bool:
        """Async twin of :meth:`delete`."""
        check_lookup_id(memory_id)
        return await arun_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), [memory_id])) == 1

    async def adelete_many(
        self,
        memory_ids: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Async twin of :meth:`delete_many`."""
        ids = id_list(memory_ids)
        return (
            await arun_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), ids)) if ids else 0
        )

    async def aclear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Async twin of :meth:`clear`."""
        return await arun_calls(self._delete_plan(scope_filter(user_id, agent_id, team_id), None))

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Release connections this store opened itself."""

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        self.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MemoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
