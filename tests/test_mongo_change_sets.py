"""A change set of several writes as one client-level bulkWrite in a transaction (MongoDB 8.0+).

Each update is conditional on the memory being as the caller read it; when an operation's result
says otherwise, the transaction is taken back and the per-collection path writes the set, reading
what is there. These tests make the memories differ from what the caller hands in, and check the
result, the stored memories and the history are those of the per-collection path.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import MongoClient

import test_mongo_roundtrips
from conftest import REAL_MONGO
from langmem_agno import InvalidMemoryError, MemoryUpdate, UserMemory
from test_mongo_roundtrips import COLLECTION, Monitored

# The round-trip tests' fixture: a store on a sync, async (PyMongo) or Motor client, commands counted.
monitored = test_mongo_roundtrips.monitored


async def _warm(monitored: Monitored) -> None:
    await monitored("apply_changes", user_id="warm-up", adds=["User a", "User b"])
    if not any(monitored.store._client_bulk.values()):
        # The in-process SecantusDB server has it: there, not finding it is a failure, not a skip.
        assert REAL_MONGO, "SecantusDB has client-level bulkWrite, but the store did not detect it"
        pytest.skip("the MongoDB server at MONGODB_URI has no client-level bulkWrite (before 8.0)")


def _names(monitored: Monitored) -> list[str]:
    mine = (COLLECTION, 1)  # the client-level bulkWrite runs on the admin database: bulkWrite=1
    return [n for n, t, _ in monitored.commands.sent if t in mine or n.endswith("Transaction")]


async def test_a_memory_changed_since_it_was_read_is_written_the_per_collection_way(
    monitored: Monitored, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    await _warm(monitored)
    tea = await monitored("add", "User likes tea", user_id="u1", topics=["drink"])
    cat = await monitored("add", "User has a cat", user_id="u1")
    # Another writer (Agno, a script) changes the topics after the caller read the memory.
    mongo_client[mongo_db_name][COLLECTION].update_one(
        {"memory_id": tea.memory_id}, {"$set": {"topics": ["tea"]}}
    )
    result = await monitored(
        "apply_changes",
        user_id="u1",
        updates=[MemoryUpdate(tea.memory_id, memory="User likes green tea")],
        deletes=[cat.memory_id],
        before=[tea, cat],
    )
    assert _names(monitored)[:2] == ["bulkWrite", "abortTransaction"]
    assert _names(monitored)[2:] == ["find", "update", "delete", "commitTransaction"]
    (updated,) = result.updated
    assert (updated.memory, updated.topics) == ("User likes green tea", ["tea"])
    assert await monitored("get", tea.memory_id, user_id="u1") == updated
    assert result.deleted == [cat.memory_id]
    history = [
        (e.event, e.old_memory, e.new_memory) for e in await monitored("history", tea.memory_id, user_id="u1")
    ]
    assert history == [("add", None, "User likes tea"), ("update", "User likes tea", "User likes green tea")]


async def test_a_memory_gone_since_it_was_read_is_missing_and_not_recorded(monitored: Monitored) -> None:
    await _warm(monitored)
    tea = await monitored("add", "User likes tea", user_id="u1")
    cat = await monitored("add", "User has a cat", user_id="u1")
    await monitored("delete", cat.memory_id, user_id="u1")
    result = await monitored(
        "apply_changes",
        user_id="u1",
        adds=["User owns a kayak"],
        updates=[MemoryUpdate(tea.memory_id, memory="User likes green tea")],
        deletes=[cat.memory_id],
        before=[tea, cat],
    )
    assert result.missing_deletes == [cat.memory_id] and result.deleted == []
    assert [m.memory for m in result.updated] == ["User likes green tea"]
    assert [e.event for e in await monitored("history", cat.memory_id, user_id="u1")] == ["add", "delete"]
    texts = {m.memory for m in (await monitored("list_memories", user_id="u1")).items}
    assert texts == {"User likes green tea", "User owns a kayak"}


async def test_another_users_memory_is_never_touched(monitored: Monitored) -> None:
    await _warm(monitored)
    theirs = await monitored("add", "Bob likes jazz", user_id="bob")
    mine = await monitored("add", "User likes tea", user_id="u1")
    # A before-image claiming Bob's memory is u1's: the write's scope is still u1's.
    forged = UserMemory(**{**theirs.__dict__, "user_id": "u1"})
    result = await monitored(
        "apply_changes",
        user_id="u1",
        updates=[MemoryUpdate(theirs.memory_id, memory="User hates jazz")],
        deletes=[mine.memory_id],
        before=[forged, mine],
    )
    assert result.missing_updates == [theirs.memory_id] and result.deleted == [mine.memory_id]
    assert await monitored("get", theirs.memory_id, user_id="bob") == theirs
    with pytest.raises(InvalidMemoryError, match="already in use"):
        await monitored(
            "apply_changes",
            user_id="u1",
            adds=[UserMemory(memory_id=theirs.memory_id, memory="User likes jazz"), "User likes jam"],
        )
    # All or nothing: the refused set wrote neither memory nor history.
    assert (await monitored("list_memories", user_id="u1")).total == 0
    assert await monitored("get", theirs.memory_id, user_id="bob") == theirs


async def test_an_agno_row_without_created_at_keeps_the_one_readers_saw(
    monitored: Monitored, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    await _warm(monitored)
    raw = mongo_client[mongo_db_name][COLLECTION]
    raw.insert_one(
        {"memory_id": "agno-1", "memory": "User likes tea", "user_id": "u1", "updated_at": 1_700_000_000}
    )
    (seen,) = (await monitored("list_memories", user_id="u1")).items
    other = await monitored("add", "User has a cat", user_id="u1")
    result = await monitored(
        "apply_changes",
        user_id="u1",
        updates=[MemoryUpdate("agno-1", memory="User likes green tea")],
        deletes=[other.memory_id],
        before=[seen, other],
    )
    assert _names(monitored) == ["bulkWrite", "commitTransaction"]
    assert result.updated[0].created_at == seen.created_at == 1_700_000_000
    assert raw.find_one({"memory_id": "agno-1"}, {"_id": 0, "created_at": 1}) == {"created_at": 1_700_000_000}


async def test_a_retried_change_set_returns_what_is_stored(monitored: Monitored) -> None:
    await _warm(monitored)
    first = await monitored(
        "apply_changes",
        user_id="u1",
        adds=[UserMemory(memory_id="x-1", memory="User likes tea"), "User has a cat"],
    )
    again = await monitored(
        "apply_changes",
        user_id="u1",
        adds=[UserMemory(memory_id="x-1", memory="User likes TEA"), "User owns a kayak"],
    )
    assert again.added[0] == first.added[0]
    assert [e.event for e in await monitored("history", "x-1", user_id="u1")] == ["add"]


async def test_another_agents_memory_is_never_touched(monitored: Monitored) -> None:
    await _warm(monitored)
    theirs = await monitored("add", UserMemory(memory="User likes jazz", agent_id="a2"), user_id="u1")
    mine = await monitored("add", UserMemory(memory="User likes tea", agent_id="a1"), user_id="u1")
    forged = UserMemory(**{**theirs.__dict__, "agent_id": "a1"})
    result = await monitored(
        "apply_changes",
        user_id="u1",
        agent_id="a1",
        updates=[MemoryUpdate(theirs.memory_id, memory="User hates jazz")],
        deletes=[mine.memory_id],
        before=[forged, mine],
    )
    assert result.missing_updates == [theirs.memory_id] and result.deleted == [mine.memory_id]
    assert await monitored("get", theirs.memory_id, user_id="u1") == theirs
