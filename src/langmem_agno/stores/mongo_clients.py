"""The async MongoDB clients a store opens itself: one per event loop, each closed with its loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any

# The store's logger: these warnings were logged under it before this module existed.
logger = logging.getLogger("langmem_agno.stores.mongo")


def _bound_to_another_loop(exc: RuntimeError) -> bool:
    # PyMongo says "Cannot use AsyncMongoClient in different event loop"; Motor and
    # asyncio say a future or lock is "attached to" / "bound to a different event loop".
    return "different event loop" in str(exc) or "different loop" in str(exc)


class _LoopClients:
    """The ``AsyncMongoClient`` objects a store opened itself: one per event loop.

    PyMongo binds an async client to the loop it first runs on, so a store used
    from several ``asyncio.run`` calls needs one client per loop. Each client is
    closed while its loop can still do I/O: a parked async generator holds it,
    and the loop's ``shutdown_asyncgens`` (run by ``asyncio.run`` and
    ``asyncio.Runner`` before closing the loop) finalizes the generator.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._open: dict[asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]] = {}

    def current(self) -> Any:
        """Return the client for the running loop, opening it on first use there."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._open.get(loop)
            if entry is None:
                self._forget_dead_loops()
                client = self._make()
                closer = self._close_at_loop_end(loop, client)
                self._open[loop] = entry = (client, closer)
                # Run the generator to its yield now, so the loop registers it (its
                # firstiter hook); nothing before that yield awaits.
                with contextlib.suppress(StopIteration):
                    closer.asend(None).send(None)
            return entry[0]

    def clients(self) -> list[Any]:
        """Return the clients not yet closed (or not yet scheduled to close)."""
        return [client for client, _ in self._open.values()]

    async def _close_at_loop_end(
        self, loop: asyncio.AbstractEventLoop, client: Any
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                if self._open.get(loop, (None,))[0] is client:
                    del self._open[loop]
            try:
                await client.close()
            except Exception:  # a close that fails must not break the loop's shutdown
                logger.warning("closing an AsyncMongoClient failed", exc_info=True)

    def _forget_dead_loops(self) -> None:
        # A loop closed without shutdown_asyncgens (a bare loop.close()) took its
        # client's sockets with it: nothing can close that client any more.
        for loop in [lp for lp in self._open if lp.is_closed()]:
            del self._open[loop]
            logger.warning("an AsyncMongoClient outlived its event loop, closed without shutdown_asyncgens")

    def close(self) -> None:
        """Close every client whose loop is idle now, and schedule the close on running loops."""
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        closing: list[tuple[asyncio.AbstractEventLoop, AsyncGenerator[None, None]]] = []
        with self._lock:
            self._forget_dead_loops()
            for loop, (_, closer) in list(self._open.items()):
                if loop.is_running() or here is None:
                    del self._open[loop]
                    closing.append((loop, closer))
                else:
                    # run_until_complete cannot run inside another running loop: the client
                    # stays registered, for a later close() or its loop's shutdown.
                    logger.warning("an AsyncMongoClient on an idle event loop is left for that loop to close")
        for loop, closer in closing:
            if loop.is_running():
                # Its loop is busy (this thread's or another's): the close runs there, soon.
                asyncio.run_coroutine_threadsafe(closer.aclose(), loop)
            else:
                loop.run_until_complete(closer.aclose())

    async def aclose(self) -> None:
        """Close every client: the running loop's here, the others as :meth:`close` does."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._open.pop(loop, None)
        if entry is not None:
            await entry[1].aclose()
        self.close()


class _FirstLoop:
    """The event loop a client passed to a store was first used on: the one it is bound to.

    PyMongo's async client refuses another loop before sending anything; Motor runs the
    operation on a thread and fails only when the result reaches the wrong loop, after a
    write has landed. Checking here refuses both before any I/O.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise ``RuntimeError`` when called on another running loop than the first one."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: nothing is sent from here, the caller only builds a collection
        with self._lock:
            if self._loop is None:
                self._loop = loop
            elif self._loop is not loop:
                raise RuntimeError("the async client is bound to a different event loop")
