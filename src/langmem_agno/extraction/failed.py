"""Extraction spans set aside after failing too often: list them, retry one (for the command line too).

They live in ``<collection>_failed`` beside the memories (see :mod:`langmem_agno.extraction.cursors`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.extraction.cursors import FailedSpan, ThreadCursorStore
from langmem_agno.extraction.manager import ExtractionResult, MemoryManager
from langmem_agno.stores.base import MemoryStore
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["alist_failed", "aretry_failed", "list_failed", "retry_failed", "retry_steps"]


def _cursors(store: MemoryStore | ThreadCursorStore) -> ThreadCursorStore:
    return store if isinstance(store, ThreadCursorStore) else ThreadCursorStore(store)


def list_failed(
    store: MemoryStore | ThreadCursorStore, user_id: str | None = None, limit: int = 100
) -> list[FailedSpan]:
    """The failed spans in ``store``'s database, of one user or of all, at most ``limit``.

    Args:
        store: The memory store (or the cursors of a node).
        user_id: Only this user's spans.
        limit: The most spans returned.
    """
    return run_calls(_cursors(store).list_failed(user_id, limit))


async def alist_failed(
    store: MemoryStore | ThreadCursorStore, user_id: str | None = None, limit: int = 100
) -> list[FailedSpan]:
    """Async twin of :func:`list_failed`."""
    return await arun_calls(_cursors(store).list_failed(user_id, limit))


def retry_failed(
    manager: MemoryManager, span_id: str, cursors: ThreadCursorStore | None = None
) -> ExtractionResult:
    """Extract a failed span again now; it leaves the failed table only when that succeeds.

    Args:
        manager: Does the extraction (its store holds the span unless ``cursors`` is given).
        span_id: The span's id, as listed.
        cursors: The cursors holding the span; those of ``manager.store`` by default.

    Raises:
        InvalidMemoryError: If no failed span has that id.
    """
    return run_calls(retry_steps(manager, cursors or ThreadCursorStore(manager.store), span_id))


async def aretry_failed(
    manager: MemoryManager, span_id: str, cursors: ThreadCursorStore | None = None
) -> ExtractionResult:
    """Async twin of :func:`retry_failed`."""
    return await arun_calls(retry_steps(manager, cursors or ThreadCursorStore(manager.store), span_id))


def retry_steps(
    manager: MemoryManager, cursors: ThreadCursorStore, span_id: str
) -> Generator[Call[Any], Any, ExtractionResult]:
    """The retry as a plan: take the span out, extract it, put it back (with its new error) on failure."""
    span = yield from cursors.take_failed(span_id)
    if span is None:
        raise InvalidMemoryError(f"no failed extraction span has the id {span_id!r}")
    scope = span.scope
    try:
        result: ExtractionResult = yield twin(manager.extract, manager.aextract)(
            span.messages, user_id=scope.user_id, agent_id=scope.agent_id, team_id=scope.team_id
        )
    except Exception as exc:
        yield from cursors.keep_failed(_refailed(span, exc))
        raise
    if result.error is not None:
        yield from cursors.keep_failed(_refailed(span, result.error))
    return result


def _refailed(span: FailedSpan, error: BaseException) -> FailedSpan:
    return FailedSpan(
        span.span_id,
        span.key,
        span.scope,
        span.messages,
        span.attempts + 1,
        f"{type(error).__name__}: {error}"[:2_000],
        span.failed_at,
    )
