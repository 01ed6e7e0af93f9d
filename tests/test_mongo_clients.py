"""MongoMemoryStore's async clients across event loops, and closing them.

PyMongo binds an ``AsyncMongoClient`` to the first loop it runs on, so a store
built from a URI keeps one client per loop; a client the caller passed is used
as is and fails clearly on another loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from langmem_agno import MongoMemoryStore
from langmem_agno.errors import (
    ClientTypeError,
    ConfigurationError,
    NoEventLoopError,
    StoreUnavailableError,
)


@pytest.fixture
def uri_store(mongo_uri: str, mongo_db_name: str) -> Iterator[MongoMemoryStore]:
    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    yield store
    store.close()


def _closed(client: Any) -> bool:
    # PyMongo keeps no public "is closed" flag; _closed is what close() sets.
    return bool(client._closed)


async def _texts(store: MongoMemoryStore) -> list[str]:
    page = await store.alist_memories(user_id="u1", sort="asc")
    return [m.memory for m in page.items]


def test_separate_asyncio_runs_share_one_uri_store(uri_store: MongoMemoryStore) -> None:
    seen: list[list[str]] = []

    async def step(text: str) -> None:
        await uri_store.aadd(text, user_id="u1")
        # apply_changes asks the deployment about transactions and may open a session on this loop's client.
        # Two adds: one would be a single-document write, run without a transaction.
        await uri_store.aapply_changes(user_id="u1", adds=[f"{text} (batch)", f"{text} (batch 2)"])
        seen.append(await _texts(uri_store))

    for text in ("User likes tea", "User likes coffee", "User likes cocoa"):
        asyncio.run(step(text))

    assert seen[0] == ["User likes tea", "User likes tea (batch)", "User likes tea (batch 2)"]
    assert seen[2] == [
        f"User likes {drink}{suffix}"
        for drink in ("tea", "coffee", "cocoa")
        for suffix in ("", " (batch)", " (batch 2)")
    ]
    assert set(uri_store._transactions) == {"async"}
    # The sync client sees what the async ones wrote.
    assert len(uri_store.list_memories(user_id="u1").items) == 9


def test_each_loops_own_client_is_closed_when_asyncio_run_ends(uri_store: MongoMemoryStore) -> None:
    clients: list[Any] = []

    async def step() -> None:
        await uri_store.aadd("User likes tea", user_id="u1")
        clients.extend(uri_store._owned_async.clients())

    for _ in range(3):
        asyncio.run(step())

    assert len({id(c) for c in clients}) == 3
    assert all(_closed(c) for c in clients)
    assert uri_store._owned_async.clients() == []


@pytest.mark.parametrize("kind", ["pymongo", "motor"])
def test_a_passed_async_client_on_another_loop_is_a_store_error(
    mongo_uri: str, mongo_db_name: str, kind: str
) -> None:
    if kind == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        client: Any = AsyncIOMotorClient(mongo_uri)
    else:
        client = AsyncMongoClient(mongo_uri)
    store = MongoMemoryStore(async_client=client, database=mongo_db_name)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(store.aadd("User likes tea", user_id="u1"))
        with pytest.raises(StoreUnavailableError, match="another event loop") as caught:
            asyncio.run(store.aadd("User likes coffee", user_id="u1"))
        assert isinstance(caught.value.__cause__, RuntimeError)
        with pytest.raises(StoreUnavailableError, match="another event loop"):
            asyncio.run(store.aapply_changes(user_id="u1", adds=["User likes cocoa"]))
        # The client still works on its own loop, holding only the first memory, and stays the caller's.
        assert loop.run_until_complete(_texts(store)) == ["User likes tea"]
        loop.run_until_complete(store.aclose())
        assert loop.run_until_complete(_texts(store)) == ["User likes tea"]
    finally:
        result = client.close()
        if asyncio.iscoroutine(result):
            loop.run_until_complete(result)
        loop.close()


def test_close_closes_the_async_client_of_an_idle_loop(uri_store: MongoMemoryStore) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(uri_store.aadd("User likes tea", user_id="u1"))
        [client] = uri_store._owned_async.clients()
        with uri_store:
            pass
        assert _closed(client)
        assert uri_store._owned_async.clients() == []
        # A later async call on the same loop opens a fresh client.
        assert loop.run_until_complete(_texts(uri_store)) == ["User likes tea"]
        [fresh] = uri_store._owned_async.clients()
        assert fresh is not client and not _closed(fresh)
        uri_store.close()
        assert _closed(fresh)
    finally:
        loop.close()


def test_aclose_closes_this_loops_client_and_the_store_reconnects(uri_store: MongoMemoryStore) -> None:
    async def main() -> tuple[Any, Any, list[str]]:
        await uri_store.aadd("User likes tea", user_id="u1")
        [first] = uri_store._owned_async.clients()
        async with uri_store:
            pass
        assert _closed(first)
        texts = await _texts(uri_store)
        [second] = uri_store._owned_async.clients()
        await uri_store.aclose()
        return first, second, texts

    first, second, texts = asyncio.run(main())
    assert texts == ["User likes tea"]
    assert second is not first and _closed(second)
    assert uri_store._owned_async.clients() == []


def test_aclose_also_closes_clients_of_other_idle_loops(uri_store: MongoMemoryStore) -> None:
    other = asyncio.new_event_loop()
    try:
        other.run_until_complete(uri_store.aadd("User likes tea", user_id="u1"))
        [idle_client] = uri_store._owned_async.clients()

        async def main() -> None:
            await uri_store.aadd("User likes coffee", user_id="u1")
            await uri_store.aclose()

        asyncio.run(main())
        # aclose cannot run the idle loop from inside another one; its client is still
        # the store's to close, and close() (no loop running) does it.
        uri_store.close()
        assert _closed(idle_client)
        assert uri_store._owned_async.clients() == []
    finally:
        other.close()


def test_close_inside_a_running_loop_closes_its_client_on_that_loop(uri_store: MongoMemoryStore) -> None:
    async def main() -> tuple[bool, list[str]]:
        await uri_store.aadd("User likes tea", user_id="u1")
        [client] = uri_store._owned_async.clients()
        uri_store.close()  # sync close from async code: cannot block this loop, so it is scheduled here
        for _ in range(500):
            if _closed(client):
                break
            await asyncio.sleep(0.01)
        closed_in_loop = _closed(client)
        return closed_in_loop, await _texts(uri_store)

    closed_in_loop, texts = asyncio.run(main())
    assert closed_in_loop
    assert texts == ["User likes tea"]
    assert uri_store._owned_async.clients() == []


def test_the_async_collection_needs_a_running_loop(uri_store: MongoMemoryStore) -> None:
    with pytest.raises(RuntimeError, match="one async client per event loop"):
        uri_store.companion_collection("vectors", use_async=True)


def test_a_wrong_or_missing_client_is_a_configuration_error(mongo_uri: str, mongo_db_name: str) -> None:
    with pytest.raises(ClientTypeError, match="client must be a pymongo MongoClient, got str"):
        MongoMemoryStore(client="mongodb://x")  # type: ignore[arg-type]
    async_only = MongoMemoryStore(async_client=AsyncMongoClient(mongo_uri), database=mongo_db_name)
    with pytest.raises(ClientTypeError, match="only an async client"):
        async_only.list_memories(user_id="u1")
    uri_store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    with pytest.raises(NoEventLoopError, match="one async client per event loop"):
        uri_store.companion_collection("x", use_async=True)
    uri_store.close()
    for error in (ClientTypeError, NoEventLoopError):
        assert issubclass(error, ConfigurationError)
    assert issubclass(ClientTypeError, TypeError) and issubclass(NoEventLoopError, RuntimeError)
