"""Whose memory is this? Resolving ``(user_id, agent_id, team_id)`` for a run.

The rules (first match wins, field by field):

1. an explicit argument;
2. LangGraph's runtime context (``graph.invoke(..., context=...)``), as an
   attribute or a key;
3. ``config["configurable"]`` (``user_id``, ``langgraph_user_id`` as LangMem names it, or
   ``langgraph_auth_user_id``, which the LangGraph Platform's custom auth sets);
4. the ``default_*`` the caller built the object with.

A language model never chooses the scope: nothing here reads tool arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from langmem_agno.checks import MAX_ID_CHARS, check_id, check_ids
from langmem_agno.errors import MissingUserIdError

if TYPE_CHECKING:
    # Only for annotations: the stores and the command line import this module, and
    # loading langchain-core for them would cost every CLI start about 170 ms.
    from langchain_core.runnables import RunnableConfig

__all__ = ["MAX_ID_CHARS", "MemoryScope", "ScopeKwargs", "check_id", "resolve_scope", "runtime_context"]

# LangGraph keeps the run's Runtime (and so its context) under this key of
# config["configurable"]; langgraph.runtime.get_runtime() reads the same key.
_RUNTIME_KEY = "__pregel_runtime"
_CONFIGURABLE_ALIASES: dict[str, tuple[str, ...]] = {
    # LangMem names the user langgraph_user_id; the LangGraph Platform's custom auth sets
    # langgraph_auth_user_id from the authenticated request.
    "user_id": ("user_id", "langgraph_user_id", "langgraph_auth_user_id"),
    "agent_id": ("agent_id", "langgraph_agent_id"),
    "team_id": ("team_id", "langgraph_team_id"),
}


class ScopeKwargs(TypedDict):
    """A scope as the keyword arguments every store method takes."""

    user_id: str
    agent_id: str | None
    team_id: str | None


@dataclass(frozen=True)
class MemoryScope:
    """The owner of a set of memories.

    Attributes:
        user_id: The user; every read and write is filtered by it.
        agent_id: The agent, or ``None`` for "any agent" on reads and "no agent" on writes.
        team_id: The team, likewise.
    """

    user_id: str
    agent_id: str | None = None
    team_id: str | None = None

    def __post_init__(self) -> None:
        check_id("user_id", self.user_id)
        check_ids(agent_id=self.agent_id, team_id=self.team_id)

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """``(user_id, agent_id, team_id)``, for dictionary keys and stable ids."""
        return (self.user_id, self.agent_id, self.team_id)

    def as_kwargs(self) -> ScopeKwargs:
        """The scope as ``user_id=..., agent_id=..., team_id=...`` keyword arguments."""
        return ScopeKwargs(user_id=self.user_id, agent_id=self.agent_id, team_id=self.team_id)


def _lookup(source: Any, key: str) -> Any:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(key)
    return getattr(source, key, None)


def runtime_context(config: RunnableConfig | None) -> Any:
    """Return the LangGraph runtime context of the run that ``config`` belongs to, if any."""
    if not config:
        return None
    runtime = (config.get("configurable") or {}).get(_RUNTIME_KEY)
    return getattr(runtime, "context", None)


def resolve_scope(
    config: RunnableConfig | None = None,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    team_id: str | None = None,
    context: Any = None,
    default_user_id: str | None = None,
    default_agent_id: str | None = None,
    default_team_id: str | None = None,
    where: str = "",
) -> MemoryScope:
    """Resolve the memory scope of a call.

    Args:
        config: The run's ``RunnableConfig``; its ``configurable`` and LangGraph runtime are read.
        user_id: An explicit user id; wins over everything else.
        agent_id: An explicit agent id.
        team_id: An explicit team id.
        context: A runtime context object or mapping (e.g. ``ToolRuntime.context``); when
            omitted, the one LangGraph put into ``config`` is used.
        default_user_id: Used when nothing else names a user.
        default_agent_id: Used when nothing else names an agent.
        default_team_id: Used when nothing else names a team.
        where: What is asking, for the error message.

    Returns:
        The scope.

    Raises:
        MissingUserIdError: If no user id is found anywhere.
    """
    if context is None:
        context = runtime_context(config)
    configurable: Mapping[str, Any] = (config or {}).get("configurable") or {}
    explicit = {"user_id": user_id, "agent_id": agent_id, "team_id": team_id}
    defaults = {"user_id": default_user_id, "agent_id": default_agent_id, "team_id": default_team_id}
    found: dict[str, Any] = {}
    for field, aliases in _CONFIGURABLE_ALIASES.items():
        value = explicit[field]
        if value is None:
            value = _lookup(context, field)
        if value is None:
            value = next((configurable[a] for a in aliases if configurable.get(a) is not None), None)
        if value is None:
            value = defaults[field]
        found[field] = value
    if found["user_id"] is None:
        raise MissingUserIdError(where)
    return MemoryScope(**found)
