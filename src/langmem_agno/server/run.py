"""Running the server: :func:`serve` in the foreground, :class:`BackgroundServer` on a thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from types import TracebackType

import uvicorn
from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel

from langmem_agno.errors import ConfigurationError, StoreUnavailableError
from langmem_agno.server.app import create_app
from langmem_agno.server.security import TOKEN_ENV, is_loopback, resolve_token
from langmem_agno.stores.base import MemoryStore

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token.

    Raises:
        ConfigurationError: Naming ``host``, when it is not loopback and ``token`` is ``None``.
    """
    if token is None and not is_loopback(host):
        raise ConfigurationError(
            f"host {host!r} is reachable from other machines: pass a token (--token or ${TOKEN_ENV}) "
            "or listen on 127.0.0.1"
        )


def serve(
    store: MemoryStore,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    log_level: str = "info",
    model: BaseChatModel | str | None = None,
) -> None:
    """Serve the memory API and page over ``store`` until interrupted (Ctrl-C).

    Args:
        store: Where the memories live; not closed here.
        host: The address to listen on; anything but loopback needs a token.
        port: The port.
        token: The bearer token to require; ``$LANGMEM_AGNO_TOKEN`` when ``None``.
        cors_origins: Browser origins allowed to call the API.
        log_level: uvicorn's log level.
        model: The chat model of ``POST /optimize-memories`` when a request names none.

    Raises:
        ConfigurationError: If ``host`` is not loopback and there is no token, or the token is not valid.
    """
    resolved = resolve_token(token)
    check_exposure(host, resolved)
    app = create_app(store, token=resolved, cors_origins=cors_origins, model=model)
    logger.info("memory server on http://%s:%d/ (token %s)", host, port, "required" if resolved else "off")
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level)).run()


class BackgroundServer:
    """An app served by uvicorn on a thread of this process, for tests and notebooks.

    Example::

        with BackgroundServer(create_app(store)) as server:
            httpx.get(server.url + "/user_memory_stats")

    Args:
        app: The ASGI app.
        host: The address to listen on.
        port: The port; ``0`` (the default) picks a free one.
        start_timeout: Seconds to wait for the server to listen.
    """

    def __init__(
        self, app: FastAPI, *, host: str = DEFAULT_HOST, port: int = 0, start_timeout: float = 10.0
    ) -> None:
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="langmem-agno-server", daemon=True)
        self._host = host
        self._timeout = start_timeout
        self.port = port

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:53211``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Start serving and wait until the socket listens.

        Raises:
            StoreUnavailableError: If the server does not listen within ``start_timeout``.
        """
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise StoreUnavailableError(f"the server on {self._host}:{self.port} did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(self._timeout)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
