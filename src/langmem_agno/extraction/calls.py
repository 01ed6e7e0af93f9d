"""The extraction model's side: the tools it is offered, their validation, and the one model call.

The tool schemas are the *proposals* the model may make about the memories shown
to it (by their ``[n]`` aliases); they are not the agent's memory tools of
:mod:`langmem_agno.agents.tools`, which take real memory ids.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from langmem_agno.errors import ExtractionError

__all__ = [
    "SCHEMAS",
    "TOOL_NAMES",
    "ProposedAdd",
    "ProposedDelete",
    "ProposedUpdate",
    "acall_model",
    "alias_of",
    "call_model",
    "describe_errors",
]


class ProposedAdd(BaseModel):
    """Store a new fact about the user."""

    model_config = ConfigDict(title="add_memory")

    memory: str = Field(description="The fact, one short sentence in the third person.")
    topics: list[str] | None = Field(default=None, description="Short lowercase tags, e.g. ['contact'].")


class _TargetsShownMemory(BaseModel):
    id: str = Field(description="The id shown in brackets before the memory, e.g. '1' for [1].")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # Models often send the alias as a number.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ProposedUpdate(_TargetsShownMemory):
    """Replace the text (and optionally the topics) of an existing memory."""

    model_config = ConfigDict(title="update_memory")

    memory: str = Field(description="The full new text of the fact.")
    topics: list[str] | None = Field(default=None, description="New tags; omit to keep the current ones.")


class ProposedDelete(_TargetsShownMemory):
    """Delete an existing memory that is wrong or no longer true."""

    model_config = ConfigDict(title="delete_memory")


SCHEMAS: dict[str, type[BaseModel]] = {
    "add": ProposedAdd,
    "update": ProposedUpdate,
    "delete": ProposedDelete,
}
TOOL_NAMES = {"add": "add_memory", "update": "update_memory", "delete": "delete_memory"}


def alias_of(raw: str) -> str:
    """The alias a model gave (``'[3]'``, ``'#3'``, ``' 3 '``), as shown: ``'3'``."""
    return raw.strip().strip("[]#").strip()


def describe_errors(exc: ValidationError) -> str:
    """A tool call's validation errors in one line, for the rejection reason."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{loc}: {err['msg'].lower()}")
    return "; ".join(parts)


# "nostream" keeps the extraction's tool calls out of a graph's stream_mode="messages" output.
_MODEL_CONFIG: RunnableConfig = {"run_name": "memory_extraction", "tags": ["nostream", "langmem_agno"]}


def _as_ai_message(value: object) -> AIMessage:
    if not isinstance(value, AIMessage):
        raise ExtractionError(f"the extraction model returned {type(value).__name__}, not an AIMessage")
    return value


def call_model(bound: Runnable[Any, Any], prompt: list[BaseMessage], timeout: float | None) -> AIMessage:
    """Call the extraction model (tools bound) once, giving up after ``timeout`` seconds."""
    if timeout is None:
        return _as_ai_message(bound.invoke(prompt, config=_MODEL_CONFIG))
    # A daemon thread, so a model that never answers cannot hold the interpreter at exit;
    # the copied context keeps tracing callbacks attached to the caller's run.
    ctx = contextvars.copy_context()
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = ctx.run(bound.invoke, prompt, _MODEL_CONFIG)
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="langmem-agno-extraction", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"the extraction model did not answer within {timeout} s")
    if "error" in box:
        raise box["error"]
    return _as_ai_message(box["value"])


async def acall_model(
    bound: Runnable[Any, Any], prompt: list[BaseMessage], timeout: float | None
) -> AIMessage:
    """Async twin of :func:`call_model`."""
    call = bound.ainvoke(prompt, config=_MODEL_CONFIG)
    if timeout is None:
        return _as_ai_message(await call)
    try:
        return _as_ai_message(await asyncio.wait_for(call, timeout))
    except TimeoutError as exc:
        raise TimeoutError(f"the extraction model did not answer within {timeout} s") from exc
