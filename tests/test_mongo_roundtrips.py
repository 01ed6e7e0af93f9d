"""MongoDB round trips, counted by PyMongo's CommandListener on the store's own client.

Each store operation is a pinned list of server commands on the memory collection: an add is one
insert, a listing one command, a search one bounded aggregate, an extraction turn at most four
commands. Commands on companion collections (``<collection>_history`` and the like, written by the
store's other parts) are listed apart, so the budgets here are the memory collection's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import AsyncMongoClient, MongoClient, monitoring

from langmem_agno import MongoMemoryStore, UserMemory
from langmem_agno.extraction import MemoryManager
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.stores.mongo_search import SEARCH_SLACK, has_text_index, search_pipeline
from langmem_agno.stores.search import query_terms, rank_by_terms
from langmem_agno.stores.types import MemoryFilter
from test_extraction import call, model_from

COLLECTION = "agno_memories"
# Commands that belong to no collection but to the memory write in flight.
_SESSION_COMMANDS = {"commitTransaction", "abortTransaction"}


@dataclass
class Commands(monitoring.CommandListener):
    """Every command the client sends, with its target; and the documents each reply carried."""

    sent: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        self.sent.append((name, event.command.get(name), dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor")
        if isinstance(cursor, dict):
            self.returned.append(len(cursor.get("firstBatch", [])))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.sent.clear()
        self.returned.clear()

    def memory_commands(self) -> list[str]:
        """The command names on the memory collection (and the transaction's commit), in order."""
        return [n for n, target, _ in self.sent if target == COLLECTION or n in _SESSION_COMMANDS]

    def companion_commands(self) -> list[str]:
        return [f"{n}:{t}" for n, t, _ in self.sent if t != COLLECTION and n not in _SESSION_COMMANDS]


@dataclass
class Monitored:
    store: MongoMemoryStore
    commands: Commands
    mode: str

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run the store method ``name`` (or its async twin) with the commands counted from zero."""
        self.commands.clear()
        if self.mode == "sync":
            return getattr(self.store, name)(*args, **kwargs)
        return await getattr(self.store, "a" + name)(*args, **kwargs)


@pytest.fixture(params=["sync", "async", "motor"])
async def monitored(
    request: pytest.FixtureRequest, mongo_uri: str, mongo_db_name: str
) -> AsyncIterator[Monitored]:
    commands = Commands()
    if request.param == "sync":
        client: Any = MongoClient(mongo_uri, event_listeners=[commands])
        store = MongoMemoryStore(client=client, database=mongo_db_name)
    elif request.param == "async":
        client = AsyncMongoClient(mongo_uri, event_listeners=[commands])
        store = MongoMemoryStore(async_client=client, database=mongo_db_name)
    else:
        client = AsyncIOMotorClient(mongo_uri, event_listeners=[commands])
        store = MongoMemoryStore(async_client=client, database=mongo_db_name)
    watched = Monitored(store, commands, request.param)
    await watched("add", "User warms up the indexes", user_id="warm-up")  # first use creates the indexes
    yield watched
    if request.param == "async":
        await client.close()
    else:
        client.close()


async def test_add_and_add_many_are_one_insert_each(monitored: Monitored) -> None:
    added = await monitored("add", "Sarah prefers email", user_id="u1", topics=["contact"])
    assert monitored.commands.memory_commands() == ["insert"], monitored.commands.companion_commands()
    many = await monitored("add_many", [f"User fact {i}" for i in range(50)], user_id="u1")
    assert monitored.commands.memory_commands() == ["insert"]
    # What they return is what a read finds.
    assert await monitored("get", added.memory_id, user_id="u1") == added
    page = await monitored("list_memories", user_id="u1")
    assert {m.memory_id: m for m in page.items} == {m.memory_id: m for m in [added, *many]}


async def test_a_retried_add_reads_only_the_ids_the_insert_refused(monitored: Monitored) -> None:
    first = await monitored("add", UserMemory(memory_id="m-1", memory="User likes tea"), user_id="u1")
    again = await monitored(
        "add_many",
        [
            UserMemory(memory_id="m-1", memory="User likes tea"),
            UserMemory(memory_id="m-2", memory="User likes jam"),
        ],
        user_id="u1",
    )
    assert monitored.commands.memory_commands() == ["insert", "find"]
    assert again[0] == first and again[1].memory == "User likes jam"
    assert [m.memory_id for m in (await monitored("list_memories", user_id="u1")).items] == ["m-2", "m-1"]


async def test_a_refused_batch_is_taken_back(monitored: Monitored) -> None:
    await monitored("add", UserMemory(memory_id="a-1", memory="Alice's fact"), user_id="alice")
    with pytest.raises(ValueError, match="'a-1' is already in use"):
        await monitored(
            "add_many",
            [UserMemory(memory_id="b-1", memory="Bob's fact"), UserMemory(memory_id="a-1", memory="Bob's")],
            user_id="bob",
        )
    # The insert claimed b-1; finding a-1 another user's, the batch deletes what it inserted.
    assert monitored.commands.memory_commands() == ["insert", "find", "delete"]
    assert (await monitored("list_memories", user_id="bob")).total == 0
    assert [m.memory for m in (await monitored("list_memories", user_id="alice")).items] == ["Alice's fact"]


def test_a_retry_is_found_under_the_sharded_key_too(mongo_uri: str, mongo_db_name: str) -> None:
    # A collection sharded on {user_id, memory_id} carries that unique index instead of memory_id_1.
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    client[mongo_db_name][COLLECTION].create_index([("user_id", 1), ("memory_id", 1)], unique=True)
    store = MongoMemoryStore(client=client, database=mongo_db_name, create_indexes=False)
    try:
        first = store.add(UserMemory(memory_id="m-1", memory="User likes tea"), user_id="u1")
        assert store.add(UserMemory(memory_id="m-1", memory="User likes TEA"), user_id="u1") == first
        assert [m.memory for m in store.list_memories(user_id="u1").items] == ["User likes tea"]
    finally:
        client.close()


async def test_reads_count_only_in_the_listing_and_there_in_the_same_command(monitored: Monitored) -> None:
    mine = await monitored("add_many", [f"User fact {i}" for i in range(12)], user_id="u1")
    await monitored("get", mine[0].memory_id, user_id="u1")
    assert monitored.commands.memory_commands() == ["find"]
    everything = await monitored("list_memories", user_id="u1")
    assert monitored.commands.memory_commands() == ["find"] and everything.total == 12
    for kwargs, total, shown in (
        ({"limit": 5}, 12, 5),
        ({"limit": 5, "page": 3}, 12, 2),
        ({"limit": 50}, 12, 12),
    ):
        page = await monitored("list_memories", user_id="u1", **kwargs)
        assert monitored.commands.memory_commands() == ["aggregate"], kwargs
        assert (page.total, len(page.items)) == (total, shown), kwargs
    past_the_end = await monitored("list_memories", user_id="u1", offset=40)
    assert (past_the_end.total, past_the_end.items) == (12, [])
    assert (await monitored("list_memories", user_id="nobody", limit=5)).total == 0


async def test_search_is_one_bounded_aggregate_ranked_as_everywhere(monitored: Monitored) -> None:
    texts = [f"User drank tea number {i}" for i in range(200)]
    texts += [f"User drank green tea on day {i}" for i in range(30)]
    texts += ["User likes coffee", "User owns a teapot", "Tea is a user's habit"]
    await monitored("add_many", texts, user_id="u1")
    await monitored("add", "Another user drinks green tea", user_id="u2")
    await monitored("search", "warm", user_id="u1")  # the first search asks once about a text index
    everything = (await monitored("list_memories", user_id="u1")).items
    for query, limit in (("green tea", 5), ("tea", 20), ("tea green coffee", 40), ("teapot", 3)):
        hits = await monitored("search", query, user_id="u1", limit=limit)
        assert monitored.commands.memory_commands() == ["aggregate"], query
        (pipeline,) = [c["pipeline"] for n, _, c in monitored.commands.sent if n == "aggregate"]
        assert {"$limit": limit + SEARCH_SLACK} in pipeline
        assert max(monitored.commands.returned) <= limit + SEARCH_SLACK
        # The same hits, in the same order, as the shared ranking over every memory of the user.
        expected = rank_by_terms(everything, query_terms(query), limit)
        assert [(h.memory.memory_id, h.score) for h in hits] == [
            (h.memory.memory_id, h.score) for h in expected
        ], query
        assert all(h.memory.user_id == "u1" for h in hits)


async def test_search_matches_word_starts_only_and_odd_rows_do_not_break_it(
    monitored: Monitored, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    good = await monitored("add", "User enjoys running", user_id="u1", topics=["sport_club"])
    raw = mongo_client[mongo_db_name][COLLECTION]
    raw.insert_many(
        [
            {"memory_id": "n", "memory": 42, "user_id": "u1", "topics": "running", "updated_at": 2},
            {
                "memory_id": "o",
                "memory": {"running": 1},
                "user_id": "u1",
                "topics": [7, None],
                "updated_at": 3,
            },
        ]
    )
    for query in ("runn", "RUNNING", "sport_cl", "enjoy"):
        assert [h.memory.memory_id for h in await monitored("search", query, user_id="u1")] == [
            good.memory_id
        ], query
    assert await monitored("search", "unning", user_id="u1") == []


def test_a_text_index_is_recognised_from_its_description() -> None:
    # The shape listIndexes gives for a text index (MongoDB 7): the key names _fts, weights name the fields.
    both = {"key": {"_fts": "text", "_ftsx": 1}, "name": "t", "weights": {"memory": 1, "topics": 1}}
    wildcard = {"key": {"_fts": "text", "_ftsx": 1}, "name": "w", "weights": {"$**": 1}}
    memory_only = {"key": {"_fts": "text", "_ftsx": 1}, "name": "m", "weights": {"memory": 1}}
    plain = {"key": {"memory_id": 1}, "name": "memory_id_1", "unique": True}
    assert has_text_index([plain, both]) and has_text_index([wildcard])
    assert not has_text_index([plain, memory_only]) and not has_text_index([])
    text_stage = search_pipeline(MemoryFilter("u1"), ["tea"], 5, text_index=True)[0]["$match"]
    regex_stage = search_pipeline(MemoryFilter("u1"), ["tea"], 5, text_index=False)[0]["$match"]
    assert text_stage == {"user_id": "u1", "$text": {"$search": "tea"}}
    assert "$text" not in regex_stage and len(regex_stage["$or"]) == 2


@pytest.mark.real_mongo
async def test_a_text_index_serves_the_search(
    monitored: Monitored, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    mongo_client[mongo_db_name][COLLECTION].create_index([("memory", "text"), ("topics", "text")])
    tea = await monitored("add", "User drinks green tea", user_id="u1", topics=["drink"])
    await monitored("add", "User owns a bicycle", user_id="u1")
    assert [h.memory.memory_id for h in await monitored("search", "tea drink", user_id="u1")] == [
        tea.memory_id
    ]
    assert monitored.commands.memory_commands() == ["listIndexes", "aggregate"]
    (pipeline,) = [c["pipeline"] for n, _, c in monitored.commands.sent if n == "aggregate"]
    assert "$text" in pipeline[0]["$match"]
    await monitored("search", "tea", user_id="u1")
    assert monitored.commands.memory_commands() == ["aggregate"]  # asked once, kept


# ------------------------------------------------------------ one extraction turn
async def _extract(monitored: Monitored, manager: MemoryManager, text: str) -> Any:
    monitored.commands.clear()
    messages = [HumanMessage(text, id=uuid.uuid4().hex)]
    if monitored.mode == "sync":
        return manager.extract(messages, user_id="u1")
    return await manager.aextract(messages, user_id="u1")


def _union_of(commands: Commands) -> list[dict[str, Any]]:
    """The first aggregate's pipeline: the turn's related and newest memories."""
    return next(c["pipeline"] for n, _, c in commands.sent if n == "aggregate")


@pytest.mark.parametrize("history", [True, False])
async def test_an_extraction_turn_is_at_most_four_commands(monitored: Monitored, history: bool) -> None:
    monitored.store.configure_lifecycle(history=history)
    await monitored(
        "add_many", [f"User remembers fact {i} about the garden" for i in range(1_000)], user_id="u1"
    )
    boats = iter(["User owns a blue canoe", "User owns a red kayak"])
    model = ScriptedChatModel(
        responder=lambda _: AIMessage("", tool_calls=[call("add_memory", memory=next(boats))])
    )
    manager = MemoryManager(model, monitored.store)
    # The first turn also asks once about a text index and what kind of deployment the server is.
    assert (await _extract(monitored, manager, "I bought a blue canoe")).ok
    result = await _extract(monitored, manager, "I bought a red kayak")
    assert result.ok and [m.memory for m in result.added] == ["User owns a red kayak"]
    # The related memories and the newest ones (with their total) in one aggregate, the duplicate
    # lookup of the add, and the add: one document, atomic without a transaction.
    assert monitored.commands.memory_commands() == ["aggregate", "aggregate", "update"]
    assert monitored.commands.companion_commands() == (["insert:agno_memories_history"] if history else [])
    assert sum("$unionWith" in stage for stage in _union_of(monitored.commands)) == 2


async def test_a_turn_of_a_user_whose_memories_were_all_shown_is_three_commands_in_all(
    monitored: Monitored,
) -> None:
    for text in ("User lives in Lisbon", "User likes tea", "User has a cat"):
        await monitored("add", text, user_id="u1")
    boats = iter(["User owns a red kayak", "User owns a blue canoe"])
    model = ScriptedChatModel(
        responder=lambda _: AIMessage("", tool_calls=[call("add_memory", memory=next(boats))])
    )
    manager = MemoryManager(model, monitored.store)
    # The first turn also asks, once per store, what kind of deployment the server is.
    assert (await _extract(monitored, manager, "I bought a red kayak")).ok
    result = await _extract(monitored, manager, "I bought a blue canoe")
    assert result.ok and [m.memory for m in result.added] == ["User owns a blue canoe"]
    # Related and newest (all four of them: no duplicate lookup then), the add, its history entry.
    everything = [n for n, _, _ in monitored.commands.sent]
    assert everything == ["aggregate", "update", "insert"], monitored.commands.sent
    assert monitored.commands.companion_commands() == ["insert:agno_memories_history"]


async def test_the_folded_read_gives_what_search_and_listing_give(monitored: Monitored) -> None:
    await monitored("add_many", [f"User drank tea number {i}" for i in range(30)], user_id="u1")
    await monitored("add_many", ["User likes green tea", "User owns a bike"], user_id="u1")
    await monitored("add", "User likes tea too", user_id="u2")
    await monitored("search", "warm", user_id="u1")  # the first search asks once about a text index
    for query, limit, newest in (("green tea", 5, 3), ("bike", 20, 40), ("", 10, 5), ("zzz", 5, 2)):
        folded, page = await monitored("search_and_newest", query, user_id="u1", limit=limit, newest=newest)
        assert len(monitored.commands.memory_commands()) == 1, query
        hits = await monitored("search", query, user_id="u1", limit=limit) if query else []
        listing = await monitored("list_memories", user_id="u1", limit=newest)
        assert [(h.memory, h.score) for h in folded] == [(h.memory, h.score) for h in hits], query
        assert (page.items, page.total) == (listing.items, listing.total) == (listing.items, 32), query
    _, nobody = await monitored("search_and_newest", "tea", user_id="nobody")
    assert (nobody.items, nobody.total) == ([], 0)


@pytest.mark.parametrize("history", [True, False])
@pytest.mark.parametrize("client_bulk", [True, False])
async def test_a_turn_of_several_changes_is_one_transaction(
    monitored: Monitored, history: bool, client_bulk: bool
) -> None:
    monitored.store.configure_lifecycle(history=history)
    tea = await monitored("add", "User likes tea", user_id="u1")
    phone = await monitored("add", "User phone is 555-0100", user_id="u1")
    await monitored("search", "warm", user_id="u1")
    # A first change set asks what the server is and creates the history's indexes, once.
    await monitored("apply_changes", user_id="warm-up", adds=["User a", "User b"])
    if not client_bulk:  # a server before MongoDB 8.0, or a client without the client-level bulkWrite
        monitored.store._client_bulk = dict.fromkeys(monitored.store._client_bulk, False)
    model = model_from(
        lambda aliases: [
            call("add_memory", memory="User prefers email"),
            call("update_memory", id=aliases["User likes tea"], memory="User likes green tea"),
            call("delete_memory", id=aliases["User phone is 555-0100"]),
        ]
    )
    result = await _extract(
        monitored, MemoryManager(model, monitored.store), "green tea; drop my phone; email"
    )
    assert result.ok and [m.memory_id for m in result.deleted] == [phone.memory_id]
    assert [(m.memory_id, m.memory) for m in result.updated] == [(tea.memory_id, "User likes green tea")]
    sent = monitored.commands.sent
    everything = [f"{n}:{t}" if t not in (COLLECTION, None, 1) else n for n, t, _ in sent]
    in_transaction = [n for n, _, c in sent if c.get("autocommit") is False]
    history_insert = ["insert:agno_memories_history"] if history else []
    # Reads: related and newest, one aggregate. The model was shown all of the user's memories, so
    # its add was checked against every one of them and is not looked up in the store again.
    if not mongo_runs_transactions(monitored):
        # A standalone server: no transaction; another user's id is refused before writing.
        assert everything == ["aggregate", "find", "find", "update", "delete", *history_insert]
    elif client_bulk:
        # The add, the update, the delete and their history entries: one bulkWrite, then the commit.
        assert everything == ["aggregate", "bulkWrite", "commitTransaction"], everything
        assert in_transaction == ["bulkWrite", "commitTransaction"]
    else:
        # The memories to change; the add and the update (one command); the delete; the commit;
        # the history after it. Its "before" is what the model was shown: no read of them again.
        assert in_transaction == ["find", "update", "delete", "commitTransaction"]
        assert everything == ["aggregate", *in_transaction, *history_insert], everything
    stored = {m.memory_id: m.memory for m in (await monitored("list_memories", user_id="u1")).items}
    assert stored == {tea.memory_id: "User likes green tea", result.added[0].memory_id: "User prefers email"}
    assert [m.memory for m in result.added] == ["User prefers email"]
    assert await monitored("get", tea.memory_id, user_id="u1") == result.updated[0]
    changes = [
        (e.event, e.path, e.old_memory, e.new_memory)
        for m in (tea, phone, result.added[0])
        for e in await monitored("history", m.memory_id, user_id="u1")
    ]
    expected = [
        ("add", "api", None, "User likes tea"),
        ("update", "extraction", "User likes tea", "User likes green tea"),
        ("add", "api", None, "User phone is 555-0100"),
        ("delete", "extraction", "User phone is 555-0100", None),
        ("add", "extraction", None, "User prefers email"),
    ]
    assert changes == (expected if history else [])


def mongo_runs_transactions(monitored: Monitored) -> bool:
    """Whether the server under test is a replica set (SecantusDB is one; a standalone mongod is not)."""
    return any(monitored.store._transactions.values())


@pytest.mark.parametrize("history", [True, False])
async def test_a_turn_of_several_changes_among_many_memories_is_four_commands(
    monitored: Monitored, history: bool
) -> None:
    monitored.store.configure_lifecycle(history=history)
    old = await monitored("add_many", ["User owns a red kayak"], user_id="u1")  # stored, never shown
    await monitored(
        "add_many", [f"User remembers fact {i} about the garden" for i in range(300)], user_id="u1"
    )
    tea = await monitored("add", "User likes tea", user_id="u1")
    await monitored("apply_changes", user_id="warm-up", adds=["User a", "User b"])
    await monitored("search", "warm", user_id="u1")
    model = model_from(
        lambda aliases: [
            call("add_memory", memory="User prefers email"),
            call("add_memory", memory="User owns a red kayak."),
            call("update_memory", id=aliases["User likes tea"], memory="User likes green tea"),
            call("delete_memory", id=aliases["User remembers fact 299 about the garden"]),
        ]
    )
    manager = MemoryManager(model, monitored.store, recent_limit=3, search_limit=3)
    result = await _extract(monitored, manager, "green tea please; email me")
    assert result.ok and [m.memory for m in result.added] == ["User prefers email"]
    assert [r.duplicate_of for r in result.rejected] == [old[0].memory_id]
    assert [m.memory for m in result.updated] == ["User likes green tea"] and len(result.deleted) == 1
    everything = [n for n, _, _ in monitored.commands.sent]
    if mongo_runs_transactions(monitored):
        # Related and newest; the duplicate lookups of both adds; the writes and history; the commit.
        assert everything == ["aggregate", "aggregate", "bulkWrite", "commitTransaction"], everything
    (lookups,) = [c["pipeline"] for n, _, c in monitored.commands.sent if n == "aggregate"][1:]
    assert sum("$unionWith" in stage for stage in lookups) == 1, lookups
    assert (await monitored("get", tea.memory_id, user_id="u1")) == result.updated[0]


async def test_search_each_gives_what_each_search_gives(monitored: Monitored) -> None:
    await monitored("add_many", [f"User drank tea number {i}" for i in range(30)], user_id="u1")
    await monitored("add_many", ["User likes green tea", "User owns a bike"], user_id="u1")
    await monitored("add", "User owns a bike too", user_id="u2")
    await monitored("search", "warm", user_id="u1")
    queries = ["green tea", "", "bike", "zzz", "tea"]
    each = await monitored("search_each", queries, user_id="u1", limit=5)
    assert monitored.commands.memory_commands() == ["aggregate"]
    for query, hits in zip(queries, each, strict=True):
        alone = await monitored("search", query, user_id="u1", limit=5)
        assert [(h.memory, h.score) for h in hits] == [(h.memory, h.score) for h in alone], query
    assert await monitored("search_each", ["", "the"], user_id="u1") == [[], []]
