"""Long-term user memory for ``langchain.agents.create_agent``, as one middleware.

:class:`MemoryMiddleware` does three switchable jobs around an agent:

* **recall**: before every model call, the current user's memories that matter
  for the latest user turn are appended to the system prompt of that call
  (``wrap_model_call``), so the block never lands in the agent's stored messages.
  The block is recalled once per user turn: the model calls of one run (a tool
  loop) reuse it until the run ends, so a memory a tool adds during the run shows
  in the block from the user's next turn on;
* **tools**: the memory tools of :func:`~langmem_agno.tools.create_memory_tools`
  are registered with the agent, the user coming from the run;
* **extraction**: after the agent finishes (``after_agent``), the thread's new
  messages go through :class:`~langmem_agno.extraction.MemoryManager`, in the
  background by default, through the same :class:`~langmem_agno.node.MemoryNode`
  a hand-written graph uses (per-thread cursor, background worker, flush).

Whose memories are read and written comes from the run, never from the model:
``create_agent(..., context_schema=...)`` with ``agent.invoke(..., context=...)``,
or ``config={"configurable": {"user_id": ...}}`` (see :func:`~langmem_agno.scope.resolve_scope`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Generator, Hashable, Sequence
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    AgentState,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig, ensure_config
from langgraph.runtime import Runtime

from langmem_agno.agents.injection import MemoryInjector
from langmem_agno.agents.tools import ALL_ACTIONS, ToolAction, create_memory_tools
from langmem_agno.checks import check_ids, check_int
from langmem_agno.errors import ConfigurationError, LangmemAgnoError
from langmem_agno.extraction.background import BackgroundFailure
from langmem_agno.extraction.manager import ExtractionResult, MemoryManager
from langmem_agno.extraction.node import MemoryNode
from langmem_agno.models import embeddings_model
from langmem_agno.recall.render import (
    DEFAULT_FOOTER,
    DEFAULT_HEADER,
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_MEMORIES,
    DEFAULT_TAG,
)
from langmem_agno.recall.retriever import MemoryRetriever, Ranking
from langmem_agno.recall.text import message_text
from langmem_agno.recall.thesaurus import Thesaurus
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores.base import MemoryStore
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["RECALL_CACHE_SIZE", "MemoryMiddleware"]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.middleware")

_Response = ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]
#: How many runs' recalled blocks are kept at once; a run that ends drops its own, so
#: only runs that failed or were interrupted linger, the oldest evicted first.
RECALL_CACHE_SIZE = 1024


class MemoryMiddleware(AgentMiddleware[AgentState[Any], Any, Any]):
    """Recall, memory tools and post-run extraction for a ``create_agent`` agent.

    One instance serves any number of users and threads at once: it keeps no
    per-user state besides the per-thread extraction cursors and, while a run is
    in progress, the block recalled for its user turn (so a tool loop of N model
    calls reads the store once; a memory a tool adds during the run is recalled
    from the next user turn on). A recall that fails (the store unreachable, a
    stored record that cannot be read) is logged as a warning and the run answers
    without memories.

    With ``background=True`` the middleware owns a worker thread: call :meth:`close`
    (or :meth:`aclose`) when it is no longer used, for instance when one is built per
    request, so the thread does not outlive it.

    Args:
        store: Where the memories live.
        model: The chat model that extracts memories after each run (a model
            object or an ``init_chat_model`` id such as ``"openai:gpt-4o-mini"``);
            needed only with ``extract=True``.
        recall: Put the user's relevant memories in the system prompt of each model call.
        tools: Give the agent the memory tools (Agno's *agentic* memory). ``None`` (the default)
            means off, as Agno recommends, unless ``extract=False`` chooses agentic memory instead
            of automatic. ``True`` turns automatic extraction off unless ``extract=True`` is given
            too (Agno: agentic memory takes precedence when both are enabled).
        extract: Extract memories from the new messages after each run (Agno's *automatic*
            memory). ``None`` (the default) means on unless ``tools=True``; ``True`` with
            ``tools=True`` runs both (the extractor's prompt lists what the tools saved or deleted
            during the run, read from their results, so it does not add a reworded duplicate).
        background: Extract off the critical path; :meth:`flush` / :meth:`aflush` wait for it. A
            failed background extraction is retried with the thread's next run.
        k: How many memories are retrieved for each model call (at most ``max_memories`` are shown).
        embeddings: A LangChain embeddings model, or its ``init_embeddings`` id such as
            ``"openai:text-embedding-3-small"``, for dense ranking; lexical without one.
        ranking: See :class:`~langmem_agno.recall.MemoryRetriever`.
        thesaurus: Related words that count for recall's BM25, such as
            :class:`~langmem_agno.recall.thesaurus.WordNetThesaurus` (see ``MemoryRetriever``).
        max_chars: The hard length limit of the injected block.
        max_memories: The most memories injected.
        tag: The tag around the injected list.
        header: Text before the injected list.
        footer: Text after the injected list.
        fill_with_recent: Pad the injected memories with the newest ones when the ranking finds fewer.
        adaptive: When the user's memories fit the block (``min(k, max_memories)`` entries and
            ``max_chars``), inject all of them, the relevant ones first, as Agno does; otherwise the
            relevant ones, then the newest up to the budget. ``False``: only what the ranking finds.
        tool_actions: Which memory tools to offer, among ``add``, ``update``, ``delete``, ``search``.
        capture_instructions: What extraction should remember (a general default otherwise).
        debounce_seconds: With ``background=True``, merge a thread's quick successive runs into one
            extraction.
        default_user_id: The user when a run names none (single-user apps).
        agent_id: This agent: recall reads only its memories, and the tools and extraction write it.
        team_id: This team, likewise.
        private_to_agent: Whether the memory tools search, update and delete only the memories of
            the run's agent and team (see :func:`~langmem_agno.tools.create_memory_tools`). The
            default, ``None``, follows recall: private whenever the run's scope names an agent or
            team (``agent_id`` here or in the run), every memory of the user otherwise; so the
            tools never reach a memory the recalled block would not show. ``False`` lets the tools
            reach every agent's memories of the user; ``True`` requires an agent or team.

    Raises:
        ValueError: If ``extract=True`` without a ``model``, or an option is not valid.

    Example:
        >>> from langchain.agents import create_agent
        >>> from langchain_core.messages import AIMessage
        >>> from langmem_agno import ScriptedChatModel, SQLiteMemoryStore
        >>> store = SQLiteMemoryStore(":memory:")
        >>> learn = {"name": "add_memory", "args": {"memory": "User prefers email"}, "id": "c1"}
        >>> extractor = ScriptedChatModel(responses=[AIMessage("", tool_calls=[learn])])
        >>> model = ScriptedChatModel(responses=[AIMessage("Noted: email it is.")])
        >>> memory = MemoryMiddleware(store=store, model=extractor)
        >>> agent = create_agent(model, tools=[], middleware=[memory])
        >>> turn = {"messages": [("user", "I prefer email")]}
        >>> agent.invoke(turn, context={"user_id": "u1"})["messages"][-1].content
        'Noted: email it is.'
        >>> memory.flush()
        True
        >>> [m.memory for m in store.list_memories(user_id="u1")]
        ['User prefers email']
        >>> memory.close()
        True
    """

    def __init__(
        self,
        store: MemoryStore,
        model: BaseChatModel | str | None = None,
        *,
        recall: bool = True,
        tools: bool | None = None,
        extract: bool | None = None,
        background: bool = True,
        k: int = 5,
        embeddings: Embeddings | str | None = None,
        ranking: Ranking = "auto",
        thesaurus: Thesaurus | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_memories: int = DEFAULT_MAX_MEMORIES,
        tag: str = DEFAULT_TAG,
        header: str = DEFAULT_HEADER,
        footer: str = DEFAULT_FOOTER,
        fill_with_recent: bool = False,
        adaptive: bool = True,
        tool_actions: tuple[ToolAction, ...] = ALL_ACTIONS,
        capture_instructions: str | None = None,
        debounce_seconds: float = 0.0,
        default_user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        private_to_agent: bool | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(store, MemoryStore):
            raise ConfigurationError(f"store must be a MemoryStore, got {type(store).__name__} {store!r:.80}")
        check_ids(default_user_id=default_user_id, agent_id=agent_id, team_id=team_id)
        if private_to_agent is not None and not isinstance(private_to_agent, bool):
            raise ConfigurationError(
                f"private_to_agent must be True, False or None, got {private_to_agent!r}"
            )
        check_int("k", k)
        check_int("max_memories", max_memories)
        self.store = store
        self.default_user_id = default_user_id
        self.agent_id = agent_id
        self.team_id = team_id
        self.injector: MemoryInjector | None = None
        self._recalled = _RecallCache(RECALL_CACHE_SIZE)
        if recall:
            retriever = MemoryRetriever(
                store=store,
                k=k,
                embeddings=None if embeddings is None else embeddings_model(embeddings),
                ranking=ranking,
                thesaurus=thesaurus,
                fill_with_recent=fill_with_recent,
                default_user_id=default_user_id,
            )
            self.injector = MemoryInjector(
                retriever,
                max_memories=min(k, max_memories),
                max_chars=max_chars,
                tag=tag,
                header=header,
                footer=footer,
                adaptive=adaptive,
            )
        # Automatic or agentic memory, as Agno defines them: one of the two unless both are asked for.
        if tools is None:
            tools = extract is False
        self.tools = (
            create_memory_tools(
                store,
                include=tool_actions,
                default_user_id=default_user_id,
                agent_id=agent_id,
                team_id=team_id,
                private_to_agent=private_to_agent,
            )
            if tools
            else []
        )
        self.node: MemoryNode | None = None
        if extract is None:
            # Agno's rule: agentic memory (the tools) takes precedence over automatic extraction.
            extract = not tools
        if extract:
            if model is None:
                raise ConfigurationError(
                    "MemoryMiddleware(extract=True) needs model=... (the chat model that extracts memories "
                    "after each run); pass one, or extract=False"
                )
            self.node = MemoryNode(
                MemoryManager(model, store, capture_instructions=capture_instructions),
                background=background,
                debounce_seconds=debounce_seconds,
                name="memory_extraction",
            )

    # ------------------------------------------------------------ public API
    @property
    def manager(self) -> MemoryManager | None:
        """The extraction manager (``None`` with ``extract=False``)."""
        return self.node.manager if self.node else None

    @property
    def last_result(self) -> ExtractionResult | None:
        """The result of the last foreground extraction."""
        return self.node.last_result if self.node else None

    @property
    def errors(self) -> list[BackgroundFailure]:
        """Failures of background extractions, oldest first."""
        return self.node.errors if self.node else []

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for the background extractions queued by ``agent.invoke``; ``True`` when all finished."""
        return self.node.flush(timeout) if self.node else True

    async def aflush(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`flush`."""
        return await self.node.aflush(timeout) if self.node else True

    def close(self, timeout: float | None = None) -> bool:
        """Finish the queued background extractions and stop the worker thread; ``True`` when done.

        Runs of the agent after this raise :class:`~langmem_agno.errors.ClosedError` when they
        would extract in the background. Calling it again is harmless.
        """
        return self.node.close(timeout) if self.node else True

    async def aclose(self, timeout: float | None = None) -> bool:
        """Async twin of :meth:`close`."""
        return await self.node.aclose(timeout) if self.node else True

    def scope(self, config: RunnableConfig | None, context: Any = None) -> MemoryScope:
        """Resolve the run's user (and this agent and team) from its context or config."""
        return resolve_scope(
            config,
            context=context,
            agent_id=self.agent_id,
            team_id=self.team_id,
            default_user_id=self.default_user_id,
            where="MemoryMiddleware",
        )

    # ------------------------------------------------------------ recall
    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> _Response:
        """Append the user's relevant memories to the system prompt of this model call."""
        if self.injector is None:
            return handler(request)
        return handler(_with_block(request, run_calls(self._block_plan(self.injector, request))))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> _Response:
        """Async twin of :meth:`wrap_model_call`."""
        if self.injector is None:
            return await handler(request)
        return await handler(_with_block(request, await arun_calls(self._block_plan(self.injector, request))))

    def _block_plan(
        self, injector: MemoryInjector, request: ModelRequest[Any]
    ) -> Generator[Call[str], str, str]:
        """This turn's memory block, recalled once per user turn (later model calls reuse it)."""
        config = ensure_config()
        scope = self.scope(config, request.runtime.context)
        key = _turn_key(scope, config, request.messages)
        block = self._recalled.get(key)
        if block is None:
            try:
                block = yield twin(injector.block, injector.ablock)(
                    request.messages, config=config, **_explicit(scope)
                )
            except LangmemAgnoError as exc:
                block = _recall_failed(scope, exc)
            self._recalled.put(key, block)
        return block

    # ------------------------------------------------------------ extraction
    def after_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Extract memories from the thread's new messages (queued when in the background)."""
        config = ensure_config()
        self._end_turn(state, config, runtime)
        if self.node is not None:
            self.node.invoke(state, self._node_config(config, runtime))
        return None

    async def aafter_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async twin of :meth:`after_agent`."""
        config = ensure_config()
        self._end_turn(state, config, runtime)
        if self.node is not None:
            await self.node.ainvoke(state, self._node_config(config, runtime))
        return None

    def _end_turn(self, state: AgentState[Any], config: RunnableConfig, runtime: Runtime[Any]) -> None:
        """Forget the block recalled for the run that ends here."""
        if self.injector is None:
            return
        self._recalled.drop(_turn_key(self.scope(config, runtime.context), config, state["messages"]))

    def _node_config(self, config: RunnableConfig, runtime: Runtime[Any]) -> RunnableConfig:
        # The scope is resolved here, with this middleware's agent and team, and handed
        # to the node as plain configurable values: the node then sees exactly this scope.
        scope = self.scope(config, runtime.context)
        configurable: dict[str, Any] = {"user_id": scope.user_id}
        if scope.agent_id is not None:
            configurable["agent_id"] = scope.agent_id
        if scope.team_id is not None:
            configurable["team_id"] = scope.team_id
        thread_id = (config.get("configurable") or {}).get("thread_id")
        if thread_id is not None:
            configurable["thread_id"] = thread_id
        node_config = RunnableConfig(configurable=configurable)
        for key in ("callbacks", "tags", "metadata"):
            if config.get(key) is not None:
                node_config[key] = config[key]
        return node_config


def _recall_failed(scope: MemoryScope, exc: LangmemAgnoError) -> str:
    # A memory outage or a bad stored record should cost the user personalisation, not their answer.
    logger.warning("memory recall for user %r skipped: %s: %s", scope.user_id, type(exc).__name__, exc)
    return ""


def _turn_key(scope: MemoryScope, config: RunnableConfig, messages: Sequence[BaseMessage]) -> Hashable:
    """Name one user turn of one run: its scope, thread and last human message."""
    thread_id = (config.get("configurable") or {}).get("thread_id")
    human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    # The message id tells apart two turns with the same words; the text, a message changed in place.
    turn = None if human is None else (human.id, message_text(human))
    return (scope.user_id, scope.agent_id, scope.team_id, None if thread_id is None else str(thread_id), turn)


class _RecallCache:
    """The block recalled for each user turn in progress, so the model calls of one run recall once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._blocks: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key: Hashable, block: str) -> None:
        with self._lock:
            self._blocks[key] = block
            self._blocks.move_to_end(key)
            while len(self._blocks) > self._size:
                self._blocks.popitem(last=False)

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._blocks.pop(key, None)


def _explicit(scope: MemoryScope) -> dict[str, str]:
    return {
        name: value
        for name, value in (
            ("user_id", scope.user_id),
            ("agent_id", scope.agent_id),
            ("team_id", scope.team_id),
        )
        if value is not None
    }


def _with_block(request: ModelRequest[Any], block: str) -> ModelRequest[Any]:
    """Return the request with ``block`` appended to its system message (unchanged when empty)."""
    if not block:
        return request
    system = request.system_message
    if system is None:
        return request.override(system_message=SystemMessage(content=block))
    if isinstance(system.content, str):
        content: str | list[str | dict[str, Any]] = (
            f"{system.content}\n\n{block}" if system.content else block
        )
    else:
        content = [*system.content, {"type": "text", "text": f"\n\n{block}"}]
    return request.override(system_message=system.model_copy(update={"content": content}))
