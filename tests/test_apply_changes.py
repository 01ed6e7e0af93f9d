"""apply_changes: one change set (adds, updates, deletes) is one write, all of it or none.

Every test runs on every backend and mode through the ``api`` fixture. A failure
part-way is made by the database itself: a SQLite or PostgreSQL trigger that raises, or a
MongoDB unique index that an update breaks after the adds were written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import StoreAPI
from langmem_agno import InvalidMemoryError, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.stores.base import ChangeSet, MemoryUpdate
from langmem_agno.stores.mongo import _runs_transactions
from raw_rows import postgres_execute

USERS = ("u1", "u2")


async def snapshot(api: StoreAPI) -> dict[str, list[UserMemory]]:
    """Every memory of every test user, as stored (timestamps included)."""
    return {u: (await api.list_memories(user_id=u, sort="asc")).items for u in USERS}


async def texts(api: StoreAPI, user_id: str) -> list[str]:
    return sorted(m.memory for m in await api.list_memories(user_id=user_id))


async def seed(api: StoreAPI) -> dict[str, UserMemory]:
    return {
        "tea": await api.add("User likes tea", user_id="u1", topics=["drink"]),
        "phone": await api.add("User's phone is 555-0100", user_id="u1"),
        "city": await api.add("User lives in Lyon", user_id="u1", agent_id="planner"),
        "other": await api.add("Other user's secret plan", user_id="u2"),
    }


def poison(api: StoreAPI, mongo_client: Any) -> Callable[[], object]:
    """Make the database refuse an update to the text "User likes poison" mid-write; return the undo."""
    store = api.store
    if isinstance(store, SQLiteMemoryStore):
        store._conn.execute(
            "CREATE TRIGGER poison BEFORE UPDATE ON agno_memories WHEN NEW.memory LIKE '%poison%' "
            "BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END"
        )
        return lambda: store._conn.execute("DROP TRIGGER poison")
    if not isinstance(store, MongoMemoryStore):
        # PostgreSQL: a trigger that raises, as on SQLite, inside the change set's transaction.
        postgres_execute(
            store,
            "CREATE FUNCTION {schema}.poison() RETURNS trigger LANGUAGE plpgsql AS $p$ BEGIN "
            "IF NEW.memory #>> '{{}}' LIKE '%poison%' THEN RAISE EXCEPTION 'simulated disk failure'; END IF; "
            "RETURN NEW; END $p$",
        )
        postgres_execute(
            store, "CREATE TRIGGER poison BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {schema}.poison()"
        )
        return lambda: postgres_execute(store, "DROP TRIGGER poison ON {}")
    # A unique index on the text: the update to a text another memory has fails on the
    # server, after the adds before it in the same ordered write went through.
    coll = mongo_client[store.database][store.collection]
    coll.create_index("memory", unique=True, name="poison")
    return lambda: coll.drop_index("poison")


async def test_adds_updates_and_deletes_are_applied_together(api: StoreAPI) -> None:
    seeded = await seed(api)
    kept = UserMemory(memory_id="11111111-2222-4333-8444-555555555555", memory="User has a cat")
    result = await api.apply_changes(
        user_id="u1",
        adds=["User prefers email", kept],
        updates=[
            MemoryUpdate(seeded["tea"].memory_id, memory="User likes green tea"),
            MemoryUpdate(seeded["city"].memory_id, topics=["home"], feedback="confirmed"),
        ],
        deletes=[seeded["phone"].memory_id],
    )
    assert isinstance(result, ChangeSet)
    assert [m.memory for m in result.added] == ["User prefers email", "User has a cat"]
    assert result.added[1].memory_id == kept.memory_id
    assert all(m.user_id == "u1" for m in result.added)
    assert [(m.memory_id, m.memory, m.topics) for m in result.updated] == [
        (seeded["tea"].memory_id, "User likes green tea", ["drink"]),
        (seeded["city"].memory_id, "User lives in Lyon", ["home"]),
    ]
    assert result.updated[1].feedback == "confirmed"
    assert result.deleted == [seeded["phone"].memory_id]
    assert result.missing_updates == [] and result.missing_deletes == []
    assert await texts(api, "u1") == [
        "User has a cat",
        "User likes green tea",
        "User lives in Lyon",
        "User prefers email",
    ]
    assert await api.get(seeded["city"].memory_id, user_id="u1") == result.updated[1]
    assert (await api.list_memories(user_id="u2")).items == [seeded["other"]]


async def test_ids_of_another_user_or_agent_are_missing_and_left_untouched(api: StoreAPI) -> None:
    seeded = await seed(api)
    before = await snapshot(api)
    other, city = seeded["other"].memory_id, seeded["city"].memory_id
    result = await api.apply_changes(
        user_id="u1",
        agent_id="chat",
        adds=["User drinks coffee"],
        updates=[MemoryUpdate(other, memory="Owned"), MemoryUpdate(city, memory="Owned too")],
        deletes=[seeded["other"].memory_id.upper(), "no-such-id", seeded["tea"].memory_id],
    )
    # city is u1's but written by agent "planner"; tea has no agent: both outside agent "chat".
    assert result.missing_updates == [other, city]
    assert result.missing_deletes == [other.upper(), "no-such-id", seeded["tea"].memory_id]
    assert result.updated == [] and result.deleted == []
    assert [(m.memory, m.agent_id) for m in result.added] == [("User drinks coffee", "chat")]
    after = await snapshot(api)
    assert after["u2"] == before["u2"]
    assert [m for m in after["u1"] if m.memory_id != result.added[0].memory_id] == before["u1"]


Seeded = dict[str, UserMemory]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (lambda s: {"adds": ["fine", "   "]}, "empty"),
        (lambda s: {"updates": [MemoryUpdate({"$ne": None}, memory="x")]}, "memory_id"),
        (lambda s: {"updates": [(s["tea"].memory_id, {"memory": "x"})]}, "MemoryUpdate"),
        (lambda s: {"updates": [MemoryUpdate(s["tea"].memory_id, memory="")]}, "empty"),
        (lambda s: {"updates": [MemoryUpdate(s["tea"].memory_id, topics="drink")]}, "topics"),
        (lambda s: {"deletes": s["tea"].memory_id}, "memory_ids"),
        (lambda s: {"deletes": [s["phone"].memory_id, 7]}, "memory_id"),
        (
            lambda s: {
                "updates": [MemoryUpdate(s["tea"].memory_id, memory="new")],
                "deletes": [s["tea"].memory_id],
            },
            "appears twice",
        ),
        (lambda s: {"adds": [s["phone"]], "deletes": [s["phone"].memory_id]}, "appears twice"),
    ],
)
async def test_bad_input_raises_before_anything_is_written(
    api: StoreAPI, changes: Callable[[Seeded], dict[str, Any]], message: str
) -> None:
    seeded = await seed(api)
    before = await snapshot(api)
    args = {"adds": ["User speaks French"], **changes(seeded)}
    with pytest.raises(InvalidMemoryError, match=message):
        await api.apply_changes(user_id="u1", **args)
    assert await snapshot(api) == before


async def test_an_add_whose_id_is_another_users_refuses_the_whole_set(api: StoreAPI) -> None:
    seeded = await seed(api)
    before = await snapshot(api)
    stolen = UserMemory(memory_id=seeded["other"].memory_id, memory="User is the admin")
    with pytest.raises(InvalidMemoryError, match="already in use"):
        await api.apply_changes(
            user_id="u1",
            adds=["User speaks French", stolen],
            updates=[MemoryUpdate(seeded["tea"].memory_id, memory="User likes mint tea")],
            deletes=[seeded["phone"].memory_id],
        )
    assert await snapshot(api) == before


async def test_an_empty_change_set_writes_nothing_but_still_checks_the_user(api: StoreAPI) -> None:
    await seed(api)
    before = await snapshot(api)
    assert await api.apply_changes(user_id="u1") == ChangeSet()
    assert await snapshot(api) == before
    with pytest.raises(InvalidMemoryError):
        await api.apply_changes(user_id={"$ne": None})


async def test_a_failure_part_way_leaves_the_store_as_before_and_a_retry_applies_it_once(
    api: StoreAPI, mongo_client: Any
) -> None:
    if isinstance(api.store, MongoMemoryStore) and not _runs_transactions(
        mongo_client.admin.command("hello")
    ):
        pytest.skip("a standalone MongoDB server cannot roll back: see the bulk-only test below")
    seeded = await seed(api)
    await api.add("User likes poison", user_id="u1")
    before = await snapshot(api)
    changes: dict[str, Any] = {
        "user_id": "u1",
        "adds": [
            UserMemory(memory_id="aaaaaaaa-0000-4000-8000-000000000001", memory="User prefers email"),
            UserMemory(memory_id="aaaaaaaa-0000-4000-8000-000000000002", memory="User has a cat"),
        ],
        "updates": [
            MemoryUpdate(seeded["city"].memory_id, memory="User lives in Paris"),
            # The database refuses this one: the adds and the first update were already written.
            MemoryUpdate(seeded["tea"].memory_id, memory="User likes poison"),
        ],
        "deletes": [seeded["phone"].memory_id],
    }
    undo = poison(api, mongo_client)
    with pytest.raises(Exception, match=r"simulated disk failure|duplicate value for \['memory'\]"):
        await api.apply_changes(**changes)
    assert await snapshot(api) == before
    undo()
    # Without the failure (the poison memory deleted first, so the text is free), all of it lands, once.
    await api.delete(next(m.memory_id for m in before["u1"] if m.memory == "User likes poison"), user_id="u1")
    expected = ["User has a cat", "User likes poison", "User lives in Paris", "User prefers email"]
    for attempt in range(2):
        result = await api.apply_changes(**changes)
        assert [m.memory for m in result.added] == ["User prefers email", "User has a cat"]
        assert [m.memory for m in result.updated] == ["User lives in Paris", "User likes poison"]
        assert result.deleted == ([seeded["phone"].memory_id] if attempt == 0 else [])
        assert result.missing_deletes == ([] if attempt == 0 else [seeded["phone"].memory_id])
        assert await texts(api, "u1") == expected
    assert (await snapshot(api))["u2"] == before["u2"]


@pytest.mark.parametrize("mode", ["sync", "async", "motor"])
async def test_mongo_without_transactions_writes_one_ordered_bulk_and_a_retry_converges(
    store_factory: Any, mongo_client: Any, mode: str
) -> None:
    store = store_factory("mongo", mode, use_transactions=False)
    api = StoreAPI(store, mode)
    seeded = await seed(api)
    await api.add("User likes poison", user_id="u1")
    before = await snapshot(api)
    changes: dict[str, Any] = {
        "user_id": "u1",
        "adds": [UserMemory(memory_id="bbbbbbbb-0000-4000-8000-000000000001", memory="User prefers email")],
        "updates": [MemoryUpdate(seeded["tea"].memory_id, memory="User likes poison")],
        "deletes": [seeded["phone"].memory_id],
    }
    undo = poison(api, mongo_client)
    with pytest.raises(InvalidMemoryError, match=r"duplicate value for \['memory'\]"):
        await api.apply_changes(**changes)
    # A standalone server cannot roll back: the ordered write stopped at the refused update,
    # so the add before it landed and the delete after it did not.
    after = await snapshot(api)
    assert after["u2"] == before["u2"]
    assert sorted(m.memory for m in after["u1"]) == sorted(
        [*(m.memory for m in before["u1"]), "User prefers email"]
    )
    undo()
    await api.delete(next(m.memory_id for m in before["u1"] if m.memory == "User likes poison"), user_id="u1")
    for _ in range(2):
        await api.apply_changes(**changes)
        assert await texts(api, "u1") == ["User likes poison", "User lives in Lyon", "User prefers email"]
    await store.aclose()


async def test_mongo_update_of_an_agno_document_without_created_at_pins_it(
    store_factory: Any, mongo_client: Any
) -> None:
    # Agno's single-memory upsert writes no created_at; readers fall back to updated_at, which
    # the update moves, so the change set pins the value readers saw so far.
    store = store_factory("mongo")
    store.add("User likes tea", user_id="u1")  # creates the collection and indexes
    coll = mongo_client[store.database][store.collection]
    coll.insert_one(
        {"memory_id": "agno-1", "memory": "User owns a bike", "user_id": "u1", "updated_at": 1_700_000_000}
    )
    result = store.apply_changes(user_id="u1", updates=[MemoryUpdate("agno-1", memory="User owns two bikes")])
    assert [(m.memory, m.created_at) for m in result.updated] == [("User owns two bikes", 1_700_000_000)]
    assert result.updated[0].updated_at is not None and result.updated[0].updated_at > 1_700_000_000
    assert coll.find_one({"memory_id": "agno-1"})["created_at"] == 1_700_000_000


@pytest.mark.parametrize(
    ("hello", "expected"),
    [
        ({"isWritablePrimary": True, "logicalSessionTimeoutMinutes": 30}, False),  # standalone
        ({"isWritablePrimary": True, "setName": "rs0", "logicalSessionTimeoutMinutes": 30}, True),
        ({"isWritablePrimary": True, "msg": "isdbgrid", "logicalSessionTimeoutMinutes": 30}, True),  # mongos
        ({"isWritablePrimary": True, "setName": "rs0"}, False),  # no sessions
    ],
)
def test_transactions_are_used_only_where_the_deployment_runs_them(
    hello: dict[str, Any], expected: bool
) -> None:
    assert _runs_transactions(hello) is expected


@pytest.mark.parametrize("mode", ["sync", "async", "motor"])
async def test_the_deployment_is_asked_once_whether_it_runs_transactions(
    store_factory: Any, mongo_client: Any, mode: str
) -> None:
    store = store_factory("mongo", mode)
    api = StoreAPI(store, mode)
    for text in ("User likes tea", "User likes coffee"):
        await api.apply_changes(user_id="u1", adds=[text])
    expected = _runs_transactions(mongo_client.admin.command("hello"))
    assert store._transactions == {"sync" if mode == "sync" else "async": expected}
    assert await texts(api, "u1") == ["User likes coffee", "User likes tea"]
    await store.aclose()
