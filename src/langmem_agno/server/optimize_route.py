"""AgentOS's ``POST /optimize-memories`` over one store, served by :meth:`MemoryManager.optimize`.

The request and response are AgentOS's (``agno/os/routers/memory``: ``user_id``, ``model`` as
``provider:model_id``, ``apply``; the optimised memories, counts and tokens before and after), and
so is the default strategy, ``"summarize"``. We add an optional ``strategy`` (``"merge"`` keeps
distinct facts apart) and refuse unknown fields. The token counts are estimates from the
characters (see :func:`~langmem_agno.extraction.optimize_result.estimate_tokens`), where AgentOS
runs a tokeniser. A server started without a model answers a request that names none with a 400
saying so.
"""

# No `from __future__ import annotations`: FastAPI reads the handler's annotations at runtime.
import importlib
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from langmem_agno.errors import ConfigurationError
from langmem_agno.server.schemas import MemoryOut
from langmem_agno.stores.base import MemoryStore

__all__ = ["OptimizeRequest", "OptimizeResponse", "optimize_router"]


class OptimizeRequest(BaseModel):
    """AgentOS's ``OptimizeMemoriesRequest``, plus the strategy."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(description="The user whose memories are optimised")
    model: str | None = Field(
        default=None,
        description="The model as 'provider:model_id', e.g. 'openai:gpt-4o-mini' (default: the server's)",
    )
    apply: bool = Field(default=True, description="Write the changes; false: a preview, nothing written")
    strategy: Literal["merge", "summarize"] = Field(
        default="summarize",
        description="summarize (AgentOS's): all into one memory; merge: only duplicates and contradictions",
    )


class OptimizeResponse(BaseModel):
    """AgentOS's ``OptimizeMemoriesResponse``."""

    memories: list[MemoryOut]
    memories_before: int = Field(ge=0)
    memories_after: int = Field(ge=0)
    tokens_before: int = Field(ge=0)
    tokens_after: int = Field(ge=0)
    tokens_saved: int = Field(ge=0)
    reduction_percentage: float = Field(ge=0.0, le=100.0)


def _manager_module() -> Any:
    # By name, like the command line: extraction is loaded by the routes that use it.
    return importlib.import_module("langmem_agno.extraction.manager")


def optimize_router(store: MemoryStore, *, model: BaseChatModel | str | None = None) -> APIRouter:
    """The ``/optimize-memories`` route over ``store``.

    Args:
        store: Where the memories live.
        model: The chat model a request that names none uses (a model or its
            ``init_chat_model`` id); ``None``: every request must name one.

    Returns:
        A router to include in the app, under the same dependencies (the token) as the others.
    """
    router = APIRouter(tags=["Memory"])
    default: list[Any] = []  # the server's manager, built on first use
    lock = threading.Lock()

    def build(chosen: BaseChatModel | str) -> Any:
        try:
            return _manager_module().MemoryManager(chosen, store)
        except ConfigurationError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    def manager_for(spec: str | None) -> Any:
        if spec is not None:
            # A model the request names is built for it alone: nothing grows with the names sent.
            return build(spec)
        if model is None:
            raise HTTPException(
                status_code=400,
                detail="this server has no model for optimisation: name one in the request's 'model' "
                "(e.g. 'openai:gpt-4o-mini') or start the server with --model",
            )
        with lock:
            if not default:
                default.append(build(model))
            return default[0]

    @router.post(
        "/optimize-memories",
        response_model=OptimizeResponse,
        operation_id="optimize_memories",
        summary="Optimize User Memories",
    )
    def optimize_memories(request: Annotated[OptimizeRequest, Body()]) -> OptimizeResponse:
        """Fold one user's memories into fewer (all into one by default); ``apply=false`` previews."""
        manager = manager_for(request.model)
        if not store.list_memories(user_id=request.user_id, limit=1).items:
            raise HTTPException(status_code=404, detail=f"no memories found for user {request.user_id!r}")
        preview = not request.apply
        result = manager.optimize(user_id=request.user_id, strategy=request.strategy, preview=preview)
        saved = max(result.tokens_before - result.tokens_after, 0)
        before = result.tokens_before
        return OptimizeResponse(
            memories=[MemoryOut.of(m) for m in result.memories],
            memories_before=result.memories_before,
            memories_after=result.memories_after,
            tokens_before=result.tokens_before,
            tokens_after=result.tokens_after,
            tokens_saved=saved,
            reduction_percentage=round(100.0 * saved / before, 2) if before else 0.0,
        )

    return router
