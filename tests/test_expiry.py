"""Expiry: a memory with a time to live is never read after its end, and is deleted (recorded in history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from langmem_agno import MemoryRetriever
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import now_epoch_s
from langmem_agno.stores import lifecycle


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Move the store's clock forward: ``clock(seconds)``."""

    def forward(seconds: int) -> None:
        later = now_epoch_s() + seconds
        monkeypatch.setattr(lifecycle, "now_epoch_s", lambda: later)

    return forward


async def test_an_expired_memory_is_never_read_and_is_deleted(api: Any, clock: Any) -> None:
    short = await api.add("Is in Paris this week", user_id="u1", topics=["travel"], ttl=60)
    lasting = await api.add("Lives in Oslo", user_id="u1", topics=["home"])
    later = await api.add("Has a meeting on Friday", user_id="u1", expires_at=now_epoch_s() + 3_600)
    assert (await api.get(short.memory_id, user_id="u1")) is not None
    assert {m.memory_id for m in await api.list_memories(user_id="u1")} == {
        short.memory_id,
        lasting.memory_id,
        later.memory_id,
    }

    clock(120)
    assert await api.get(short.memory_id, user_id="u1") is None
    page = await api.list_memories(user_id="u1")
    assert {m.memory_id for m in page} == {lasting.memory_id, later.memory_id} and page.total == 2
    assert [h.memory.memory_id for h in await api.search("Paris", user_id="u1")] == []
    assert await api.list_topics(user_id="u1") == ["home"]
    if api.mode == "sync":  # deleted, not only hidden: the stored rows no longer hold it
        assert short.memory_id not in {r.memory_id for r in api.store.inspect_rows(user_id="u1")}
    assert [(e.event, e.path) for e in await api.history(short.memory_id, user_id="u1")] == [
        ("add", "api"),
        ("delete", "expiry"),
    ]
    clock(7_200)
    assert {m.memory_id for m in await api.list_memories(user_id="u1")} == {lasting.memory_id}


async def test_an_expired_memory_is_not_recalled(api: Any, clock: Any) -> None:
    await api.add("User is in Paris this week", user_id="u1", ttl=60)
    await api.add("User prefers trains to planes", user_id="u1")
    retriever = MemoryRetriever(store=api.store, k=5)
    config: Any = {"configurable": {"user_id": "u1"}}

    async def recalled(query: str) -> list[str]:
        docs = (
            retriever.invoke(query, config=config)
            if api.mode == "sync"
            else await retriever.ainvoke(query, config)
        )
        return [d.page_content for d in docs]

    assert "User is in Paris this week" in await recalled("where is the user, Paris?")
    clock(120)  # the view recall keeps is not served past the end either
    assert "User is in Paris this week" not in await recalled("where is the user, Paris?")


async def test_deleting_a_memory_with_a_ttl_leaves_nothing_due(api: Any, clock: Any) -> None:
    m = await api.add("Temporary", user_id="u1", ttl=60)
    assert await api.delete(m.memory_id, user_id="u1")
    clock(120)
    assert await api.expire_due() == 0
    assert [e.event for e in await api.history(m.memory_id, user_id="u1")] == ["add", "delete"]


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo"])
def test_a_ttl_set_by_another_store_is_honoured_within_the_check_interval(
    store_factory: Any, backend: str, clock: Any
) -> None:
    reader = store_factory(backend)
    writer = store_factory(backend) if backend == "sqlite-file" else None
    if writer is None:  # the same database through a second store object
        writer = type(reader)(reader.uri, database=reader.database)
    assert reader.list_memories(user_id="u1").total == 0  # the reader has looked: no time to live anywhere
    m = writer.add("Short-lived", user_id="u1", ttl=60)
    clock(120)
    # Within the interval the reader has not looked again (documented); once it has, the memory is gone.
    assert reader.get(m.memory_id, user_id="u1") is not None
    reader.configure_lifecycle(expiry_check_interval=1e-6)
    assert reader.get(m.memory_id, user_id="u1") is None
    assert [e.path for e in reader.history(m.memory_id, user_id="u1")] == ["api", "expiry"]
    writer.close()


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"ttl": 0}, "ttl"),
        ({"ttl": -5}, "-5"),
        ({"ttl": "1d"}, "'1d'"),
        ({"ttl": 10, "expires_at": 99}, "not both"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "timezone-aware"),
        ({"expires_at": -1}, "-1"),
    ],
)
def test_a_bad_ttl_is_refused_by_name(store: Any, kwargs: dict[str, Any], bad: str) -> None:
    with pytest.raises(InvalidMemoryError, match=bad):
        store.add("Fact", user_id="u1", **kwargs)
    assert store.list_memories(user_id="u1").total == 0


def test_ttl_as_timedelta_and_datetime(store: Any) -> None:
    a = store.add("A", user_id="u1", ttl=dt.timedelta(hours=1))
    end = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    b = store.add("B", user_id="u1", expires_at=end)
    rows = store.lifecycle_rows()
    due = rows.due_expiry(now_epoch_s() + 2 * 86_400, 10)
    assert {(u, i) for u, i in due} == {("u1", a.memory_id), ("u1", b.memory_id)}
    assert rows.next_expiry() in range(now_epoch_s() + 3_590, now_epoch_s() + 3_610)
