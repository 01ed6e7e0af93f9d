"""Agentic memory: tools an agent calls to remember, change, forget and look up facts.

This is Agno's ``enable_agentic_memory=True`` for LangChain and LangGraph: the
agent decides when to write, through four :class:`~langchain_core.tools.BaseTool`
subclasses over one :class:`~langmem_agno.stores.base.MemoryStore`.

Whose memories a call touches is never an argument the model fills in. It is
resolved for every call from the run (see :func:`langmem_agno.scope.resolve_scope`):
the ``ToolRuntime`` that LangGraph's ``ToolNode`` injects, LangGraph's runtime
context, or ``config["configurable"]``. The tools hold no per-user state, so one
tool list serves any number of users at once. With ``private_to_agent``, search,
update and delete also see only the memories of the run's agent (and team), so
another agent's memory id behaves exactly like an unknown one. A bad call (unknown id, another
user's id, empty or over-long text, wrong types, an extra ``user_id`` argument)
comes back to the model as a tool error message it can act on, and changes nothing.
"""

from __future__ import annotations

import functools
import logging
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools.base import ArgsSchema
from langgraph.prebuilt import ToolRuntime
from pydantic import StrictBool, ValidationError

from langmem_agno.agents.tool_schemas import (
    DEFAULT_SEARCH_LIMIT,
    MAX_SEARCH_LIMIT,
    AddMemoryCall,
    AddMemoryInput,
    CallArgs,
    DeleteMemoryCall,
    DeleteMemoryInput,
    SearchMemoriesCall,
    SearchMemoriesInput,
    UpdateMemoryCall,
    UpdateMemoryInput,
    describe_validation_error,
)
from langmem_agno.checks import check_ids, check_int, options_error
from langmem_agno.errors import (
    ConfigurationError,
    InvalidMemoryError,
    MemoryNotFoundError,
    StoreUnavailableError,
)
from langmem_agno.extraction.duplicates import AddOutcome, add_unless_duplicate
from langmem_agno.record import UserMemory, normalize_topics
from langmem_agno.scope import MemoryScope, check_id, resolve_scope
from langmem_agno.stores.base import MemoryStore, ScoredMemory
from langmem_agno.stores.history import recording
from langmem_agno.twins import Call, twin

__all__ = [
    "ALL_ACTIONS",
    "DEFAULT_SEARCH_LIMIT",
    "MAX_SEARCH_LIMIT",
    "AddMemoryCall",
    "AddMemoryInput",
    "AddMemoryTool",
    "DeleteMemoryCall",
    "DeleteMemoryInput",
    "DeleteMemoryTool",
    "MemoryTool",
    "SearchMemoriesCall",
    "SearchMemoriesInput",
    "SearchMemoriesTool",
    "ToolAction",
    "UpdateMemoryCall",
    "UpdateMemoryInput",
    "UpdateMemoryTool",
    "create_memory_tools",
    "describe_validation_error",
]

# The name this module logged under before it moved: logging configurations name it.
logger = logging.getLogger("langmem_agno.tools")

ToolAction = Literal["add", "update", "delete", "search"]
#: Every action, in the order the tools are returned.
ALL_ACTIONS: tuple[ToolAction, ...] = ("add", "update", "delete", "search")
# OpenAI's rule for function names; other providers accept a superset.
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _stored(verb: str, memory: UserMemory) -> tuple[str, Any]:
    """The model's view of a memory just written, and the full record as the artifact."""
    return (
        f"Memory {verb} (id: {memory.memory_id}): {memory.memory}{_topics_text(memory.topics)}",
        memory.model_dump(),
    )


def _topics_text(topics: Sequence[str] | None) -> str:
    return f" [topics: {', '.join(topics)}]" if topics else ""


class MemoryTool(BaseTool):
    """Base of the memory tools: the store, the fixed parts of the scope, and error handling.

    Subclasses check the model's arguments and bind the store method a call runs,
    with its async twin, in :meth:`_call` (a :func:`~langmem_agno.twins.twin` pair),
    and word the result in :meth:`_render`. Running a call is written once, here,
    for both paths.

    Args:
        store: Where the memories live.
        default_user_id: The user when the run names none; without it a run with no
            user id raises :class:`~langmem_agno.errors.MissingUserIdError`.
        agent_id: The agent these tools write for (stored on new memories).
        team_id: The team these tools write for (stored on new memories).
        max_memory_chars: The longest memory text accepted; ``None`` for the store's limit.
        private_to_agent: Whether search, update and delete see only the memories of the
            run's agent and team (the scope's ``agent_id`` / ``team_id``, from these options
            or the run). ``False`` (the default): every memory of the user. ``True``: only the
            scope's agent and team; a run whose scope names neither raises ``ValueError``
            rather than silently widening to every agent. ``None``: only the scope's agent
            and team when it names one, every memory of the user otherwise (how recall filters).
    """

    store: MemoryStore
    default_user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    max_memory_chars: int | None = None
    private_to_agent: StrictBool | None = False
    handle_tool_error: bool | str | None = True
    # True means "answer the model with describe_validation_error"; False re-raises.
    handle_validation_error: bool | str | Callable[[ValidationError], str] | None = True  # type: ignore[assignment]
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    #: The arguments the model sees (no injected runtime, no scope).
    call_schema: ClassVar[type[CallArgs]]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # Bad options are a ConfigurationError, as from every constructor of the library.
            raise options_error(type(self).__name__, exc) from exc

    def model_post_init(self, context: Any) -> None:
        """Check the options and install the validation-error wording."""
        super().model_post_init(context)
        check_ids(default_user_id=self.default_user_id, agent_id=self.agent_id, team_id=self.team_id)
        if self.max_memory_chars is not None:
            check_int("max_memory_chars", self.max_memory_chars)
        if self.handle_validation_error is True:
            self.handle_validation_error = functools.partial(
                describe_validation_error, tool=self.name, arguments=tuple(self.call_schema.model_fields)
            )

    @property
    def tool_call_schema(self) -> ArgsSchema:
        """The argument schema the model sees: strict, with no scope and no runtime."""
        return self.call_schema

    # ------------------------------------------------------------ one call
    def _scope(self, runtime: object, config: RunnableConfig) -> MemoryScope:
        # Only a real ToolRuntime counts: ToolNode builds it, a model cannot.
        context = runtime.context if isinstance(runtime, ToolRuntime) else None
        return resolve_scope(
            config,
            context=context,
            agent_id=self.agent_id,
            team_id=self.team_id,
            default_user_id=self.default_user_id,
            where=f"tool {self.name!r}",
        )

    def _owner(self, scope: MemoryScope) -> dict[str, Any]:
        """The store filter of a read or a change: the user, plus the agent and team when private."""
        owner: dict[str, Any] = {"user_id": scope.user_id}
        if self.private_to_agent is False:
            return owner
        if self.private_to_agent is True and scope.agent_id is None and scope.team_id is None:
            # A configuration error for the developer, not a tool error for the model.
            raise ConfigurationError(
                f"tool {self.name!r} is private_to_agent=True but the run names no agent_id or team_id; "
                "pass agent_id= to create_memory_tools, or agent_id in the run's context or "
                'config["configurable"]'
            )
        owner["agent_id"] = scope.agent_id
        owner["team_id"] = scope.team_id
        return owner

    def _text(self, memory: object) -> str:
        return self.store.check_text(memory, max_chars=self.max_memory_chars)

    @abstractmethod
    def _call(self, scope: MemoryScope, arguments: dict[str, Any]) -> Call[Any]:
        """Check the model's arguments; return the store call they ask for, in both styles."""

    @abstractmethod
    def _render(self, arguments: dict[str, Any], result: Any) -> tuple[str, Any]:
        """Word the store's answer for the model; return ``(content, artifact)``."""

    @contextmanager
    def _tool_errors(self) -> Iterator[None]:
        try:
            yield
        except MemoryNotFoundError as exc:
            raise self._not_found(exc.memory_id) from None
        except InvalidMemoryError as exc:
            raise ToolException(f"Error in {self.name}: {exc}. Nothing was changed.") from exc
        except StoreUnavailableError as exc:
            logger.warning("memory tool %s: store unavailable: %s", self.name, exc)
            # No "nothing was changed" here: a write may have landed before the connection failed.
            raise ToolException(
                f"Error in {self.name}: the memory store is unavailable right now; try again later."
            ) from exc

    def _not_found(self, memory_id: str) -> ToolException:
        # Worded the same whether the id is unknown or another user's, and
        # without the user id: the model learns nothing about anyone's scope.
        return ToolException(
            f"Error in {self.name}: no memory with id {memory_id!r}. "
            "Search the memories to find the right id. Nothing was changed."
        )

    def _run(self, *, config: RunnableConfig, runtime: object = None, **arguments: Any) -> tuple[str, Any]:
        with self._tool_errors(), recording("tool"):
            return self._render(arguments, self._call(self._scope(runtime, config), arguments).run())

    async def _arun(
        self, *, config: RunnableConfig, runtime: object = None, **arguments: Any
    ) -> tuple[str, Any]:
        with self._tool_errors(), recording("tool"):
            call = self._call(self._scope(runtime, config), arguments)
            return self._render(arguments, await call.arun())


class AddMemoryTool(MemoryTool):
    """``add_memory(memory, topics=None)``: store one new fact about the user."""

    name: str = "add_memory"
    description: str = (
        "Save one new lasting fact about the user (a preference, a plan, a detail of their life or work) "
        "to long-term memory, for future conversations. One fact per call, in the third person. "
        "If a stored memory already says something similar, update it instead of adding a duplicate. "
        "Returns the new memory's id."
    )
    args_schema: ArgsSchema | None = AddMemoryInput
    call_schema: ClassVar[type[CallArgs]] = AddMemoryCall

    def _call(self, scope: MemoryScope, arguments: dict[str, Any]) -> Call[AddOutcome]:
        text = self._text(arguments["memory"])
        topics = normalize_topics(arguments.get("topics"))
        try:
            owner = self._owner(scope)
        except ConfigurationError:
            # Private tools in a run naming no agent: no filter can mean "only agent-less memories",
            # and comparing with every agent's would tell this one another agent's ids. Plain add.
            owner = None
        if owner is None:
            add = twin(self.store.add, self.store.aadd)(text, **scope.as_kwargs(), topics=topics)
            return Call(lambda: AddOutcome(add.run(), False), lambda: _added(add))
        return add_unless_duplicate(self.store, text, owner=owner, scope=scope.as_kwargs(), topics=topics)

    def _render(self, arguments: dict[str, Any], result: AddOutcome) -> tuple[str, Any]:
        if not result.duplicate:
            return _stored("added", result.memory)
        existing = result.memory
        return (
            f"Memory not added: it duplicates the stored memory (id: {existing.memory_id}): "
            f"{existing.memory}{_topics_text(existing.topics)}. To change that memory, update it by its id.",
            {**existing.model_dump(), "duplicate_of": existing.memory_id},
        )


async def _added(add: Call[UserMemory]) -> AddOutcome:
    return AddOutcome(await add.arun(), False)


class UpdateMemoryTool(MemoryTool):
    """``update_memory(memory_id, memory, topics=None)``: replace the text of one stored fact."""

    name: str = "update_memory"
    description: str = (
        "Change a stored memory when the fact it records has changed or was wrong: give its id and the "
        "full new text (and new tags, or null to keep them). Find the id with search_memories first."
    )
    args_schema: ArgsSchema | None = UpdateMemoryInput
    call_schema: ClassVar[type[CallArgs]] = UpdateMemoryCall

    def _call(self, scope: MemoryScope, arguments: dict[str, Any]) -> Call[UserMemory]:
        memory_id = check_id("memory_id", arguments["memory_id"])
        text = self._text(arguments["memory"])
        topics = normalize_topics(arguments.get("topics"))
        update = twin(self.store.update, self.store.aupdate)
        return update(memory_id, **self._owner(scope), memory=text, topics=topics)

    def _render(self, arguments: dict[str, Any], result: UserMemory) -> tuple[str, Any]:
        return _stored("updated", result)


class DeleteMemoryTool(MemoryTool):
    """``delete_memory(memory_id)``: forget one stored fact."""

    name: str = "delete_memory"
    description: str = (
        "Delete a stored memory by id, when the user asks to forget something or a stored fact is no "
        "longer true at all. Find the id with search_memories first."
    )
    args_schema: ArgsSchema | None = DeleteMemoryInput
    call_schema: ClassVar[type[CallArgs]] = DeleteMemoryCall

    def _call(self, scope: MemoryScope, arguments: dict[str, Any]) -> Call[bool]:
        memory_id = check_id("memory_id", arguments["memory_id"])
        return twin(self.store.delete, self.store.adelete)(memory_id, **self._owner(scope))

    def _render(self, arguments: dict[str, Any], result: bool) -> tuple[str, Any]:
        memory_id = arguments["memory_id"]
        if not result:
            raise self._not_found(memory_id)
        return f"Memory deleted (id: {memory_id}).", {"memory_id": memory_id, "deleted": True}


class SearchMemoriesTool(MemoryTool):
    """``search_memories(query, limit=None)``: find the user's memories by words."""

    name: str = "search_memories"
    description: str = (
        "Search the user's long-term memories by words. Returns the best matches, each with its id, "
        "text and topics. Use it to recall what you know about the user, and to find the id of a "
        "memory before updating or deleting it."
    )
    args_schema: ArgsSchema | None = SearchMemoriesInput
    call_schema: ClassVar[type[CallArgs]] = SearchMemoriesCall
    default_limit: int = DEFAULT_SEARCH_LIMIT
    max_limit: int = MAX_SEARCH_LIMIT

    def model_post_init(self, context: Any) -> None:
        """Check the limits."""
        super().model_post_init(context)
        check_int("default_limit", self.default_limit)
        check_int("max_limit", self.max_limit)
        if self.default_limit > self.max_limit:
            raise ConfigurationError(
                f"default_limit {self.default_limit} is above max_limit {self.max_limit}"
            )

    def _call(self, scope: MemoryScope, arguments: dict[str, Any]) -> Call[list[ScoredMemory]]:
        query = arguments["query"]
        if not query.strip() or not re.search(r"\w", query):
            raise InvalidMemoryError(f"the query has no words to search for: {query!r:.80}")
        limit = arguments.get("limit")
        if limit is None:
            limit = self.default_limit
        if not 1 <= limit <= self.max_limit:
            raise InvalidMemoryError(f"limit must be between 1 and {self.max_limit}, got {limit}")
        return twin(self.store.search, self.store.asearch)(query, **self._owner(scope), limit=limit)

    def _render(self, arguments: dict[str, Any], result: list[ScoredMemory]) -> tuple[str, Any]:
        query = arguments["query"]
        if not result:
            return f"No memories match {query!r}.", []
        found = "1 memory matches" if len(result) == 1 else f"{len(result)} memories match"
        lines = [f"{found} {query!r}, best first:"]
        for hit in result:
            mem = hit.memory
            lines.append(f"- id: {mem.memory_id} | {mem.memory}{_topics_text(mem.topics)}")
        artifact = [{**hit.memory.model_dump(), "score": hit.score} for hit in result]
        return "\n".join(lines), artifact


_TOOL_CLASSES: dict[ToolAction, type[MemoryTool]] = {
    "add": AddMemoryTool,
    "update": UpdateMemoryTool,
    "delete": DeleteMemoryTool,
    "search": SearchMemoriesTool,
}


def _check_action_keys(option: str, mapping: Mapping[Any, object]) -> None:
    for key, value in mapping.items():
        if key not in _TOOL_CLASSES:
            raise ConfigurationError(
                f"{option} has unknown action {key!r}; the actions are {list(ALL_ACTIONS)}"
            )
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{option}[{key!r}] must be a non-empty string, got {value!r}")


def create_memory_tools(
    store: MemoryStore,
    *,
    include: Sequence[ToolAction] = ALL_ACTIONS,
    names: Mapping[ToolAction, str] | None = None,
    descriptions: Mapping[ToolAction, str] | None = None,
    default_user_id: str | None = None,
    agent_id: str | None = None,
    team_id: str | None = None,
    max_memory_chars: int | None = None,
    default_search_limit: int = DEFAULT_SEARCH_LIMIT,
    max_search_limit: int = MAX_SEARCH_LIMIT,
    private_to_agent: bool | None = False,
) -> list[BaseTool]:
    """Build the memory tools for an agent: one list serves every user of the agent.

    The user (and agent, team) of each call comes from the run, never from the
    model: pass it as ``context=`` to a LangGraph graph or ``create_agent`` agent,
    or as ``config={"configurable": {"user_id": ...}}``.

    Args:
        store: Where the memories live.
        include: Which actions the agent may take, among ``"add"``, ``"update"``,
            ``"delete"``, ``"search"``; the tools come back in this order.
        names: New tool names by action, e.g. ``{"add": "remember"}``.
        descriptions: New tool descriptions by action.
        default_user_id: The user when a run names none (single-user apps).
        agent_id: The agent writing; stored on memories the tools add.
        team_id: The team writing; stored on memories the tools add.
        max_memory_chars: The longest memory text the tools accept; ``None`` for the store's limit.
        default_search_limit: Hits returned when the model passes no limit.
        max_search_limit: The most hits the model may ask for.
        private_to_agent: Search, update and delete only the memories of the run's agent
            and team, so one agent never reads or changes another agent's memories of the
            same user. ``True`` requires the run (or ``agent_id`` / ``team_id`` here) to name
            an agent or team; ``None`` applies the filter only when it does; ``False`` (the
            default) shares every memory of the user among all agents, as Agno does.

    Returns:
        The tools, ready for ``create_agent(model, tools=...)`` or ``ToolNode(...)``.

    Raises:
        ValueError: If an action, name, limit or ``private_to_agent`` is not valid.

    Example:
        >>> from langmem_agno import SQLiteMemoryStore
        >>> tools = create_memory_tools(SQLiteMemoryStore(":memory:"))
        >>> [t.name for t in tools]
        ['add_memory', 'update_memory', 'delete_memory', 'search_memories']
    """
    if isinstance(include, str) or not isinstance(include, Sequence):
        raise ConfigurationError(f"include must be a list of actions, got {include!r}")
    names = dict(names or {})
    descriptions = dict(descriptions or {})
    _check_action_keys("include", {a: a for a in include})
    _check_action_keys("names", names)
    _check_action_keys("descriptions", descriptions)
    if len(set(include)) != len(include):
        raise ConfigurationError(f"include names an action twice: {list(include)!r}")
    tools: list[BaseTool] = []
    for action in include:
        cls = _TOOL_CLASSES[action]
        overrides: dict[str, Any] = {}
        if action in names:
            if not _TOOL_NAME.match(names[action]):
                raise ConfigurationError(f"tool name {names[action]!r} must match {_TOOL_NAME.pattern}")
            overrides["name"] = names[action]
        if action in descriptions:
            overrides["description"] = descriptions[action]
        if action == "search":
            overrides["default_limit"] = default_search_limit
            overrides["max_limit"] = max_search_limit
        tools.append(
            cls(
                store=store,
                default_user_id=default_user_id,
                agent_id=agent_id,
                team_id=team_id,
                max_memory_chars=max_memory_chars,
                private_to_agent=private_to_agent,
                **overrides,
            )
        )
    taken = [t.name for t in tools]
    if len(set(taken)) != len(taken):
        raise ConfigurationError(f"two tools would share a name: {taken!r}")
    return tools
