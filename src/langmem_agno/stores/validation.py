"""What every store checks and builds before a write or a read reaches its backend.

Pure functions: each takes the store's text check (length limit and secret filter)
where it needs one, and raises :class:`~langmem_agno.errors.InvalidMemoryError`
naming the bad value before any I/O happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langmem_agno.checks import check_id, check_ids, check_int
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import UserMemory, check_record_ids, check_unicode, normalize_topics, now_epoch_s
from langmem_agno.stores.types import ChangeRequest, MemoryFilter, MemoryUpdate, SortOrder

__all__ = [
    "TextCheck",
    "check_distinct",
    "check_limit",
    "check_lookup_id",
    "check_optional_text",
    "check_sort",
    "id_list",
    "new_record",
    "page_args",
    "prepare_changes",
    "prepare_many",
    "prepare_update",
    "scope_filter",
    "stored_or_unreadable",
]

#: Longest memory id a lookup (get, delete) accepts. Longer than what a write accepts, so a row
#: another writer stored with a long id (Agno has no limit) can still be shown and deleted by it.
MAX_LOOKUP_ID_CHARS = 4_096

#: A store's check of memory text: returns the text stripped, or raises.
TextCheck = Callable[[object], str]
#: A store's check of an optional text field (``input``, ``feedback``) by name: the value, or raises.
FieldCheck = Callable[[str, object], "str | None"]


#: The largest limit, offset or page a call takes: every backend stores 64-bit integers, and
#: SQLite and PyMongo raise OverflowError on a larger one.
MAX_PAGING = 2**62


def check_limit(name: str, value: int | None, *, minimum: int) -> int | None:
    """A call's limit, offset or page: ``None`` (no limit), or ``minimum`` to :data:`MAX_PAGING`."""
    if value is None:
        return None
    # An argument of one call, not an option: an InvalidMemoryError, not a ConfigurationError.
    check_int(name, value, minimum=minimum, error=InvalidMemoryError)
    if value > MAX_PAGING:
        raise InvalidMemoryError(f"{name} must be at most {MAX_PAGING}, got {value!r}")
    return value


def check_lookup_id(value: object, *, name: str = "memory_id") -> str:
    """An id to look up or delete by: any non-empty text up to :data:`MAX_LOOKUP_ID_CHARS`.

    Unlike a write, a lookup accepts ids outside the write limits (blank, over 200 characters),
    since other writers store them and their rows must stay deletable.
    """
    if not isinstance(value, str):
        raise InvalidMemoryError(f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
    if not value or len(value) > MAX_LOOKUP_ID_CHARS:
        raise InvalidMemoryError(
            f"{name} is {len(value)} characters ({value[:40]!r}); it must be 1 to {MAX_LOOKUP_ID_CHARS}"
        )
    return check_unicode(name, value)


def check_optional_text(name: str, value: object) -> str | None:
    """An optional text field (``input``, ``feedback``): ``None`` or valid text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidMemoryError(f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
    return check_unicode(name, value)


def stored_or_unreadable(stored: dict[str, UserMemory], memory_id: str) -> UserMemory:
    """The memory written under ``memory_id``, read back; refused if the row there cannot be read.

    An add is insert-if-absent, so adding an id that a row another writer stored already
    holds returns that row, and an unreadable one must be named, not a ``KeyError``.
    """
    if memory_id not in stored:
        raise InvalidMemoryError(
            f"memory_id {memory_id!r:.80} is already stored in a row that cannot be read; "
            "`langmem-agno doctor` shows and repairs it"
        )
    return stored[memory_id]


def check_distinct(ids: Sequence[str], where: str) -> None:
    """Refuse a batch that names one memory id twice (``where`` says which batch)."""
    seen: set[str] = set()
    for memory_id in ids:
        if memory_id in seen:
            raise InvalidMemoryError(f"memory_id {memory_id!r} appears twice in {where}")
        seen.add(memory_id)


def check_sort(sort: str) -> SortOrder:
    """The sort order, ``'asc'`` or ``'desc'``."""
    if sort not in ("asc", "desc"):
        raise InvalidMemoryError(f"sort must be 'asc' or 'desc', got {sort!r}")
    return sort  # type: ignore[return-value]


def new_record(
    check_text: TextCheck,
    memory: str | UserMemory,
    *,
    user_id: str,
    agent_id: str | None,
    team_id: str | None,
    topics: Sequence[str] | None,
    input: str | None,
    check_field: FieldCheck | None = None,
) -> UserMemory:
    """The record to insert for ``memory`` (text or a full :class:`UserMemory`), checked and stamped."""
    check_field = check_field or check_optional_text
    check_unicode("user_id", check_id("user_id", user_id))
    # Checked here, not left to pydantic: model_copy() below does not
    # validate, and a mapping such as {"$ne": None} must never reach a query.
    check_scope_ids(agent_id, team_id)
    input = check_field("input", input)
    if isinstance(memory, UserMemory):
        # A record built in code or read from a file carries ids of its own, checked like arguments.
        check_record_ids(memory)
        check_field("input", memory.input)
        check_field("feedback", memory.feedback)
        if memory.user_id not in (None, user_id):
            raise InvalidMemoryError(
                f"memory {memory.memory_id!r} belongs to user {memory.user_id!r}, not {user_id!r}"
            )
        check_text(memory.memory)
        normalize_topics(memory.topics)  # the write-time limits, which reading does not apply
        return memory.model_copy(
            update={
                "user_id": user_id,
                "agent_id": memory.agent_id if agent_id is None else agent_id,
                "team_id": memory.team_id if team_id is None else team_id,
            }
        )
    text = check_text(memory)
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


def prepare_many(
    check_text: TextCheck,
    memories: Sequence[str | UserMemory],
    user_id: str,
    agent_id: str | None = None,
    team_id: str | None = None,
    check_field: FieldCheck | None = None,
) -> list[UserMemory]:
    """The records of one bulk add, checked; an id given twice is refused."""
    if isinstance(memories, (str, bytes)) or not isinstance(memories, Sequence):
        raise InvalidMemoryError(f"memories must be a list, got {type(memories).__name__}")
    records = [
        new_record(
            check_text,
            m,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            topics=None,
            input=None,
            check_field=check_field,
        )
        for m in memories
    ]
    check_distinct([r.memory_id for r in records], "one batch")
    return records


def prepare_changes(
    check_text: TextCheck,
    user_id: str,
    adds: Sequence[str | UserMemory],
    updates: Sequence[MemoryUpdate],
    deletes: Sequence[str],
    agent_id: str | None,
    team_id: str | None,
    check_field: FieldCheck | None = None,
) -> ChangeRequest:
    """The checked request of one atomic change set (adds, updates, deletes of one user)."""
    flt = scope_filter(user_id, agent_id, team_id)
    records = prepare_many(check_text, adds, user_id, agent_id, team_id, check_field)
    if isinstance(updates, (str, bytes)) or not isinstance(updates, Sequence):
        raise InvalidMemoryError(f"updates must be a list of MemoryUpdate, got {updates!r:.80}")
    changes: list[tuple[str, dict[str, Any]]] = []
    for upd in updates:
        if not isinstance(upd, MemoryUpdate):
            raise InvalidMemoryError(f"updates must hold MemoryUpdate values, got {upd!r:.80}")
        changes.append(
            (
                upd.memory_id,
                prepare_update(
                    check_text,
                    upd.memory_id,
                    user_id,
                    upd.memory,
                    upd.topics,
                    upd.input,
                    upd.feedback,
                    check_field,
                ),
            )
        )
    delete_ids = id_list(deletes)
    # One memory changed twice in one atomic write has no single meaning (which update wins?
    # is a deleted memory's update lost?): refuse it rather than guess.
    check_distinct([*(r.memory_id for r in records), *(i for i, _ in changes), *delete_ids], "one change set")
    return ChangeRequest(flt, records, changes, delete_ids)


def prepare_update(
    check_text: TextCheck,
    memory_id: str,
    user_id: str,
    memory: str | None,
    topics: Sequence[str] | None,
    input: str | None,
    feedback: str | None,
    check_field: FieldCheck | None = None,
) -> dict[str, Any]:
    """The fields an update sets (only those given, plus ``updated_at``), checked."""
    check_field = check_field or check_optional_text
    check_unicode("memory_id", check_id("memory_id", memory_id))
    check_unicode("user_id", check_id("user_id", user_id))
    changes: dict[str, Any] = {}
    if memory is not None:
        changes["memory"] = check_text(memory)
    if topics is not None:
        changes["topics"] = normalize_topics(topics)
    for name, value in (("input", input), ("feedback", feedback)):
        if value is not None:
            if not isinstance(value, str):
                raise InvalidMemoryError(f"{name} must be a string, got {value!r:.80}")
            changes[name] = check_field(name, value)
    changes["updated_at"] = now_epoch_s()
    return changes


def scope_filter(
    user_id: str,
    agent_id: str | None = None,
    team_id: str | None = None,
    topics: Sequence[str] | None = None,
) -> MemoryFilter:
    """The filter for one user's memories, optionally of one agent, team and topics."""
    check_unicode("user_id", check_id("user_id", user_id))
    check_scope_ids(agent_id, team_id)
    norm = normalize_topics(topics)
    return MemoryFilter(user_id, agent_id, team_id, None if norm is None else tuple(norm))


def page_args(limit: int | None, offset: int, page: int | None) -> tuple[int | None, int]:
    """``(limit, offset)`` from a call's ``limit``, ``offset`` and 1-based ``page``."""
    limit = check_limit("limit", limit, minimum=1)
    offset = check_limit("offset", offset, minimum=0) or 0
    page = check_limit("page", page, minimum=1)
    if page is not None:
        if limit is None:
            raise InvalidMemoryError(f"page={page} needs a limit (the page size)")
        offset = (page - 1) * limit
        if offset > MAX_PAGING:
            raise InvalidMemoryError(f"page={page} of limit={limit} starts past {MAX_PAGING} memories")
    return limit, offset


def id_list(memory_ids: Sequence[str]) -> list[str]:
    """A list of memory ids, each checked."""
    if isinstance(memory_ids, (str, bytes)) or not isinstance(memory_ids, Sequence):
        raise InvalidMemoryError(f"memory_ids must be a list of ids, got {memory_ids!r:.80}")
    return [check_lookup_id(i) for i in memory_ids]


def check_scope_ids(agent_id: object, team_id: object) -> None:
    """Check the optional agent and team ids of a call (see :func:`~langmem_agno.checks.check_id`)."""
    check_ids(agent_id=agent_id, team_id=team_id)
    for name, value in (("agent_id", agent_id), ("team_id", team_id)):
        if isinstance(value, str):
            check_unicode(name, value)
