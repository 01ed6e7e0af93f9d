"""What interpreter exit does with queued background extractions: drain them, within one deadline.

Every :class:`~langmem_agno.extraction.background.BackgroundExtractor` owns an
:class:`ExitDrain` over its queue. At exit, jobs whose event loop has closed move to the
sync lane and run on a drainer thread; exit waits for it at most until one deadline
shared by every live extractor (the longest ``exit_seconds``), so a dead model cannot
hold exit for jobs x timeout. What is left stays unfinished: with durable cursors its
spans are claimed again, after their lease, by the next process.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from langmem_agno.extraction.queue import SYNC_LANE, JobQueue

__all__ = ["ExitDrain"]

# The name the background module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.background")


@dataclass(eq=False)
class ExitDrain:
    """One extractor's part in the exit drain.

    Attributes:
        queue: The extractor's queue.
        drain_here: Runs the sync lane's jobs on the calling thread until none is left.
        abandon: Makes the extractor take no further job.
        exit_seconds: The most seconds exit waits for this queue.
    """

    queue: JobQueue
    drain_here: Callable[[], None]
    abandon: Callable[[], None]
    exit_seconds: float

    def __post_init__(self) -> None:
        _LIVE.add(self)

    def run(self, deadline: float) -> None:
        """Drain this queue until ``deadline`` (a ``time.monotonic()`` value), and log what is left."""
        adopted = self.queue.adopt_orphans(SYNC_LANE)
        if adopted:
            # Their event loop is gone, so they run on this thread through the sync API.
            logger.warning(
                "%d async memory extraction(s) were still queued when their event loop closed; running "
                "them now through the sync API (call `await node.aflush()` before the loop closes)",
                adopted,
            )
        if self.queue.count(SYNC_LANE):
            self._drain_until(deadline)
        left = self.queue.count_async()
        if left:
            logger.warning(
                "%d async memory extraction(s) were still queued at exit and were not run; call "
                "`await node.aflush()` before the event loop closes",
                left,
            )

    def _drain_until(self, deadline: float) -> None:
        drainer = threading.Thread(target=self.drain_here, name="langmem-agno-exit", daemon=True)
        try:
            drainer.start()
        except RuntimeError:
            # Too late in the shutdown for a new thread: drain here, without a deadline.
            self.drain_here()
            return
        drainer.join(max(0.0, deadline - time.monotonic()))
        left = self.queue.count(SYNC_LANE)
        if left:
            self.abandon()
            logger.warning(
                "%d memory extraction(s) were not finished within the exit deadline of %.1f s; with durable "
                "cursors their messages are claimed again after their lease by the next process",
                left,
                self.exit_seconds,
            )


# Weak: an extractor that is gone has nothing left to drain.
_LIVE: weakref.WeakSet[ExitDrain] = weakref.WeakSet()


@atexit.register
def _drain_all_at_exit() -> None:
    drains = list(_LIVE)
    # One deadline for all of them: exit waits at most the longest exit_seconds, not their sum.
    deadline = time.monotonic() + max((d.exit_seconds for d in drains), default=0.0)
    for drain in drains:
        try:
            drain.run(deadline)
        except Exception:
            logger.exception("flushing background memory extraction at exit failed")
