"""Durable per-thread cursors: what each thread has had extracted, and the spans claimed from it.

One document per thread and scope, in the memory store's own database
(``<collection>_cursors``, see :mod:`langmem_agno.stores.companion_docs`):

* ``tail``: digests of the last few processed messages (its id when it has one, else
  its type and text). The new messages of a state are those after the place where
  that tail ends, so histories that are trimmed, summarised or windowed, and
  messages without ids, are all handled, and the document stays the same size
  however long the thread grows;
* ``spans``: the messages claimed for extraction and not yet done, each with an owner,
  a lease (``until``) and how often it failed. Claiming moves the tail past the new
  messages and records them as a span in the same compare-and-set write, so two
  workers, processes or concurrent runs never claim the same messages, and a span
  whose worker died is claimed again once its lease ends. A span that failed
  ``max_attempts`` times goes to ``<collection>_failed`` (:func:`list_failed`,
  :func:`retry_failed`) and the thread carries on.

Every operation is a plan (:mod:`langmem_agno.twins`) of read and compare-and-set
steps, run with the sync or async twins of the backend.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, StoreUnavailableError
from langmem_agno.extraction.spans import (
    Claim,
    FailedSpan,
    Span,
    failed_doc,
    failed_span,
    is_transient,
    scope_list,
    scope_of,
    span_from_doc,
)
from langmem_agno.recall.text import message_text
from langmem_agno.scope import MemoryScope
from langmem_agno.stores.base import MemoryStore
from langmem_agno.stores.companion_docs import CompanionDocs, MemoryDocs, StoredDoc, companion_docs
from langmem_agno.twins import Call, twin

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "TAIL_LENGTH",
    "Claim",
    "FailedSpan",
    "Span",
    "ThreadCursorStore",
    "is_transient",
    "message_digest",
    "new_owner",
    "new_start",
    "thread_key",
]

logger = logging.getLogger(__name__)
#: How many processed messages' digests a cursor keeps to find its place in a new state.
TAIL_LENGTH = 8
#: How many times a span may fail before it is set aside in ``<collection>_failed``.
DEFAULT_MAX_ATTEMPTS = 3
#: How long a claimed span belongs to its worker before another may take it over.
DEFAULT_LEASE_SECONDS = 300.0
# A compare-and-set that keeps losing means a storm of writers on one thread.
_CAS_ROUNDS = 64


def thread_key(scope: MemoryScope, thread_id: str) -> str:
    """The cursor document's key: the scope and the thread, as one JSON text."""
    return json.dumps([scope.user_id, scope.agent_id, scope.team_id, thread_id], ensure_ascii=False)


def new_owner() -> str:
    """A worker name unique across hosts, processes and node instances."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def message_digest(message: BaseMessage) -> str:
    """A short digest naming ``message``: its id when it has one, else its type and text."""
    basis = f"id\0{message.id}" if message.id else f"{message.type}\0{message_text(message)}"
    return hashlib.blake2b(basis.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def new_start(tail: Sequence[str], messages: Sequence[BaseMessage]) -> int:
    """Where the unprocessed messages of ``messages`` start, given the digests of the last processed.

    The place after the latest processed message with an id still in the state; for
    messages without ids, the latest place where the whole tail matches the messages
    ending there (or, when the state was trimmed, where the matching part reaches the
    state's first message). With no such place every message is new (an empty tail: a
    new thread). Messages without ids that repeat exactly (the same words, over the
    whole tail) cannot be told apart: the latest match wins.

    Args:
        tail: Digests of the last processed messages, oldest first.
        messages: The thread's state.

    Returns:
        The index of the first new message (``len(messages)`` when none is new).
    """
    if not tail:
        return 0
    digests: dict[int, str] = {}

    def digest(i: int) -> str:
        # Lazily, from the end: the place is nearly always among the last few messages.
        if i not in digests:
            digests[i] = message_digest(messages[i])
        return digests[i]

    known = set(tail)
    for end in range(len(messages) - 1, -1, -1):
        if messages[end].id and digest(end) in known:
            # An id names one message: the latest processed one still in the state is the place,
            # even when a summary replaced what came before it or later ones were removed.
            return end + 1
        if digest(end) != tail[-1]:
            continue
        depth = min(len(tail), end + 1)
        if all(digest(end - j) == tail[-1 - j] for j in range(1, depth)):
            return end + 1
    return 0


def _due(spans: Sequence[dict[str, Any]]) -> float | None:
    return min((float(s["until"]) for s in spans), default=None)


# A change to one cursor document: given its content (empty when new), return the new
# content and a value for the caller, or None to write nothing.
_Change = Callable[[dict[str, Any]], "tuple[dict[str, Any], Any] | None"]


class ThreadCursorStore:
    """The cursors of every thread, kept in ``<collection>_cursors``, and the failed spans.

    Args:
        store: The memory store whose database holds them; ``None`` keeps them in this
            process only (tests).
        lease_seconds: How long a claimed span belongs to its worker.
        max_attempts: How many failures set a span aside.
        cursors: The documents to use instead (overrides ``store``).
        failed: The failed-span documents to use instead.
        max_threads: When kept in this process: how many threads' cursors, the least recently
            written forgotten first (their unfinished spans with them).
    """

    def __init__(
        self,
        store: MemoryStore | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        cursors: CompanionDocs | None = None,
        failed: CompanionDocs | None = None,
        max_threads: int = 10_000,
    ) -> None:
        if (
            isinstance(lease_seconds, bool)
            or not isinstance(lease_seconds, (int, float))
            or lease_seconds <= 0
        ):
            raise ConfigurationError(f"lease_seconds must be a positive number, got {lease_seconds!r}")
        check_int("max_attempts", max_attempts)
        self.lease_seconds = float(lease_seconds)
        self.max_attempts = max_attempts
        self.cursors = cursors or (
            MemoryDocs(max_threads) if store is None else companion_docs(store, "cursors")
        )
        if isinstance(self.cursors, MemoryDocs) and cursors is None:
            self.cursors.max_docs = max_threads
        self.failed = failed or (MemoryDocs() if store is None else companion_docs(store, "failed"))

    # ------------------------------------------------------------ the one write loop
    def _change(self, key: str, user_id: str, change: _Change) -> Generator[Call[Any], Any, Any]:
        """Read, change and compare-and-set the document of ``key`` until no other writer got between."""
        for _ in range(_CAS_ROUNDS):
            stored: StoredDoc | None = yield twin(self.cursors.get, self.cursors.aget)(key)
            doc = stored.doc if stored else {"tail": [], "seen": 0, "spans": []}
            outcome = change(doc)
            if outcome is None:
                return None
            new, value = outcome
            version = stored.version if stored else None
            put = twin(self.cursors.put, self.cursors.aput)
            if (yield put(key, new, version, user_id=user_id, due=_due(new["spans"]))):
                return value
        raise StoreUnavailableError(
            f"{self.cursors.where}: the cursor of thread {key} kept changing under {_CAS_ROUNDS} writes"
        )

    # ------------------------------------------------------------ claims
    def claim(
        self,
        key: str,
        scope: MemoryScope,
        messages: Sequence[BaseMessage],
        owner: str,
        lease: float | None = None,
    ) -> Generator[Call[Any], Any, Claim]:
        """Claim the thread's new messages, and its spans free to retry, for ``owner``; one write.

        Args:
            key: The thread's cursor key (:func:`thread_key`).
            scope: Whose memories they are.
            messages: The thread's whole state.
            owner: The claiming worker (:func:`new_owner`).
            lease: Seconds the spans stay ``owner``'s; :attr:`lease_seconds` by default.

        Returns:
            The spans claimed (none when there is nothing to do).
        """
        lease_for = self.lease_seconds if lease is None else lease

        def change(doc: dict[str, Any]) -> tuple[dict[str, Any], Claim] | None:
            now = time.time()
            start = new_start(doc["tail"], messages)
            taken = [s for s in doc["spans"] if float(s["until"]) <= now]
            for s in taken:
                if s["owner"] is not None and s["owner"] != owner:
                    logger.warning(
                        "memory extraction of thread %s: the lease of %s on %d message(s) ran out; "
                        "%s takes them over",
                        key,
                        s["owner"],
                        len(s["messages"]),
                        owner,
                    )
                s["owner"], s["until"] = owner, now + lease_for
            new = list(messages[start:])
            spans = [span_from_doc(key, s) for s in taken]
            if new:
                doc["spans"].append(
                    {
                        "id": uuid.uuid4().hex,
                        "scope": scope_list(scope),
                        "messages": messages_to_dict(new),
                        "owner": owner,
                        "until": now + lease_for,
                        "attempts": 0,
                        "error": None,
                    }
                )
                # The messages in hand, not read back from their JSON: a long new history is cheap.
                spans.append(Span(doc["spans"][-1]["id"], key, scope, new))
                doc["tail"] = [message_digest(m) for m in messages[-TAIL_LENGTH:]]
                doc["seen"] = int(doc["seen"]) + len(new)
            if not spans:
                return None
            return doc, Claim(spans)

        claim = yield from self._change(key, scope.user_id, change)
        return claim if claim is not None else Claim([])

    def renew(
        self, key: str, user_id: str, span_ids: Sequence[str], owner: str, lease: float | None = None
    ) -> Generator[Call[Any], Any, list[str]]:
        """Extend ``owner``'s lease on these spans (taking back those free again); return those it holds.

        A worker calls it when it starts a queued job: a span another worker took over
        after the lease ran out is not extracted twice.
        """
        lease_for = self.lease_seconds if lease is None else lease
        wanted = set(span_ids)

        def change(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
            now = time.time()
            held = [
                s
                for s in doc["spans"]
                if s["id"] in wanted and (s["owner"] == owner or float(s["until"]) <= now)
            ]
            if not held:
                return None
            for s in held:
                s["owner"], s["until"] = owner, now + lease_for
            return doc, [s["id"] for s in held]

        held = yield from self._change(key, user_id, change)
        return list(held or [])

    def release(
        self, key: str, user_id: str, span_ids: Sequence[str], owner: str
    ) -> Generator[Call[Any], Any, None]:
        """Give back ``owner``'s lease on these spans, unfailed, for the next claim to take."""
        wanted = set(span_ids)

        def change(doc: dict[str, Any]) -> tuple[dict[str, Any], None] | None:
            mine = [s for s in doc["spans"] if s["id"] in wanted and s["owner"] == owner]
            if not mine:
                return None
            for s in mine:
                s["owner"], s["until"] = None, time.time()
            return doc, None

        yield from self._change(key, user_id, change)

    def done(self, key: str, user_id: str, span_ids: Sequence[str]) -> Generator[Call[Any], Any, None]:
        """Forget spans whose extraction succeeded."""
        gone = set(span_ids)

        def change(doc: dict[str, Any]) -> tuple[dict[str, Any], None] | None:
            kept = [s for s in doc["spans"] if s["id"] not in gone]
            if len(kept) == len(doc["spans"]):
                return None
            doc["spans"] = kept
            return doc, None

        yield from self._change(key, user_id, change)

    def fail(
        self,
        key: str,
        user_id: str,
        span_ids: Sequence[str],
        error: BaseException,
        retry_in: float = 0.0,
    ) -> Generator[Call[Any], Any, list[FailedSpan]]:
        """Count a failure of these spans: free them to retry after ``retry_in`` seconds, or set them aside.

        A span reaching :attr:`max_attempts` is written to ``<collection>_failed`` first (so a
        crash in between loses nothing), then removed from the cursor, which carries on past it.

        Returns:
            The spans set aside now.
        """
        wanted = set(span_ids)
        text = f"{type(error).__name__}: {error}"[:2_000]
        stored: StoredDoc | None = yield twin(self.cursors.get, self.cursors.aget)(key)
        now = time.time()
        dead = [
            FailedSpan(
                s["id"],
                key,
                scope_of(s["scope"]),
                messages_from_dict(s["messages"]),
                int(s["attempts"]) + 1,
                text,
                now,
            )
            for s in (stored.doc["spans"] if stored else [])
            if s["id"] in wanted and int(s["attempts"]) + 1 >= self.max_attempts
        ]
        for span in dead:
            yield twin(self.failed.put, self.failed.aput)(
                span.span_id, failed_doc(span), None, user_id=span.scope.user_id
            )
        buried = {s.span_id for s in dead}

        def change(doc: dict[str, Any]) -> tuple[dict[str, Any], None]:
            at = time.time()
            doc["spans"] = [s for s in doc["spans"] if s["id"] not in buried]
            for s in doc["spans"]:
                if s["id"] in wanted:
                    s["attempts"] = int(s["attempts"]) + 1
                    s["error"], s["owner"], s["until"] = text, None, at + retry_in
            return doc, None

        yield from self._change(key, user_id, change)
        for span in dead:
            logger.warning(
                "memory extraction of thread %s failed %d times on %d message(s); they are set aside as "
                "failed span %s (%s) and later turns are extracted as usual",
                key,
                span.attempts,
                len(span.messages),
                span.span_id,
                text,
            )
        return dead

    def due_threads(self, limit: int = 100) -> Generator[Call[Any], Any, list[tuple[str, MemoryScope]]]:
        """Threads with spans free to take now (their worker died, or a retry is due), oldest key first.

        Returns:
            Each thread's cursor key and scope, for :meth:`claim` with no new messages.
        """
        rows: list[StoredDoc] = yield twin(self.cursors.scan, self.cursors.ascan)(
            due_before=time.time(), limit=limit
        )
        return [(r.key, scope_of(r.doc["spans"][0]["scope"])) for r in rows if r.doc["spans"]]

    # ------------------------------------------------------------ failed spans
    def list_failed(
        self, user_id: str | None = None, limit: int = 100
    ) -> Generator[Call[Any], Any, list[FailedSpan]]:
        """The spans set aside, of one user or of all, oldest id first."""
        rows: list[StoredDoc] = yield twin(self.failed.scan, self.failed.ascan)(user_id=user_id, limit=limit)
        return [failed_span(r.key, r.doc) for r in rows]

    def take_failed(self, span_id: str) -> Generator[Call[Any], Any, FailedSpan | None]:
        """Remove a failed span from ``<collection>_failed`` and return it (``None`` when absent)."""
        doc = yield twin(self.failed.delete, self.failed.adelete)(span_id)
        return None if doc is None else failed_span(span_id, doc)

    def keep_failed(self, span: FailedSpan) -> Generator[Call[Any], Any, None]:
        """Put a failed span (back) in ``<collection>_failed``."""
        yield twin(self.failed.put, self.failed.aput)(
            span.span_id, failed_doc(span), None, user_id=span.scope.user_id
        )
