"""History: every change through a store is recorded in ``<collection>_history``, on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BACKENDS
from langmem_agno import MemoryUpdate, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.record import now_epoch_s
from langmem_agno.stores.history import HistoryRow, change_path, recording
from langmem_agno.stores.types import HistoryEntry, LifecycleOptions


def changes(entries: list[HistoryEntry]) -> list[tuple[str, str | None, str | None]]:
    return [(e.event, e.old_memory, e.new_memory) for e in entries]


async def test_add_update_delete_are_recorded_oldest_first(api: Any) -> None:
    m = await api.add("Sarah prefers email", user_id="u1", topics=["contact"])
    await api.update(m.memory_id, user_id="u1", memory="Sarah prefers phone", topics=["contact", "phone"])
    await api.update(m.memory_id, user_id="u1", feedback="right")
    assert await api.delete(m.memory_id, user_id="u1")

    entries = await api.history(m.memory_id, user_id="u1")
    assert changes(entries) == [
        ("add", None, "Sarah prefers email"),
        ("update", "Sarah prefers email", "Sarah prefers phone"),
        ("update", "Sarah prefers phone", "Sarah prefers phone"),
        ("delete", "Sarah prefers phone", None),
    ]
    assert [(e.old_topics, e.new_topics) for e in entries] == [
        (None, ("contact",)),
        (("contact",), ("contact", "phone")),
        (("contact", "phone"), ("contact", "phone")),
        (("contact", "phone"), None),
    ]
    assert {(e.memory_id, e.user_id, e.path) for e in entries} == {(m.memory_id, "u1", "api")}
    assert all(abs(e.at - now_epoch_s()) <= 5 for e in entries)


async def test_another_users_id_sees_no_history(api: Any) -> None:
    m = await api.add("Sarah prefers email", user_id="u1")
    await api.update(m.memory_id, user_id="u1", memory="Sarah prefers phone")
    assert await api.history(m.memory_id, user_id="u2") == []
    assert len(await api.history(m.memory_id, user_id="u1")) == 2
    # A failed update of another user's memory records nothing for either.
    with pytest.raises(KeyError):
        await api.update(m.memory_id, user_id="u2", memory="stolen")
    assert len(await api.history(m.memory_id, user_id="u1")) == 2
    assert await api.history(m.memory_id, user_id="u2") == []


async def test_apply_changes_records_each_change_with_before_images(api: Any) -> None:
    keep = await api.add("Has a cat", user_id="u1")
    gone = await api.add("Lives in Oslo", user_id="u1")
    result = await api.apply_changes(
        user_id="u1",
        adds=["Plays chess"],
        updates=[MemoryUpdate(keep.memory_id, memory="Has two cats")],
        deletes=[gone.memory_id, "no-such-id"],
    )
    assert changes(await api.history(keep.memory_id, user_id="u1")) == [
        ("add", None, "Has a cat"),
        ("update", "Has a cat", "Has two cats"),
    ]
    assert changes(await api.history(gone.memory_id, user_id="u1")) == [
        ("add", None, "Lives in Oslo"),
        ("delete", "Lives in Oslo", None),
    ]
    added = result.added[0]
    assert changes(await api.history(added.memory_id, user_id="u1")) == [("add", None, "Plays chess")]
    assert await api.history("no-such-id", user_id="u1") == []


async def test_apply_changes_uses_the_before_images_it_is_given(api: Any) -> None:
    m = await api.add("Has a cat", user_id="u1")
    # The caller's copy is what the history shows as "before": no read of the memory is made for it.
    seen = m.model_copy(update={"memory": "Has a cat (as the caller read it)"})
    await api.apply_changes(
        user_id="u1", updates=[MemoryUpdate(m.memory_id, memory="Has a dog")], before=[seen]
    )
    assert changes(await api.history(m.memory_id, user_id="u1"))[-1] == (
        "update",
        "Has a cat (as the caller read it)",
        "Has a dog",
    )
    # Another user's record handed in as a before-image is ignored.
    foreign = seen.model_copy(update={"user_id": "u2", "memory": "not u1's"})
    await api.apply_changes(
        user_id="u1", updates=[MemoryUpdate(m.memory_id, memory="Has a fish")], before=[foreign]
    )
    assert changes(await api.history(m.memory_id, user_id="u1"))[-1] == ("update", "Has a dog", "Has a fish")


async def test_a_retried_add_is_recorded_once(api: Any) -> None:
    record = UserMemory(
        memory_id="fixed-1", memory="Has a dog", created_at=1_700_000_000, updated_at=1_700_000_000
    )
    await api.add(record, user_id="u1")
    await api.add(record, user_id="u1")
    await api.add_many([record], user_id="u1")
    assert changes(await api.history("fixed-1", user_id="u1")) == [("add", None, "Has a dog")]


async def test_delete_many_and_scoped_clear_are_recorded(api: Any) -> None:
    a = await api.add("Fact A", user_id="u1")
    b = await api.add("Fact B", user_id="u1")
    c = await api.add("Agent fact", user_id="u1", agent_id="planner")
    assert await api.delete_many([a.memory_id, b.memory_id], user_id="u1") == 2
    assert await api.clear(user_id="u1", agent_id="planner") == 1
    for m in (a, b, c):
        assert [e.event for e in await api.history(m.memory_id, user_id="u1")] == ["add", "delete"]


async def test_clearing_a_user_removes_its_history_and_no_one_elses(api: Any) -> None:
    mine = await api.add("Fact of u1", user_id="u1")
    theirs = await api.add("Fact of u2", user_id="u2")
    await api.update(mine.memory_id, user_id="u1", memory="Changed fact of u1")
    assert await api.clear(user_id="u1") == 1
    assert await api.history(mine.memory_id, user_id="u1") == []
    assert [e.event for e in await api.history(theirs.memory_id, user_id="u2")] == ["add"]


async def test_history_can_be_turned_off(api: Any) -> None:
    api.store.configure_lifecycle(history=False)
    m = await api.add("Not recorded", user_id="u1")
    await api.update(m.memory_id, user_id="u1", memory="Still not recorded")
    await api.delete(m.memory_id, user_id="u1")
    assert await api.history(m.memory_id, user_id="u1") == []
    api.store.configure_lifecycle(history=True)
    n = await api.add("Recorded", user_id="u1")
    assert [e.event for e in await api.history(n.memory_id, user_id="u1")] == ["add"]


async def test_history_limit_shows_and_keeps_the_newest_entries(api: Any) -> None:
    m = await api.add("v0", user_id="u1")
    for i in range(1, 5):
        await api.update(m.memory_id, user_id="u1", memory=f"v{i}")
    api.store.configure_lifecycle(history_limit=2)
    assert [e.new_memory for e in await api.history(m.memory_id, user_id="u1")] == ["v3", "v4"]
    # The next write purges what is past the limit (the first write after configuring, then hourly).
    await api.update(m.memory_id, user_id="u1", memory="v5")
    api.store.configure_lifecycle(history_limit=None)
    assert [e.new_memory for e in await api.history(m.memory_id, user_id="u1")] == ["v4", "v5"]


async def test_history_retention_hides_and_purges_old_entries(api: Any) -> None:
    m = await api.add("Fresh", user_id="u1")
    old = HistoryEntry(m.memory_id, "u1", "update", "api", now_epoch_s() - 10 * 86_400, "Older", "Fresh")
    rows = api.store.lifecycle_rows()
    if api.mode == "sync":
        rows.write_history([HistoryRow("old-entry", 1, old)])
    else:
        await rows.awrite_history([HistoryRow("old-entry", 1, old)])
    assert [e.new_memory for e in await api.history(m.memory_id, user_id="u1")] == ["Fresh", "Fresh"]
    api.store.configure_lifecycle(history_retention_days=1)
    assert changes(await api.history(m.memory_id, user_id="u1")) == [("add", None, "Fresh")]
    await api.add("Another", user_id="u1")  # a write runs the purge
    api.store.configure_lifecycle(history_retention_days=None)
    assert changes(await api.history(m.memory_id, user_id="u1")) == [("add", None, "Fresh")]


async def test_recording_names_the_path(api: Any) -> None:
    with recording("cli"):
        m = await api.add("From the command line", user_id="u1")
    await api.update(m.memory_id, user_id="u1", memory="From code")
    assert [e.path for e in await api.history(m.memory_id, user_id="u1")] == ["cli", "api"]


def test_recording_resets_and_checks_its_path() -> None:
    with recording("tool"):
        with recording("import"):
            assert change_path.get() == "import"
        assert change_path.get() == "tool"
    assert change_path.get() == "api"
    with pytest.raises(ConfigurationError, match="'Not A Path'"), recording("Not A Path"):
        pass


@pytest.mark.parametrize(
    ("options", "bad"),
    [
        ({"history": "yes"}, "'yes'"),
        ({"history_limit": 0}, "history_limit"),
        ({"history_limit": 2.5}, "2.5"),
        ({"history_retention_days": -1}, "-1"),
        ({"expiry_check_interval": 0}, "expiry_check_interval"),
    ],
)
def test_bad_lifecycle_options_are_refused_by_name(store: Any, options: dict[str, Any], bad: str) -> None:
    with pytest.raises(ConfigurationError, match=bad):
        store.configure_lifecycle(**options)


def test_history_of_a_bad_id_is_refused(store: Any) -> None:
    with pytest.raises(InvalidMemoryError):
        store.history("", user_id="u1")
    with pytest.raises(InvalidMemoryError):
        store.history("x", user_id="")


def _values_of(store: Any, user_id: str) -> int:
    """How many LangGraph store values of ``user_id`` the ``values`` companion holds, read raw."""
    if isinstance(store, MongoMemoryStore):
        return int(store.companion_collection("values").count_documents({"user_id": user_id}))
    with store.companion_cursor() as cur:
        return int(
            cur.execute(
                f"SELECT COUNT(*) FROM {store.table}_values WHERE user_id = ?", (user_id,)
            ).fetchone()[0]
        )


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo"])
def test_clearing_a_user_clears_its_langgraph_store_values(store_factory: Any, backend: str) -> None:
    store = store_factory(backend)
    lg = store.as_langgraph_store()
    lg.put(("memories", "u1"), "k1", {"content": "Sarah prefers email", "channel": "email"})
    lg.put(("memories", "u2"), "k2", {"content": "Bob prefers phone", "channel": "phone"})
    assert (_values_of(store, "u1"), _values_of(store, "u2")) == (1, 1)
    assert store.clear(user_id="u1") == 1
    assert (_values_of(store, "u1"), _values_of(store, "u2")) == (0, 1)
    other = lg.get(("memories", "u2"), "k2")
    assert other is not None and other.value == {"content": "Bob prefers phone", "channel": "phone"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_lifecycle_options_given_when_the_store_is_built(store_factory: Any, backend: str) -> None:
    quiet = store_factory(backend, lifecycle=LifecycleOptions(history=False))
    m = quiet.add("Sarah prefers email", user_id="u1")
    quiet.update(m.memory_id, user_id="u1", memory="Sarah prefers phone")
    assert quiet.history(m.memory_id, user_id="u1") == []
    assert quiet.lifecycle.history is False
    short = store_factory(backend, lifecycle=LifecycleOptions(history_limit=1))
    n = short.add("Sarah prefers tea", user_id="u2")
    short.update(n.memory_id, user_id="u2", memory="Sarah prefers coffee")
    assert changes(short.history(n.memory_id, user_id="u2")) == [
        ("update", "Sarah prefers tea", "Sarah prefers coffee")
    ]


@pytest.mark.parametrize(
    ("options", "bad"),
    [
        (LifecycleOptions(history_limit=0), "history_limit"),
        ({"history": False}, "LifecycleOptions, got {'history'"),
    ],
)
def test_bad_lifecycle_given_when_the_store_is_built_is_refused_by_name(options: Any, bad: str) -> None:
    with pytest.raises(ConfigurationError, match=bad):
        SQLiteMemoryStore(":memory:", lifecycle=options)
