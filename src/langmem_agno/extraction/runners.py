"""What a background job is run by, and what is kept when it fails."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from langchain_core.messages import BaseMessage

from langmem_agno.extraction.manager import ExtractionResult, MemoryManager
from langmem_agno.extraction.queue import Job
from langmem_agno.scope import MemoryScope

__all__ = ["BackgroundError", "BackgroundFailure", "FailureHook", "JobRunner", "ManagerRunner"]

#: Called with a failed job's key, scope and messages.
FailureHook = Callable[[Hashable, MemoryScope, list[BaseMessage]], None]


@dataclass(frozen=True)
class BackgroundFailure:
    """A background extraction that failed: a record kept in ``errors``, not an exception.

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


#: Deprecated name of :class:`BackgroundFailure` (a record, not an exception), kept for one release.
BackgroundError = BackgroundFailure


class JobRunner(Protocol):
    """Runs one queued job: the extraction and whatever bookkeeping goes with it (cursors, leases).

    A runner may set ``job.retry_in`` to have the job run again after that many seconds.
    """

    def run(self, job: Job) -> ExtractionResult:
        """Run ``job`` on the calling thread."""
        ...

    async def arun(self, job: Job) -> ExtractionResult:
        """Async twin of :meth:`run`."""
        ...


@dataclass(frozen=True)
class ManagerRunner:
    """The plain runner: the job's messages through the manager, nothing else."""

    manager: MemoryManager

    def run(self, job: Job) -> ExtractionResult:
        """Extract from the job's messages in its scope."""
        scope = job.scope
        return self.manager.extract(
            job.messages,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            team_id=scope.team_id,
            config=job.config,
        )

    async def arun(self, job: Job) -> ExtractionResult:
        """Async twin of :meth:`run`."""
        scope = job.scope
        return await self.manager.aextract(
            job.messages,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            team_id=scope.team_id,
            config=job.config,
        )
