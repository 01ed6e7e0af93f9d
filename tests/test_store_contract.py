"""The store contract: every behaviour on every backend (SQLite, MongoDB, PostgreSQL), sync and async.

Each test runs once per ``api`` parameter: sync methods, async twins through
``AsyncMongoClient``, through Motor and through psycopg's async pool. Time is controlled
by replacing the store's clock, never by sleeping. Word search and input validation are
in ``test_store_contract_search.py``.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conftest import StoreAPI
from contract_support import T0, Clock, clock_fixture, everything, raw_fixture, seed  # noqa: F401  (fixtures)
from langmem_agno import (
    InvalidMemoryError,
    MemoryNotFoundError,
    SQLiteMemoryStore,
    StoreUnavailableError,
    UserMemory,
)


# ------------------------------------------------------------------ add / get
async def test_add_returns_the_stored_record(api: StoreAPI, clock: Clock) -> None:
    m = await api.add(
        "  Sarah prefers email  ",
        user_id="u1",
        agent_id="a1",
        team_id="t1",
        topics=[" Contact ", "EMAIL", "contact"],
        input="please email me",
    )
    assert str(uuid.UUID(m.memory_id)) == m.memory_id
    assert (m.memory, m.topics, m.input, m.feedback) == (
        "Sarah prefers email",
        ["contact", "email"],
        "please email me",
        None,
    )
    assert (m.user_id, m.agent_id, m.team_id) == ("u1", "a1", "t1")
    assert m.created_at == m.updated_at == T0
    assert await api.get(m.memory_id, user_id="u1") == m


async def test_get_unknown_id_is_none(api: StoreAPI) -> None:
    await api.add("x", user_id="u1")
    assert await api.get("no-such-id", user_id="u1") is None


async def test_add_user_memory_object_keeps_its_fields(api: StoreAPI) -> None:
    given = UserMemory(
        memory_id="fixed-1",
        memory="Likes tea",
        topics=["food"],
        input="tea please",
        feedback="good",
        created_at=T0 - 100,
        updated_at=T0 - 50,
        agent_id="a1",
    )
    stored = await api.add(given, user_id="u1")
    assert stored == given.model_copy(update={"user_id": "u1"})
    assert await api.get("fixed-1", user_id="u1") == stored


async def test_readd_same_memory_id_writes_nothing_twice(api: StoreAPI, raw: Any) -> None:
    first = await api.add(UserMemory(memory_id="m1", memory="Likes tea", created_at=T0), user_id="u1")
    again = await api.add(UserMemory(memory_id="m1", memory="Likes coffee", created_at=T0 + 5), user_id="u1")
    assert again == first
    assert [r["memory_id"] for r in raw(api.store)] == ["m1"]
    assert (await api.get("m1", user_id="u1")).memory == "Likes tea"


async def test_add_many_stores_all_in_order(api: StoreAPI, clock: Clock) -> None:
    given = ["one", UserMemory(memory_id="two", memory="two", topics=["t"]), "three"]
    out = await api.add_many(given, user_id="u1")
    assert [m.memory for m in out] == ["one", "two", "three"]
    assert out[1].memory_id == "two"
    assert all(m.user_id == "u1" for m in out)
    page = await api.list_memories(user_id="u1")
    assert page.total == 3
    assert {m.memory_id for m in page} == {m.memory_id for m in out}


async def test_add_many_rerun_is_idempotent(api: StoreAPI, raw: Any) -> None:
    batch = [UserMemory(memory_id=f"m{i}", memory=f"fact {i}", created_at=T0) for i in range(3)]
    first = await api.add_many(batch, user_id="u1")
    grown = [*batch, UserMemory(memory_id="m3", memory="fact 3", created_at=T0)]
    second = await api.add_many(grown, user_id="u1")
    assert second[:3] == first
    assert sorted(r["memory_id"] for r in raw(api.store)) == ["m0", "m1", "m2", "m3"]


async def test_add_many_with_another_users_id_writes_nothing(api: StoreAPI, raw: Any) -> None:
    theirs = await api.add(UserMemory(memory_id="shared", memory="u2's fact", created_at=T0), user_id="u2")
    before = raw(api.store)
    batch = [
        UserMemory(memory_id="new-1", memory="a"),
        UserMemory(memory_id="shared", memory="hijack"),
        UserMemory(memory_id="new-2", memory="b"),
    ]
    with pytest.raises(InvalidMemoryError, match="shared"):
        await api.add_many(batch, user_id="u1")
    assert raw(api.store) == before
    assert await api.get("shared", user_id="u2") == theirs
    assert (await api.list_memories(user_id="u1")).total == 0


async def test_add_many_with_a_bad_item_writes_nothing(api: StoreAPI, raw: Any) -> None:
    await api.add("kept", user_id="u1")
    before = raw(api.store)
    with pytest.raises(InvalidMemoryError, match="empty"):
        await api.add_many(["fine", "   "], user_id="u1")
    dup = [UserMemory(memory_id="d", memory="a"), UserMemory(memory_id="d", memory="b")]
    with pytest.raises(InvalidMemoryError, match="'d' appears twice"):
        await api.add_many(dup, user_id="u1")
    assert raw(api.store) == before


async def test_add_many_empty_is_a_no_op(api: StoreAPI, raw: Any) -> None:
    assert await api.add_many([], user_id="u1") == []
    assert raw(api.store) == []


# ------------------------------------------------------------------ list
async def test_list_sorts_by_updated_at(api: StoreAPI, clock: Clock) -> None:
    seeded = await seed(api, clock)
    desc = await api.list_memories(user_id="u1")
    assert [m.memory_id for m in desc] == [m.memory_id for m in reversed(seeded)]
    asc = await api.list_memories(user_id="u1", sort="asc")
    assert [m.memory_id for m in asc] == [m.memory_id for m in seeded]
    assert desc.total == asc.total == 4


async def test_same_second_memories_keep_the_order_they_were_written(api: StoreAPI, clock: Clock) -> None:
    written = [(await api.add(f"fact number {i}", user_id="u1")).memory_id for i in range(6)]
    assert [m.memory_id for m in await api.list_memories(user_id="u1")] == written[::-1]
    assert [m.memory_id for m in await api.list_memories(user_id="u1", sort="asc")] == written
    assert [m.memory_id for m in await api.list_memories(user_id="u1", limit=2, page=2)] == written[::-1][2:4]
    assert [h.memory.memory_id for h in await api.search("fact", user_id="u1")] == written[::-1]


async def test_list_filters(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)

    async def ids(**kw: Any) -> set[str]:
        page = await api.list_memories(user_id="u1", **kw)
        assert page.total == len(page.items)
        return {m.memory_id for m in page}

    assert await ids(agent_id="a1") == {s[0].memory_id, s[1].memory_id}
    assert await ids(team_id="t1") == {s[1].memory_id, s[2].memory_id}
    assert await ids(agent_id="a2", team_id="t1") == {s[2].memory_id}
    assert await ids(topics=[" HOME "]) == {s[0].memory_id, s[2].memory_id}
    assert await ids(topics=["pets", "health"]) == {s[2].memory_id, s[3].memory_id}
    assert await ids(topics=["nothing"]) == set()
    assert await ids(agent_id="a1", topics=["contact"]) == {s[1].memory_id}


async def test_list_pages(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    newest_first = [m.memory_id for m in reversed(s)]
    p = await api.list_memories(user_id="u1", limit=3)
    assert ([m.memory_id for m in p], p.total, p.limit, p.offset) == (newest_first[:3], 4, 3, 0)
    p = await api.list_memories(user_id="u1", limit=3, offset=3)
    assert ([m.memory_id for m in p], p.total) == (newest_first[3:], 4)
    p = await api.list_memories(user_id="u1", limit=2, page=2)
    assert ([m.memory_id for m in p], p.offset, p.total) == (newest_first[2:4], 2, 4)
    p = await api.list_memories(user_id="u1", offset=1, sort="asc")
    assert [m.memory_id for m in p] == [m.memory_id for m in s[1:]]
    p = await api.list_memories(user_id="u1", limit=2, page=9)
    assert (p.items, p.total) == ([], 4)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"limit": 0}, "limit must be an integer >= 1, got 0"),
        ({"limit": "5"}, "got '5'"),
        ({"offset": -1}, "offset must be an integer >= 0, got -1"),
        ({"page": 2}, "page=2 needs a limit"),
        ({"page": 0, "limit": 2}, "page must be an integer >= 1, got 0"),
        ({"sort": "newest"}, "sort must be 'asc' or 'desc', got 'newest'"),
        # Past 64 bits SQLite and PyMongo raise OverflowError: refused before any query.
        ({"offset": 10**20}, f"offset must be at most {2**62}, got {10**20}"),
        ({"limit": 10**20}, f"limit must be at most {2**62}, got {10**20}"),
        ({"page": 2**61, "limit": 10}, f"starts past {2**62} memories"),
    ],
)
async def test_list_rejects_bad_paging(api: StoreAPI, kwargs: dict[str, Any], bad: str) -> None:
    with pytest.raises(InvalidMemoryError) as err:
        await api.list_memories(user_id="u1", **kwargs)
    assert bad in str(err.value)


# ------------------------------------------------------------------ update
async def test_update_changes_only_given_fields(api: StoreAPI, clock: Clock) -> None:
    orig = await api.add(
        UserMemory(
            memory_id="m1",
            memory="Lives in Paris",
            topics=["home"],
            input="I live in Paris",
            feedback="accurate",
            agent_id="a1",
            team_id="t1",
            created_at=T0 - 1000,
            updated_at=T0 - 1000,
        ),
        user_id="u1",
    )
    clock.tick(60)
    after = await api.update("m1", user_id="u1", memory="  Lives in Lyon ")
    assert after == orig.model_copy(update={"memory": "Lives in Lyon", "updated_at": T0 + 60})
    assert await api.get("m1", user_id="u1") == after

    clock.tick(60)
    after2 = await api.update("m1", user_id="u1", topics=["City", "home"])
    assert after2 == after.model_copy(update={"topics": ["city", "home"], "updated_at": T0 + 120})

    after3 = await api.update("m1", user_id="u1", feedback="outdated", input="moved")
    assert (after3.feedback, after3.input, after3.memory, after3.created_at) == (
        "outdated",
        "moved",
        "Lives in Lyon",
        T0 - 1000,
    )
    cleared = await api.update("m1", user_id="u1", topics=[])
    assert cleared.topics == []
    assert (await api.get("m1", user_id="u1")).topics == []


async def test_update_moves_memory_to_the_top(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    clock.tick()
    await api.update(s[0].memory_id, user_id="u1", feedback="seen")
    newest = (await api.list_memories(user_id="u1", limit=1)).items[0]
    assert (newest.memory_id, newest.updated_at) == (s[0].memory_id, clock.now)


async def test_update_unknown_id_raises_naming_it(api: StoreAPI) -> None:
    with pytest.raises(MemoryNotFoundError, match=r"'ghost'.*'u1'"):
        await api.update("ghost", user_id="u1", memory="x")


# ------------------------------------------------------------------ delete / clear
async def test_delete(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    assert await api.delete(s[0].memory_id, user_id="u1") is True
    assert await api.get(s[0].memory_id, user_id="u1") is None
    assert await api.delete(s[0].memory_id, user_id="u1") is False
    assert (await api.list_memories(user_id="u1")).total == 3


async def test_delete_many(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    assert await api.delete_many([s[0].memory_id, s[1].memory_id, "ghost"], user_id="u1") == 2
    assert await api.delete_many([], user_id="u1") == 0
    assert [m.memory_id for m in await everything(api, "u1")] == [s[2].memory_id, s[3].memory_id]
    assert (await api.list_memories(user_id="u2")).total == 1


async def test_clear_only_that_user(api: StoreAPI, clock: Clock) -> None:
    await seed(api, clock)
    assert await api.clear(user_id="u1") == 4
    assert (await api.list_memories(user_id="u1")).total == 0
    assert (await api.list_memories(user_id="u2")).total == 1
    assert await api.clear(user_id="u1") == 0


async def test_clear_one_agent_or_team(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    assert await api.clear(user_id="u1", agent_id="a1") == 2
    assert {m.memory_id for m in await everything(api, "u1")} == {s[2].memory_id, s[3].memory_id}
    assert await api.clear(user_id="u1", team_id="t1") == 1
    assert [m.memory_id for m in await everything(api, "u1")] == [s[3].memory_id]
    # u2's memory was written by agent a1 too, and is untouched.
    assert (await api.list_memories(user_id="u2", agent_id="a1")).total == 1


# ------------------------------------------------------------------ topics / stats
async def test_list_topics(api: StoreAPI, clock: Clock) -> None:
    await seed(api, clock)
    await api.add("No topics here", user_id="u1")
    assert await api.list_topics(user_id="u1") == ["contact", "health", "home", "pets"]
    assert await api.list_topics(user_id="u1", agent_id="a2") == ["home", "pets"]
    assert await api.list_topics(user_id="u1", team_id="t1") == ["contact", "home", "pets"]
    assert await api.list_topics(user_id="nobody") == []


async def test_user_stats(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)  # u1 last at T0+40, u2 at T0+50
    clock.tick()
    await api.add("third user", user_id="u3")  # T0+60
    stats, total = await api.user_stats(user_id="u1")
    assert total == 1
    assert [(x.user_id, x.total_memories, x.last_memory_updated_at) for x in stats] == [("u1", 4, T0 + 40)]

    stats, total = await api.user_stats()
    assert total == 3
    assert [(x.user_id, x.total_memories, x.last_memory_updated_at) for x in stats] == [
        ("u3", 1, T0 + 60),
        ("u2", 1, T0 + 50),
        ("u1", 4, T0 + 40),
    ]
    stats, total = await api.user_stats(limit=1, offset=1)
    assert ([x.user_id for x in stats], total) == (["u2"], 3)

    clock.tick()
    await api.update(s[0].memory_id, user_id="u1", feedback="x")
    stats, _ = await api.user_stats(limit=1)
    assert (stats[0].user_id, stats[0].last_memory_updated_at) == ("u1", clock.now)
    assert await api.user_stats(user_id="nobody") == ([], 0)


# ------------------------------------------------------------------ concurrency
THREADS, PER_THREAD = 8, 50


def _hammer(add: Callable[[int, int], Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        start.wait()
        for i in range(PER_THREAD):
            try:
                add(t, i)
            except BaseException as exc:  # collected, so the test reports every failure
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


@pytest.mark.parametrize("backend", ["sqlite-file", "sqlite-memory", "mongo"])
def test_one_store_shared_by_threads(store_factory: Any, backend: str) -> None:
    store = store_factory(backend, "sync")
    errors = _hammer(lambda t, i: store.add(f"fact {t}-{i}", user_id=f"u{t % 2}", topics=[f"t{t}"]))
    assert errors == []
    texts = {m.memory for u in ("u0", "u1") for m in store.list_memories(user_id=u)}
    assert texts == {f"fact {t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)}


def test_stores_opened_per_thread_on_one_sqlite_file(tmp_path: Any) -> None:
    """Each thread opens its own store on the same file, all at once, and writes."""
    path = tmp_path / "shared.db"
    local = threading.local()
    opened: list[SQLiteMemoryStore] = []

    def add(t: int, i: int) -> None:
        if not hasattr(local, "store"):
            local.store = SQLiteMemoryStore(path)
            opened.append(local.store)
        local.store.add(f"fact {t}-{i}", user_id="u1")

    try:
        errors = _hammer(add)
        assert errors == []
        assert len(opened) == THREADS
        page = opened[0].list_memories(user_id="u1")
        assert page.total == THREADS * PER_THREAD
        assert {m.memory for m in page} == {
            f"fact {t}-{i}" for t in range(THREADS) for i in range(PER_THREAD)
        }
    finally:
        for store in opened:
            store.close()


async def test_many_concurrent_async_adds(api: StoreAPI) -> None:
    n = 60
    added = await asyncio.gather(*(api.add(f"fact {i}", user_id=f"u{i % 3}") for i in range(n)))
    assert len({m.memory_id for m in added}) == n
    totals = [(await api.list_memories(user_id=f"u{k}")).total for k in range(3)]
    assert totals == [20, 20, 20]
    found = await asyncio.gather(*(api.get(m.memory_id, user_id=m.user_id) for m in added))
    assert found == list(added)


def test_sqlite_word_search_is_not_crowded_out_by_substring_hits(tmp_path: Any) -> None:
    """ "cat" is a substring of "location": 60 newer such memories must not hide the one about a cat."""
    with SQLiteMemoryStore(tmp_path / "a.db") as store:
        store.add("User has a cat named Tom", user_id="u1")
        store.add_many([f"User's location note {i}" for i in range(60)], user_id="u1")
        assert [h.memory.memory for h in store.search("cat", user_id="u1")] == ["User has a cat named Tom"]


def test_sqlite_reads_after_close_raise_store_unavailable(tmp_path: Any) -> None:
    store = SQLiteMemoryStore(tmp_path / "a.db")
    store.add("Sarah prefers email", user_id="u1")
    store.close()
    for call in (
        lambda: store.list_memories(user_id="u1"),
        lambda: store.search("email", user_id="u1"),
        lambda: store.list_topics(user_id="u1"),
        lambda: store.user_stats(),
        lambda: store.add("Sarah likes tea", user_id="u1"),
    ):
        with pytest.raises(StoreUnavailableError, match=r"a\.db"):
            call()
