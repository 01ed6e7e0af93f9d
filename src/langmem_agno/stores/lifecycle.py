"""A memory's life after it is written: history of every change, time to live, pruning.

:class:`Lifecycle` is mixed into :class:`~langmem_agno.stores.base.MemoryStore`; the store's
public writes run as plans here (see ``twins.py``), so every backend records history without
code of its own, and its sync and async twins share every line.

**History.** Each add, update and delete is recorded after the write, as one more write (one
``insert_many`` on MongoDB) in ``<collection>_history``, with the path from
:data:`~langmem_agno.stores.history.change_path`. The text before an update or a delete comes
from records the caller hands in (``apply_changes(before=...)``), else from one bounded read of
just those ids. A change made by another writer (Agno itself) is not recorded. A crash between a
change and its entry loses the entry, never the change.

**Expiry.** ``add(..., ttl=...)`` keeps the memory's end in ``<collection>_expiry``. The store
remembers the soonest end it knows of; a read first deletes every memory whose end has passed
(recording the deletes with path ``"expiry"``), so an expired memory is never listed, fetched,
searched or recalled. Where no memory has a time to live a read costs nothing more, except one
look at the expiry rows (for ends other processes set) at most once per
``expiry_check_interval`` (a minute by default) per store. A time to live set by another process
is therefore honoured within that interval of its end.

**Pruning.** :meth:`Lifecycle.prune` deletes a user's memories older than an age or beyond the
newest N, recorded with path ``"prune"``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import time
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any, Literal, TypeVar

from langmem_agno.checks import check_id, check_int
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.record import UserMemory, check_unicode, now_epoch_s
from langmem_agno.stores.history import HistoryRow, LifecycleRows, change_path, next_seq
from langmem_agno.stores.primitives import StorePrimitives
from langmem_agno.stores.types import (
    ChangeEvent,
    ChangeRequest,
    ChangeSet,
    HistoryEntry,
    LifecycleOptions,
    MemoryFilter,
)
from langmem_agno.stores.validation import check_lookup_id, scope_filter
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["SWEEP_BATCH", "Lifecycle", "change_entries", "expiry_time", "history_rows", "prune_limits"]

T = TypeVar("T")
R = TypeVar("R")
Plan = Generator[Call[Any], Any, T]
#: How many expired memories one sweep round deletes; rounds repeat while more are due.
SWEEP_BATCH = 500
_SWEEP_ROUNDS = 20
_DAY_S = 86_400
_OTHER_COMPANIONS = ("cursors", "failed")


def _seconds(name: str, value: object) -> float:
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidMemoryError(f"{name} must be a positive number of seconds or a timedelta, got {value!r}")
    return float(value)


def expiry_time(ttl: float | dt.timedelta | None, expires_at: int | dt.datetime | None) -> int | None:
    """When a memory added now with ``ttl`` (seconds) or ``expires_at`` ends, in epoch seconds.

    Raises:
        InvalidMemoryError: If both are given, or either is not a positive time.
    """
    if ttl is not None and expires_at is not None:
        raise InvalidMemoryError(f"give ttl or expires_at, not both (got {ttl!r} and {expires_at!r})")
    if ttl is not None:
        return now_epoch_s() + max(1, round(_seconds("ttl", ttl)))
    if expires_at is None:
        return None
    if isinstance(expires_at, dt.datetime):
        if expires_at.tzinfo is None:
            raise InvalidMemoryError(f"expires_at must be timezone-aware, got {expires_at!r}")
        return int(expires_at.timestamp())
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or expires_at <= 0:
        raise InvalidMemoryError(f"expires_at must be epoch seconds or a datetime, got {expires_at!r}")
    return expires_at


def prune_limits(
    older_than: float | dt.timedelta | None, keep: int | None
) -> tuple[float | None, int | None]:
    """``prune``'s arguments checked: an age in seconds and a count, at least one of them.

    Raises:
        InvalidMemoryError: Naming the bad value.
    """
    if older_than is None and keep is None:
        raise InvalidMemoryError("prune needs older_than (an age) or keep (a count), got neither")
    age = None if older_than is None else _seconds("older_than", older_than)
    if keep is not None:
        check_int("keep", keep, minimum=0, error=InvalidMemoryError)
    return age, keep


def _positive(name: str, value: object) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")
    return None if value is None else float(value)


def _topics(memory: UserMemory) -> tuple[str, ...] | None:
    return None if memory.topics is None else tuple(memory.topics)


def _entry(
    event: ChangeEvent, user_id: str, before: UserMemory | None, after: UserMemory | None
) -> HistoryEntry:
    memory_id = after.memory_id if after is not None else before.memory_id if before is not None else ""
    return HistoryEntry(
        memory_id=memory_id,
        user_id=user_id,
        event=event,
        path="",
        at=0,
        old_memory=None if before is None else before.memory,
        new_memory=None if after is None else after.memory,
        old_topics=None if before is None else _topics(before),
        new_topics=None if after is None else _topics(after),
    )


def _key(entry: HistoryEntry, memory: UserMemory | None) -> str:
    # An add's key is fixed by the record, so a retried add (the same record again) records once.
    if entry.event == "add" and memory is not None:
        return f"add:{memory.memory_id}:{memory.created_at}:{memory.updated_at}"
    return uuid.uuid4().hex


def change_entries(
    user_id: str,
    known: Mapping[str, UserMemory],
    added: Sequence[UserMemory],
    updated: Sequence[UserMemory],
    deleted: Sequence[str],
) -> list[tuple[HistoryEntry, UserMemory | None]]:
    """The history entries of a written change set: ``known`` holds the before-images by id.

    A delete whose before-image is not known records nothing (there is no old text to keep).
    """
    entries: list[tuple[HistoryEntry, UserMemory | None]]
    entries = [(_entry("add", user_id, None, m), m) for m in added]
    entries += [(_entry("update", user_id, known.get(m.memory_id), m), None) for m in updated]
    entries += [(_entry("delete", user_id, known[i], None), None) for i in deleted if i in known]
    return entries


def history_rows(
    entries: Sequence[tuple[HistoryEntry, UserMemory | None]], path: str | None = None
) -> list[HistoryRow]:
    """``entries`` stamped now, on ``path`` (the current change path by default), ready to write."""
    at, path = now_epoch_s(), path or change_path.get()
    return [HistoryRow(_key(e, m), next_seq(), replace(e, path=path, at=at)) for e, m in entries]


class Lifecycle(StorePrimitives):
    """History, expiry and pruning over the primitives; mixed into every store."""

    lifecycle: LifecycleOptions

    def _init_lifecycle(self, options: LifecycleOptions | None = None) -> None:
        self.lifecycle = LifecycleOptions()
        self._lifecycle_rows: LifecycleRows | None = None
        self._lifecycle_lock = threading.Lock()
        self._expiry_next: int | None = None  # the soonest end this store knows of
        self._expiry_checked: float | None = None  # when it last looked for ends others set
        self._purged: float | None = None
        if options is not None:
            if not isinstance(options, LifecycleOptions):
                raise ConfigurationError(f"lifecycle must be a LifecycleOptions, got {options!r:.80}")
            # Through the one place that checks every option's value.
            self.configure_lifecycle(**asdict(options))

    def configure_lifecycle(
        self,
        *,
        history: bool | None = None,
        history_retention_days: float | Literal[False] | None = False,
        history_limit: int | Literal[False] | None = False,
        expiry_check_interval: float | Literal[False] | None = False,
        purge_interval: float | None = None,
    ) -> Any:
        """Set how this store keeps history and checks expiry; options not given keep their value.

        Args:
            history: Record every change (the default); ``False`` records nothing.
            history_retention_days: Show and keep entries this many days; ``None`` keeps all.
            history_limit: Show and keep the newest this many entries per memory; ``None`` keeps all.
            expiry_check_interval: Seconds between looks for time-to-live rows other processes
                wrote; ``None`` never looks.
            purge_interval: Seconds between purges of history past its retention or limit.

        Returns:
            The store, for chaining: ``SQLiteMemoryStore("agno.db").configure_lifecycle(history_limit=50)``.

        Raises:
            ConfigurationError: Naming the option and the bad value.
        """
        opts = self.lifecycle
        if history is not None:
            if not isinstance(history, bool):
                raise ConfigurationError(f"history must be True or False, got {history!r}")
            opts = replace(opts, history=history)
        if history_retention_days is not False:
            opts = replace(
                opts, history_retention_days=_positive("history_retention_days", history_retention_days)
            )
        if expiry_check_interval is not False:
            opts = replace(
                opts, expiry_check_interval=_positive("expiry_check_interval", expiry_check_interval)
            )
        if history_limit is not False:
            if history_limit is not None:
                check_int("history_limit", history_limit)
            opts = replace(opts, history_limit=history_limit)
        if purge_interval is not None:
            opts = replace(opts, purge_interval=_positive("purge_interval", purge_interval) or 0.0)
        self.lifecycle = opts
        self._purged = None
        return self

    def lifecycle_rows(self) -> LifecycleRows:
        """The backend that keeps this store's history and time-to-live rows (built on first use)."""
        with self._lifecycle_lock:
            if self._lifecycle_rows is None:
                # Loaded by name: the backends build on the store base, which imports this module.
                backends = importlib.import_module("langmem_agno.stores.lifecycle_backends")
                self._lifecycle_rows = backends.build_lifecycle_rows(self)
            return self._lifecycle_rows

    # ------------------------------------------------------------ history
    def history(self, memory_id: str, *, user_id: str) -> list[HistoryEntry]:
        """Every recorded change of one memory of ``user_id``, oldest first (another user's: none).

        Changes made by another writer of the same database (Agno's own classes) are not recorded.
        """
        return run_calls(self._history_plan(memory_id, user_id))

    async def ahistory(self, memory_id: str, *, user_id: str) -> list[HistoryEntry]:
        """Async twin of :meth:`history`."""
        return await arun_calls(self._history_plan(memory_id, user_id))

    def _history_plan(self, memory_id: str, user_id: str) -> Plan[list[HistoryEntry]]:
        check_lookup_id(memory_id)
        check_unicode("user_id", check_id("user_id", user_id))
        days = self.lifecycle.history_retention_days
        since = None if days is None else now_epoch_s() - int(days * _DAY_S)
        rows = self.lifecycle_rows()
        read = twin(rows.read_history, rows.aread_history)
        entries: list[HistoryEntry] = yield read(
            user_id, memory_id, since=since, newest=self.lifecycle.history_limit
        )
        return entries

    def _record(
        self, entries: Sequence[tuple[HistoryEntry, UserMemory | None]], path: str | None = None
    ) -> Plan[None]:
        """Write history entries (``(entry, the record an add stored)``) as one write, then purge if due."""
        opts = self.lifecycle
        if not opts.history or not entries:
            return
        rows = history_rows(entries, path)
        at = rows[0].entry.at
        backend = self.lifecycle_rows()
        yield twin(backend.write_history, backend.awrite_history)(rows)
        if opts.history_retention_days is None and opts.history_limit is None:
            return
        clock = time.monotonic()
        if self._purged is not None and clock - self._purged < opts.purge_interval:
            return
        self._purged = clock
        before = (
            None if opts.history_retention_days is None else at - int(opts.history_retention_days * _DAY_S)
        )
        yield twin(backend.purge_history, backend.apurge_history)(before, opts.history_limit)

    def _deleted(
        self, user_id: str, gone: Sequence[UserMemory]
    ) -> list[tuple[HistoryEntry, UserMemory | None]]:
        return [(_entry("delete", user_id, m, None), None) for m in gone]

    # ------------------------------------------------------------ write plans
    def _find_ids(self, flt: MemoryFilter, ids: Sequence[str] | None) -> Call[tuple[list[UserMemory], int]]:
        return twin(self._find, self._afind)(flt, ids=ids, sort="desc", limit=None, offset=0, count=False)

    def _add_plan(self, records: list[UserMemory], expires_at: int | None) -> Plan[list[UserMemory]]:
        if expires_at is not None:
            # The end first: a crash before the insert leaves a row for nothing, never a memory that lasts.
            rows = self.lifecycle_rows()
            yield twin(rows.set_expiry, rows.aset_expiry)(
                records[0].user_id or "", [(r.memory_id, expires_at) for r in records]
            )
            self._expiry_next = (
                expires_at if self._expiry_next is None else min(self._expiry_next, expires_at)
            )
        stored: list[UserMemory] = yield twin(self._insert, self._ainsert)(records)
        yield from self._record([(_entry("add", m.user_id or "", None, m), m) for m in stored])
        return stored

    def _apply_plan(self, request: ChangeRequest, before: Sequence[UserMemory]) -> Plan[ChangeSet]:
        user = request.flt.user_id
        known = {m.memory_id: m for m in before if m.user_id == user}
        missing = [i for i in [*(i for i, _ in request.updates), *request.deletes] if i not in known]
        if self.lifecycle.history and missing:
            found, _ = yield self._find_ids(MemoryFilter(user), missing)
            known.update((m.memory_id, m) for m in found)
        result: ChangeSet = yield twin(self._apply, self._aapply)(request)
        yield from self._record(change_entries(user, known, result.added, result.updated, result.deleted))
        yield from self._forget_expiry(user, result.deleted)
        return result

    def _update_plan(
        self, memory_id: str, flt: MemoryFilter, changes: dict[str, Any]
    ) -> Plan[UserMemory | None]:
        before: UserMemory | None = None
        scoped = (flt.agent_id, flt.team_id) != (None, None)
        if self.lifecycle.history or scoped:
            found, _ = yield self._find_ids(flt, [memory_id])
            # No update changes a memory's agent or team, so checking them first cannot race with one.
            if scoped and not found:
                return None
            before = found[0] if found else None
        updated: UserMemory | None = yield twin(self._update, self._aupdate)(memory_id, flt.user_id, changes)
        if updated is not None:
            yield from self._record([(_entry("update", flt.user_id, before, updated), None)])
        return updated

    def _delete_plan(
        self,
        flt: MemoryFilter,
        ids: Sequence[str] | None,
        path: str | None = None,
        before: Sequence[UserMemory] | None = None,
    ) -> Plan[int]:
        """Delete (``ids``, or the whole scope); ``before``: the memories, when the caller has them."""
        whole_user = ids is None and (flt.agent_id, flt.team_id, flt.topics) == (None, None, None)
        gone: Sequence[UserMemory] = before or []
        if self.lifecycle.history and not whole_user and before is None:
            gone, _ = yield self._find_ids(flt, ids)
        count: int = yield twin(self._delete, self._adelete)(flt, ids)
        if whole_user:
            yield from self._clear_companions(flt.user_id)
            return count
        yield from self._record(self._deleted(flt.user_id, gone), path)
        yield from self._forget_expiry(flt.user_id, [m.memory_id for m in gone] if ids is None else ids)
        return count

    def _clear_companions(self, user_id: str) -> Plan[None]:
        """Clearing a user clears its history, expiry, extraction cursors and failed spans.

        The LangGraph store's values go with their memories (a trigger on SQLite and PostgreSQL;
        on MongoDB the history backend's ``delete_user`` drops them).
        """
        rows = self.lifecycle_rows()
        yield twin(rows.delete_user, rows.adelete_user)(user_id)
        # Loaded by name: the companion documents build on the store backends, which build on this.
        docs = importlib.import_module("langmem_agno.stores.companion_docs")
        for role in _OTHER_COMPANIONS:
            companion = docs.companion_docs(self, role)
            yield twin(companion.delete_user, companion.adelete_user)(user_id)

    def _forget_expiry(self, user_id: str, ids: Sequence[str]) -> Plan[None]:
        # Only when this store knows of times to live: otherwise a delete costs no extra write.
        # A row left behind is dropped by the sweep that finds its memory gone.
        if ids and self._expiry_next is not None:
            rows = self.lifecycle_rows()
            yield twin(rows.drop_expiry, rows.adrop_expiry)(user_id, list(ids))

    # ------------------------------------------------------------ expiry
    def expire_due(self) -> int:
        """Delete every memory whose time to live has ended (what each read does first); return how many.

        Costs nothing while no time to live is known but, at most once per
        ``expiry_check_interval``, one look for those other processes set.
        """
        return run_calls(self._sweep())

    async def aexpire_due(self) -> int:
        """Async twin of :meth:`expire_due`."""
        return await arun_calls(self._sweep())

    def _after_sweep(self, read: Call[R]) -> Plan[R]:
        yield from self._sweep()
        result: R = yield read
        return result

    def _sweep(self) -> Plan[int]:
        interval, clock = self.lifecycle.expiry_check_interval, time.monotonic()
        rows = self.lifecycle_rows() if self._expiry_next is not None or interval is not None else None
        if rows is None:
            return 0
        if interval is not None and (
            self._expiry_checked is None or clock - self._expiry_checked >= interval
        ):
            self._expiry_checked = clock
            self._expiry_next = yield twin(rows.next_expiry, rows.anext_expiry)()
        deleted = 0
        for _ in range(_SWEEP_ROUNDS):
            now = now_epoch_s()
            if self._expiry_next is None or self._expiry_next > now:
                break
            due: list[tuple[str, str]] = yield twin(rows.due_expiry, rows.adue_expiry)(now, SWEEP_BATCH)
            by_user: dict[str, list[str]] = {}
            for user, memory_id in due:
                by_user.setdefault(user, []).append(memory_id)
            for user, ids in by_user.items():
                # The memories first, then their rows: a crash in between leaves rows for nothing.
                deleted += yield from self._delete_plan(MemoryFilter(user), ids, path="expiry")
                yield twin(rows.drop_expiry, rows.adrop_expiry)(user, ids)
            self._expiry_next = yield twin(rows.next_expiry, rows.anext_expiry)()
        return deleted

    # ------------------------------------------------------------ pruning
    def prune(
        self,
        *,
        user_id: str,
        older_than: float | dt.timedelta | None = None,
        keep: int | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Delete one user's memories not changed for ``older_than``, or all but the newest ``keep``.

        With both, a memory goes when either says so. Age and order are by ``updated_at``.
        Each delete is recorded in history with path ``"prune"``.

        Args:
            user_id: The owner.
            older_than: An age, in seconds or a ``timedelta``.
            keep: How many of the newest memories stay.
            agent_id: Only this agent's memories.
            team_id: Only this team's memories.

        Returns:
            How many memories were deleted.

        Raises:
            InvalidMemoryError: If neither limit is given, or one is not valid.
        """
        return run_calls(self._prune_plan(user_id, older_than, keep, agent_id, team_id))

    async def aprune(
        self,
        *,
        user_id: str,
        older_than: float | dt.timedelta | None = None,
        keep: int | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
    ) -> int:
        """Async twin of :meth:`prune`."""
        return await arun_calls(self._prune_plan(user_id, older_than, keep, agent_id, team_id))

    def _prune_plan(
        self,
        user_id: str,
        older_than: float | dt.timedelta | None,
        keep: int | None,
        agent_id: str | None,
        team_id: str | None,
    ) -> Plan[int]:
        age, keep = prune_limits(older_than, keep)
        flt = scope_filter(user_id, agent_id, team_id)
        memories, _ = yield self._find_ids(flt, None)
        cutoff = None if age is None else now_epoch_s() - age
        victims = [
            m
            for i, m in enumerate(memories)
            if (keep is not None and i >= keep) or (cutoff is not None and m.updated_at < cutoff)
        ]
        deleted = 0
        for start in range(0, len(victims), SWEEP_BATCH):
            batch = victims[start : start + SWEEP_BATCH]
            deleted += yield from self._delete_plan(flt, [m.memory_id for m in batch], "prune", batch)
        return deleted
