"""What history and expiry cost on MongoDB, counted with PyMongo's command monitoring on a real server.

Reads where no memory has a time to live send exactly the commands of the backend's own read;
a write sends one more (the history ``insert``); before-images handed to ``apply_changes`` save the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient, monitoring

from langmem_agno import MemoryUpdate, MongoMemoryStore
from langmem_agno.stores.types import MemoryFilter

Command = tuple[str, str]
IGNORED = {"endSessions", "hello", "isMaster", "ismaster", "ping"}


class Commands(monitoring.CommandListener):
    """Every command this client sends: (name, collection)."""

    def __init__(self) -> None:
        self.seen: list[Command] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in IGNORED:
            target = event.command.get(event.command_name)
            self.seen.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def during(self, action: Callable[[], Any]) -> list[Command]:
        start = len(self.seen)
        action()
        return self.seen[start:]


@pytest.fixture
def monitored(mongo_uri: str, mongo_db_name: str) -> Iterator[tuple[MongoMemoryStore, Commands]]:
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, event_listeners=[commands])
    store = MongoMemoryStore(client=client, database=mongo_db_name)
    yield store, commands
    client.close()


def warm(store: MongoMemoryStore) -> str:
    # Index creation and the first look for times to live happen once; what follows is the steady state.
    memory_id = store.add("Sarah prefers email", user_id="u1", topics=["contact"]).memory_id
    store.get(memory_id, user_id="u1")
    store.search("email", user_id="u1")  # the backend looks for a text index once
    store.apply_changes(user_id="u1", adds=["Warm-up"])
    return memory_id


def test_reads_without_ttls_send_only_the_backends_own_commands(monitored: Any) -> None:
    store, commands = monitored
    memory_id = warm(store)
    flt = MemoryFilter("u1")
    pairs = [
        (
            lambda: store.get(memory_id, user_id="u1"),
            lambda: store._find(flt, ids=[memory_id], sort="desc", limit=1, offset=0, count=False),
        ),
        (
            lambda: store.list_memories(user_id="u1", limit=10),
            lambda: store._find(flt, ids=None, sort="desc", limit=10, offset=0, count=True),
        ),
        (lambda: store.search("email", user_id="u1"), lambda: store._search(flt, ["email"], 10)),
        (lambda: store.list_topics(user_id="u1"), lambda: store._topics(flt)),
    ]
    for public, primitive in pairs:
        assert commands.during(public) == commands.during(primitive)
    assert not [c for c in commands.seen if c[1].endswith("_expiry") and c[0] != "find"]


def test_the_look_for_ttls_is_one_find_per_interval(monitored: Any) -> None:
    store, commands = monitored
    memory_id = warm(store)
    store.configure_lifecycle(expiry_check_interval=1e-6)
    seen = commands.during(lambda: store.get(memory_id, user_id="u1"))
    assert seen == [("find", f"{store.collection}_expiry"), ("find", store.collection)]
    store.configure_lifecycle(expiry_check_interval=None)
    assert commands.during(lambda: store.get(memory_id, user_id="u1")) == [("find", store.collection)]


def test_a_write_sends_one_more_command_the_history_insert(monitored: Any) -> None:
    store, commands = monitored
    memory_id = warm(store)
    history = ("insert", f"{store.collection}_history")
    with_history = commands.during(lambda: store.add("Has a dog", user_id="u1"))
    store.configure_lifecycle(history=False)
    without = commands.during(lambda: store.add("Has a cat", user_id="u1"))
    assert with_history == [*without, history]
    store.configure_lifecycle(history=True)

    # An update's text before comes from one bounded read of that id...
    before = store.get(memory_id, user_id="u1")
    assert before is not None
    change = [MemoryUpdate(memory_id, memory="Sarah prefers phone")]
    read_then_write = commands.during(lambda: store.apply_changes(user_id="u1", updates=change))
    assert read_then_write[0] == ("find", store.collection) and read_then_write[-1] == history
    # ...or from the records the caller already read, at no read at all.
    now = store.get(memory_id, user_id="u1")
    assert now is not None
    change = [MemoryUpdate(memory_id, memory="Sarah prefers SMS")]
    given = commands.during(lambda: store.apply_changes(user_id="u1", updates=change, before=[now]))
    assert given == read_then_write[1:]
    assert [e.old_memory for e in store.history(memory_id, user_id="u1")][-2:] == [
        "Sarah prefers email",
        "Sarah prefers phone",
    ]
