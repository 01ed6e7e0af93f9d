"""Isolation: one user can never reach another user's memories, through any store method, sync or async.

A memory id owned by someone else must behave exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import StoreAPI
from langmem_agno import InvalidMemoryError, MemoryNotFoundError, UserMemory

OWNER, INTRUDER = "alice", "bob"
# User ids that would widen a query if they were ever spliced into SQL or read as a pattern.
TRICKY_USERS = [INTRUDER, "alic", "alice ", "ALICE", "%", "_lice", ".*", "alice' OR '1'='1", "^alice$"]


async def _alice(api: StoreAPI) -> list[UserMemory]:
    return await api.add_many(
        [
            UserMemory(
                memory_id="a-1",
                memory="Alice lives in Paris",
                topics=["home"],
                input="I live in Paris",
                agent_id="agent-1",
                created_at=1_700_000_000,
            ),
            UserMemory(
                memory_id="a-2",
                memory="Alice prefers email",
                topics=["contact"],
                team_id="team-1",
                created_at=1_700_000_100,
            ),
        ],
        user_id=OWNER,
    )


async def _snapshot(api: StoreAPI) -> list[UserMemory]:
    return (await api.list_memories(user_id=OWNER, sort="asc")).items


@pytest.mark.parametrize("intruder", TRICKY_USERS)
async def test_nothing_of_alice_is_readable_by_another_user(api: StoreAPI, intruder: str) -> None:
    await _alice(api)
    assert await api.get("a-1", user_id=intruder) is None
    page = await api.list_memories(user_id=intruder)
    assert (page.items, page.total) == ([], 0)
    assert (await api.list_memories(user_id=intruder, agent_id="agent-1")).total == 0
    assert (await api.list_memories(user_id=intruder, topics=["home", "contact"])).total == 0
    assert await api.search("alice paris email", user_id=intruder) == []
    assert await api.list_topics(user_id=intruder) == []
    assert await api.user_stats(user_id=intruder) == ([], 0)


@pytest.mark.parametrize("intruder", TRICKY_USERS)
async def test_nothing_of_alice_is_writable_by_another_user(api: StoreAPI, intruder: str) -> None:
    alice = await _alice(api)
    with pytest.raises(MemoryNotFoundError) as err:
        await api.update("a-1", user_id=intruder, memory="Alice moved to Rome", topics=[], feedback="x")
    with pytest.raises(MemoryNotFoundError) as unknown:
        await api.update("no-such-id", user_id=intruder, memory="Alice moved to Rome")
    # Someone else's id and a missing id are reported the same way.
    assert str(err.value) == str(unknown.value).replace("no-such-id", "a-1")
    assert await api.delete("a-1", user_id=intruder) is False
    assert await api.delete_many(["a-1", "a-2"], user_id=intruder) == 0
    assert await api.clear(user_id=intruder) == 0
    assert await api.clear(user_id=intruder, agent_id="agent-1") == 0
    assert await api.clear(user_id=intruder, team_id="team-1") == 0
    assert await _snapshot(api) == alice


async def test_another_user_cannot_take_over_an_id(api: StoreAPI) -> None:
    alice = await _alice(api)
    with pytest.raises(InvalidMemoryError, match="'a-1' is already in use"):
        await api.add(UserMemory(memory_id="a-1", memory="Bob's fact"), user_id=INTRUDER)
    with pytest.raises(InvalidMemoryError, match="'a-2' is already in use"):
        await api.add_many(
            [UserMemory(memory_id="b-1", memory="b"), UserMemory(memory_id="a-2", memory="x")],
            user_id=INTRUDER,
        )
    assert await _snapshot(api) == alice
    assert (await api.list_memories(user_id=INTRUDER)).total == 0


async def test_each_user_sees_only_their_own(api: StoreAPI) -> None:
    alice = await _alice(api)
    bob = await api.add("Bob lives in Paris", user_id=INTRUDER, topics=["home", "travel"])
    assert [h.memory for h in await api.search("paris", user_id=INTRUDER)] == [bob]
    assert [h.memory.memory_id for h in await api.search("paris", user_id=OWNER)] == ["a-1"]
    assert await api.list_topics(user_id=INTRUDER) == ["home", "travel"]
    assert await api.list_topics(user_id=OWNER) == ["contact", "home"]
    stats, total = await api.user_stats()
    assert total == 2
    assert {(s.user_id, s.total_memories) for s in stats} == {(OWNER, 2), (INTRUDER, 1)}
    assert await api.clear(user_id=INTRUDER) == 1
    assert await _snapshot(api) == alice


async def test_agent_scope_is_separate_within_one_user(api: StoreAPI) -> None:
    await _alice(api)
    other_agent = await api.add("Alice likes jazz", user_id=OWNER, agent_id="agent-2", topics=["music"])
    assert [m.memory_id for m in await api.list_memories(user_id=OWNER, agent_id="agent-2")] == [
        other_agent.memory_id
    ]
    assert [h.memory.memory_id for h in await api.search("alice", user_id=OWNER, agent_id="agent-1")] == [
        "a-1"
    ]
    assert await api.list_topics(user_id=OWNER, agent_id="agent-2") == ["music"]
    assert await api.clear(user_id=OWNER, agent_id="agent-2") == 1
    assert {m.memory_id for m in await _snapshot(api)} == {"a-1", "a-2"}


def _users_memories(store: Any, user: str) -> list[UserMemory]:
    return store.list_memories(user_id=user, sort="asc").items


def test_users_with_the_same_text_and_topics_stay_apart(store: Any) -> None:
    """Identical content for two users is two memories; removing one leaves the other."""
    a = store.add("Prefers email", user_id=OWNER, topics=["contact"])
    b = store.add("Prefers email", user_id=INTRUDER, topics=["contact"])
    assert a.memory_id != b.memory_id
    assert store.delete(a.memory_id, user_id=INTRUDER) is False
    assert store.delete(b.memory_id, user_id=INTRUDER) is True
    assert _users_memories(store, OWNER) == [a]
    assert _users_memories(store, INTRUDER) == []
