"""A LangGraph node that extracts memories after a run, in the foreground or the background.

Add it to any ``StateGraph`` whose state has ``messages`` (``MessagesState``,
the state of ``create_agent``, your own ``TypedDict`` or pydantic state). It
reads the scope from the run's context or config (DESIGN.md section 2) and
keeps a cursor per thread and scope in the memory store's own database
(``<collection>_cursors``, :mod:`langmem_agno.extraction.cursors`), so messages
already processed for a thread are never sent to the model again, by this node,
another instance of it, or another process over the same database: running it
twice over the same state makes no second model call.

Before the model is called the thread's new messages are claimed, in one atomic
write, with a lease: two workers or two concurrent runs never extract the same
messages, and the span of a worker that died is taken over once its lease ends.
A failed span is retried: with the thread's next turn (the foreground, or a model
that refused it), or after a backoff (a timeout, a rate limit, the store
unreachable, in the background). A span that failed ``max_attempts`` times is set
aside in ``<collection>_failed`` and the thread carries on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, convert_to_messages
from langchain_core.runnables import RunnableConfig, RunnableLambda

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.extraction.background import (
    DEFAULT_EXIT_SECONDS,
    BackgroundExtractor,
    BackgroundFailure,
)
from langmem_agno.extraction.cursors import (
    FailedSpan,
    Span,
    ThreadCursorStore,
    is_transient,
    new_owner,
    thread_key,
)
from langmem_agno.extraction.failed import retry_steps
from langmem_agno.extraction.manager import ExtractionResult, MemoryManager, trace_config
from langmem_agno.extraction.queue import Job
from langmem_agno.scope import MemoryScope
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["DEFAULT_MAX_PENDING", "DEFAULT_MAX_THREADS", "MemoryNode", "create_memory_node"]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.node")
#: How many threads' cursors are kept when they are kept in this process only.
DEFAULT_MAX_THREADS = 10_000
#: How many background jobs a node holds in memory before new spans wait in the database instead.
DEFAULT_MAX_PENDING = 1_000
# At most one overflow warning per this many seconds: a busy agent must not flood its log.
_OVERFLOW_WARN_SECONDS = 60.0
# Backoff of a transient failure in the background: doubled per attempt, capped.
_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class _Pending:
    scope: MemoryScope
    key: str | None
    messages: list[BaseMessage]
    trace: RunnableConfig | None


def _joined(spans: list[Span]) -> list[BaseMessage]:
    return [m for s in spans for m in s.messages]


class MemoryNode(RunnableLambda[Any, dict[str, Any]]):
    """A graph node that extracts memories from the new messages of a thread.

    It updates no state (it returns ``{}``). Use it with ``graph.invoke`` or
    ``graph.ainvoke``; in background mode it returns at once and the work runs on
    a worker thread (sync) or a task on the running loop (async): call
    :meth:`flush` / :meth:`aflush` to wait for it.

    Args:
        manager: Does the extraction.
        background: Run extraction off the critical path. A failed background extraction
            is kept in :attr:`errors` and its messages are sent again with the thread's
            next turn (runs without a ``thread_id`` have no next turn to retry with).
        debounce_seconds: In background mode, merge a thread's turns that arrive
            within this many seconds of each other into one extraction.
        messages_key: The state key (or attribute) holding the messages.
        name: The node's run name.
        max_threads: How many threads' cursors to keep when they are kept in this process
            (a store without a database of its own, or ``cursors=ThreadCursorStore()``).
        cursors: Where the per-thread cursors and failed spans live; by default in the
            manager's store's database (``<collection>_cursors`` and ``_failed``), so a new
            process resumes where the last one stopped. ``ThreadCursorStore()`` keeps them
            in this process only (tests).
        exit_seconds: In background mode, the most seconds interpreter exit waits for queued
            extractions; what is left is taken over, after its lease, by the next process.
        max_pending: In background mode, the most jobs held in this process. When turns come
            faster than the model extracts, a span past it is not queued: its claim is given
            back, and the thread's next turn (in one job with its own messages) or
            :meth:`recover` takes it, so memory stays bounded and nothing is lost.

    Example:
        >>> from langchain_core.messages import AIMessage
        >>> from langgraph.graph import START, MessagesState, StateGraph
        >>> from langmem_agno import MemoryManager, ScriptedChatModel, SQLiteMemoryStore
        >>> store = SQLiteMemoryStore(":memory:")
        >>> learn = {"name": "add_memory", "args": {"memory": "User prefers email"}, "id": "c1"}
        >>> manager = MemoryManager(ScriptedChatModel(responses=[AIMessage("", tool_calls=[learn])]), store)
        >>> graph = StateGraph(MessagesState).add_node("memory", create_memory_node(manager))
        >>> graph = graph.add_edge(START, "memory").compile()
        >>> config = {"configurable": {"user_id": "u1", "thread_id": "t1"}}
        >>> _ = graph.invoke({"messages": [("user", "Email me, never call.")]}, config)
        >>> [m.memory for m in store.list_memories(user_id="u1")]
        ['User prefers email']
    """

    def __init__(
        self,
        manager: MemoryManager,
        *,
        background: bool = False,
        debounce_seconds: float = 0.0,
        messages_key: str = "messages",
        name: str = "memory",
        max_threads: int = DEFAULT_MAX_THREADS,
        cursors: ThreadCursorStore | None = None,
        exit_seconds: float = DEFAULT_EXIT_SECONDS,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if debounce_seconds and not background:
            raise ConfigurationError("debounce_seconds needs background=True")
        if cursors is not None and not isinstance(cursors, ThreadCursorStore):
            raise ConfigurationError(f"cursors must be a ThreadCursorStore, got {type(cursors).__name__}")
        check_int("max_pending", max_pending)
        super().__init__(self._run, afunc=self._arun, name=name)
        self.manager = manager
        self.max_pending = max_pending
        self._overflow_warned: float | None = None
        self.messages_key = messages_key
        self.max_threads = max_threads
        self.cursors = cursors or ThreadCursorStore(manager.store, max_threads=max_threads)
        #: This node's name as the holder of claimed spans.
        self.owner = new_owner()
        self.worker = (
            BackgroundExtractor(
                manager, debounce_seconds=debounce_seconds, runner=self, exit_seconds=exit_seconds
            )
            if background
            else None
        )
        self._last: ExtractionResult | None = None

    # ------------------------------------------------------------ public API
    @property
    def last_result(self) -> ExtractionResult | None:
        """The result of the last foreground extraction (background ones are in ``worker.results``)."""
        return self._last

    @property
    def errors(self) -> list[BackgroundFailure]:
        """Failures of background extractions, oldest first (foreground ones are returned or raised)."""
        return self.worker.errors if self.worker else []

    def flush(self, timeout: float | None = None) -> bool:
        """Run and wait for every queued background extraction; ``True`` when none is left."""
        return self.worker.flush(timeout) if self.worker else True

    async def aflush(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`flush` (jobs of closed event loops run on this one)."""
        return await self.worker.aflush(timeout) if self.worker else True

    def close(self, timeout: float | None = None) -> bool:
        """Finish the queued background extractions and stop the worker thread; ``True`` when done.

        Call it when this node is no longer used (for instance one built per request);
        running it afterwards in the background raises :class:`~langmem_agno.errors.ClosedError`.
        """
        return self.worker.close(timeout) if self.worker else True

    async def aclose(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`close`."""
        return await self.worker.aclose(timeout) if self.worker else True

    def failed(self, user_id: str | None = None, limit: int = 100) -> list[FailedSpan]:
        """The spans set aside after failing too often, of one user or all (``<collection>_failed``)."""
        return run_calls(self.cursors.list_failed(user_id, limit))

    async def afailed(self, user_id: str | None = None, limit: int = 100) -> list[FailedSpan]:
        """Async twin of :meth:`failed`."""
        return await arun_calls(self.cursors.list_failed(user_id, limit))

    def retry(self, span_id: str) -> ExtractionResult:
        """Extract a failed span again, now; it leaves ``<collection>_failed`` when that succeeds.

        Args:
            span_id: The id from :meth:`failed`.

        Raises:
            InvalidMemoryError: If no failed span has that id.
        """
        return run_calls(retry_steps(self.manager, self.cursors, span_id))

    async def aretry(self, span_id: str) -> ExtractionResult:
        """Async twin of :meth:`retry`."""
        return await arun_calls(retry_steps(self.manager, self.cursors, span_id))

    def recover(self, limit: int = 100) -> int:
        """Take over the spans of threads whose worker died (lease over) or whose retry is due.

        Any process over the same database may call it, for instance at start-up or
        periodically: in the foreground the spans are extracted now, in the background
        they are queued. A thread's next turn takes them over too, without this call.

        Args:
            limit: The most threads looked at.

        Returns:
            How many spans were taken over (in the background, no more than fit under
            ``max_pending``: call it again once the queue has drained).
        """
        return run_calls(self._recover_steps(limit))

    async def arecover(self, limit: int = 100) -> int:
        """Async twin of :meth:`recover`."""
        return await arun_calls(self._recover_steps(limit))

    def _recover_steps(self, limit: int) -> Generator[Call[Any], Any, int]:
        taken = 0
        for key, scope in (yield from self.cursors.due_threads(limit)):
            if self.worker is not None and self.worker.pending >= self.max_pending:
                break  # the rest stay due in the database, for the next call
            # No new messages: the claim takes only the thread's spans free to take.
            claim = yield from self.cursors.claim(key, scope, [], self.owner)
            for group in claim.groups():
                taken += len(group)
                if self.worker is not None:
                    yield from self._queue(key, group, None)
                else:
                    self._last = yield from self._extract_spans(key, group, None)
        if taken:
            logger.info("memory extraction took over %d unfinished span(s)", taken)
        return taken

    # ------------------------------------------------------------ the node
    def _pending(self, state: Any, config: RunnableConfig) -> _Pending:
        """Resolve the scope, the thread's cursor key and the state's messages."""
        if self.worker is not None:
            # Before claiming: a refused turn must stay unprocessed, not be marked done.
            self.worker.check_open()
        scope = self.manager.scope_for(config)
        messages = self._messages(state)
        thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
        # Without a thread there is no history to remember: every message given is new.
        key = None if thread_id is None else thread_key(scope, str(thread_id))
        return _Pending(scope, key, messages, trace_config(config))

    def _steps(self, state: Any, config: RunnableConfig) -> Generator[Call[Any], Any, dict[str, Any]]:
        """One run of the node: claim the new messages, then extract them here or queue them."""
        pending = self._pending(state, config)
        if pending.key is None:
            if pending.messages:
                yield from self._unthreaded(pending)
            return {}
        claim = yield from self.cursors.claim(pending.key, pending.scope, pending.messages, self.owner)
        for group in claim.groups():
            if self.worker is not None:
                yield from self._queue(pending.key, group, pending.trace)
            else:
                self._last = yield from self._extract_spans(pending.key, group, pending.trace)
        return {}

    def _unthreaded(self, pending: _Pending) -> Generator[Call[Any], Any, None]:
        scope = pending.scope
        if self.worker is not None:
            yield twin(self.worker.submit, self.worker.asubmit)(
                None, scope, pending.messages, config=pending.trace
            )
            return
        self._last = yield twin(self.manager.extract, self.manager.aextract)(
            pending.messages,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            team_id=scope.team_id,
            config=pending.trace,
        )

    def _queue(
        self, key: str, spans: list[Span], trace: RunnableConfig | None
    ) -> Generator[Call[Any], Any, None]:
        """Queue claimed spans for the worker, or give their claim back when the queue is full."""
        assert self.worker is not None
        if self.worker.pending < self.max_pending:
            yield twin(self._submit, self._asubmit)(key, spans, trace)
            return
        now = time.monotonic()
        if self._overflow_warned is None or now - self._overflow_warned >= _OVERFLOW_WARN_SECONDS:
            self._overflow_warned = now
            logger.warning(
                "background memory extraction is behind: %d job(s) pending (max_pending=%d); new spans "
                "wait in the database for their thread's next turn or recover()",
                self.worker.pending,
                self.max_pending,
            )
        yield from self.cursors.release(key, spans[0].scope.user_id, [s.span_id for s in spans], self.owner)

    def _submit(self, key: str, spans: list[Span], trace: RunnableConfig | None) -> None:
        assert self.worker is not None
        ids = [s.span_id for s in spans]
        self.worker.submit(key, spans[0].scope, _joined(spans), spans=ids, config=trace)

    async def _asubmit(self, key: str, spans: list[Span], trace: RunnableConfig | None) -> None:
        assert self.worker is not None
        ids = [s.span_id for s in spans]
        await self.worker.asubmit(key, spans[0].scope, _joined(spans), spans=ids, config=trace)

    def _extract_spans(
        self, key: str, spans: list[Span], trace: RunnableConfig | None
    ) -> Generator[Call[Any], Any, ExtractionResult]:
        """Extract claimed spans in one model call, then mark them done or failed."""
        scope, ids = spans[0].scope, [s.span_id for s in spans]
        try:
            result: ExtractionResult = yield twin(self.manager.extract, self.manager.aextract)(
                _joined(spans),
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                team_id=scope.team_id,
                config=trace,
            )
        except Exception as exc:
            # raise_on_error: the failure counts like any other, then reaches the caller.
            yield from self.cursors.fail(key, scope.user_id, ids, exc)
            raise
        if result.error is None:
            yield from self.cursors.done(key, scope.user_id, ids)
        else:
            yield from self.cursors.fail(key, scope.user_id, ids, result.error)
        return result

    def _run(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        return run_calls(self._steps(state, config))

    async def _arun(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        return await arun_calls(self._steps(state, config))

    # ------------------------------------------------------------ the background runner
    def run(self, job: Job) -> ExtractionResult:
        """Run one queued background job (the worker calls it): renew its lease, extract, settle."""
        return run_calls(self._job_steps(job))

    async def arun(self, job: Job) -> ExtractionResult:
        """Async twin of :meth:`run`."""
        return await arun_calls(self._job_steps(job))

    def _job_steps(self, job: Job) -> Generator[Call[Any], Any, ExtractionResult]:
        scope = job.scope
        if not job.spans or not isinstance(job.key, str):
            result: ExtractionResult = yield twin(self.manager.extract, self.manager.aextract)(
                job.messages,
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                team_id=scope.team_id,
                config=job.config,
            )
            return result
        key = job.key
        held = yield from self.cursors.renew(key, scope.user_id, job.spans, self.owner)
        if set(held) != set(job.spans):
            # Another worker took some over after their lease ran out: it extracts them.
            logger.warning(
                "memory extraction of thread %s: %d of %d span(s) were taken over by another worker; "
                "this job is dropped",
                key,
                len(job.spans) - len(held),
                len(job.spans),
            )
            yield from self.cursors.release(key, scope.user_id, held, self.owner)
            return ExtractionResult(user_id=scope.user_id)
        error: BaseException | None = None
        try:
            result = yield twin(self.manager.extract, self.manager.aextract)(
                job.messages,
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                team_id=scope.team_id,
                config=job.config,
            )
        except Exception as exc:
            error, result = exc, ExtractionResult(user_id=scope.user_id)
        else:
            error = result.error
        if error is None:
            yield from self.cursors.done(key, scope.user_id, job.spans)
            return result
        transient = is_transient(error)
        backoff = min(_MAX_BACKOFF_SECONDS, _BACKOFF_SECONDS * 2 ** (job.tries - 1))
        # A refusal waits for the thread's next turn; an outage is retried after a backoff.
        dead = yield from self.cursors.fail(
            key, scope.user_id, job.spans, error, backoff if transient else 0.0
        )
        if transient and not dead:
            job.retry_in = backoff
        if result.error is None:
            raise error
        return result

    def _messages(self, state: Any) -> list[BaseMessage]:
        raw = (
            state.get(self.messages_key)
            if isinstance(state, Mapping)
            else getattr(state, self.messages_key, None)
        )
        if raw is None:
            raise InvalidMemoryError(
                f"the memory node needs the state key {self.messages_key!r}; the state has "
                f"{sorted(state) if isinstance(state, Mapping) else type(state).__name__}"
            )
        return convert_to_messages(raw)


def create_memory_node(
    manager: MemoryManager,
    *,
    background: bool = False,
    debounce_seconds: float = 0.0,
    messages_key: str = "messages",
    name: str = "memory",
    cursors: ThreadCursorStore | None = None,
    exit_seconds: float = DEFAULT_EXIT_SECONDS,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> MemoryNode:
    """Build a LangGraph node that extracts memories from each thread's new messages.

    Args:
        manager: Does the extraction (its model, store and options).
        background: Return at once and extract on a worker; see :meth:`MemoryNode.flush`. A failed
            background extraction is retried with the thread's next turn.
        debounce_seconds: In background mode, merge quick successive turns of a thread.
        messages_key: The state key holding the messages.
        name: The node's run name.
        cursors: Where the per-thread cursors live (see :class:`MemoryNode`).
        exit_seconds: In background mode, the most seconds interpreter exit waits.
        max_pending: In background mode, the most jobs held in memory (see :class:`MemoryNode`).

    Returns:
        The node, usable in ``graph.add_node("memory", node)`` with ``invoke`` and ``ainvoke``.
    """
    return MemoryNode(
        manager,
        background=background,
        debounce_seconds=debounce_seconds,
        messages_key=messages_key,
        name=name,
        cursors=cursors,
        exit_seconds=exit_seconds,
        max_pending=max_pending,
    )
