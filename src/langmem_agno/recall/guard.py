"""Calls to an embeddings model that can fail without failing recall: a time limit and outage tracking.

An embeddings provider that is down or slow must cost the user the semantic part
of recall, not their answer. :class:`EmbeddingsGuard` runs each call with a time
limit and returns ``None`` when the model raised or took too long; the retriever
then ranks lexically. It logs one warning when an outage starts (not one per
call, which would flood the log of a busy agent) and one line when the model
answers again, so the next outage is reported too.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from langchain_core.embeddings import Embeddings

__all__ = ["EmbeddingsGuard", "Outage"]

logger = logging.getLogger("langmem_agno.recall")
T = TypeVar("T")
A = TypeVar("A")
#: Worker threads for sync calls with a time limit; a call that never returns holds one,
#: and calls beyond the pool wait their turn and time out like any slow call.
_POOL_SIZE = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="langmem-agno-embed")
        return _pool


class Outage:
    """Whether a dependency is failing, so that each outage is reported once: where it starts and ends."""

    def __init__(self) -> None:
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether the last call failed (an outage is in progress)."""
        return self._down

    def failed(self) -> bool:
        """Record a failed call; ``True`` when it starts an outage (then warn)."""
        with self._lock:
            first, self._down = not self._down, True
        return first

    def answered(self) -> bool:
        """Record a call that answered; ``True`` when it ends an outage (then say so)."""
        with self._lock:
            recovered, self._down = self._down, False
        return recovered


class EmbeddingsGuard:
    """One embeddings model behind a time limit, with one warning per outage.

    Args:
        embeddings: The model.
        name: How the model is named in the log (its storage key).
        timeout: Seconds one call may take; ``None`` for no limit.
    """

    def __init__(self, embeddings: Embeddings, name: str, timeout: float | None) -> None:
        self.embeddings = embeddings
        self.name = name
        self.timeout = timeout
        self._outage = Outage()

    @property
    def down(self) -> bool:
        """Whether the last call failed (an outage is in progress)."""
        return self._outage.down

    def _failed(self, what: str, exc: BaseException) -> None:
        if self._outage.failed():
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            logger.warning(
                "embeddings model %s failed (%s, %s): recall ranks lexically until it answers again",
                self.name,
                what,
                detail,
            )

    def _answered(self) -> None:
        if self._outage.answered():
            logger.warning("embeddings model %s answers again: dense recall is back", self.name)

    def _call(self, what: str, fn: Callable[[A], T], arg: A) -> T | None:
        try:
            if self.timeout is None:
                result = fn(arg)
            else:
                # The caller's context (callbacks, tracing) goes along to the worker thread.
                future = _executor().submit(contextvars.copy_context().run, fn, arg)
                try:
                    result = future.result(timeout=self.timeout)
                except FutureTimeout:
                    # A call still waiting for a worker never starts; one already running
                    # cannot be stopped and holds its worker until it returns.
                    future.cancel()
                    raise
        except FutureTimeout as exc:
            self._failed(f"no answer within {self.timeout} s", exc)
            return None
        except Exception as exc:  # any provider error: the point is to survive it
            self._failed(what, exc)
            return None
        self._answered()
        return result

    async def _acall(self, what: str, call: Awaitable[T]) -> T | None:
        try:
            result = await asyncio.wait_for(call, self.timeout)
        except TimeoutError as exc:
            self._failed(f"no answer within {self.timeout} s", exc)
            return None
        except Exception as exc:
            self._failed(what, exc)
            return None
        self._answered()
        return result

    def embed_documents(self, texts: list[str]) -> list[list[float]] | None:
        """The model's vectors for ``texts``, or ``None`` when it raised or timed out."""
        return self._call(f"embedding {len(texts)} memories", self.embeddings.embed_documents, texts)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]] | None:
        """Async twin of :meth:`embed_documents`."""
        return await self._acall(f"embedding {len(texts)} memories", self.embeddings.aembed_documents(texts))

    def embed_query(self, text: str) -> list[float] | None:
        """The model's vector for the query, or ``None`` when it raised or timed out."""
        return self._call("embedding the query", self.embeddings.embed_query, text)

    async def aembed_query(self, text: str) -> list[float] | None:
        """Async twin of :meth:`embed_query`."""
        return await self._acall("embedding the query", self.embeddings.aembed_query(text))
