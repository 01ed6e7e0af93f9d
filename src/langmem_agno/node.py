"""A LangGraph node that extracts memories after a run, in the foreground or the background.

Add it to any ``StateGraph`` whose state has ``messages`` (``MessagesState``,
the state of ``create_agent``, your own ``TypedDict`` or pydantic state). It
reads the scope from the run's context or config (DESIGN.md section 2) and
keeps a per-thread cursor, so messages it already processed for a thread are
never sent to the model again: running it twice over the same state makes no
second model call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, convert_to_messages
from langchain_core.runnables import RunnableConfig, RunnableLambda

from langmem_agno.background import BackgroundError, BackgroundExtractor
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.extraction import ExtractionResult, MemoryManager
from langmem_agno.scope import MemoryScope

#: How many threads' cursors are kept in memory (least recently used ones are dropped).
DEFAULT_MAX_THREADS = 10_000
#: How many processed message ids are remembered per thread.
_IDS_PER_THREAD = 2_000


@dataclass
class _ThreadCursor:
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    count: int = 0


class ThreadCursors:
    """Which messages of each thread were already processed, in this process.

    With message ids (``add_messages`` gives every message one) a message is new
    when its id was not seen, so trimmed or summarised histories still work;
    without ids, the messages past the processed count are new.

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
            cursor = self._threads.get(key)
        if cursor is None:
            return list(messages)
        if all(m.id for m in messages):
            return [m for m in messages if m.id not in cursor.seen]
        return list(messages[cursor.count :])

    def commit(self, key: Hashable, messages: Sequence[BaseMessage]) -> None:
        """Mark every message of ``messages`` (the thread's whole state) as processed."""
        with self._lock:
            cursor = self._threads.pop(key, None) or _ThreadCursor()
            self._threads[key] = cursor
            while len(self._threads) > self.max_threads:
                self._threads.popitem(last=False)
            for m in messages:
                if m.id:
                    cursor.seen[m.id] = None
                    cursor.seen.move_to_end(m.id)
            while len(cursor.seen) > _IDS_PER_THREAD:
                cursor.seen.popitem(last=False)
            cursor.count = len(messages)


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
        background: Run extraction off the critical path.
        debounce_seconds: In background mode, merge a thread's turns that arrive
            within this many seconds of each other into one extraction.
        messages_key: The state key (or attribute) holding the messages.
        name: The node's run name.
        max_threads: How many threads' cursors to keep.

    Example:
        >>> from langgraph.graph import MessagesState, StateGraph  # doctest: +SKIP
        >>> graph = StateGraph(MessagesState)  # doctest: +SKIP
        >>> graph.add_node("memory", create_memory_node(manager))  # doctest: +SKIP
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
            raise ValueError("debounce_seconds needs background=True")
        super().__init__(self._run, afunc=self._arun, name=name)
        self.manager = manager
        self.messages_key = messages_key
        self.cursors = ThreadCursors(max_threads)
        self.worker = BackgroundExtractor(manager, debounce_seconds=debounce_seconds) if background else None
        self._last: ExtractionResult | None = None

    # ------------------------------------------------------------ public API
    @property
    def last_result(self) -> ExtractionResult | None:
        """The result of the last foreground extraction (background ones are in ``worker.results``)."""
        return self._last

    @property
    def errors(self) -> list[BackgroundError]:
        """Failures of background extractions, oldest first (foreground ones are returned or raised)."""
        return self.worker.errors if self.worker else []

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for queued background extractions (sync side); ``True`` when all finished."""
        return self.worker.flush(timeout) if self.worker else True

    async def aflush(self, timeout: float | None = None) -> bool:
        """Wait for queued background extractions of this event loop; ``True`` when all finished."""
        return await self.worker.aflush(timeout) if self.worker else True

    # ------------------------------------------------------------ the node
    def _pending(self, state: Any, config: RunnableConfig) -> _Pending | None:
        """Resolve the scope and the thread's unprocessed messages; ``None`` when there are none."""
        scope = self.manager.scope_for(config)
        messages = self._messages(state)
        thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
        # Without a thread there is no history to remember: every message given is new.
        key = None if thread_id is None else (scope.user_id, scope.agent_id, scope.team_id, str(thread_id))
        new = messages if key is None else self.cursors.new_messages(key, messages)
        return _Pending(scope, key, messages, new) if new else None

    def _run(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        pending = self._pending(state, config)
        if pending is None:
            return {}
        if self.worker is not None:
            self._commit(pending)
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
            self._commit(pending)
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
        background: Return at once and extract on a worker; see :meth:`MemoryNode.flush`.
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
