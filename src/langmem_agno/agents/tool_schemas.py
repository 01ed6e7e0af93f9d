"""The arguments of the memory tools: what a model may send, and how a bad call is explained to it.

The ``*Call`` models are exactly what the model sees (strict-mode friendly: no
defaults, no extra keys, never the scope); the ``*Input`` models add the
``runtime`` that LangGraph's ``ToolNode`` injects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "DEFAULT_SEARCH_LIMIT",
    "MAX_SEARCH_LIMIT",
    "AddMemoryCall",
    "AddMemoryInput",
    "CallArgs",
    "DeleteMemoryCall",
    "DeleteMemoryInput",
    "SearchMemoriesCall",
    "SearchMemoriesInput",
    "UpdateMemoryCall",
    "UpdateMemoryInput",
    "describe_validation_error",
]

#: How many hits ``search_memories`` returns when the model passes no limit.
DEFAULT_SEARCH_LIMIT = 5
#: The most hits one ``search_memories`` call may ask for.
MAX_SEARCH_LIMIT = 20
_SCOPE_FIELDS = ("user_id", "agent_id", "team_id")


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    # The model must send every property (strict mode); a nullable type says
    # "may be null" already, and a `default` keyword is not in OpenAI's strict subset.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class CallArgs(BaseModel):
    """Base of what the model sends: no scope, no extra keys."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null_defaults)


_MEMORY_TEXT = Field(
    description="One fact about the user, in the third person, e.g. 'The user prefers email over calls'."
)
_TOPICS = Field(
    default=None,
    description="A few short lowercase tags for the fact, e.g. ['contact', 'work']; null for none.",
)
_MEMORY_ID = Field(description="The id of an existing memory, as returned by search_memories or add_memory.")


class AddMemoryCall(CallArgs):
    """Arguments of ``add_memory`` as the model sees them."""

    memory: str = _MEMORY_TEXT
    topics: list[str] | None = _TOPICS


class UpdateMemoryCall(CallArgs):
    """Arguments of ``update_memory`` as the model sees them."""

    memory_id: str = _MEMORY_ID
    memory: str = Field(description="The full new text of the memory, replacing the old text.")
    topics: list[str] | None = Field(
        default=None, description="New tags replacing the old ones; null keeps the current tags."
    )


class DeleteMemoryCall(CallArgs):
    """Arguments of ``delete_memory`` as the model sees them."""

    memory_id: str = _MEMORY_ID


class SearchMemoriesCall(CallArgs):
    """Arguments of ``search_memories`` as the model sees them."""

    query: str = Field(description="Words to look for in the user's memories, e.g. 'email phone contact'.")
    limit: int | None = Field(
        default=None,
        description=f"How many memories to return, 1 to {MAX_SEARCH_LIMIT}; null for {DEFAULT_SEARCH_LIMIT}.",
    )


# The full input schemas add `runtime`: LangGraph's ToolNode fills a field of
# that name with the run's ToolRuntime and strips any value the model sent for
# it. InjectedToolArg keeps it out of every schema a model sees.
_Runtime = Annotated[Any, InjectedToolArg()]


class AddMemoryInput(AddMemoryCall):
    """Full input of ``add_memory``: the model's arguments plus the injected runtime."""

    runtime: _Runtime = None


class UpdateMemoryInput(UpdateMemoryCall):
    """Full input of ``update_memory``: the model's arguments plus the injected runtime."""

    runtime: _Runtime = None


class DeleteMemoryInput(DeleteMemoryCall):
    """Full input of ``delete_memory``: the model's arguments plus the injected runtime."""

    runtime: _Runtime = None


class SearchMemoriesInput(SearchMemoriesCall):
    """Full input of ``search_memories``: the model's arguments plus the injected runtime."""

    runtime: _Runtime = None


def describe_validation_error(error: ValidationError, *, tool: str, arguments: Sequence[str]) -> str:
    """Turn a Pydantic error on a tool call into a message a model can act on.

    Args:
        error: The validation error of the tool's arguments.
        tool: The tool's name.
        arguments: The arguments the tool takes.

    Returns:
        One line per problem, naming the argument and the bad value.
    """
    problems: list[str] = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "arguments"
        if item["type"] == "extra_forbidden":
            why = "unexpected argument"
            if name in _SCOPE_FIELDS:
                why += " (the user, agent and team are set by the application, never by a tool call)"
            problems.append(f"{name}: {why}")
        elif item["type"] == "missing":
            problems.append(f"{name}: required argument missing")
        else:
            problems.append(f"{name}: {item['msg']}, got {item.get('input')!r:.80}")
    takes = ", ".join(arguments)
    details = "; ".join(problems)
    return f"Error: invalid arguments for {tool} ({details}). It takes: {takes}. Nothing was changed."
