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

import asyncio
import importlib
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from langmem_agno.checks import check_id
from langmem_agno.errors import MemoryNotFoundError, StoreUnavailableError
from langmem_agno.record import (
    DEFAULT_MAX_MEMORY_CHARS,
    UserMemory,
    check_memory_text,
    check_unicode,
    now_epoch_s,
    repair_record,
    unreadable_reason,
)
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.primitives import StorePrimitives
from langmem_agno.stores.search import (
    MAX_QUERY_TERMS,
    MAX_TERM_CHARS,
    SEARCH_SCAN_LIMIT,
    query_terms,
    rank_by_terms,
)
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    MemoryPage,
    MemoryUpdate,
    ScoredMemory,
    SortOrder,
    StoredRow,
    UserStats,
)
from langmem_agno.stores.validation import (
    check_limit,
    check_lookup_id,
    check_optional_text,
    check_sort,
    id_list,
    new_record,
    page_args,
    prepare_changes,
    prepare_many,
    prepare_update,
    scope_filter,
)

# Re-exported: these names were defined here before the types and the word search got modules of their own.
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
]

T = TypeVar("T")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class MemoryStore(StorePrimitives):
    """Where memories live: one interface, sync methods and ``a``-prefixed async twins.

    Every method takes the owner's ``user_id`` as a keyword and touches nothing
    outside it. Subclasses implement the private primitives only.

    Args:
        max_memory_chars: The longest memory text accepted on add and update.
        secret_filter: Refuse memory text that holds an obvious secret (API key, password,
            card number). ``True`` (the default) uses :class:`~langmem_agno.secrets_filter.SecretFilter`;
            ``False`` turns the check off; a ``SecretFilter`` of your own configures it.
    """

    def __init__(
        self,
        *,
        max_memory_chars: int | None = DEFAULT_MAX_MEMORY_CHARS,
        secret_filter: SecretFilter | bool = True,
    ) -> None:
        self.max_memory_chars = max_memory_chars
        if isinstance(secret_filter, bool):
            secret_filter = SecretFilter(enabled=secret_filter)
        self.secret_filter = secret_filter
        self._extensions: dict[str, object] = {}
        self._extensions_lock = threading.Lock()

    def as_langgraph_store(self, **options: Any) -> Any:
        """This store as a LangGraph ``BaseStore``: ``LangGraphStore(self, **options)``.

        Args:
            **options: :class:`~langmem_agno.agents.langgraph_store.LangGraphStore`'s options,
                e.g. ``namespace=("memories", "{user_id}")``.

        Returns:
            The :class:`~langmem_agno.agents.langgraph_store.LangGraphStore`.
        """
        # Loaded by name: the adapter sits layers above the stores, which must not import it.
        adapter = importlib.import_module("langmem_agno.agents.langgraph_store")
        return adapter.LangGraphStore(self, **options)

    def extension(self, key: str, build: Callable[[MemoryStore], T]) -> T:
        """The helper object ``key`` kept for this store, built by ``build(self)`` on first use.

        Other parts of the library keep per-store state here (recall keeps its index),
        so it lives exactly as long as the store, and the store knows nothing about them.
        """
        with self._extensions_lock:
            if key not in self._extensions:
                self._extensions[key] = build(self)
            return cast(T, self._extensions[key])

    def check_text(self, text: object, *, max_chars: int | None = None) -> str:
        """Validate memory text as this store would on add or update, and return it stripped.

        Args:
            text: The candidate memory text.
            max_chars: A tighter length limit of the caller's own (a tool's, extraction's);
                the store's ``max_memory_chars`` when ``None``.

        Raises:
            InvalidMemoryError: If it is not a string, is empty, too long, or holds a secret.
        """
        stripped = check_memory_text(text, self.max_memory_chars if max_chars is None else max_chars)
        self.secret_filter.check(stripped)
        return stripped

    def check_field(self, name: str, value: object) -> str | None:
        """Validate an optional text field (``input``, ``feedback``) as this store would on a write.

        Args:
            name: The field's name, for the message.
            value: ``None``, or the text.

        Returns:
            The value, unchanged.

        Raises:
            InvalidMemoryError: If it is not text, is not valid Unicode, or holds a secret.
        """
        text = check_optional_text(name, value)
        if text is not None:
            self.secret_filter.check(text, what=name)
        return text

    def check_record(self, memory: UserMemory, *, user_id: str) -> UserMemory:
        """Run every check :meth:`add` runs on ``memory`` (ids, text, topics, input, feedback), with no I/O.

        What an import runs on every line before it writes anything, so a file is refused whole,
        naming each bad line, rather than half-written.

        Returns:
            The record as :meth:`add` would insert it.

        Raises:
            InvalidMemoryError: Naming what is not valid.
        """
        return new_record(
            self.check_text,
            memory,
            user_id=user_id,
            agent_id=None,
            team_id=None,
            topics=None,
            input=None,
            check_field=self.check_field,
        )

    def redact(self, text: str) -> str:
        """``text`` with the secrets this store's filter finds replaced by ``[redacted: KIND]``.

        Extraction stores the user's message as a memory's ``input`` this way: the fact is
        kept, the password beside it is not. A lone UTF-16 surrogate, which no database
        can store, becomes U+FFFD.
        """
        return self.secret_filter.redact(_LONE_SURROGATE.sub("\ufffd", text), "[redacted: {kind}]")

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

        Returns:
            The stored memory.

        Raises:
            InvalidMemoryError: If the text is empty or too long, or the id belongs to another user.
            StoreUnavailableError: If the database cannot be reached.
        """
        record = new_record(
            self.check_text,
            memory,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            topics=topics,
            input=input,
            check_field=self.check_field,
        )
        return self._insert([record])[0]

    def add_many(self, memories: Sequence[str | UserMemory], *, user_id: str) -> list[UserMemory]:
        """Store several memories of one user in one bulk write.

        Args:
            memories: Texts or :class:`UserMemory` objects.
            user_id: The owner of them all.

        Returns:
            The stored memories, in the order given.
        """
        records = prepare_many(self.check_text, memories, user_id, check_field=self.check_field)
        return self._insert(records) if records else []

    def apply_changes(
        self,
        *,
        user_id: str,
        adds: Sequence[str | UserMemory] = (),
        updates: Sequence[MemoryUpdate] = (),
        deletes: Sequence[str] = (),
        agent_id: str | None = None,
        team_id: str | None = None,
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
        return self._apply(request)

    def get(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Return the memory with this id, or ``None`` if this user has none such.

        With ``agent_id`` / ``team_id``, a memory another agent or team wrote is ``None`` too.
        """
        check_lookup_id(memory_id)
        items, _ = self._find(
            scope_filter(user_id, agent_id, team_id),
            ids=[memory_id],
            sort="desc",
            limit=1,
            offset=0,
            count=False,
        )
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
        items, total = self._find(
            flt, ids=None, sort=check_sort(sort), limit=limit, offset=offset, count=True
        )
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
        # No update changes a memory's agent or team, so checking them first cannot race with one.
        if (agent_id, team_id) != (None, None) and self.get(
            memory_id, user_id=user_id, agent_id=agent_id, team_id=team_id
        ) is None:
            raise MemoryNotFoundError(memory_id, user_id)
        updated = self._update(memory_id, user_id, changes)
        if updated is None:
            raise MemoryNotFoundError(memory_id, user_id)
        return updated

    def delete(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> bool:
        """Delete one memory; return whether this user (and this agent or team, when given) had it."""
        check_lookup_id(memory_id)
        return self._delete(scope_filter(user_id, agent_id, team_id), [memory_id]) == 1

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
        return self._delete(scope_filter(user_id, agent_id, team_id), ids) if ids else 0

    def clear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Delete every memory of one user (optionally only one agent's or team's); return the count.

        Unlike Agno's ``clear_memories()``, other users' memories are never touched.
        """
        return self._delete(scope_filter(user_id, agent_id, team_id), None)

    def list_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Return the distinct topics of one user's memories, sorted."""
        return sorted(self._topics(scope_filter(user_id, agent_id, team_id)))

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
        if user_id is not None:
            check_unicode("user_id", check_id("user_id", user_id))
        limit, offset = page_args(limit, offset, None)
        return self._stats(user_id, limit, offset)

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
        terms = query_terms(query)
        limit = check_limit("limit", limit, minimum=1) or 10
        if not terms:
            return []
        return self._search(scope_filter(user_id, agent_id, team_id, topics), terms, limit)

    def inspect_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """The stored rows of one user as stored, each with why reads skip it, if they do.

        What ``langmem-agno doctor`` and ``export`` use to see every row, those the scoped
        reads cannot (out of limits, unreadable, with no user) included.

        Args:
            user_id: The owner, any stored text (even one outside the write limits); ``None`` for
                the rows that have no user (``user_id`` missing or not text).
            memory_ids: Only these ids (any stored id, even one outside the write limits).

        Returns:
            The rows, in storage order.
        """
        if user_id is not None:
            check_lookup_id(user_id, name="user_id")
        ids = None if memory_ids is None else id_list(memory_ids)
        return [
            StoredRow(
                row.get("memory_id"),
                row.get("user_id"),
                unreadable_reason(row, UserMemory.from_document),
                row,
            )
            for row in self._raw(user_id, ids)
        ]

    def unreadable_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """The rows of :meth:`inspect_rows` that reads skip (``reason`` is set on each)."""
        return [r for r in self.inspect_rows(user_id=user_id, memory_ids=memory_ids) if r.reason is not None]

    def repair(self, memory_id: str, *, user_id: str) -> UserMemory | None:
        """Repair one unreadable row of ``user_id``: rewrite it readable, or delete it if it holds no text.

        What is kept and what is dropped is :func:`~langmem_agno.record.repair_record`'s rule;
        an id out of limits gets a fresh one (the new id is on the returned memory). The old
        row is deleted and the repaired one inserted as two writes.

        Returns:
            The repaired memory as stored, or ``None`` when the row was deleted.

        Raises:
            MemoryNotFoundError: If this user has no unreadable row with this id.
        """
        check_id("user_id", user_id)
        found = self.unreadable_rows(user_id=user_id, memory_ids=[check_lookup_id(memory_id)])
        if not found:
            raise MemoryNotFoundError(memory_id, user_id)
        repaired = repair_record(found[0].row)
        self._delete(MemoryFilter(user_id), [memory_id])
        return None if repaired is None else self._insert([repaired])[0]

    def _raw(self, user_id: str | None, ids: Sequence[str] | None) -> list[dict[str, Any]]:
        """The stored rows of ``user_id`` (``None``: rows with no user) as ten-field dicts, unchecked."""
        raise StoreUnavailableError(f"{type(self).__name__} cannot list its stored rows")

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
    ) -> UserMemory:
        """Async twin of :meth:`add`."""
        record = new_record(
            self.check_text,
            memory,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            topics=topics,
            input=input,
            check_field=self.check_field,
        )
        return (await self._ainsert([record]))[0]

    async def aadd_many(self, memories: Sequence[str | UserMemory], *, user_id: str) -> list[UserMemory]:
        """Async twin of :meth:`add_many`."""
        records = prepare_many(self.check_text, memories, user_id, check_field=self.check_field)
        return await self._ainsert(records) if records else []

    async def aapply_changes(
        self,
        *,
        user_id: str,
        adds: Sequence[str | UserMemory] = (),
        updates: Sequence[MemoryUpdate] = (),
        deletes: Sequence[str] = (),
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> ChangeSet:
        """Async twin of :meth:`apply_changes`."""
        request = prepare_changes(
            self.check_text, user_id, adds, updates, deletes, agent_id, team_id, self.check_field
        )
        if not (request.adds or request.updates or request.deletes):
            return ChangeSet()
        return await self._aapply(request)

    async def aget(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Async twin of :meth:`get`."""
        check_lookup_id(memory_id)
        items, _ = await self._afind(
            scope_filter(user_id, agent_id, team_id),
            ids=[memory_id],
            sort="desc",
            limit=1,
            offset=0,
            count=False,
        )
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
        items, total = await self._afind(
            flt, ids=None, sort=check_sort(sort), limit=limit, offset=offset, count=True
        )
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
        if (agent_id, team_id) != (None, None) and await self.aget(
            memory_id, user_id=user_id, agent_id=agent_id, team_id=team_id
        ) is None:
            raise MemoryNotFoundError(memory_id, user_id)
        updated = await self._aupdate(memory_id, user_id, changes)
        if updated is None:
            raise MemoryNotFoundError(memory_id, user_id)
        return updated

    async def adelete(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> bool:
        """Async twin of :meth:`delete`."""
        check_lookup_id(memory_id)
        return await self._adelete(scope_filter(user_id, agent_id, team_id), [memory_id]) == 1

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
        return await self._adelete(scope_filter(user_id, agent_id, team_id), ids) if ids else 0

    async def aclear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Async twin of :meth:`clear`."""
        return await self._adelete(scope_filter(user_id, agent_id, team_id), None)

    async def ainspect_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """Async twin of :meth:`inspect_rows`."""
        return await asyncio.to_thread(self.inspect_rows, user_id=user_id, memory_ids=memory_ids)

    async def aunreadable_rows(
        self, *, user_id: str | None, memory_ids: Sequence[str] | None = None
    ) -> list[StoredRow]:
        """Async twin of :meth:`unreadable_rows`."""
        return await asyncio.to_thread(self.unreadable_rows, user_id=user_id, memory_ids=memory_ids)

    async def arepair(self, memory_id: str, *, user_id: str) -> UserMemory | None:
        """Async twin of :meth:`repair`."""
        return await asyncio.to_thread(self.repair, memory_id, user_id=user_id)

    async def alist_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Async twin of :meth:`list_topics`."""
        return sorted(await self._atopics(scope_filter(user_id, agent_id, team_id)))

    async def auser_stats(
        self, *, user_id: str | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[UserStats], int]:
        """Async twin of :meth:`user_stats`."""
        if user_id is not None:
            check_unicode("user_id", check_id("user_id", user_id))
        limit, offset = page_args(limit, offset, None)
        return await self._astats(user_id, limit, offset)

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
        terms = query_terms(query)
        limit = check_limit("limit", limit, minimum=1) or 10
        if not terms:
            return []
        return await self._asearch(scope_filter(user_id, agent_id, team_id, topics), terms, limit)

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
