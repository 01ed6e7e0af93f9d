"""Running extractions off the critical path, without losing any.

Sync callers hand work to one daemon worker thread; async callers to one task
on their own event loop (an async MongoDB client is bound to its loop, so the
work must run there). Both share one queue, which:

* keeps jobs of one conversation in order;
* with a debounce, merges the turns of one conversation that arrive before its
  job starts into that job (one model call for several quick turns);
* is drained by :meth:`BackgroundExtractor.flush` / :meth:`BackgroundExtractor.aflush`
  and, for the thread, at interpreter exit.

A failure is logged, kept in :attr:`BackgroundExtractor.errors` and its messages
are handed to the ``on_failure`` hook (the node hands them back to the thread's
cursor, so the thread's next turn retries them): never dropped.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage

from langmem_agno.extraction import ExtractionResult, MemoryManager
from langmem_agno.scope import MemoryScope

logger = logging.getLogger(__name__)
# Jobs run in lanes: "sync" for the worker thread, or the event loop that queued them.
Lane = Hashable
_SYNC: Lane = "sync"
#: How many recent errors and results a :class:`BackgroundExtractor` keeps.
DEFAULT_HISTORY = 100
#: Called with a failed job's key, scope and messages.
FailureHook = Callable[[Hashable, MemoryScope, list[BaseMessage]], None]


@dataclass
class _Job:
    seq: int
    lane: Lane
    key: Hashable
    scope: MemoryScope
    messages: list[BaseMessage]
    due: float
    turns: int = 1
    started: bool = False


@dataclass(frozen=True)
class BackgroundError:
    """A background extraction that failed.

    Attributes:
        key: The conversation it belonged to (``(user_id, thread_id)`` for the node).
        user_id: The user.
        messages: How many messages it covered.
        error: The failure.
    """

    key: Hashable
    user_id: str
    messages: int
    error: BaseException


@dataclass
class _Queue:
    """Pending jobs of every lane, under one lock."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    jobs: list[_Job] = field(default_factory=list)
    flushing: int = 0
    seq: itertools.count[int] = field(default_factory=itertools.count)

    def put(
        self, lane: Lane, key: Hashable, scope: MemoryScope, messages: list[BaseMessage], debounce: float
    ) -> None:
        now = time.monotonic()
        with self.cond:
            if debounce > 0:
                for job in self.jobs:
                    if job.lane == lane and job.key == key and not job.started and job.scope == scope:
                        job.messages.extend(messages)
                        job.due = now + debounce
                        job.turns += 1
                        self.cond.notify_all()
                        return
            self.jobs.append(_Job(next(self.seq), lane, key, scope, list(messages), now + debounce))
            self.cond.notify_all()

    def take(self, lane: Lane) -> tuple[_Job | None, float | None]:
        """Under the lock: start the next due job of ``lane``; else say when one will be due."""
        now = time.monotonic()
        waiting = [j for j in self.jobs if j.lane == lane and not j.started]
        # A key with a job already running waits, so one conversation's jobs stay in order.
        busy = {j.key for j in self.jobs if j.lane == lane and j.started}
        ready = [j for j in waiting if j.key not in busy and (self.flushing or j.due <= now)]
        if ready:
            job = min(ready, key=lambda j: (j.due, j.seq))
            job.started = True
            return job, None
        due = [j.due for j in waiting if j.key not in busy]
        return None, (min(due) - now if due else None)

    def finish(self, job: _Job) -> None:
        with self.cond:
            self.jobs.remove(job)
            self.cond.notify_all()

    def requeue(self, job: _Job) -> None:
        """Put a started job back, not done, to run again."""
        with self.cond:
            job.started = False
            self.cond.notify_all()

    def adopt_orphans(self) -> int:
        """Move the jobs of closed event loops to the sync lane; return how many moved."""
        with self.cond:
            moved = 0
            for job in self.jobs:
                lane = job.lane
                if lane != _SYNC and not job.started and getattr(lane, "is_closed", lambda: False)():
                    job.lane = _SYNC
                    moved += 1
            self.cond.notify_all()
            return moved

    def count(self, lane: Lane) -> int:
        return sum(1 for j in self.jobs if j.lane == lane)

    def count_async(self) -> int:
        return sum(1 for j in self.jobs if j.lane != _SYNC)


_LIVE: weakref.WeakSet[BackgroundExtractor] = weakref.WeakSet()


class BackgroundExtractor:
    """Queue extractions and run them off the caller's path.

    Args:
        manager: Does the extraction.
        debounce_seconds: Wait this long after a conversation's last turn before
            extracting, merging the turns that arrive meanwhile; 0 runs each turn as it comes.
        history: How many recent errors and results to keep.
        on_failure: Called with the key, scope and messages of each failed extraction (a model
            or store failure), after it is recorded in :attr:`errors`, so the caller can retry them.
    """

    def __init__(
        self,
        manager: MemoryManager,
        *,
        debounce_seconds: float = 0.0,
        history: int = DEFAULT_HISTORY,
        on_failure: FailureHook | None = None,
    ) -> None:
        if isinstance(debounce_seconds, bool) or not isinstance(debounce_seconds, (int, float)):
            raise ValueError(f"debounce_seconds must be a number, got {debounce_seconds!r}")
        if debounce_seconds < 0:
            raise ValueError(f"debounce_seconds must be >= 0, got {debounce_seconds!r}")
        self.manager = manager
        self.debounce_seconds = float(debounce_seconds)
        self.on_failure = on_failure
        self._queue = _Queue()
        self._errors: deque[BackgroundError] = deque(maxlen=history)
        self._results: deque[ExtractionResult] = deque(maxlen=history)
        self._thread: threading.Thread | None = None
        self._tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._wake: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        _LIVE.add(self)

    @property
    def errors(self) -> list[BackgroundError]:
        """The most recent background failures, oldest first."""
        return list(self._errors)

    @property
    def results(self) -> list[ExtractionResult]:
        """The most recent completed extractions, oldest first."""
        return list(self._results)

    @property
    def pending(self) -> int:
        """How many jobs are queued or running, in every lane."""
        with self._queue.cond:
            return len(self._queue.jobs)

    # ------------------------------------------------------------ sync side
    def submit(self, key: Hashable, scope: MemoryScope, messages: list[BaseMessage]) -> None:
        """Queue an extraction for the worker thread and return at once."""
        self._queue.put(_SYNC, key, scope, messages, self.debounce_seconds)
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        with self._queue.cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="langmem-agno-memory", daemon=True)
                self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Run every queued sync job now (ignoring the debounce) and wait for all of them.

        Args:
            timeout: Most seconds to wait; ``None`` waits until done.

        Returns:
            Whether everything finished in time.
        """
        q = self._queue
        with q.cond:
            q.flushing += 1
            q.cond.notify_all()
            try:
                return q.cond.wait_for(lambda: q.count(_SYNC) == 0, timeout)
            finally:
                q.flushing -= 1

    def _work(self) -> None:
        q = self._queue
        while True:
            with q.cond:
                job, wait = q.take(_SYNC)
                while job is None:
                    q.cond.wait(wait)
                    job, wait = q.take(_SYNC)
            self._run_job(job)

    def _run_job(self, job: _Job) -> None:
        try:
            result = self.manager.extract(
                job.messages,
                user_id=job.scope.user_id,
                agent_id=job.scope.agent_id,
                team_id=job.scope.team_id,
            )
        except Exception as exc:
            self._record_error(job, exc)
        else:
            self._record(job, result)
        finally:
            self._queue.finish(job)

    def _drain_here(self) -> None:
        """Run the sync lane's jobs on the calling thread, ignoring the debounce, until none is left."""
        q = self._queue
        while True:
            with q.cond:
                q.flushing += 1
                try:
                    job, _ = q.take(_SYNC)
                finally:
                    q.flushing -= 1
                if job is None:
                    if q.count(_SYNC) == 0:
                        return
                    # A job of the same conversation is running on the worker: let it finish.
                    q.cond.wait(0.05)
                    continue
            self._run_job(job)

    # ------------------------------------------------------------ async side
    async def asubmit(self, key: Hashable, scope: MemoryScope, messages: list[BaseMessage]) -> None:
        """Queue an extraction for a task on the running event loop and return at once."""
        loop = asyncio.get_running_loop()
        self._queue.put(loop, key, scope, messages, self.debounce_seconds)
        task = self._tasks.get(loop)
        if task is None or task.done():
            self._wake[loop] = asyncio.Event()
            self._tasks[loop] = loop.create_task(self._drain(loop), name="langmem-agno-memory")
        else:
            self._wake[loop].set()

    async def aflush(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`flush`, for jobs queued from this event loop."""
        loop = asyncio.get_running_loop()
        q = self._queue
        with q.cond:
            q.flushing += 1
        try:
            task = self._tasks.get(loop)
            if task is None:
                return True
            self._wake[loop].set()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except asyncio.TimeoutError:
                return False
            return True
        finally:
            with q.cond:
                q.flushing -= 1

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        q = self._queue
        wake = self._wake[loop]
        while True:
            with q.cond:
                job, wait = q.take(loop)
                if job is None and wait is None and q.count(loop) == 0:
                    del self._tasks[loop]
                    del self._wake[loop]
                    return
            if job is None:
                wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), wait)
                continue
            try:
                result = await self.manager.aextract(
                    job.messages,
                    user_id=job.scope.user_id,
                    agent_id=job.scope.agent_id,
                    team_id=job.scope.team_id,
                )
            except asyncio.CancelledError:
                # The loop is shutting down (asyncio.run() cancels its tasks): the job goes back
                # to the queue, for the exit hook to run, instead of vanishing with the task.
                q.requeue(job)
                raise
            except Exception as exc:
                self._record_error(job, exc)
                q.finish(job)
            else:
                self._record(job, result)
                q.finish(job)

    # ------------------------------------------------------------ bookkeeping
    def _record(self, job: _Job, result: ExtractionResult) -> None:
        self._results.append(result)
        if result.error is not None:
            self._errors.append(BackgroundError(job.key, job.scope.user_id, len(job.messages), result.error))
            self._failed(job)

    def _record_error(self, job: _Job, exc: BaseException) -> None:
        logger.error("background memory extraction for %r failed", job.key, exc_info=exc)
        self._errors.append(BackgroundError(job.key, job.scope.user_id, len(job.messages), exc))
        self._failed(job)

    def _failed(self, job: _Job) -> None:
        if self.on_failure is None:
            return
        try:
            self.on_failure(job.key, job.scope, job.messages)
        except Exception:
            # The hook is the caller's code: its failure must not stop the worker.
            logger.exception("the on_failure hook of a background memory extraction for %r failed", job.key)

    def _at_exit(self) -> None:
        adopted = self._queue.adopt_orphans()
        if adopted:
            # Their event loop is gone, so they run on the worker thread through the sync API.
            logger.warning(
                "%d async memory extraction(s) were still queued when their event loop closed; running "
                "them now through the sync API (call `await node.aflush()` before the loop closes)",
                adopted,
            )
        if self._queue.count(_SYNC):
            # On this thread: new threads may not start while the interpreter shuts down.
            self._drain_here()
        left = self._queue.count_async()
        if left:
            logger.warning(
                "%d async memory extraction(s) were still queued at exit and were not run; call "
                "`await node.aflush()` before the event loop closes",
                left,
            )


@atexit.register
def _flush_all_at_exit() -> None:
    for extractor in list(_LIVE):
        try:
            extractor._at_exit()
        except Exception:
            logger.exception("flushing background memory extraction at exit failed")
