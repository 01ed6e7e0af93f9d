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

import json
import logging
import uuid
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, convert_to_messages
from langchain_core.runnables import RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, ExtractionError, InvalidMemoryError, MemoryNotFoundError
from langmem_agno.extraction.calls import (
    SCHEMAS,
    TOOL_NAMES,
    acall_model,
    alias_of,
    call_model,
    describe_errors,
)
from langmem_agno.extraction.prompt import (
    DEFAULT_CAPTURE_INSTRUCTIONS,
    build_system_prompt,
    render_conversation,
    render_memory_line,
)
from langmem_agno.models import chat_model
from langmem_agno.recall.registry import recall_index
from langmem_agno.recall.text import STOP_WORDS, message_text
from langmem_agno.record import DEFAULT_MAX_MEMORY_CHARS, UserMemory, normalize_topics
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores.base import ChangeSet, MemoryFilter, MemoryStore, MemoryUpdate, query_terms
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
]

logger = logging.getLogger(__name__)

#: Default size, in characters, of the block of existing memories shown to the model.
DEFAULT_MEMORY_BUDGET_CHARS = 2_500
#: Longest text of one shown memory; longer ones are cut (an update sends the full new text anyway).
DEFAULT_SHOWN_MEMORY_CHARS = 300
#: Longest ``input`` stored on a memory: the user text it came from.
MAX_INPUT_CHARS = 2_000
_MAX_QUERY_TERMS = 12
# The words recall drops, and the memories' own subject: the prompt makes every memory
# start with "User ...", so "user" would match them all in the related-memory search.
_SEARCH_STOP_WORDS = STOP_WORDS | {"user", "users"}
# Namespace of the ids of extracted memories (see extraction_memory_id); never change it, or
# a retry after an upgrade would no longer recognise what the first attempt stored.
_EXTRACTION_ID_NAMESPACE = uuid.UUID("5b0e6f7c-2f3a-4d7e-9a51-6c1d2e8f4b90")


# The I/O steps of an extraction; the names are also the wording of failure messages.
_READ = "reading existing memories"
_CALL = "calling the model"
_WRITE = "writing memories"


@dataclass(frozen=True)
class RejectedCall:
    """A tool call that was not applied, and why.

    Attributes:
        tool: The tool name the model called.
        args: The arguments it gave.
        reason: Why the call was rejected.
    """

    tool: str
    args: dict[str, Any]
    reason: str


@dataclass
class ExtractionResult:
    """What one extraction changed.

    Attributes:
        user_id: Whose memories were considered.
        added: Memories created, as stored.
        updated: Memories changed, as stored after the change.
        deleted: Memories deleted, as they were before.
        rejected: Tool calls not applied, each with its reason.
        error: The model or store failure, when the extraction did not complete.
        model_called: Whether the model was called (not when there was nothing new).
        shown_memories: How many existing memories the model was shown.
    """

    user_id: str
    added: list[UserMemory] = field(default_factory=list)
    updated: list[UserMemory] = field(default_factory=list)
    deleted: list[UserMemory] = field(default_factory=list)
    rejected: list[RejectedCall] = field(default_factory=list)
    error: BaseException | None = None
    model_called: bool = False
    shown_memories: int = 0

    @property
    def changed(self) -> bool:
        """Whether any memory was added, updated or deleted."""
        return bool(self.added or self.updated or self.deleted)

    @property
    def ok(self) -> bool:
        """Whether the extraction completed without a model or store failure."""
        return self.error is None


@dataclass
class _Plan:
    """Validated changes, ready to write."""

    adds: list[UserMemory] = field(default_factory=list)
    updates: list[tuple[UserMemory, str, list[str] | None]] = field(default_factory=list)
    deletes: list[UserMemory] = field(default_factory=list)


@dataclass
class _Prepared:
    scope: MemoryScope
    prompt: list[BaseMessage]
    aliases: dict[str, UserMemory]
    input_text: str
    source: str = ""


def extraction_memory_id(scope: MemoryScope, source: str, text: str) -> str:
    """Return the id of a memory an extraction adds: the same inputs always give the same id.

    A retried extraction (after a store failure part-way, a crash, a redelivered
    background job) then adds under the ids of the first attempt, and the store's
    insert-if-absent makes the repeated adds no-ops instead of duplicates.

    Args:
        scope: Whose memory it is.
        source: What the extraction read (its messages, with their ids when they have them).
        text: The memory text.

    Returns:
        A ``str(UUID)``, the id format Agno uses.
    """
    key = json.dumps([scope.user_id, scope.agent_id, scope.team_id, source, text], ensure_ascii=False)
    return str(uuid.uuid5(_EXTRACTION_ID_NAMESPACE, key))


def search_query(texts: Sequence[str]) -> str:
    """Turn user text into a short word query: content words only, at most 12.

    Args:
        texts: The new user messages' texts.

    Returns:
        The space-joined query words (empty when there is no content word).
    """
    terms: list[str] = []
    for text in texts:
        for term in query_terms(text):
            if len(term) > 2 and term not in _SEARCH_STOP_WORDS and term not in terms:
                terms.append(term)
    return " ".join(terms[:_MAX_QUERY_TERMS])


class MemoryManager:
    """Extracts memories from conversations with one model call and applies them to a store.

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
        return run_calls(self._steps(scope, messages))

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
        return await arun_calls(self._steps(scope, messages))

    # ------------------------------------------------------------ the extraction, once
    def _steps(
        self, scope: MemoryScope, messages: Sequence[BaseMessage | str | dict[str, Any]]
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
        user_texts, conversation, source = new
        query = search_query(user_texts)
        try:
            hits, recent = yield twin(self._read, self._aread)(scope, query)
        except Exception as exc:
            return self._failed(result, exc, _READ)
        prepared = self._prepare(scope, hits, recent, user_texts, conversation, source)
        result.shown_memories = len(prepared.aliases)
        result.model_called = True
        try:
            answer = yield twin(self._call_model, self._acall_model)(prepared.prompt)
        except Exception as exc:
            return self._failed(result, exc, _CALL)
        plan = self._plan(answer, prepared, result)
        try:
            yield twin(self._apply, self._aapply)(plan, prepared, result)
        except Exception as exc:
            return self._failed(result, exc, _WRITE)
        return self._done(result)

    def _read(self, scope: MemoryScope, query: str) -> tuple[list[UserMemory], list[UserMemory]]:
        """The memories shown to the model: related to the new messages, and the newest."""
        flt, where = self._filter(scope), self._where(scope)
        hits = (
            recall_index(self.store).related(flt, query, self.search_limit)
            if query and self.search_limit
            else []
        )
        recent = self.store.list_memories(limit=self.recent_limit, **where).items if self.recent_limit else []
        return hits, recent

    async def _aread(self, scope: MemoryScope, query: str) -> tuple[list[UserMemory], list[UserMemory]]:
        """Async twin of :meth:`_read`."""
        flt, where, index = self._filter(scope), self._where(scope), recall_index(self.store)
        hits = await index.arelated(flt, query, self.search_limit) if query and self.search_limit else []
        recent = (
            (await self.store.alist_memories(limit=self.recent_limit, **where)).items
            if self.recent_limit
            else []
        )
        return hits, recent

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
    ) -> tuple[list[str], str, str] | None:
        """Return the user texts, the conversation and its identity; ``None`` if the user said nothing."""
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
        return user_texts, render_conversation(parsed), source

    def _prepare(
        self,
        scope: MemoryScope,
        hits: Sequence[UserMemory],
        recent: Sequence[UserMemory],
        user_texts: Sequence[str],
        conversation: str,
        source: str = "",
    ) -> _Prepared:
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
        )
        prompt: list[BaseMessage] = [
            SystemMessage(system),
            HumanMessage("New messages:\n" + conversation),
        ]
        input_text = "\n".join(user_texts)[:MAX_INPUT_CHARS]
        return _Prepared(scope=scope, prompt=prompt, aliases=aliases, input_text=input_text, source=source)

    def _plan(self, answer: AIMessage, prepared: _Prepared, result: ExtractionResult) -> _Plan:
        """Validate every tool call on its own; collect the valid ones, reject the rest with a reason."""
        plan = _Plan()
        touched: set[str] = set()
        shown_texts = {m.memory.casefold(): a for a, m in prepared.aliases.items()}
        added_texts: set[str] = set()
        names = {TOOL_NAMES[op]: op for op in self.operations}
        for bad in answer.invalid_tool_calls:
            result.rejected.append(
                RejectedCall(
                    tool=bad.get("name") or "",
                    args={"raw": bad.get("args")},
                    reason=f"arguments are not valid JSON: {bad.get('error') or 'unparseable'}",
                )
            )
        for call in answer.tool_calls:
            tool, args = call["name"], dict(call.get("args") or {})

            def reject(reason: str, tool: str = tool, args: dict[str, Any] = args) -> None:
                result.rejected.append(RejectedCall(tool=tool, args=args, reason=reason))

            op = names.get(tool)
            if op is None:
                known = ", ".join(names)
                reject(f"unknown or disabled tool {tool!r}; the tools are {known}")
                continue
            try:
                parsed = SCHEMAS[op].model_validate(args)
            except ValidationError as exc:
                reject(describe_errors(exc))
                continue
            try:
                text = ""
                if op != "delete":
                    # The store's own checks (secrets) run here, per call, so one
                    # bad call is rejected alone instead of failing the batch write.
                    text = self.store.check_text(
                        getattr(parsed, "memory", None), max_chars=self.max_memory_chars
                    )
                topics = normalize_topics(getattr(parsed, "topics", None))
            except InvalidMemoryError as exc:
                reject(str(exc))
                continue
            if op == "add":
                key = text.casefold()
                if key in shown_texts:
                    reject(f"duplicate of existing memory [{shown_texts[key]}]")
                    continue
                if key in added_texts:
                    reject("duplicate of an earlier add_memory call in this reply")
                    continue
                added_texts.add(key)
                plan.adds.append(
                    UserMemory(
                        memory_id=extraction_memory_id(prepared.scope, prepared.source, text),
                        memory=text,
                        topics=topics,
                        input=prepared.input_text or None,
                        user_id=prepared.scope.user_id,
                        agent_id=prepared.scope.agent_id,
                        team_id=prepared.scope.team_id,
                    )
                )
                continue
            alias = alias_of(getattr(parsed, "id", ""))
            target = prepared.aliases.get(alias)
            if target is None:
                n = len(prepared.aliases)
                shown = "none were shown" if n == 0 else "[1]" if n == 1 else f"[1] to [{n}]"
                reject(f"unknown memory id {getattr(parsed, 'id', '')!r}: the ids shown are {shown}")
                continue
            if alias in touched:
                reject(f"memory [{alias}] was already changed by an earlier call in this reply")
                continue
            touched.add(alias)
            if op == "delete":
                plan.deletes.append(target)
            elif text == target.memory and (topics is None or topics == target.topics):
                reject(f"update leaves memory [{alias}] unchanged")
            else:
                plan.updates.append((target, text, topics))
        for rej in result.rejected:
            logger.info("memory extraction rejected %s(%s): %s", rej.tool, rej.args, rej.reason)
        return plan

    def _apply(self, plan: _Plan, prepared: _Prepared, result: ExtractionResult) -> None:
        if plan.adds or plan.updates or plan.deletes:
            self._record(plan, self.store.apply_changes(**self._changes(plan, prepared)), result)

    async def _aapply(self, plan: _Plan, prepared: _Prepared, result: ExtractionResult) -> None:
        if plan.adds or plan.updates or plan.deletes:
            self._record(plan, await self.store.aapply_changes(**self._changes(plan, prepared)), result)

    @staticmethod
    def _changes(plan: _Plan, prepared: _Prepared) -> dict[str, Any]:
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
        }

    @staticmethod
    def _record(plan: _Plan, changes: ChangeSet, result: ExtractionResult) -> None:
        result.added.extend(changes.added)
        result.updated.extend(changes.updated)
        # Another writer deleted these after they were shown to the model.
        for memory_id in changes.missing_updates:
            result.rejected.append(_gone("update_memory", MemoryNotFoundError(memory_id, result.user_id)))
        gone = set(changes.missing_deletes)
        if gone:
            logger.info(
                "memory extraction deleted %d of %d memories",
                len(plan.deletes) - len(gone),
                len(plan.deletes),
            )
        result.deleted.extend(m for m in plan.deletes if m.memory_id not in gone)

    def _call_model(self, prompt: list[BaseMessage]) -> AIMessage:
        return call_model(self._bound, prompt, self.timeout)

    async def _acall_model(self, prompt: list[BaseMessage]) -> AIMessage:
        return await acall_model(self._bound, prompt, self.timeout)

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


def _gone(tool: str, exc: MemoryNotFoundError) -> RejectedCall:
    # Deleted by another writer after it was shown to the model.
    return RejectedCall(tool=tool, args={"memory_id": exc.memory_id}, reason=str(exc))
