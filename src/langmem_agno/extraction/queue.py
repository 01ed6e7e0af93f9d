"""The queue of pending background extractions: jobs in lanes, in order per conversation.

A lane is ``"sync"`` (the worker thread) or the event loop that queued the job; one
lock guards every lane, and whoever waits on the queue is woken when it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from langmem_agno.scope import MemoryScope

__all__ = ["SYNC_LANE", "Job", "JobQueue", "Lane", "closed_loop", "running_loop"]

# Jobs run in lanes: "sync" for the worker thread, or the event loop that queued them.
Lane = Hashable
SYNC_LANE: Lane = "sync"


@dataclass
class Job:
    """One queued extraction: a conversation's new messages, due at ``due``.

    ``spans`` names the claimed cursor spans the messages come from (none for a run
    without a thread), ``config`` the run's tracing config (callbacks, tags, metadata),
    ``tries`` how many times this job ran, and ``retry_in``, when its runner sets it,
    asks for it to run again after that many seconds instead of being finished.
    """

    seq: int
    lane: Lane
    key: Hashable
    scope: MemoryScope
    messages: list[BaseMessage]
    due: float
    turns: int = 1
    started: bool = False
    spans: list[str] = field(default_factory=list)
    config: RunnableConfig | None = None
    tries: int = 0
    retry_in: float | None = None


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, or ``None`` outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def closed_loop(lane: Lane) -> bool:
    """Whether ``lane`` is an event loop that has closed (its jobs wait for someone else)."""
    return isinstance(lane, asyncio.AbstractEventLoop) and lane.is_closed()


@dataclass
class JobQueue:
    """Pending jobs of every lane, under one lock, and who to wake when they change."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    jobs: list[Job] = field(default_factory=list)
    flushing: int = 0
    seq: itertools.count[int] = field(default_factory=itertools.count)
    # Events of drain tasks and async flushes, with their loops: a change wakes them too.
    watchers: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)
    # The drain task serving each event loop's lane.
    tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = field(default_factory=dict)

    def changed(self) -> None:
        """Under the lock: wake every waiter, threads and async tasks."""
        self.cond.notify_all()
        here = running_loop()
        for loop, event in list(self.watchers):
            if loop is here:
                event.set()
                continue
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                # Its loop closed: nobody is left to wake there.
                self.watchers.remove((loop, event))

    def watch(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        """Wake ``event`` on ``loop`` whenever the queue changes."""
        with self.cond:
            self.watchers.append((loop, event))

    def unwatch(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        """Stop waking ``event``."""
        with self.cond, contextlib.suppress(ValueError):
            self.watchers.remove((loop, event))

    def put(
        self,
        lane: Lane,
        key: Hashable,
        scope: MemoryScope,
        messages: list[BaseMessage],
        debounce: float,
        *,
        spans: Sequence[str] = (),
        config: RunnableConfig | None = None,
    ) -> None:
        """Queue a conversation's new messages; with a debounce, merge them into its job not yet started."""
        now = time.monotonic()
        with self.cond:
            if debounce > 0:
                for job in self.jobs:
                    if (
                        job.lane == lane
                        and job.key == key
                        and not job.started
                        and job.scope == scope
                        and job.tries == 0
                    ):
                        job.messages.extend(messages)
                        job.spans.extend(spans)
                        job.due = now + debounce
                        job.turns += 1
                        job.config = config or job.config
                        self.changed()
                        return
            job = Job(next(self.seq), lane, key, scope, list(messages), now + debounce)
            job.spans, job.config = list(spans), config
            self.jobs.append(job)
            self.changed()

    def take(self, lane: Lane) -> tuple[Job | None, float | None]:
        """Under the lock: start the next due job of ``lane``; else say when one will be due."""
        now = time.monotonic()
        waiting = [j for j in self.jobs if j.lane == lane and not j.started]
        # A key with a job running in any lane waits, so one conversation's jobs stay in order.
        busy = {j.key for j in self.jobs if j.started}
        # A flush runs jobs now, but a retry still waits out its backoff (the outage may be passing).
        ready = [
            j for j in waiting if j.key not in busy and ((self.flushing and not j.tries) or j.due <= now)
        ]
        if ready:
            job = min(ready, key=lambda j: (j.due, j.seq))
            job.started = True
            return job, None
        due = [j.due for j in waiting if j.key not in busy]
        return None, (max(0.0, min(due) - now) if due else None)

    def finish(self, job: Job) -> None:
        """Remove a job that ran (whatever its result)."""
        with self.cond:
            self.jobs.remove(job)
            self.changed()

    def requeue(self, job: Job, delay: float = 0.0) -> None:
        """Put a started job back, not done, to run again (not before ``delay`` seconds)."""
        with self.cond:
            job.started = False
            if delay > 0:
                job.due = time.monotonic() + delay
            self.changed()

    def adopt_orphans(self, lane: Lane) -> int:
        """Move the jobs of closed event loops to ``lane`` and forget those loops; return how many moved.

        A closed loop never runs again, so even a job it had started (its task frozen
        mid-way, the loop closed without cancelling it) is taken over; extraction writes
        are idempotent, so running such a job again stores nothing twice.
        """
        with self.cond:
            for loop in [loop for loop in self.tasks if loop.is_closed()]:
                del self.tasks[loop]
            moved = 0
            for job in self.jobs:
                if closed_loop(job.lane):
                    job.lane = lane
                    job.started = False
                    moved += 1
            if moved:
                self.changed()
            return moved

    def can_run(
        self, lane: Lane, waiter: asyncio.AbstractEventLoop | None, worker: threading.Thread | None
    ) -> bool:
        """Whether ``lane``'s jobs can finish while ``waiter`` (a loop, or a thread when None) waits."""
        if lane == SYNC_LANE:
            return threading.current_thread() is not worker
        if lane is waiter:
            return True
        # The loop of the waiting thread is blocked by the wait itself.
        return (
            isinstance(lane, asyncio.AbstractEventLoop) and lane.is_running() and lane is not running_loop()
        )

    def count(self, lane: Lane) -> int:
        """How many jobs wait in ``lane``."""
        return sum(1 for j in self.jobs if j.lane == lane)

    def count_async(self) -> int:
        """How many jobs wait in the lanes of event loops."""
        return sum(1 for j in self.jobs if j.lane != SYNC_LANE)
