"""A LangGraph node that extracts memories after a run, in the foreground or the background.

Add it to any ``StateGraph`` whose state has ``messages`` (``MessagesState``,
the state of ``create_agent``, your own ``TypedDict`` or pydantic state). It
reads the scope from the run's context or config (DESIGN.md section 2) and
keeps a per-thread cursor, so messages it already processed for a thread are
never sent to the model again: running it twice over the same state makes no
second model call. A failed extraction is retried with the thread's next turn:
in the foreground the cursor simply does not move; in the background the failed
job's messages are handed back to the cursor and sent again, before the new ones.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, convert_to_messages
from langchain_core.runnables import RunnableConfig, RunnableLambda

from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.extraction.background import BackgroundExtractor, BackgroundFailure
from langmem_agno.extraction.manager import ExtractionResult, MemoryManager
from langmem_agno.scope import MemoryScope

__all__ = ["DEFAULT_MAX_THREADS", "MemoryNode", "ThreadCursors", "create_memory_node"]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.node")
#: How many threads' cursors are kept in memory (least recently used ones are dropped).
DEFAULT_MAX_THREADS = 10_000
#: How many processed message ids are remembered per thread.
_IDS_PER_THREAD = 2_000


@dataclass
class _ThreadCursor:
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    count: int = 0
    # Messages of failed background extractions, oldest first: the next claim sends them again.
    returned: list[BaseMessage] = field(default_factory=list)


class ThreadCursors:
    """Which messages of each thread were already processed, in this process.

    With message ids (``add_messages`` gives every message one) a message is new
    when its id was not seen, so trimmed or summarised histories still work;
    without ids, the messages past the processed count are new. Messages of a
    failed background extraction are handed back (:meth:`hand_back`) and come out
    of the thread's next :meth:`claim` again, so they are retried, not lost.

    Args:
        max_threads: How many threads to remember; the least recently used are forgotten.
    """

    def __init__(self, max_threads: int = DEFAULT_MAX_THREADS) -> None:
        self.max_threads = max_threads
        self._threads: OrderedDict[Hashable, _ThreadCursor] = OrderedDict()
        self._lock = threading.Lock()

    def new_messages(self, key: Hashable, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        """Return the messages of ``key`` not yet processed, in order."""
        with self._lock:
            return _unseen(self._threads.get(key), messages)

    def commit(self, key: Hashable, messages: Sequence[BaseMessage]) -> None:
        """Mark every message of ``messages`` (the thread's whole state) as processed."""
        with self._lock:
            self._commit(self._touch(key), messages)

    def claim(self, key: Hashable, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        """Take the messages of ``key`` to process now, and mark the whole state processed, in one step.

        They are the messages handed back by failed extractions, then the new ones.
        Being one step under the lock, two overlapping turns of a thread never
        claim the same message.

        Args:
            key: The thread.
            messages: The thread's whole state.

        Returns:
            The messages to extract from, oldest first (empty when there are none).
        """
        with self._lock:
            cursor = self._touch(key)
            new = _unseen(cursor, messages)
            returned, cursor.returned = cursor.returned, []
            self._commit(cursor, messages)
        # After an eviction the state's copy of a returned message is new again: send it once.
        fresh = {m.id for m in new if m.id}
        return [*(m for m in returned if not (m.id and m.id in fresh)), *new]

    def hand_back(self, key: Hashable, messages: Sequence[BaseMessage]) -> None:
        """Return the messages of a failed extraction, for the thread's next :meth:`claim` to retry.

        Args:
            key: The thread.
            messages: The messages the failed extraction covered.
        """
        with self._lock:
            cursor = self._touch(key)
            have = {m.id for m in cursor.returned if m.id}
            cursor.returned.extend(m for m in messages if not (m.id and m.id in have))
            excess = len(cursor.returned) - _IDS_PER_THREAD
            if excess > 0:
                # Bounded, so a model that keeps failing cannot grow one prompt without limit.
                logger.warning(
                    "memory extraction of thread %r kept failing: its %d oldest unprocessed messages "
                    "are dropped",
                    key,
                    excess,
                )
                del cursor.returned[:excess]

    def _touch(self, key: Hashable) -> _ThreadCursor:
        """Under the lock: the cursor of ``key`` (new if absent), now the most recently used."""
        cursor = self._threads.pop(key, None) or _ThreadCursor()
        self._threads[key] = cursor
        while len(self._threads) > self.max_threads:
            old_key, old = self._threads.popitem(last=False)
            if old.returned:
                logger.warning(
                    "forgetting thread %r with %d messages still to retry: more than %d threads are active",
                    old_key,
                    len(old.returned),
                    self.max_threads,
                )
        return cursor

    @staticmethod
    def _commit(cursor: _ThreadCursor, messages: Sequence[BaseMessage]) -> None:
        for m in messages:
            if m.id:
                cursor.seen[m.id] = None
                cursor.seen.move_to_end(m.id)
        while len(cursor.seen) > _IDS_PER_THREAD:
            cursor.seen.popitem(last=False)
        cursor.count = len(messages)


def _unseen(cursor: _ThreadCursor | None, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    if cursor is None:
        return list(messages)
    if all(m.id for m in messages):
        return [m for m in messages if m.id not in cursor.seen]
    return list(messages[cursor.count :])


@dataclass(frozen=True)
class _Pending:
    scope: MemoryScope
    key: Hashable | None
    messages: list[BaseMessage]
    new: list[BaseMessage]


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
        max_threads: How many threads' cursors to keep.

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
    ) -> None:
        if debounce_seconds and not background:
            raise ConfigurationError("debounce_seconds needs background=True")
        super().__init__(self._run, afunc=self._arun, name=name)
        self.manager = manager
        self.messages_key = messages_key
        self.cursors = ThreadCursors(max_threads)
        self.worker = (
            BackgroundExtractor(manager, debounce_seconds=debounce_seconds, on_failure=self._hand_back)
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
        running it afterwards in the background raises ``RuntimeError``.
        """
        return self.worker.close(timeout) if self.worker else True

    async def aclose(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`close`."""
        return await self.worker.aclose(timeout) if self.worker else True

    # ------------------------------------------------------------ the node
    def _pending(self, state: Any, config: RunnableConfig) -> _Pending | None:
        """Resolve the scope and the thread's unprocessed messages; ``None`` when there are none.

        In the background they are claimed at once (marked processed before the job
        runs, so an overlapping turn does not send them again); a failed job hands them back.
        """
        if self.worker is not None:
            # Before claiming: a refused turn must stay unprocessed, not be marked done.
            self.worker.check_open()
        scope = self.manager.scope_for(config)
        messages = self._messages(state)
        thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
        # Without a thread there is no history to remember: every message given is new.
        key = None if thread_id is None else (scope.user_id, scope.agent_id, scope.team_id, str(thread_id))
        if key is None:
            new = messages
        elif self.worker is not None:
            new = self.cursors.claim(key, messages)
        else:
            new = self.cursors.new_messages(key, messages)
        return _Pending(scope, key, messages, new) if new else None

    def _hand_back(self, key: Hashable, scope: MemoryScope, messages: list[BaseMessage]) -> None:
        if key is None:
            logger.warning(
                "a failed memory extraction for user %r has no thread_id, so it cannot be retried with a "
                "next turn; it is kept in node.errors",
                scope.user_id,
            )
            return
        self.cursors.hand_back(key, messages)
        logger.info(
            "the %d messages of a failed memory extraction are retried with thread %r", len(messages), key
        )

    def _run(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        pending = self._pending(state, config)
        if pending is None:
            return {}
        if self.worker is not None:
            self.worker.submit(pending.key, pending.scope, pending.new)
            return {}
        scope = pending.scope
        result = self.manager.extract(
            pending.new, user_id=scope.user_id, agent_id=scope.agent_id, team_id=scope.team_id
        )
        self._finish(pending, result)
        return {}

    async def _arun(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        pending = self._pending(state, config)
        if pending is None:
            return {}
        if self.worker is not None:
            await self.worker.asubmit(pending.key, pending.scope, pending.new)
            return {}
        scope = pending.scope
        result = await self.manager.aextract(
            pending.new, user_id=scope.user_id, agent_id=scope.agent_id, team_id=scope.team_id
        )
        self._finish(pending, result)
        return {}

    def _finish(self, pending: _Pending, result: ExtractionResult) -> None:
        self._last = result
        # A failed extraction leaves the cursor where it was, so the next run retries these messages.
        if result.ok:
            self._commit(pending)

    def _commit(self, pending: _Pending) -> None:
        if pending.key is not None:
            self.cursors.commit(pending.key, pending.messages)

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
) -> MemoryNode:
    """Build a LangGraph node that extracts memories from each thread's new messages.

    Args:
        manager: Does the extraction (its model, store and options).
        background: Return at once and extract on a worker; see :meth:`MemoryNode.flush`. A failed
            background extraction is retried with the thread's next turn.
        debounce_seconds: In background mode, merge quick successive turns of a thread.
        messages_key: The state key holding the messages.
        name: The node's run name.

    Returns:
        The node, usable in ``graph.add_node("memory", node)`` with ``invoke`` and ``ainvoke``.
    """
    return MemoryNode(
        manager,
        background=background,
        debounce_seconds=debounce_seconds,
        messages_key=messages_key,
        name=name,
    )
