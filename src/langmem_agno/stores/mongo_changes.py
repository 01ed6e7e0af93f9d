"""A change set of several writes on MongoDB 8.0+: memory writes and history entries in one command.

:meth:`~langmem_agno.stores.base.MemoryStore.apply_changes` writes a change set in one transaction
and, after it, the history entries. When the caller hands in the memories it changes as it read
them (an extraction does: the model was shown them) and the server takes the client-level
``bulkWrite`` command (MongoDB 8.0), the whole set, history included, is one ``bulkWrite`` in one
transaction, then its commit: two commands, where the per-collection path reads the memories
first, writes the memory collection twice and the history after the commit.

Nothing is read: each update is conditional on the memory being exactly as the caller read it
(its fields, and a ``created_at`` either as read or absent, which the update pins as Agno's rows
need), so the state after is the one read plus the changes; each delete is of the scope's memory
only. The command's per-operation results then say whether every add inserted, every update
matched and every delete deleted; if not (another writer got in between, an id is another user's,
a retried add), the transaction is aborted and the set is written the per-collection way, which
reads what is there. So the result, the history and the all-or-nothing are those of that path.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo import ASCENDING, DeleteOne, InsertOne, UpdateOne
from pymongo.errors import ClientBulkWriteException, PyMongoError
from pymongo.results import ClientBulkWriteResult

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.record import UserMemory
from langmem_agno.stores.history import HistoryRow
from langmem_agno.stores.lifecycle import Plan, change_entries, history_rows
from langmem_agno.stores.mongo_plans import _ClientBulk, _Plan, filter_document, one_write, upsert_spec
from langmem_agno.stores.mongo_turn import TurnReads
from langmem_agno.stores.types import ChangeRequest, ChangeSet
from langmem_agno.twins import twin

__all__ = [
    "HISTORY_INDEXES",
    "ChangedMeanwhile",
    "Known",
    "KnownChanges",
    "Recorded",
    "history_doc",
    "known_changes_plan",
    "updated_memories",
]

T = TypeVar("T")
#: The history collection's indexes (:mod:`~langmem_agno.stores.lifecycle_mongo` creates them too).
HISTORY_INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    (
        [("user_id", ASCENDING), ("memory_id", ASCENDING), ("at", ASCENDING), ("seq", ASCENDING)],
        {"name": "lma_memory"},
    ),
    ([("at", ASCENDING)], {"name": "lma_at"}),
]
#: The fields an update's filter holds as read (``created_at`` apart: it may be absent).
_AS_READ = ("memory", "topics", "input", "agent_id", "team_id", "feedback", "updated_at")


#: The memories a change set changes, by id, as the caller read them.
Known = Mapping[str, UserMemory]


@dataclass(frozen=True)
class Recorded(ChangeSet):
    """A change set written with its history entries, in the same transaction."""


class ChangedMeanwhile(Exception):
    """The memories were not as the caller read them: the transaction is taken back."""


def history_doc(row: HistoryRow) -> dict[str, Any]:
    """A history entry as its document in ``<collection>_history``."""
    e = row.entry
    return {
        "_id": row.key,
        "seq": row.seq,
        "user_id": e.user_id,
        "memory_id": e.memory_id,
        "event": e.event,
        "path": e.path,
        "at": e.at,
        "old_memory": e.old_memory,
        "new_memory": e.new_memory,
        "old_topics": None if e.old_topics is None else list(e.old_topics),
        "new_topics": None if e.new_topics is None else list(e.new_topics),
    }


def updated_memories(request: ChangeRequest, known: Mapping[str, UserMemory]) -> dict[str, UserMemory]:
    """Each updated memory after its update: as the caller read it, plus the changes."""
    return {
        memory_id: UserMemory.from_document({**known[memory_id].to_document(), **changes})
        for memory_id, changes in request.updates
    }


def known_changes_plan(
    request: ChangeRequest,
    known: Mapping[str, UserMemory],
    history: Sequence[HistoryRow],
    namespaces: tuple[str, str],
) -> _Plan[ChangeSet]:
    """The change set and its ``history`` rows as one ``bulkWrite``, in the caller's transaction.

    Args:
        request: The change set; every update and delete target is in ``known``.
        known: The memories it changes, as the caller read them.
        history: The entries to record (none with the history off).
        namespaces: ``"db.collection"`` of the memories and of their history.

    Raises:
        ChangedMeanwhile: When an operation's result is not the one the memories as read give.
    """
    memories, entries = namespaces
    scope = filter_document(request.flt)
    models: list[InsertOne[dict[str, Any]] | UpdateOne | DeleteOne] = []
    for record in request.adds:
        key, update = upsert_spec(record, request.flt.user_id)
        models.append(UpdateOne(key, update, upsert=True, namespace=memories))
    after = updated_memories(request, known)
    for memory_id, changes in request.updates:
        before = known[memory_id].to_document()
        as_read = {name: before[name] for name in _AS_READ}
        when = {"created_at": {"$in": [before["created_at"], None]}}
        key = {**as_read, **when, **scope, "memory_id": memory_id}  # the scope's own fields win
        # An absent created_at is pinned to the one readers saw (Agno's upsert writes none).
        fields = {**changes, "created_at": before["created_at"]}
        models.append(UpdateOne(key, {"$set": fields}, namespace=memories))
    models += [DeleteOne({**scope, "memory_id": i}, namespace=memories) for i in request.deletes]
    models += [InsertOne(history_doc(row), namespace=entries) for row in history]
    try:
        result: ClientBulkWriteResult = yield _ClientBulk(models)
    except ClientBulkWriteException as exc:
        # An add's id already taken (a retry, or another user's): the per-collection path says which.
        errors = exc.details.get("writeErrors") or []
        if errors and all(e.get("code") == 11000 for e in errors):
            raise ChangedMeanwhile("an id of the change set is already stored") from exc
        raise
    _check(result, len(request.adds), len(request.updates), len(request.deletes))
    return Recorded(
        added=list(request.adds),
        updated=[after[i] for i, _ in request.updates],
        deleted=list(request.deletes),
    )


def _check(result: ClientBulkWriteResult, adds: int, updates: int, deletes: int) -> None:
    updated = result.update_results
    inserted = all(updated[i].upserted_id is not None for i in range(adds))
    matched = all(updated[i].matched_count == 1 for i in range(adds, adds + updates))
    deleted = all(
        result.delete_results[i].deleted_count == 1 for i in range(adds + updates, adds + updates + deletes)
    )
    if not (inserted and matched and deleted):
        raise ChangedMeanwhile("a memory of the change set was not as read")


class KnownChanges(TurnReads):
    """:meth:`apply_changes` of a set whose memories the caller read: one ``bulkWrite`` where it can.

    Everywhere else (one write, memories not handed in, a history with retention limits to purge,
    a server without transactions or ``bulkWrite``) it is the per-collection path.
    """

    def _apply_plan(self, request: ChangeRequest, before: Sequence[UserMemory]) -> Plan[ChangeSet]:
        flt, opts = request.flt, self.lifecycle
        user = flt.user_id
        # Only memories of the scope, as read: one claiming another agent's or team's is read again.
        known = {
            m.memory_id: m
            for m in before
            if m.user_id == user and flt.agent_id in (None, m.agent_id) and flt.team_id in (None, m.team_id)
        }
        targets = [*(i for i, _ in request.updates), *request.deletes]
        purges = opts.history and (opts.history_retention_days, opts.history_limit) != (None, None)
        if one_write(request) or purges or any(i not in known for i in targets):
            return (yield from super()._apply_plan(request, before))
        rows: list[HistoryRow] = []
        if opts.history:
            after = updated_memories(request, known)
            entries = change_entries(
                user, known, request.adds, [after[i] for i, _ in request.updates], request.deletes
            )
            # Stamped as the per-collection path's _record stamps its entries after its write.
            rows = history_rows(entries)
        done: ChangeSet = yield twin(self._apply, self._aapply)(request, known, rows)
        if not isinstance(done, Recorded):
            # Written the per-collection way: its history after it, from what it wrote.
            yield from self._record(change_entries(user, known, done.added, done.updated, done.deleted))
        yield from self._forget_expiry(user, done.deleted)
        return done

    @abstractmethod
    def _apply(
        self, request: ChangeRequest, known: Known | None = None, rows: Sequence[HistoryRow] = ()
    ) -> ChangeSet:
        """Write the change set: with ``known``, as one ``bulkWrite`` with ``rows`` where it can."""

    @abstractmethod
    async def _aapply(
        self, request: ChangeRequest, known: Known | None = None, rows: Sequence[HistoryRow] = ()
    ) -> ChangeSet:
        """Async twin of :meth:`_apply`."""

    def _apply_known(
        self, request: ChangeRequest, known: Mapping[str, UserMemory], rows: Sequence[HistoryRow]
    ) -> ChangeSet | None:
        """Run :func:`known_changes_plan` in a transaction; ``None`` when it cannot or was taken back."""
        if rows and not self._history_indexed:
            try:
                for keys, options in HISTORY_INDEXES:  # before the transaction: it cannot create them
                    self.companion_collection("history").create_index(keys, **options)
            except PyMongoError as exc:
                raise self._unavailable(exc) from exc
            self._history_indexed = True
        try:
            return self._run_atomic(lambda atomic: self._known_plan(atomic, request, known, rows), bulk=True)
        except ChangedMeanwhile:
            return None

    async def _aapply_known(
        self, request: ChangeRequest, known: Mapping[str, UserMemory], rows: Sequence[HistoryRow]
    ) -> ChangeSet | None:
        """Async twin of :meth:`_apply_known`."""
        if rows and not self._history_indexed:
            try:
                for keys, options in HISTORY_INDEXES:
                    await self.companion_collection("history", use_async=True).create_index(keys, **options)
            except PyMongoError as exc:
                raise self._unavailable(exc) from exc
            self._history_indexed = True
        try:
            return await self._arun_atomic(
                lambda atomic: self._known_plan(atomic, request, known, rows), bulk=True
            )
        except ChangedMeanwhile:
            return None

    def _known_plan(
        self,
        atomic: bool,
        request: ChangeRequest,
        known: Mapping[str, UserMemory],
        rows: Sequence[HistoryRow],
    ) -> _Plan[ChangeSet | None]:
        # Without a transaction and the client-level bulkWrite: nothing here, the caller writes it apart.
        if not atomic:
            return None
        name = f"{self.database}.{self.collection}"
        return (yield from known_changes_plan(request, known, rows, (name, name + "_history")))

    # ------------------------------------------------------------ what the store provides
    database: str
    collection: str
    _history_indexed: bool = False

    def _unavailable(self, exc: PyMongoError) -> StoreUnavailableError:
        return StoreUnavailableError(f"MongoDB {self.database}.{self.collection}_history: {exc}")

    @abstractmethod
    def companion_collection(self, suffix: str, *, use_async: bool = False) -> Any:
        """The collection ``<collection>_<suffix>``."""

    @abstractmethod
    def _run_atomic(
        self, make_plan: Callable[[bool], _Plan[T]], *, single: bool = False, bulk: bool = False
    ) -> T:
        """Run ``make_plan(True)`` in a transaction that can take it, else ``make_plan(False)``."""

    @abstractmethod
    async def _arun_atomic(
        self, make_plan: Callable[[bool], _Plan[T]], *, single: bool = False, bulk: bool = False
    ) -> T:
        """Async twin of :meth:`_run_atomic`."""
