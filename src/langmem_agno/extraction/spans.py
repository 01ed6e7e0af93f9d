"""What a cursor claims and sets aside: spans of a thread's messages, and how they are stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict

from langmem_agno.errors import StoreUnavailableError
from langmem_agno.scope import MemoryScope

__all__ = [
    "Claim",
    "FailedSpan",
    "Span",
    "failed_doc",
    "failed_span",
    "is_transient",
    "scope_list",
    "scope_of",
    "span_from_doc",
]


@dataclass(frozen=True)
class Span:
    """Messages of a thread claimed for one extraction.

    Attributes:
        span_id: Its id (also the id of its failed record, if it comes to that).
        key: The thread's cursor key.
        scope: Whose memories it is.
        messages: The messages, oldest first.
        attempts: How many times its extraction failed so far.
    """

    span_id: str
    key: str
    scope: MemoryScope
    messages: list[BaseMessage]
    attempts: int = 0


@dataclass(frozen=True)
class Claim:
    """What one claim took: the spans to extract now, in the order to extract them."""

    spans: list[Span]

    def groups(self) -> list[list[Span]]:
        """The spans as extraction calls: one call for all of them, oldest first (none when empty).

        Failures are counted per span, so a poison span reaches ``max_attempts`` (and is set
        aside) before the newer spans it was retried with, which then go on with the next turn.
        """
        return [self.spans] if self.spans else []


@dataclass(frozen=True)
class FailedSpan:
    """A span set aside after failing ``attempts`` times, as kept in ``<collection>_failed``.

    Attributes:
        span_id: Its id, for :func:`retry_failed`.
        key: The thread's cursor key.
        scope: Whose memories it is.
        messages: Its messages.
        attempts: How many times it failed.
        error: The last error, as text.
        failed_at: When it was set aside (epoch seconds).
    """

    span_id: str
    key: str
    scope: MemoryScope
    messages: list[BaseMessage]
    attempts: int
    error: str
    failed_at: float


_TRANSIENT_NAMES = ("timeout", "ratelimit", "rate_limit", "overloaded", "unavailable", "connection")


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or one of its causes) is worth retrying soon: a timeout, a rate limit, an outage."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (TimeoutError, StoreUnavailableError, ConnectionError)):
            return True
        status = getattr(current, "status_code", None)
        if status in (408, 429, 500, 502, 503, 504):
            return True
        name = type(current).__name__.lower()
        if any(word in name for word in _TRANSIENT_NAMES):
            return True
        current = current.__cause__ or current.__context__
    return False


def scope_list(scope: MemoryScope) -> list[str | None]:
    """A scope as stored in a document: ``[user_id, agent_id, team_id]``."""
    return [scope.user_id, scope.agent_id, scope.team_id]


def scope_of(raw: Sequence[Any]) -> MemoryScope:
    """The scope stored by :func:`scope_list`."""
    return MemoryScope(str(raw[0]), raw[1], raw[2])


def span_from_doc(key: str, raw: dict[str, Any]) -> Span:
    """A claimed span of thread ``key`` as stored in its cursor document."""
    return Span(
        raw["id"], key, scope_of(raw["scope"]), messages_from_dict(raw["messages"]), int(raw["attempts"])
    )


def failed_doc(span: FailedSpan) -> dict[str, Any]:
    """A failed span as stored in ``<collection>_failed``."""
    return {
        "thread": span.key,
        "scope": scope_list(span.scope),
        "messages": messages_to_dict(span.messages),
        "attempts": span.attempts,
        "error": span.error,
        "failed_at": span.failed_at,
    }


def failed_span(span_id: str, doc: dict[str, Any]) -> FailedSpan:
    """The failed span stored by :func:`failed_doc`."""
    return FailedSpan(
        span_id,
        str(doc["thread"]),
        scope_of(doc["scope"]),
        messages_from_dict(doc["messages"]),
        int(doc["attempts"]),
        str(doc["error"]),
        float(doc["failed_at"]),
    )
