"""The store interface every backend implements, sync and async.

The public methods live here, once: they validate their arguments, build the
record or the change set, and hand a small, already-checked request to a
backend primitive (``_insert``, ``_find``, ``_update`` ...). A backend only
says how to run those primitives against its database, in a sync and an async
flavour. Everything is scoped by ``user_id``: a memory that belongs to another
user is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langmem_agno.checks import check_ids, check_int
from langmem_agno.errors import InvalidMemoryError, MemoryNotFoundError
from langmem_agno.record import (
    DEFAULT_MAX_MEMORY_CHARS,
    UserMemory,
    check_memory_text,
    normalize_topics,
    now_epoch_s,
)
from langmem_agno.scope import check_id
from langmem_agno.secrets_filter import SecretFilter

SortOrder = Literal["asc", "desc"]
_WORD = re.compile(r"\w+", re.UNICODE)
#: How many of a user's memories a text search looks at, newest first, when the
#: backend has no index to rank with. Bounded so one prolific user cannot make
#: every search scan everything.
SEARCH_SCAN_LIMIT = 5_000
#: Longest search term kept; a longer word is cut to this prefix (matching is by prefix anyway),
#: so a pasted blob cannot become a pattern the database refuses (MongoDB caps ``$regex`` size).
MAX_TERM_CHARS = 100
#: Most distinct terms one search uses; SQLite caps the bound parameters of one statement.
MAX_QUERY_TERMS = 64


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
    """

    user_id: str
    total_memories: int
    last_memory_updated_at: int | None


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


def query_terms(text: str) -> list[str]:
    """Split search text into distinct lowercase word terms, in order (at most ``MAX_QUERY_TERMS``).

    The terms are used only as literal values (escaped for ``$regex``, bound as
    SQL parameters): nothing in the query text is ever interpreted.
    """
    if not isinstance(text, str):
        raise InvalidMemoryError(f"search query must be a string, got {type(text).__name__} {text!r:.80}")
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        seen.setdefault(word[:MAX_TERM_CHARS])
        if len(seen) == MAX_QUERY_TERMS:
            break
    return list(seen)


def rank_by_terms(memories: Sequence[UserMemory], terms: Sequence[str], limit: int) -> list[ScoredMemory]:
    """Rank memories by how many distinct query terms their text or topics contain.

    Ties go to the most recently updated memory. Memories that match no term are dropped.
    """
    hits: list[ScoredMemory] = []
    for mem in memories:
        words = set(_WORD.findall(mem.memory.lower()))
        for topic in mem.topics or ():
            words.update(_WORD.findall(topic))
        matched = tuple(t for t in terms if t in words or any(w.startswith(t) for w in words))
        if matched:
            hits.append(ScoredMemory(memory=mem, score=len(matched) / len(terms), matched_terms=matched))
    hits.sort(key=lambda h: (h.score, h.memory.updated_at or 0), reverse=True)
    return hits[:limit]


def _check_limit(name: str, value: int | None, *, minimum: int) -> int | None:
    # A limit is an argument of one call, not an option: an InvalidMemoryError, and None means "no limit".
    return None if value is None else check_int(name, value, minimum=minimum, error=InvalidMemoryError)


def _check_distinct(ids: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    for memory_id in ids:
        if memory_id in seen:
            raise InvalidMemoryError(f"memory_id {memory_id!r} appears twice in {where}")
        seen.add(memory_id)


def _check_sort(sort: str) -> SortOrder:
    if sort not in ("asc", "desc"):
        raise InvalidMemoryError(f"sort must be 'asc' or 'desc', got {sort!r}")
    return sort  # type: ignore[return-value]


class MemoryStore(ABC):
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

    def check_text(self, text: object) -> str:
        """Validate memory text as this store would on add or update, and return it stripped.

        Raises:
            InvalidMemoryError: If it is not a string, is empty, too long, or holds a secret.
        """
        stripped = check_memory_text(text, self.max_memory_chars)
        self.secret_filter.check(stripped)
        return stripped

    # ------------------------------------------------------------ validation
    def _new_record(
        self,
        memory: str | UserMemory,
        *,
        user_id: str,
        agent_id: str | None,
        team_id: str | None,
        topics: Sequence[str] | None,
        input: str | None,
    ) -> UserMemory:
        check_id("user_id", user_id)
        # Checked here, not left to pydantic: model_copy() below does not
        # validate, and a mapping such as {"$ne": None} must never reach a query.
        check_ids(agent_id=agent_id, team_id=team_id)
        if input is not None and not isinstance(input, str):
            raise InvalidMemoryError(f"input must be a string, got {type(input).__name__} {input!r:.80}")
        if isinstance(memory, UserMemory):
            if memory.user_id not in (None, user_id):
                raise InvalidMemoryError(
                    f"memory {memory.memory_id!r} belongs to user {memory.user_id!r}, not {user_id!r}"
                )
            self.check_text(memory.memory)
            normalize_topics(memory.topics)  # the write-time limits, which reading does not apply
            return memory.model_copy(
                update={
                    "user_id": user_id,
                    "agent_id": memory.agent_id if agent_id is None else agent_id,
                    "team_id": memory.team_id if team_id is None else team_id,
                }
            )
        text = self.check_text(memory)
        now = now_epoch_s()
        return UserMemory(
            memory=text,
            topics=normalize_topics(topics),
            input=input,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            created_at=now,
            updated_at=now,
        )

    def _prepare_many(
        self,
        memories: Sequence[str | UserMemory],
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> list[UserMemory]:
        if isinstance(memories, (str, bytes)) or not isinstance(memories, Sequence):
            raise InvalidMemoryError(f"memories must be a list, got {type(memories).__name__}")
        records = [
            self._new_record(m, user_id=user_id, agent_id=agent_id, team_id=team_id, topics=None, input=None)
            for m in memories
        ]
        _check_distinct([r.memory_id for r in records], "one batch")
        return records

    def _prepare_changes(
        self,
        user_id: str,
        adds: Sequence[str | UserMemory],
        updates: Sequence[MemoryUpdate],
        deletes: Sequence[str],
        agent_id: str | None,
        team_id: str | None,
    ) -> ChangeRequest:
        flt = self._filter(user_id, agent_id, team_id)
        records = self._prepare_many(adds, user_id, agent_id, team_id)
        if isinstance(updates, (str, bytes)) or not isinstance(updates, Sequence):
            raise InvalidMemoryError(f"updates must be a list of MemoryUpdate, got {updates!r:.80}")
        changes: list[tuple[str, dict[str, Any]]] = []
        for upd in updates:
            if not isinstance(upd, MemoryUpdate):
                raise InvalidMemoryError(f"updates must hold MemoryUpdate values, got {upd!r:.80}")
            changes.append(
                (
                    upd.memory_id,
                    self._prepare_update(
                        upd.memory_id, user_id, upd.memory, upd.topics, upd.input, upd.feedback
                    ),
                )
            )
        delete_ids = self._ids(deletes)
        # One memory changed twice in one atomic write has no single meaning (which update wins?
        # is a deleted memory's update lost?): refuse it rather than guess.
        _check_distinct(
            [*(r.memory_id for r in records), *(i for i, _ in changes), *delete_ids], "one change set"
        )
        return ChangeRequest(flt, records, changes, delete_ids)

    def _prepare_update(
        self,
        memory_id: str,
        user_id: str,
        memory: str | None,
        topics: Sequence[str] | None,
        input: str | None,
        feedback: str | None,
    ) -> dict[str, Any]:
        check_id("memory_id", memory_id)
        check_id("user_id", user_id)
        changes: dict[str, Any] = {}
        if memory is not None:
            changes["memory"] = self.check_text(memory)
        if topics is not None:
            changes["topics"] = normalize_topics(topics)
        for name, value in (("input", input), ("feedback", feedback)):
            if value is not None:
                if not isinstance(value, str):
                    raise InvalidMemoryError(f"{name} must be a string, got {value!r:.80}")
                changes[name] = value
        changes["updated_at"] = now_epoch_s()
        return changes

    @staticmethod
    def _filter(
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        topics: Sequence[str] | None = None,
    ) -> MemoryFilter:
        check_id("user_id", user_id)
        check_ids(agent_id=agent_id, team_id=team_id)
        norm = normalize_topics(topics)
        return MemoryFilter(user_id, agent_id, team_id, None if norm is None else tuple(norm))

    @staticmethod
    def _page_args(limit: int | None, offset: int, page: int | None) -> tuple[int | None, int]:
        limit = _check_limit("limit", limit, minimum=1)
        offset = _check_limit("offset", offset, minimum=0) or 0
        page = _check_limit("page", page, minimum=1)
        if page is not None:
            if limit is None:
                raise InvalidMemoryError(f"page={page} needs a limit (the page size)")
            offset = (page - 1) * limit
        return limit, offset

    @staticmethod
    def _ids(memory_ids: Sequence[str]) -> list[str]:
        if isinstance(memory_ids, (str, bytes)) or not isinstance(memory_ids, Sequence):
            raise InvalidMemoryError(f"memory_ids must be a list of ids, got {memory_ids!r:.80}")
        return [check_id("memory_id", i) for i in memory_ids]

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
        record = self._new_record(
            memory, user_id=user_id, agent_id=agent_id, team_id=team_id, topics=topics, input=input
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
        records = self._prepare_many(memories, user_id)
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
        request = self._prepare_changes(user_id, adds, updates, deletes, agent_id, team_id)
        if not (request.adds or request.updates or request.deletes):
            return ChangeSet()
        return self._apply(request)

    def get(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Return the memory with this id, or ``None`` if this user has none such.

        With ``agent_id`` / ``team_id``, a memory another agent or team wrote is ``None`` too.
        """
        check_id("memory_id", memory_id)
        items, _ = self._find(
            self._filter(user_id, agent_id, team_id),
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
        flt = self._filter(user_id, agent_id, team_id, topics)
        limit, offset = self._page_args(limit, offset, page)
        items, total = self._find(
            flt, ids=None, sort=_check_sort(sort), limit=limit, offset=offset, count=True
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
        changes = self._prepare_update(memory_id, user_id, memory, topics, input, feedback)
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
        check_id("memory_id", memory_id)
        return self._delete(self._filter(user_id, agent_id, team_id), [memory_id]) == 1

    def delete_many(
        self,
        memory_ids: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Delete several memories of one user (of one agent or team, when given); return the count."""
        ids = self._ids(memory_ids)
        return self._delete(self._filter(user_id, agent_id, team_id), ids) if ids else 0

    def clear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Delete every memory of one user (optionally only one agent's or team's); return the count.

        Unlike Agno's ``clear_memories()``, other users' memories are never touched.
        """
        return self._delete(self._filter(user_id, agent_id, team_id), None)

    def list_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Return the distinct topics of one user's memories, sorted."""
        return sorted(self._topics(self._filter(user_id, agent_id, team_id)))

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
            check_id("user_id", user_id)
        limit, offset = self._page_args(limit, offset, None)
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
        limit = _check_limit("limit", limit, minimum=1) or 10
        if not terms:
            return []
        return self._search(self._filter(user_id, agent_id, team_id, topics), terms, limit)

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
        record = self._new_record(
            memory, user_id=user_id, agent_id=agent_id, team_id=team_id, topics=topics, input=input
        )
        return (await self._ainsert([record]))[0]

    async def aadd_many(self, memories: Sequence[str | UserMemory], *, user_id: str) -> list[UserMemory]:
        """Async twin of :meth:`add_many`."""
        records = self._prepare_many(memories, user_id)
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
        request = self._prepare_changes(user_id, adds, updates, deletes, agent_id, team_id)
        if not (request.adds or request.updates or request.deletes):
            return ChangeSet()
        return await self._aapply(request)

    async def aget(
        self, memory_id: str, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> UserMemory | None:
        """Async twin of :meth:`get`."""
        check_id("memory_id", memory_id)
        items, _ = await self._afind(
            self._filter(user_id, agent_id, team_id),
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
        flt = self._filter(user_id, agent_id, team_id, topics)
        limit, offset = self._page_args(limit, offset, page)
        items, total = await self._afind(
            flt, ids=None, sort=_check_sort(sort), limit=limit, offset=offset, count=True
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
        changes = self._prepare_update(memory_id, user_id, memory, topics, input, feedback)
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
        check_id("memory_id", memory_id)
        return await self._adelete(self._filter(user_id, agent_id, team_id), [memory_id]) == 1

    async def adelete_many(
        self,
        memory_ids: Sequence[str],
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Async twin of :meth:`delete_many`."""
        ids = self._ids(memory_ids)
        return await self._adelete(self._filter(user_id, agent_id, team_id), ids) if ids else 0

    async def aclear(self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None) -> int:
        """Async twin of :meth:`clear`."""
        return await self._adelete(self._filter(user_id, agent_id, team_id), None)

    async def alist_topics(
        self, *, user_id: str, agent_id: str | None = None, team_id: str | None = None
    ) -> list[str]:
        """Async twin of :meth:`list_topics`."""
        return sorted(await self._atopics(self._filter(user_id, agent_id, team_id)))

    async def auser_stats(
        self, *, user_id: str | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[UserStats], int]:
        """Async twin of :meth:`user_stats`."""
        if user_id is not None:
            check_id("user_id", user_id)
        limit, offset = self._page_args(limit, offset, None)
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
        limit = _check_limit("limit", limit, minimum=1) or 10
        if not terms:
            return []
        return await self._asearch(self._filter(user_id, agent_id, team_id, topics), terms, limit)

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:  # noqa: B027 - optional hook, most backends have something to close
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

    # ------------------------------------------------------------ primitives
    @abstractmethod
    def _insert(self, records: list[UserMemory]) -> list[UserMemory]:
        """Insert records that are absent (by ``memory_id``) in one write; return all as stored, in order."""

    @abstractmethod
    def _apply(self, request: ChangeRequest) -> ChangeSet:
        """Write a validated change set as one atomic write (see :meth:`apply_changes`)."""

    @abstractmethod
    def _find(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        """Return the matching memories by ``updated_at`` and, when ``count``, their total (else 0)."""

    @abstractmethod
    def _update(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        """Set ``changes`` on the memory if this user owns it; return it after, or ``None``."""

    @abstractmethod
    def _delete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        """Delete the matching memories (only ``ids`` when given); return the count."""

    @abstractmethod
    def _topics(self, flt: MemoryFilter) -> list[str]:
        """Return the distinct topics of the matching memories."""

    @abstractmethod
    def _stats(self, user_id: str | None, limit: int | None, offset: int) -> tuple[list[UserStats], int]:
        """Return per-user statistics, most recently active first, and the number of users."""

    @abstractmethod
    def _search(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        """Return the best ``limit`` memories for ``terms``."""

    @abstractmethod
    async def _ainsert(self, records: list[UserMemory]) -> list[UserMemory]:
        """Async twin of :meth:`_insert`."""

    @abstractmethod
    async def _aapply(self, request: ChangeRequest) -> ChangeSet:
        """Async twin of :meth:`_apply`."""

    @abstractmethod
    async def _afind(
        self,
        flt: MemoryFilter,
        *,
        ids: Sequence[str] | None,
        sort: SortOrder,
        limit: int | None,
        offset: int,
        count: bool,
    ) -> tuple[list[UserMemory], int]:
        """Async twin of :meth:`_find`."""

    @abstractmethod
    async def _aupdate(self, memory_id: str, user_id: str, changes: dict[str, Any]) -> UserMemory | None:
        """Async twin of :meth:`_update`."""

    @abstractmethod
    async def _adelete(self, flt: MemoryFilter, ids: Sequence[str] | None) -> int:
        """Async twin of :meth:`_delete`."""

    @abstractmethod
    async def _atopics(self, flt: MemoryFilter) -> list[str]:
        """Async twin of :meth:`_topics`."""

    @abstractmethod
    async def _astats(
        self, user_id: str | None, limit: int | None, offset: int
    ) -> tuple[list[UserStats], int]:
        """Async twin of :meth:`_stats`."""

    @abstractmethod
    async def _asearch(self, flt: MemoryFilter, terms: Sequence[str], limit: int) -> list[ScoredMemory]:
        """Async twin of :meth:`_search`."""
