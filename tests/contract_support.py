"""What the store contract's test modules share: a settable clock, a raw read of the database, a full listing.

The fixtures are named ``clock`` and ``raw``; a test module imports ``clock_fixture`` and
``raw_fixture`` to have them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import StoreAPI
from langmem_agno import MemoryStore, MongoMemoryStore, UserMemory
from raw_rows import raw_rows

T0 = 1_700_000_000


class Clock:
    """A settable stand-in for ``now_epoch_s``."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def tick(self, seconds: int = 10) -> int:
        self.now += seconds
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(T0)
    monkeypatch.setattr("langmem_agno.stores.validation.now_epoch_s", c)
    monkeypatch.setattr("langmem_agno.record.now_epoch_s", c)
    return c


@pytest.fixture(name="raw")
def raw_fixture(request: pytest.FixtureRequest) -> Callable[[MemoryStore], list[dict[str, Any]]]:
    """Read every stored record of a store straight from its database, bypassing the store."""

    def read(store: MemoryStore) -> list[dict[str, Any]]:
        client = request.getfixturevalue("mongo_client") if isinstance(store, MongoMemoryStore) else None
        return raw_rows(store, client)

    return read


async def everything(api: StoreAPI, user_id: str) -> list[UserMemory]:
    return (await api.list_memories(user_id=user_id, sort="asc")).items


async def seed(api: StoreAPI, clock: Clock) -> list[UserMemory]:
    """Four memories of u1 across agents, teams and topics, ten seconds apart, and one of u2."""
    out = []
    for text, agent, team, topics in [
        ("Lives in Paris", "a1", None, ["home"]),
        ("Prefers email", "a1", "t1", ["contact"]),
        ("Has a dog named Rex", "a2", "t1", ["pets", "home"]),
        ("Allergic to peanuts", None, None, ["health"]),
    ]:
        clock.tick()
        out.append(await api.add(text, user_id="u1", agent_id=agent, team_id=team, topics=topics))
    clock.tick()
    await api.add("Other user's fact", user_id="u2", agent_id="a1", topics=["home"])
    return out
