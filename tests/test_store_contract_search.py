"""The store contract, continued: word search and input validation on every backend, sync and async.

See ``test_store_contract.py`` for the rest of the contract and how ``api`` runs each test.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BACKEND_MODES, StoreAPI
from contract_support import T0, Clock, clock_fixture, everything, raw_fixture, seed  # noqa: F401  (fixtures)
from langmem_agno import InvalidMemoryError, UserMemory
from langmem_agno.record import MEMORY_FIELDS


# ------------------------------------------------------------------ search
async def test_search_matches_words_case_insensitively(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    hits = await api.search("EMAIL", user_id="u1")
    assert [h.memory.memory_id for h in hits] == [s[1].memory_id]
    assert hits[0].matched_terms == ("email",)
    prefix = await api.search("pref", user_id="u1")
    assert [h.memory.memory_id for h in prefix] == [s[1].memory_id]
    by_topic = await api.search("pets", user_id="u1")
    assert [h.memory.memory_id for h in by_topic] == [s[2].memory_id]
    assert await api.search("zebra", user_id="u1") == []


async def test_search_ranks_by_terms_matched_then_recency(api: StoreAPI, clock: Clock) -> None:
    older_two = await api.add("Sarah likes green tea", user_id="u1")
    clock.tick()
    one = await api.add("Sarah likes coffee", user_id="u1")
    clock.tick()
    newer_one = await api.add("Green is Sarah's colour", user_id="u1")
    hits = await api.search("green tea", user_id="u1")
    assert [h.memory.memory_id for h in hits] == [older_two.memory_id, newer_one.memory_id]
    assert hits[0].score > hits[1].score
    all_sarah = await api.search("sarah", user_id="u1")
    assert [h.memory.memory_id for h in all_sarah] == [
        newer_one.memory_id,
        one.memory_id,
        older_two.memory_id,
    ]
    assert len(await api.search("sarah", user_id="u1", limit=2)) == 2


async def test_search_filters(api: StoreAPI, clock: Clock) -> None:
    s = await seed(api, clock)
    assert [h.memory.memory_id for h in await api.search("home dog paris", user_id="u1", agent_id="a2")] == [
        s[2].memory_id
    ]
    assert [h.memory.memory_id for h in await api.search("paris dog", user_id="u1", topics=["pets"])] == [
        s[2].memory_id
    ]


async def test_search_finds_non_ascii_words(api: StoreAPI) -> None:
    m = await api.add("Étudie à l'École Normale", user_id="u1", topics=["Éducation"])
    assert [h.memory.memory_id for h in await api.search("école", user_id="u1")] == [m.memory_id]
    assert [h.memory.memory_id for h in await api.search("ÉDUCATION", user_id="u1")] == [m.memory_id]


@pytest.mark.parametrize("query", [".*", "%", "%%", "*", "(", "[a-z]+", "$where", "\\", "   "])
async def test_search_metacharacters_match_nothing(api: StoreAPI, query: str) -> None:
    await api.add("Sarah prefers email", user_id="u1")
    await api.add("user_name is sarah_b", user_id="u1")
    assert await api.search(query, user_id="u1") == []


async def test_search_treats_query_literally(api: StoreAPI, raw: Any) -> None:
    plain = await api.add("Sarah prefers email", user_id="u1")
    underscore = await api.add("Uses _private names", user_id="u1")
    assert [h.memory.memory_id for h in await api.search("_", user_id="u1")] == [underscore.memory_id]
    before = raw(api.store)
    hits = await api.search("'; DROP TABLE agno_memories; -- email", user_id="u1")
    assert [h.memory.memory_id for h in hits] == [plain.memory_id]
    assert hits[0].matched_terms == ("email",)
    assert raw(api.store) == before


async def test_search_rejects_bad_arguments(api: StoreAPI) -> None:
    with pytest.raises(InvalidMemoryError, match="search query must be a string, got dict"):
        await api.search({"$regex": ".*"}, user_id="u1")
    with pytest.raises(InvalidMemoryError, match="limit must be an integer >= 1, got 0"):
        await api.search("x", user_id="u1", limit=0)


# ------------------------------------------------------------------ validation
INJECTION = {"$ne": None}


def _bad_calls() -> list[tuple[str, tuple[Any, ...], dict[str, Any], str]]:
    return [
        ("add", ("",), {"user_id": "u1"}, "memory text is empty: ''"),
        ("add", ("   \n",), {"user_id": "u1"}, "memory text is empty"),
        ("add", (42,), {"user_id": "u1"}, "memory text must be a string, got int 42"),
        ("add", ("x" * 2001,), {"user_id": "u1"}, "2001 characters"),
        ("add", ("x",), {"user_id": "u1", "topics": "home"}, "topics must be a list of strings, got 'home'"),
        ("add", ("x",), {"user_id": "u1", "topics": ["ok", 7]}, "topic must be a string, got 7"),
        ("add", ("x",), {"user_id": "u1", "topics": ["t" * 65]}, "65 characters; the limit is 64"),
        ("add", ("x",), {"user_id": "u1", "topics": [f"t{i}" for i in range(21)]}, "21 topics"),
        ("add", ("x",), {"user_id": INJECTION}, "user_id must be a string, got dict {'$ne': None}"),
        ("add", ("x",), {"user_id": ""}, "user_id must not be empty"),
        ("add", ("x",), {"user_id": "u1", "agent_id": INJECTION}, "agent_id must be a string, got dict"),
        ("add", ("x",), {"user_id": "u1", "team_id": 5}, "team_id must be a string, got int 5"),
        ("add", ("x",), {"user_id": "u1", "input": 3}, "input must be a string, got int 3"),
        ("add", (UserMemory(memory="x", user_id="u2"),), {"user_id": "u1"}, "belongs to user 'u2', not 'u1'"),
        ("add_many", ("abc",), {"user_id": "u1"}, "memories must be a list, got str"),
        ("get", (INJECTION,), {"user_id": "u1"}, "memory_id must be a string, got dict {'$ne': None}"),
        ("get", ("m1",), {"user_id": INJECTION}, "user_id must be a string, got dict"),
        ("list_memories", (), {"user_id": INJECTION}, "user_id must be a string"),
        ("list_memories", (), {"user_id": "u1", "agent_id": INJECTION}, "agent_id must be a string"),
        ("list_memories", (), {"user_id": "u1", "topics": [INJECTION]}, "topic must be a string, got {'$ne'"),
        ("update", (INJECTION,), {"user_id": "u1", "memory": "x"}, "memory_id must be a string"),
        ("update", ("m1",), {"user_id": INJECTION, "memory": "x"}, "user_id must be a string"),
        ("update", ("m1",), {"user_id": "u1", "memory": ""}, "memory text is empty"),
        ("update", ("m1",), {"user_id": "u1", "memory": "y" * 2001}, "2001 characters"),
        ("update", ("m1",), {"user_id": "u1", "topics": "home"}, "topics must be a list of strings"),
        ("update", ("m1",), {"user_id": "u1", "feedback": 1}, "feedback must be a string, got 1"),
        ("delete", (INJECTION,), {"user_id": "u1"}, "memory_id must be a string"),
        ("delete", ("m1",), {"user_id": INJECTION}, "user_id must be a string"),
        ("delete_many", ("m1",), {"user_id": "u1"}, "memory_ids must be a list of ids, got 'm1'"),
        ("delete_many", (["m1", INJECTION],), {"user_id": "u1"}, "memory_id must be a string, got dict"),
        ("clear", (), {"user_id": INJECTION}, "user_id must be a string"),
        ("clear", (), {"user_id": "u1", "team_id": INJECTION}, "team_id must be a string"),
        ("list_topics", (), {"user_id": INJECTION}, "user_id must be a string"),
        ("user_stats", (), {"user_id": INJECTION}, "user_id must be a string"),
        ("search", ("x",), {"user_id": INJECTION}, "user_id must be a string"),
    ]


@pytest.mark.parametrize(("method", "args", "kwargs", "message"), _bad_calls())
async def test_bad_input_is_refused_and_changes_nothing(
    api: StoreAPI, raw: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    await api.add(
        UserMemory(memory_id="m1", memory="Lives in Paris", topics=["home"], created_at=T0), user_id="u1"
    )
    await api.add("Other user's fact", user_id="u2")
    before = raw(api.store)
    with pytest.raises(InvalidMemoryError) as err:
        await getattr(api, method)(*args, **kwargs)
    assert message in str(err.value)
    assert raw(api.store) == before


@pytest.fixture(params=BACKEND_MODES, ids=[f"{b}-{m}" for b, m in BACKEND_MODES])
async def small_api(request: pytest.FixtureRequest, store_factory: Any) -> Any:
    backend, mode = request.param
    store = store_factory(backend, mode, max_memory_chars=20)
    yield StoreAPI(store, mode)
    await store.aclose()


async def test_max_memory_chars_is_configurable(small_api: StoreAPI, raw: Any) -> None:
    ok = await small_api.add("x" * 20, user_id="u1")
    before = raw(small_api.store)
    with pytest.raises(InvalidMemoryError, match=r"21 characters \('x{21}'\.\.\.\); the limit is 20"):
        await small_api.add("x" * 21, user_id="u1")
    with pytest.raises(InvalidMemoryError, match="the limit is 20"):
        await small_api.add_many([UserMemory(memory="y" * 30)], user_id="u1")
    with pytest.raises(InvalidMemoryError, match="the limit is 20"):
        await small_api.update(ok.memory_id, user_id="u1", memory="z" * 21)
    assert raw(small_api.store) == before


async def test_stored_records_have_exactly_the_agno_fields(api: StoreAPI, raw: Any) -> None:
    await api.add("x", user_id="u1", topics=["t"], input="i")
    m = (await api.list_memories(user_id="u1")).items[0]
    await api.update(m.memory_id, user_id="u1", feedback="f")
    [record] = raw(api.store)
    assert set(record) == set(MEMORY_FIELDS)
