"""Automatic memory: one model call turns new messages into add / update / delete changes.

The flow of one extraction:

1. read the user's existing memories that matter for the new messages (a word
   search on the new user text plus the few most recent), within a character
   budget, and show them to the model under short local aliases (``[1] ...``);
2. make exactly one model call with ``add_memory`` / ``update_memory`` /
   ``delete_memory`` bound as tools; the tool results are never sent back;
3. validate every tool call on its own (an unknown alias, a missing argument, an
   empty or over-long text is rejected with a reason) and apply the valid ones
   as one change set (:meth:`MemoryStore.apply_changes`): all of it, or none.

The model never sees a real ``memory_id`` and never chooses the scope: aliases
are mapped back to ids of memories this user owns, and the scope comes from the
caller (:func:`langmem_agno.scope.resolve_scope`). The model is called before
anything is written, so a failed or timed-out call leaves the store untouched.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Generator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, convert_to_messages
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, ExtractionError, InvalidMemoryError, MemoryNotFoundError
from langmem_agno.extraction.calls import (
    SCHEMAS,
    acall_model,
    call_model,
)
from langmem_agno.extraction.optimize import Optimizing
from langmem_agno.extraction.prompt import (
    DEFAULT_CAPTURE_INSTRUCTIONS,
    ToolChange,
    build_system_prompt,
    render_conversation,
    render_memory_line,
    render_tool_changes,
    search_query,
    tool_changes,
)
from langmem_agno.extraction.proposals import (
    ChangePlan,
    ExtractionResult,
    Prepared,
    RejectedCall,
    drop_stored_duplicates,
    extraction_memory_id,
    gone_call,
    review_calls,
)
from langmem_agno.extraction.turn_reads import TurnMemories, aread_turn, read_turn
from langmem_agno.models import chat_model
from langmem_agno.recall.text import message_text
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores.base import ChangeSet, MemoryFilter, MemoryStore, MemoryUpdate, recording
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = [
    "DEFAULT_MEMORY_BUDGET_CHARS",
    "DEFAULT_SHOWN_MEMORY_CHARS",
    "MAX_INPUT_CHARS",
    "ExtractionResult",
    "MemoryManager",
    "RejectedCall",
    "extraction_memory_id",
    "search_query",
    "trace_config",
]

logger = logging.getLogger(__name__)

#: Default size, in characters, of the block of existing memories shown to the model.
DEFAULT_MEMORY_BUDGET_CHARS = 2_500
#: Longest text of one shown memory; longer ones are cut (an update sends the full new text anyway).
DEFAULT_SHOWN_MEMORY_CHARS = 300
#: Longest ``input`` stored on a memory: the user text it came from.
MAX_INPUT_CHARS = 2_000


# The I/O steps of an extraction; the names are also the wording of failure messages.
_READ = "reading existing memories"
_CALL = "calling the model"
_WRITE = "writing memories"


def trace_config(config: RunnableConfig | None) -> RunnableConfig | None:
    """The tracing part of a run's config (callbacks, tags, metadata), or ``None`` when it has none.

    Args:
        config: The run's config.
    """
    if not config:
        return None
    trace = RunnableConfig()
    if config.get("callbacks"):
        trace["callbacks"] = config["callbacks"]
    if config.get("tags"):
        trace["tags"] = list(config["tags"])
    if config.get("metadata"):
        trace["metadata"] = dict(config["metadata"])
    return trace or None


class MemoryManager(Optimizing):
    """Extracts memories from conversations with one model call and applies them to a store.

    It also consolidates a user's memories: :meth:`optimize` / :meth:`aoptimize`.

    Args:
        model: Any LangChain chat model that supports tool calling, or its ``init_chat_model`` id
            such as ``"openai:gpt-4o-mini"``.
        store: Where the memories live.
        capture_instructions: What is worth remembering; a general default otherwise.
        additional_instructions: Appended to the instructions (house rules, language ...).
        enable_add: Let the model add memories.
        enable_update: Let the model update memories.
        enable_delete: Let the model delete memories.
        memory_budget_chars: Most characters of existing memories shown to the model.
        shown_memory_chars: Longest text of one shown memory (longer ones are cut).
        search_limit: How many search hits on the new messages are considered for showing.
        recent_limit: How many of the most recent memories are considered too.
        max_memory_chars: Longest memory text accepted from the model; the store's limit by default.
        timeout: Seconds to wait for the model; ``None`` to wait for ever.
        raise_on_error: Raise :class:`ExtractionError` on a model failure instead of returning it
            in :attr:`ExtractionResult.error`.
        default_user_id: The user when the call names none (see :func:`resolve_scope`).
        default_agent_id: The agent when the call names none.
        default_team_id: The team when the call names none.

    Example:
        >>> from langmem_agno import SQLiteMemoryStore
        >>> from langmem_agno.testing.scripted import ScriptedChatModel
        >>> from langchain_core.messages import AIMessage
        >>> call = {"name": "add_memory", "args": {"memory": "User prefers email"}, "id": "c1"}
        >>> model = ScriptedChatModel(responses=[AIMessage("", tool_calls=[call])])
        >>> manager = MemoryManager(model, SQLiteMemoryStore(":memory:"))
        >>> [m.memory for m in manager.extract(["I prefer email"], user_id="u1").added]
        ['User prefers email']
    """

    def __init__(
        self,
        model: BaseChatModel | str,
        store: MemoryStore,
        *,
        capture_instructions: str | None = None,
        additional_instructions: str | None = None,
        enable_add: bool = True,
        enable_update: bool = True,
        enable_delete: bool = True,
        memory_budget_chars: int = DEFAULT_MEMORY_BUDGET_CHARS,
        shown_memory_chars: int = DEFAULT_SHOWN_MEMORY_CHARS,
        search_limit: int = 20,
        recent_limit: int = 5,
        max_memory_chars: int | None = None,
        timeout: float | None = 60.0,
        raise_on_error: bool = False,
        default_user_id: str | None = None,
        default_agent_id: str | None = None,
        default_team_id: str | None = None,
    ) -> None:
        self.operations = [
            op for op, on in (("add", enable_add), ("update", enable_update), ("delete", enable_delete)) if on
        ]
        if not self.operations:
            raise ConfigurationError("enable at least one of enable_add, enable_update, enable_delete")
        check_int("memory_budget_chars", memory_budget_chars, minimum=0)
        check_int("shown_memory_chars", shown_memory_chars, minimum=20)
        check_int("search_limit", search_limit, minimum=0)
        check_int("recent_limit", recent_limit, minimum=0)
        if timeout is not None and not timeout > 0:
            raise ConfigurationError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        self.model = chat_model(model)
        self.store = store
        self.capture_instructions = capture_instructions or DEFAULT_CAPTURE_INSTRUCTIONS
        self.additional_instructions = additional_instructions
        self.memory_budget_chars = memory_budget_chars
        self.shown_memory_chars = shown_memory_chars
        self.search_limit = search_limit
        self.recent_limit = recent_limit
        self.max_memory_chars = (
            max_memory_chars
            if max_memory_chars is not None
            else (store.max_memory_chars or DEFAULT_MAX_MEMORY_CHARS)
        )
        self.timeout = timeout
        self.raise_on_error = raise_on_error
        self.default_user_id = default_user_id
        self.default_agent_id = default_agent_id
        self.default_team_id = default_team_id
        self._bound = self.model.bind_tools([convert_to_openai_tool(SCHEMAS[op]) for op in self.operations])

    # ------------------------------------------------------------ public API
    def extract(
        self,
        messages: Sequence[BaseMessage | str | dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        config: RunnableConfig | None = None,
        context: Any = None,
    ) -> ExtractionResult:
        """Extract memories from ``messages`` (all treated as new) and apply them.

        Args:
            messages: The new messages: ``BaseMessage`` objects or anything
                ``convert_to_messages`` accepts (a plain string is a user message).
            user_id: The user; else taken from ``context`` / ``config`` (DESIGN.md section 2).
            agent_id: The agent writing the memories.
            team_id: The team writing the memories.
            config: The run's config, for the scope.
            context: A LangGraph runtime context, for the scope.

        Returns:
            What changed. On a model failure the store is untouched and the error is in
            :attr:`ExtractionResult.error` (or raised, with ``raise_on_error=True``).

        Raises:
            MissingUserIdError: If no user id can be found.
            ExtractionError: On a model failure or timeout, with ``raise_on_error=True``.
        """
        scope = self._scope(user_id, agent_id, team_id, config, context)
        return run_calls(self._steps(scope, messages, trace_config(config)))

    async def aextract(
        self,
        messages: Sequence[BaseMessage | str | dict[str, Any]],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        config: RunnableConfig | None = None,
        context: Any = None,
    ) -> ExtractionResult:
        """Async twin of :meth:`extract`."""
        scope = self._scope(user_id, agent_id, team_id, config, context)
        return await arun_calls(self._steps(scope, messages, trace_config(config)))

    # ------------------------------------------------------------ the extraction, once
    def _steps(
        self,
        scope: MemoryScope,
        messages: Sequence[BaseMessage | str | dict[str, Any]],
        trace: RunnableConfig | None = None,
    ) -> Generator[Call[Any], Any, ExtractionResult]:
        """The extraction as a plan: it yields each I/O step and gets its result back.

        ``extract`` runs the steps with the sync store and model methods, ``aextract``
        with their async twins; everything else is this one body. A step that fails
        is thrown back in here, so the failure handling is shared too.
        """
        new = self._new_messages(messages)
        result = ExtractionResult(user_id=scope.user_id)
        if new is None:
            return result
        user_texts, conversation, source, changes = new
        query = search_query(user_texts)
        try:
            hits, recent, complete = yield twin(self._read, self._aread)(scope, query)
        except Exception as exc:
            return self._failed(result, exc, _READ)
        prepared = self._prepare(scope, hits, recent, user_texts, conversation, source, changes)
        result.shown_memories = len(prepared.aliases)
        result.model_called = True
        try:
            answer = yield twin(self._call_model, self._acall_model)(prepared.prompt, trace)
        except Exception as exc:
            return self._failed(result, exc, _CALL)
        plan = self._plan(answer, prepared, result)
        try:
            shown = {m.memory_id for m in prepared.aliases.values()}
            # When the model saw every memory of the scope, the adds were already checked against
            # them all (proposals.plan_changes): looking each one up in the store would find nothing.
            if plan.adds and not (complete and all(m.memory_id in shown for m in recent)):
                yield from drop_stored_duplicates(self.store, plan, self._where(scope), result)
            yield twin(self._apply, self._aapply)(plan, prepared, result)
        except Exception as exc:
            return self._failed(result, exc, _WRITE)
        return self._done(result)

    def _read(self, scope: MemoryScope, query: str) -> TurnMemories:
        """The memories shown to the model (related, newest) and whether the newest are all of them."""
        return read_turn(self.store, self._filter(scope), query, self.search_limit, self.recent_limit)

    async def _aread(self, scope: MemoryScope, query: str) -> TurnMemories:
        """Async twin of :meth:`_read`."""
        return await aread_turn(self.store, self._filter(scope), query, self.search_limit, self.recent_limit)

    # ------------------------------------------------------------ shared steps
    def scope_for(
        self,
        config: RunnableConfig | None = None,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        context: Any = None,
    ) -> MemoryScope:
        """Resolve whose memories a call touches, as :meth:`extract` does (DESIGN.md section 2)."""
        return self._scope(user_id, agent_id, team_id, config, context)

    def _scope(
        self,
        user_id: str | None,
        agent_id: str | None,
        team_id: str | None,
        config: RunnableConfig | None,
        context: Any,
    ) -> MemoryScope:
        return resolve_scope(
            config,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            context=context,
            default_user_id=self.default_user_id,
            default_agent_id=self.default_agent_id,
            default_team_id=self.default_team_id,
            where="memory extraction",
        )

    @staticmethod
    def _where(scope: MemoryScope) -> dict[str, Any]:
        return {"user_id": scope.user_id, "agent_id": scope.agent_id, "team_id": scope.team_id}

    @staticmethod
    def _filter(scope: MemoryScope) -> MemoryFilter:
        return MemoryFilter(scope.user_id, scope.agent_id, scope.team_id)

    @staticmethod
    def _new_messages(
        messages: Sequence[BaseMessage | str | dict[str, Any]],
    ) -> tuple[list[str], str, str, list[ToolChange]] | None:
        """The user texts, conversation, identity and tool changes; ``None`` if the user said nothing."""
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise InvalidMemoryError(
                f"messages must be a list of messages, got {type(messages).__name__} {messages!r:.80}"
            )
        parsed = convert_to_messages(messages)
        user_texts = [t for t in (message_text(m) for m in parsed if isinstance(m, HumanMessage)) if t]
        if not user_texts:
            return None
        # The messages' ids (when they have them) tell apart two turns with the same words.
        source = json.dumps([[m.type, m.id, message_text(m)] for m in parsed], ensure_ascii=False)
        return user_texts, render_conversation(parsed), source, tool_changes(parsed)

    def _prepare(
        self,
        scope: MemoryScope,
        hits: Sequence[UserMemory],
        recent: Sequence[UserMemory],
        user_texts: Sequence[str],
        conversation: str,
        source: str = "",
        changes: Sequence[ToolChange] = (),
    ) -> Prepared:
        aliases: dict[str, UserMemory] = {}
        lines: list[str] = []
        used = 0
        seen: set[str] = set()
        for memory in (*hits, *recent):
            if memory.memory_id in seen:
                continue
            seen.add(memory.memory_id)
            alias = str(len(aliases) + 1)
            line = render_memory_line(alias, memory.memory, memory.topics, self.shown_memory_chars)
            if used + len(line) + 1 > self.memory_budget_chars:
                continue
            used += len(line) + 1
            aliases[alias] = memory
            lines.append(line)
        system = build_system_prompt(
            capture_instructions=self.capture_instructions,
            additional_instructions=self.additional_instructions,
            operations=self.operations,
            memories_block="\n".join(lines),
            # What the memory tools did in these messages, so a reworded fact is not added twice.
            tool_changes_block=render_tool_changes(
                changes, {m.memory_id: a for a, m in aliases.items()}, self.shown_memory_chars
            ),
        )
        prompt: list[BaseMessage] = [
            SystemMessage(system),
            HumanMessage("New messages:\n" + conversation),
        ]
        input_text = "\n".join(user_texts)[:MAX_INPUT_CHARS]
        return Prepared(scope=scope, prompt=prompt, aliases=aliases, input_text=input_text, source=source)

    def _plan(self, answer: AIMessage, prepared: Prepared, result: ExtractionResult) -> ChangePlan:
        check = functools.partial(self.store.check_text, max_chars=self.max_memory_chars)
        return review_calls(
            answer, prepared, result, operations=self.operations, check_text=check, redact=self.store.redact
        )

    def _apply(self, plan: ChangePlan, prepared: Prepared, result: ExtractionResult) -> None:
        if plan.adds or plan.updates or plan.deletes:
            with recording("extraction"):
                self._record(plan, self.store.apply_changes(**self._changes(plan, prepared)), result)

    async def _aapply(self, plan: ChangePlan, prepared: Prepared, result: ExtractionResult) -> None:
        if plan.adds or plan.updates or plan.deletes:
            with recording("extraction"):
                self._record(plan, await self.store.aapply_changes(**self._changes(plan, prepared)), result)

    @staticmethod
    def _changes(plan: ChangePlan, prepared: Prepared) -> dict[str, Any]:
        """The plan as one store change set: written all at once, so a failure leaves nothing half-done."""
        scope, input_text = prepared.scope, prepared.input_text or None
        return {
            **MemoryManager._where(scope),
            "adds": plan.adds,
            "updates": [
                MemoryUpdate(target.memory_id, memory=text, topics=topics, input=input_text)
                for target, text, topics in plan.updates
            ],
            "deletes": [m.memory_id for m in plan.deletes],
            # As the model was shown them: the history's "before" without reading them again.
            "before": [*(target for target, _, _ in plan.updates), *plan.deletes],
        }

    @staticmethod
    def _record(plan: ChangePlan, changes: ChangeSet, result: ExtractionResult) -> None:
        result.added.extend(changes.added)
        result.updated.extend(changes.updated)
        # Another writer deleted these after they were shown to the model.
        for memory_id in changes.missing_updates:
            result.rejected.append(gone_call("update_memory", MemoryNotFoundError(memory_id, result.user_id)))
        gone = set(changes.missing_deletes)
        if gone:
            logger.info(
                "memory extraction deleted %d of %d memories",
                len(plan.deletes) - len(gone),
                len(plan.deletes),
            )
        result.deleted.extend(m for m in plan.deletes if m.memory_id not in gone)

    def _traced(self, trace: RunnableConfig | None) -> Runnable[Any, Any]:
        # The run's callbacks, tags and metadata, so a trace links the extraction call to
        # the run that caused it, even when it runs later on a worker (no context to inherit).
        return self._bound.with_config(trace) if trace else self._bound

    def _call_model(self, prompt: list[BaseMessage], trace: RunnableConfig | None = None) -> AIMessage:
        return call_model(self._traced(trace), prompt, self.timeout)

    async def _acall_model(self, prompt: list[BaseMessage], trace: RunnableConfig | None = None) -> AIMessage:
        return await acall_model(self._traced(trace), prompt, self.timeout)

    def _failed(self, result: ExtractionResult, exc: Exception, step: str) -> ExtractionResult:
        error = ExtractionError(f"memory extraction for user {result.user_id!r} failed while {step}: {exc}")
        error.__cause__ = exc
        logger.warning("%s", error)
        result.error = error
        if self.raise_on_error:
            raise error from exc
        return result

    @staticmethod
    def _done(result: ExtractionResult) -> ExtractionResult:
        logger.debug(
            "memory extraction for user %r: %d added, %d updated, %d deleted, %d rejected",
            result.user_id,
            len(result.added),
            len(result.updated),
            len(result.deleted),
            len(result.rejected),
        )
        return result
