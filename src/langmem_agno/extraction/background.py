"""Running extractions off the critical path, without losing any.

Sync callers hand work to one daemon worker thread; async callers to one task
on their own event loop (an async MongoDB client is bound to its loop, so the
work must run there). Both share one queue, which:

* keeps jobs of one conversation in order, across every lane;
* with a debounce, merges the turns of one conversation that arrive before its
  job starts into that job (one model call for several quick turns);
* hands the jobs of an event loop that closed before running them (``asyncio.run()``
  per request) to whoever comes next: a new submission, :meth:`BackgroundExtractor.flush`,
  :meth:`BackgroundExtractor.aflush`, or the exit hook;
* is drained by :meth:`BackgroundExtractor.flush` / :meth:`BackgroundExtractor.aflush`,
  by :meth:`BackgroundExtractor.close` / :meth:`BackgroundExtractor.aclose` and, for the
  thread, at interpreter exit.

A failure is logged, kept in :attr:`BackgroundExtractor.errors` and its messages
are handed to the ``on_failure`` hook (the node hands them back to the thread's
cursor, so the thread's next turn retries them): never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Hashable, Sequence

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from langmem_agno.errors import ClosedError, ConfigurationError
from langmem_agno.extraction.exit import ExitDrain
from langmem_agno.extraction.manager import ExtractionResult, MemoryManager
from langmem_agno.extraction.queue import SYNC_LANE, Job, JobQueue, running_loop
from langmem_agno.extraction.runners import (
    BackgroundError,
    BackgroundFailure,
    FailureHook,
    JobRunner,
    ManagerRunner,
)
from langmem_agno.scope import MemoryScope

__all__ = [
    "DEFAULT_EXIT_SECONDS",
    "DEFAULT_HISTORY",
    "BackgroundError",
    "BackgroundExtractor",
    "BackgroundFailure",
    "FailureHook",
    "JobRunner",
]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.background")
#: How many recent errors and results a :class:`BackgroundExtractor` keeps.
DEFAULT_HISTORY = 100
#: The most seconds interpreter exit waits for queued extractions, all extractors together.
DEFAULT_EXIT_SECONDS = 5.0
# A waiting flush re-checks this often whether a loop it cannot signal started or stopped running.
_POLL_SECONDS = 0.05


class BackgroundExtractor:
    """Queue extractions and run them off the caller's path.

    The worker thread starts with the first sync submission and runs until :meth:`close`
    (it is a daemon thread, drained at interpreter exit). An object built per request
    should be closed when the request ends, or each one keeps its idle thread.

    Args:
        manager: Does the extraction.
        debounce_seconds: Wait this long after a conversation's last turn before
            extracting, merging the turns that arrive meanwhile; 0 runs each turn as it comes.
        history: How many recent errors and results to keep.
        on_failure: Called with the key, scope and messages of each failed extraction (a model
            or store failure), after it is recorded in :attr:`errors`, so the caller can retry them.
        runner: Runs each job (the node's runner also claims and releases cursor spans); by
            default the job's messages go through ``manager``.
        exit_seconds: The most seconds interpreter exit waits for this extractor's queue (one
            deadline for every live extractor together); what is not done by then stays
            unfinished (with durable cursors, its spans are taken over after their lease).
    """

    def __init__(
        self,
        manager: MemoryManager,
        *,
        debounce_seconds: float = 0.0,
        history: int = DEFAULT_HISTORY,
        on_failure: FailureHook | None = None,
        runner: JobRunner | None = None,
        exit_seconds: float = DEFAULT_EXIT_SECONDS,
    ) -> None:
        if isinstance(exit_seconds, bool) or not isinstance(exit_seconds, (int, float)) or exit_seconds < 0:
            raise ConfigurationError(f"exit_seconds must be a number >= 0, got {exit_seconds!r}")
        if isinstance(debounce_seconds, bool) or not isinstance(debounce_seconds, (int, float)):
            raise ConfigurationError(f"debounce_seconds must be a number, got {debounce_seconds!r}")
        if debounce_seconds < 0:
            raise ConfigurationError(f"debounce_seconds must be >= 0, got {debounce_seconds!r}")
        self.manager = manager
        self.debounce_seconds = float(debounce_seconds)
        self.on_failure = on_failure
        self.runner: JobRunner = runner or ManagerRunner(manager)
        self.exit_seconds = float(exit_seconds)
        self._queue = JobQueue()
        self._errors: deque[BackgroundFailure] = deque(maxlen=history)
        self._results: deque[ExtractionResult] = deque(maxlen=history)
        self._thread: threading.Thread | None = None
        self._closed = False
        # Set when exit stops waiting: the exit drainer takes no further job.
        self._abandoned = False
        self._exit = ExitDrain(self._queue, self._drain_here, self._abandon, self.exit_seconds)

    @property
    def errors(self) -> list[BackgroundFailure]:
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

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` or :meth:`aclose` was called (new work is refused)."""
        return self._closed

    # ------------------------------------------------------------ sync side
    def submit(
        self,
        key: Hashable,
        scope: MemoryScope,
        messages: list[BaseMessage],
        *,
        spans: Sequence[str] = (),
        config: RunnableConfig | None = None,
    ) -> None:
        """Queue an extraction for the worker thread and return at once.

        Jobs left behind by closed event loops are queued for the worker too.

        Args:
            key: The conversation (jobs of one key run in order).
            scope: Whose memories.
            messages: The messages to extract from.
            spans: The cursor spans they were claimed as, for the runner.
            config: The run's tracing config (callbacks, tags, metadata) for the extraction.

        Raises:
            ClosedError: If the extractor is closed.
        """
        with self._queue.cond:
            self.check_open()
            self._queue.adopt_orphans(SYNC_LANE)
            self._queue.put(
                SYNC_LANE, key, scope, messages, self.debounce_seconds, spans=spans, config=config
            )
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        with self._queue.cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="langmem-agno-memory", daemon=True)
                self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Run every queued job now (ignoring the debounce) and wait until none is left.

        Jobs of event loops that closed before running them are taken over by the worker
        thread; jobs of loops running in other threads are waited for. Jobs of a loop that
        is open but not running (or of the loop running in this very thread, which this
        call blocks) cannot finish meanwhile: then the call returns ``False`` at once
        (``await aflush()`` on that loop runs them).

        Args:
            timeout: Most seconds to wait; ``None`` waits until done.

        Returns:
            ``True`` only when no job is queued or running in any lane.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        here = running_loop()
        q = self._queue
        with q.cond:
            q.flushing += 1
            q.changed()
            try:
                while True:
                    self._queue.adopt_orphans(SYNC_LANE)
                    if q.count(SYNC_LANE):
                        self._ensure_worker()
                    if not q.jobs:
                        return True
                    if not any(q.can_run(job.lane, None, self._thread) for job in q.jobs):
                        self._report_stuck(here)
                        return False
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    q.cond.wait(_POLL_SECONDS if left is None else min(left, _POLL_SECONDS))
            finally:
                q.flushing -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new work, :meth:`flush`, then stop the worker thread.

        Call it when the node or middleware that owns this extractor is no longer used
        (for instance one built per request), so its thread does not outlive it.
        Calling it again is harmless.

        Args:
            timeout: Most seconds to wait for the queued work and the thread.

        Returns:
            ``True`` when all work finished and the thread stopped in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._mark_closed()
        done = self.flush(timeout)
        thread = self._thread
        # Unfinished work keeps the thread busy: it stops by itself once its lane is empty.
        if done and thread is not None and thread is not threading.current_thread():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self._closed_cleanly(done)

    def _work(self) -> None:
        q = self._queue
        while not self._abandoned:
            with q.cond:
                job, wait = q.take(SYNC_LANE)
                while job is None:
                    if self._closed and q.count(SYNC_LANE) == 0:
                        return
                    q.cond.wait(wait)
                    job, wait = q.take(SYNC_LANE)
            self._run_job(job)

    def _run_job(self, job: Job) -> None:
        job.tries += 1
        job.retry_in = None
        try:
            result = self.runner.run(job)
        except Exception as exc:
            self._record_error(job, exc)
        else:
            self._record(job, result)
        finally:
            self._settle(job)

    def _settle(self, job: Job) -> None:
        """Finish a job that ran, or put it back when its runner asked for a retry."""
        if job.retry_in is not None and not self._closed:
            self._queue.requeue(job, job.retry_in)
        else:
            self._queue.finish(job)

    def _drain_here(self) -> None:
        """Run the sync lane's jobs on the calling thread, ignoring the debounce, until none is left."""
        q = self._queue
        while not self._abandoned:
            with q.cond:
                q.flushing += 1
                try:
                    job, _ = q.take(SYNC_LANE)
                finally:
                    q.flushing -= 1
                if job is None:
                    if q.count(SYNC_LANE) == 0:
                        return
                    # A job of the same conversation is running elsewhere: let it finish.
                    q.cond.wait(_POLL_SECONDS)
                    continue
            self._run_job(job)

    # ------------------------------------------------------------ async side
    async def asubmit(
        self,
        key: Hashable,
        scope: MemoryScope,
        messages: list[BaseMessage],
        *,
        spans: Sequence[str] = (),
        config: RunnableConfig | None = None,
    ) -> None:
        """Queue an extraction for a task on the running event loop and return at once.

        Jobs left behind by closed event loops are queued on this loop too. The arguments
        are those of :meth:`submit`.

        Raises:
            ClosedError: If the extractor is closed.
        """
        loop = asyncio.get_running_loop()
        with self._queue.cond:
            self.check_open()
            self._queue.adopt_orphans(loop)
            self._queue.put(loop, key, scope, messages, self.debounce_seconds, spans=spans, config=config)
        self._kick(loop)

    async def aflush(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`flush`: jobs of closed loops are taken over by this loop.

        Jobs of this loop and of the worker thread run; jobs of loops running in other
        threads are waited for; a loop that is open but not running makes it return ``False``.

        Args:
            timeout: Most seconds to wait; ``None`` waits until done.

        Returns:
            ``True`` only when no job is queued or running in any lane.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else time.monotonic() + timeout
        q = self._queue
        changed = asyncio.Event()
        q.watch(loop, changed)
        with q.cond:
            q.flushing += 1
            q.changed()
        try:
            while True:
                with q.cond:
                    self._queue.adopt_orphans(loop)
                    if q.count(SYNC_LANE):
                        self._ensure_worker()
                    if not q.jobs:
                        return True
                    if not any(q.can_run(job.lane, loop, self._thread) for job in q.jobs):
                        self._report_stuck(None)
                        return False
                    changed.clear()
                if q.count(loop):
                    self._kick(loop)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        changed.wait(), _POLL_SECONDS if left is None else min(left, _POLL_SECONDS)
                    )
        finally:
            q.unwatch(loop, changed)
            with q.cond:
                q.flushing -= 1

    async def aclose(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`close`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._mark_closed()
        done = await self.aflush(timeout)
        thread = self._thread
        if done and thread is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            # Joining blocks; the thread is idle by now, but keep the loop free anyway.
            await asyncio.to_thread(thread.join, left)
        return self._closed_cleanly(done)

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        """On ``loop``'s thread: make sure a drain task serves ``loop``'s lane."""
        with self._queue.cond:
            task = self._queue.tasks.get(loop)
            if task is None or task.done():
                self._queue.tasks[loop] = loop.create_task(self._drain(loop), name="langmem-agno-memory")

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        q = self._queue
        wake = asyncio.Event()
        q.watch(loop, wake)
        try:
            await self._drain_lane(loop, wake)
        finally:
            q.unwatch(loop, wake)

    async def _drain_lane(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        q = self._queue
        while True:
            with q.cond:
                job, wait = q.take(loop)
                if job is None and q.count(loop) == 0:
                    if self._queue.tasks.get(loop) is asyncio.current_task():
                        del self._queue.tasks[loop]
                    return
                # Cleared under the lock, before awaiting: a later change sets it again.
                wake.clear()
            if job is None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), wait)
                continue
            job.tries += 1
            job.retry_in = None
            try:
                result = await self.runner.arun(job)
            except asyncio.CancelledError:
                # The loop is shutting down (asyncio.run() cancels its tasks): the job goes back
                # to the queue, for the next submission, flush or the exit hook to run,
                # instead of vanishing with the task.
                q.requeue(job)
                raise
            except Exception as exc:
                self._record_error(job, exc)
                self._settle(job)
            else:
                self._record(job, result)
                self._settle(job)

    # ------------------------------------------------------------ lanes and lifecycle
    def _report_stuck(self, here: asyncio.AbstractEventLoop | None) -> None:
        stuck = len(self._queue.jobs)
        if here is not None and self._queue.count(here):
            logger.warning(
                "flush() cannot wait for %d memory extraction(s) queued on the event loop running in this "
                "thread; use `await aflush()` there",
                stuck,
            )
        else:
            logger.warning(
                "%d memory extraction(s) are queued on an event loop that is open but not running; run "
                "`await aflush()` on it, or close it and flush again",
                stuck,
            )

    def check_open(self) -> None:
        """Raise :class:`~langmem_agno.errors.ClosedError` if the extractor is closed."""
        if self._closed:
            raise ClosedError(
                "this background memory extractor is closed (close() or aclose() was called); build a new "
                "node or middleware to extract more memories"
            )

    def _mark_closed(self) -> None:
        with self._queue.cond:
            self._closed = True
            self._queue.changed()

    def _closed_cleanly(self, done: bool) -> bool:
        thread = self._thread
        stopped = thread is None or not thread.is_alive()
        if not (done and stopped):
            logger.warning(
                "closing the background memory extractor: %d extraction(s) still pending, worker %s",
                self.pending,
                "stopped" if stopped else "still running",
            )
        return done and stopped

    # ------------------------------------------------------------ bookkeeping
    def _record(self, job: Job, result: ExtractionResult) -> None:
        self._results.append(result)
        if result.error is not None:
            failure = BackgroundFailure(job.key, job.scope.user_id, len(job.messages), result.error)
            self._errors.append(failure)
            self._failed(job)

    def _record_error(self, job: Job, exc: BaseException) -> None:
        logger.error("background memory extraction for %r failed", job.key, exc_info=exc)
        self._errors.append(BackgroundFailure(job.key, job.scope.user_id, len(job.messages), exc))
        self._failed(job)

    def _failed(self, job: Job) -> None:
        if self.on_failure is None:
            return
        try:
            self.on_failure(job.key, job.scope, job.messages)
        except Exception:
            # The hook is the caller's code: its failure must not stop the worker.
            logger.exception("the on_failure hook of a background memory extraction for %r failed", job.key)

    def _abandon(self) -> None:
        """Take no further job: exit stopped waiting, and daemon threads end with the interpreter."""
        self._abandoned = True
        self._mark_closed()
