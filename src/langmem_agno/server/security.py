"""Who may call the server: the bearer token, loopback detection and the request size bound."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from langmem_agno.errors import ConfigurationError

#: The environment variable a token is read from when none is passed.
TOKEN_ENV = "LANGMEM_AGNO_TOKEN"
#: The largest request body accepted, in bytes: a memory is one fact, a bulk delete a list of ids.
DEFAULT_MAX_BODY_BYTES = 256 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def resolve_token(token: str | None) -> str | None:
    """The token to require: ``token``, else ``$LANGMEM_AGNO_TOKEN``, else ``None`` (no token).

    Raises:
        ConfigurationError: If the token is empty or holds whitespace (a header cannot carry it).
    """
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is not None and (not token.strip() or any(c.isspace() for c in token)):
        raise ConfigurationError(f"token must be non-empty with no whitespace, got {len(token)} characters")
    return token


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        # A host name other than localhost may resolve to any interface: treat it as public.
        return False


_BEARER = HTTPBearer(auto_error=False, description="The server's token (--token or $LANGMEM_AGNO_TOKEN)")


def bearer_check(token: str | None) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A FastAPI dependency refusing, with 401, a request whose bearer token is not ``token``.

    With ``token=None`` every request passes (a loopback server without a token).
    """
    expected = None if token is None else token.encode()

    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if expected is None:
            return
        given = b"" if credentials is None else credentials.credentials.encode()
        # compare_digest takes as long whatever the mismatch, so timing tells nothing about the token.
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="missing or wrong bearer token: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


class BodyLimit:
    """ASGI middleware answering 413 to a request body over ``max_bytes``.

    A declared ``Content-Length`` over the bound is refused before anything is read; any other body
    (chunked) is read, up to the bound, before the app sees it, and refused once it passes it. The
    app then reads the buffered body: FastAPI would turn an error raised while it reads into a 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, refusing an oversized request body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return message
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
