"""Agno's own AgentOSClient, every memory method it has, against our server on SQLite and MongoDB.

The client validates each answer with AgentOS's response models, so a passing call is a shape check too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from agno.client.os import AgentOSClient
from agno.db.schemas import UserMemory as AgnoMemory
from agno.db.sqlite import SqliteDb
from agno.os.routers.memory.schemas import UserMemorySchema, UserStatsSchema
from agno.os.schema import PaginatedResponse

from conftest import POSTGRES
from langmem_agno import MemoryStore, SQLiteMemoryStore
from langmem_agno.server import BackgroundServer, create_app
from langmem_agno.server.security import TOKEN_ENV

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


# PostgreSQL joins as it does for the other backend-parametrized tests (conftest.POSTGRES).
BACKENDS = ["sqlite-file", "mongo", *POSTGRES]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, store_factory: Any) -> MemoryStore:
    made: MemoryStore = store_factory(request.param)
    return made


@pytest.fixture(params=[None, TOKEN], ids=["no-token", "token"])
def served(request: pytest.FixtureRequest, store: MemoryStore) -> Iterator[tuple[str, dict[str, str] | None]]:
    token = request.param
    with BackgroundServer(create_app(store, token=token)) as server:
        yield server.url, (AUTH if token else None)


@pytest.fixture
async def client(served: tuple[str, dict[str, str] | None]) -> AsyncIterator[tuple[AgentOSClient, Any]]:
    url, headers = served
    yield AgentOSClient(url, timeout=10), headers


async def test_every_memory_method_of_agentos_client(
    client: tuple[AgentOSClient, Any], store: MemoryStore
) -> None:
    c, h = client
    made = await c.create_memory("Sarah prefers email", "u1", topics=["contact"], headers=h)
    assert isinstance(made, UserMemorySchema)
    assert (made.memory, made.topics, made.user_id) == ("Sarah prefers email", ["contact"], "u1")
    assert store.get(made.memory_id, user_id="u1") is not None  # really in the store

    got = await c.get_memory(made.memory_id, user_id="u1", headers=h)
    assert got == made

    updated = await c.update_memory(
        made.memory_id, "Sarah prefers phone calls", "u1", topics=["phone"], headers=h
    )
    assert (updated.memory, updated.topics) == ("Sarah prefers phone calls", ["phone"])
    assert updated.updated_at is not None and made.updated_at is not None
    assert updated.updated_at >= made.updated_at

    topics = await c.get_memory_topics(user_id="u1", headers=h)
    assert topics == ["phone"]

    stats = await c.get_user_memory_stats(headers=h)
    assert isinstance(stats.data[0], UserStatsSchema)
    assert [(s.user_id, s.total_memories) for s in stats.data] == [("u1", 1)]

    await c.delete_memory(made.memory_id, user_id="u1", headers=h)
    with pytest.raises(httpx.HTTPStatusError) as gone:
        await c.get_memory(made.memory_id, user_id="u1", headers=h)
    assert gone.value.response.status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as again:
        await c.delete_memory(made.memory_id, user_id="u1", headers=h)
    assert again.value.response.status_code == 404


async def test_list_filters_search_sort_and_pages(
    client: tuple[AgentOSClient, Any], store: MemoryStore
) -> None:
    c, h = client
    for i in range(5):
        store.add(f"Fact {i} about coffee", user_id="u1", topics=["food"], agent_id="a1")
    store.add("Sarah prefers email", user_id="u1", topics=["contact"], team_id="t1")
    store.add("Sarah prefers tea", user_id="u1", topics=["food", "contact"], agent_id="a2")
    store.add("Another user's coffee", user_id="u2", topics=["food"])

    every = await c.list_memories(user_id="u1", headers=h)
    assert isinstance(every, PaginatedResponse)
    assert every.meta.total_count == 7 and every.meta.total_pages == 1
    assert all(m.user_id == "u1" for m in every.data)
    times = [m.updated_at for m in every.data]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]

    by_agent = await c.list_memories(user_id="u1", agent_id="a1", headers=h)
    assert by_agent.meta.total_count == 5 and {m.agent_id for m in by_agent.data} == {"a1"}
    by_team = await c.list_memories(user_id="u1", team_id="t1", headers=h)
    assert [m.memory for m in by_team.data] == ["Sarah prefers email"]
    # AgentOSClient sends ?topics=a&topics=b; AgentOS's own form is ?topics=a,b: both mean "any of".
    by_topics = await c.list_memories(user_id="u1", topics=["contact"], headers=h)
    assert {m.memory for m in by_topics.data} == {"Sarah prefers email", "Sarah prefers tea"}
    either = await c.list_memories(user_id="u1", topics=["contact", "food"], headers=h)
    assert either.meta.total_count == 7
    searched = await c.list_memories(user_id="u1", search_content="coffee", headers=h)
    assert searched.meta.total_count == 5 and all("coffee" in m.memory for m in searched.data)
    searched_page = await c.list_memories(user_id="u1", search_content="sarah", limit=1, page=2, headers=h)
    assert searched_page.meta.total_count == 2 and len(searched_page.data) == 1

    pages = [
        await c.list_memories(user_id="u1", limit=3, page=p, sort_order="asc", headers=h) for p in (1, 2, 3)
    ]
    assert [len(p.data) for p in pages] == [3, 3, 1]
    assert pages[0].meta.total_pages == 3 and pages[2].meta.page == 3
    ids = [m.memory_id for p in pages for m in p.data]
    assert len(set(ids)) == 7

    second_user = await c.list_memories(user_id="u2", headers=h)
    assert [m.memory for m in second_user.data] == ["Another user's coffee"]
    stats = await c.get_user_memory_stats(limit=1, page=2, headers=h)
    assert stats.meta.total_count == 2 and len(stats.data) == 1


async def test_delete_many_and_other_users_ids(client: tuple[AgentOSClient, Any], store: MemoryStore) -> None:
    c, h = client
    mine = [store.add(f"Fact {i}", user_id="u1").memory_id for i in range(3)]
    theirs = store.add("Not yours", user_id="u2").memory_id

    # Another user's id looks exactly like an unknown one, on every route.
    for call in (
        c.get_memory(theirs, user_id="u1", headers=h),
        c.update_memory(theirs, "Overwritten", "u1", headers=h),
        c.delete_memory(theirs, user_id="u1", headers=h),
    ):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await call
        assert refused.value.response.status_code == 404
    await c.delete_memories([*mine[:2], theirs], user_id="u1", headers=h)
    assert [m.memory_id for m in store.list_memories(user_id="u1")] == [mine[2]]
    assert store.get(theirs, user_id="u2") is not None


async def test_no_token_or_a_wrong_one_is_401(store: MemoryStore) -> None:
    with BackgroundServer(create_app(store, token=TOKEN)) as server:
        c = AgentOSClient(server.url, timeout=10)
        for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            for call in (
                c.list_memories(user_id="u1", headers=headers),
                c.create_memory("x", "u1", headers=headers),
                c.get_user_memory_stats(headers=headers),
                c.delete_memories(["m"], user_id="u1", headers=headers),
            ):
                with pytest.raises(httpx.HTTPStatusError) as refused:
                    await call
                assert refused.value.response.status_code == 401
                assert refused.value.response.headers["www-authenticate"] == "Bearer"
        assert store.list_memories(user_id="u1").total == 0
        assert (await c.list_memories(user_id="u1", headers=AUTH)).meta.total_count == 0


async def test_memories_agno_wrote_are_served_and_ours_read_by_agno(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    agno_db = SqliteDb(db_file=str(path), memory_table="agno_memories")
    agno_db.upsert_user_memory(
        AgnoMemory(memory="Written by Agno", topics=["agno"], user_id="u1", agent_id="a1")
    )
    with SQLiteMemoryStore(path) as ours, BackgroundServer(create_app(ours)) as server:
        c = AgentOSClient(server.url, timeout=10)
        listed = await c.list_memories(user_id="u1")
        found = [(m.memory, m.topics, m.agent_id) for m in listed.data]
        assert found == [("Written by Agno", ["agno"], "a1")]
        made = await c.create_memory("Written through our server", "u1", topics=["api"])
    # Agno's own reader reads what the server wrote: no field it does not know.
    read_back = agno_db.get_user_memory(made.memory_id, user_id="u1")
    assert read_back is not None and read_back.memory == "Written through our server"  # type: ignore[union-attr]
