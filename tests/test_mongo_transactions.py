"""A MongoDB transaction gives up within the store's ``timeout_ms`` when the server dies under it.

PyMongo's ``with_transaction`` retries a transient failure (a server gone is one) for 120 seconds;
the store runs it under a client-side timeout of ``timeout_ms`` (and, for Motor, whose loop keeps
its own limit, a deadline of its own), so the caller hears ``StoreUnavailableError`` about then, on a
client the store opened or one it was given.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, MongoClient, monitoring
from secantus import SecantusDBServer

from langmem_agno import MemoryUpdate, MongoMemoryStore, StoreUnavailableError

TIMEOUT_MS = 1_000


class KillInTransaction(monitoring.CommandListener):
    """Stops the server as the first command inside a transaction is about to be sent."""

    def __init__(self, server: SecantusDBServer) -> None:
        self.server = server
        self.armed = False
        self.killed_at: float | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.armed and event.command.get("autocommit") is False:
            self.armed = False
            # stop() waits for the server's connection threads; run it beside this client thread.
            stopper = threading.Thread(target=self.server.stop)
            stopper.start()
            stopper.join(30)
            self.killed_at = time.monotonic()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize("known", [False, True], ids=["per-collection", "one-bulkWrite"])
@pytest.mark.parametrize("mode", ["sync", "async", "motor"])
async def test_a_server_killed_mid_transaction_fails_within_the_timeout(
    tmp_path: Path, mode: str, known: bool
) -> None:
    server = SecantusDBServer(storage_path=str(tmp_path / "db"))
    server.start()
    killer = KillInTransaction(server)
    # The client's own timeouts are PyMongo's defaults (30 s server selection): the store's
    # timeout_ms alone must bound the transaction.
    kind: Any = {"sync": MongoClient, "async": AsyncMongoClient, "motor": AsyncIOMotorClient}[mode]
    client: Any = kind(server.uri, event_listeners=[killer])
    store = (
        MongoMemoryStore(client=client, timeout_ms=TIMEOUT_MS)
        if mode == "sync"
        else MongoMemoryStore(async_client=client, timeout_ms=TIMEOUT_MS)
    )

    async def apply(**changes: Any) -> Any:
        if mode == "sync":
            return store.apply_changes(user_id="u1", **changes)
        return await store.aapply_changes(user_id="u1", **changes)

    try:
        tea, phone = (await apply(adds=["User likes tea", "User phone is 555-0100"])).added
        assert store._transactions  # the server runs transactions: the changes above were one
        killer.armed = True
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=r"MongoDB agno\.agno_memories"):
            await apply(
                adds=["User likes cake"],
                updates=[MemoryUpdate(tea.memory_id, memory="User likes green tea")],
                deletes=[phone.memory_id],
                # The memories as read: the set is one client-level bulkWrite (MongoDB 8.0+).
                before=[tea, phone] if known else [],
            )
        failed_at = time.monotonic()
        assert killer.killed_at is not None, "the transaction never started"
        # Measured from the kill, and from the call less the time the kill itself took.
        assert failed_at - killer.killed_at <= TIMEOUT_MS / 1000 + 1
        assert started <= killer.killed_at <= failed_at
    finally:
        if mode == "async":
            await client.close()
        else:
            client.close()
        server.stop()
