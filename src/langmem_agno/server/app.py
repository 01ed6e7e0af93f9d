"""The FastAPI application: AgentOS's memory API, the browser page, the token and the bounds."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from langchain_core.language_models import BaseChatModel

from langmem_agno.errors import (
    InvalidMemoryError,
    LangmemAgnoError,
    MemoryNotFoundError,
    MissingUserIdError,
    StoreUnavailableError,
)
from langmem_agno.server.optimize_route import optimize_router
from langmem_agno.server.routes import MAX_PAGE_LIMIT, memory_router
from langmem_agno.server.security import DEFAULT_MAX_BODY_BYTES, BodyLimit, bearer_check, resolve_token
from langmem_agno.stores.base import MemoryStore

logger = logging.getLogger(__name__)

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


@cache
def _page() -> tuple[str, str]:
    """The page's HTML and its Content-Security-Policy.

    The policy allows exactly the page's own inline script and style (by hash) and requests to
    this origin: even if memory text ever reached the DOM as markup, no handler in it would run.
    """
    html = resources.files("langmem_agno.server").joinpath("page.html").read_text(encoding="utf-8")
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    policy = (
        "default-src 'none'; connect-src 'self'; img-src 'self' data:; "
        f"script-src {' '.join(hashes['script'])}; style-src {' '.join(hashes['style'])}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, policy


def create_app(
    store: MemoryStore,
    *,
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_limit: int = MAX_PAGE_LIMIT,
    model: BaseChatModel | str | None = None,
) -> FastAPI:
    """A FastAPI app serving AgentOS's memory routes over ``store``, and the memory page at ``/``.

    Args:
        store: Where the memories live; the app never closes it.
        token: The bearer token every API request must carry; ``$LANGMEM_AGNO_TOKEN`` when ``None``;
            no token at all when neither is set (fit for a loopback server only: :func:`serve`
            refuses any other host without one).
        cors_origins: Browser origins allowed to call the API (a control plane on another site);
            none by default.
        max_body_bytes: The largest request body accepted; a bigger one is a 413.
        max_limit: The largest page size a listing accepts.
        model: The chat model of ``POST /optimize-memories`` when a request names none (a model
            or its ``init_chat_model`` id); without it, each request must name one.

    Returns:
        The app, for uvicorn or any ASGI server.

    Raises:
        ConfigurationError: If the token is empty or holds whitespace.
    """
    resolved = resolve_token(token)
    app = FastAPI(
        title="langmem-agno memory server",
        summary="AgentOS's memory API over a langmem-agno store",
        version="1",
    )
    app.state.store = store
    app.include_router(
        memory_router(store, max_limit=max_limit), dependencies=[Depends(bearer_check(resolved))]
    )
    app.include_router(optimize_router(store, model=model), dependencies=[Depends(bearer_check(resolved))])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        # The page holds no data (it asks the API, with the token, for everything): no token needed.
        html, policy = _page()
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": policy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    _add_error_handlers(app)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Outermost, so an oversized body is refused before any other work.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Our errors as AgentOS's statuses; each message names the bad value."""

    def respond(status_code: int) -> object:
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            if status_code >= 500:
                logger.warning("%s %s failed: %s", request.method, request.url.path, exc)
            return JSONResponse({"detail": str(exc)}, status_code=status_code)

        return handler

    for error, code in (
        (MemoryNotFoundError, 404),
        (InvalidMemoryError, 422),
        (MissingUserIdError, 422),
        (StoreUnavailableError, 503),
        (LangmemAgnoError, 500),
    ):
        app.add_exception_handler(error, respond(code))  # type: ignore[arg-type]
