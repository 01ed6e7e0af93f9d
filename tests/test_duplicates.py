"""A memory the user already has (same text, case, whitespace and punctuation aside) is not stored again.

The memory tools refuse it and tell the model the id it repeats; extraction rejects it, logs it
and reports it in its result. Every backend, sync and async.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from conftest import BACKEND_MODES, POSTGRES
from langmem_agno import MemoryManager, MemoryStore, ScriptedChatModel, create_memory_tools
from langmem_agno.extraction.duplicates import DUPLICATE_SEARCH_LIMIT, duplicate_in, normalized_text
from langmem_agno.record import UserMemory

IDS = [f"{b}-{m}" for b, m in BACKEND_MODES]
CONFIG: Any = {"configurable": {"user_id": "u1"}}


async def _add_tool(
    store: MemoryStore, mode: str, args: dict[str, Any], n: int, **options: Any
) -> ToolMessage:
    tool = create_memory_tools(store, include=["add"], **options)[0]
    call = {"type": "tool_call", "id": f"c{n}", "name": "add_memory", "args": args}
    result = tool.invoke(call, config=CONFIG) if mode == "sync" else await tool.ainvoke(call, CONFIG)
    assert isinstance(result, ToolMessage)
    return result


async def _list(store: MemoryStore, mode: str, user_id: str = "u1") -> list[UserMemory]:
    page = (
        store.list_memories(user_id=user_id)
        if mode == "sync"
        else await store.alist_memories(user_id=user_id)
    )
    return page.items


def _added(store: MemoryStore, text: str, user_id: str = "u1", **kwargs: Any) -> UserMemory:
    return store.add(text, user_id=user_id, **kwargs)


async def _seed(store: MemoryStore, mode: str, text: str, user_id: str = "u1", **kwargs: Any) -> UserMemory:
    if mode == "sync":
        return _added(store, text, user_id, **kwargs)
    return await store.aadd(text, user_id=user_id, **kwargs)


def test_normalised_text_ignores_case_whitespace_and_punctuation() -> None:
    same = [
        "User likes green tea.",
        "user likes  green TEA",
        " User likes green-tea! ",
        "User, likes green tea",
    ]
    assert len({normalized_text(t) for t in same}) == 1
    assert normalized_text("User likes green tea") != normalized_text("User likes black tea")
    assert normalized_text("Ｕｓｅｒ likes tea") == normalized_text("user likes tea")  # full-width letters
    assert normalized_text("?!...") == ""
    # A text of punctuation only duplicates nothing, not even another one.
    assert duplicate_in("...", [UserMemory(memory="!!!", user_id="u1")]) is None


@pytest.mark.parametrize(("backend", "mode"), BACKEND_MODES, ids=IDS)
async def test_the_add_tool_refuses_a_duplicate_and_names_the_stored_id(
    backend: str, mode: str, store_factory: Any
) -> None:
    store = store_factory(backend, mode)
    first = await _add_tool(store, mode, {"memory": "User likes green tea", "topics": ["food"]}, 1)
    assert first.status == "success" and first.artifact.get("duplicate_of") is None
    stored_id = first.artifact["memory_id"]
    for n, text in enumerate(["User likes green tea", "user likes green tea.", "USER  LIKES GREEN-TEA!"], 2):
        again = await _add_tool(store, mode, {"memory": text}, n)
        assert again.status == "success"
        assert f"duplicates the stored memory (id: {stored_id})" in str(again.content)
        assert again.artifact["duplicate_of"] == stored_id
    other = await _add_tool(store, mode, {"memory": "User likes black tea"}, 9)
    assert other.artifact.get("duplicate_of") is None
    assert sorted(m.memory for m in await _list(store, mode)) == [
        "User likes black tea",
        "User likes green tea",
    ]
    await store.aclose()


@pytest.mark.parametrize(("backend", "mode"), BACKEND_MODES, ids=IDS)
async def test_the_add_tool_compares_only_with_this_users_memories(
    backend: str, mode: str, store_factory: Any
) -> None:
    store = store_factory(backend, mode)
    await _seed(store, mode, "User likes green tea", user_id="u2")
    result = await _add_tool(store, mode, {"memory": "User likes green tea"}, 1)
    # Another user's memory is neither a duplicate nor named to the model.
    assert result.artifact.get("duplicate_of") is None
    assert [m.memory for m in await _list(store, mode)] == ["User likes green tea"]
    await store.aclose()


@pytest.mark.parametrize(("backend", "mode"), [("sqlite-memory", "sync"), ("mongo", "async")])
async def test_a_private_tool_does_not_name_another_agents_memory(
    backend: str, mode: str, store_factory: Any
) -> None:
    store = store_factory(backend, mode)
    await _seed(store, mode, "User likes green tea", agent_id="tutor")
    result = await _add_tool(
        store, mode, {"memory": "User likes green tea"}, 1, agent_id="coach", private_to_agent=True
    )
    assert result.artifact.get("duplicate_of") is None
    assert sorted(m.agent_id or "" for m in await _list(store, mode)) == ["coach", "tutor"]
    await store.aclose()


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_the_duplicate_is_found_among_many_memories_holding_its_words(
    backend: str, store_factory: Any
) -> None:
    store = store_factory(backend, "sync")
    target = _added(store, "User likes tea")
    # Newer memories holding all its words rank with it (ties go to the newest): the lookup's
    # bound is how many of them it sees past.
    store.add_many([f"User likes tea number {i}" for i in range(DUPLICATE_SEARCH_LIMIT - 1)], user_id="u1")
    result = _add_tool_sync(store, {"memory": "user likes TEA"})
    assert result.artifact["duplicate_of"] == target.memory_id


def _add_tool_sync(store: MemoryStore, args: dict[str, Any]) -> ToolMessage:
    tool = create_memory_tools(store, include=["add"])[0]
    result = tool.invoke({"type": "tool_call", "id": "c1", "name": "add_memory", "args": args}, config=CONFIG)
    assert isinstance(result, ToolMessage)
    return result


def _adds(*texts: str) -> AIMessage:
    calls = [{"name": "add_memory", "args": {"memory": t}, "id": f"c{i}"} for i, t in enumerate(texts)]
    return AIMessage("", tool_calls=calls)


@pytest.mark.parametrize(("backend", "mode"), BACKEND_MODES, ids=IDS)
async def test_extraction_rejects_a_duplicate_of_a_memory_it_was_not_shown(
    backend: str, mode: str, store_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_factory(backend, mode)
    stored = await _seed(store, mode, "User works at Acme")
    model = ScriptedChatModel(responses=[_adds("user works at ACME.", "User has a cat")])
    # Nothing is shown to the model, so only the store lookup can tell it already has the fact.
    manager = MemoryManager(model, store, search_limit=0, recent_limit=0)
    caplog.set_level(logging.INFO, logger="langmem_agno.extraction")
    messages = ["I work at Acme and I have a cat"]
    if mode == "sync":
        result = manager.extract(messages, user_id="u1")
    else:
        result = await manager.aextract(messages, user_id="u1")
    assert result.ok and result.shown_memories == 0
    assert [m.memory for m in result.added] == ["User has a cat"]
    (rejected,) = result.rejected
    assert rejected.duplicate_of == stored.memory_id and stored.memory_id in rejected.reason
    assert stored.memory_id in caplog.text
    assert sorted(m.memory for m in await _list(store, mode)) == ["User has a cat", "User works at Acme"]
    await store.aclose()


@pytest.mark.parametrize(("backend", "mode"), [("sqlite-file", "sync"), ("mongo", "async")])
async def test_extraction_names_the_shown_memory_a_duplicate_repeats(
    backend: str, mode: str, store_factory: Any
) -> None:
    store = store_factory(backend, mode)
    stored = await _seed(store, mode, "User works at Acme")
    manager = MemoryManager(ScriptedChatModel(responses=[_adds("User works at Acme!")]), store)
    extract = manager.extract if mode == "sync" else None
    result = (
        extract(["I work at Acme"], user_id="u1")
        if extract
        else await manager.aextract(["I work at Acme"], user_id="u1")
    )
    assert result.shown_memories == 1 and not result.added
    (rejected,) = result.rejected
    assert rejected.reason == "duplicate of existing memory [1]" and rejected.duplicate_of == stored.memory_id
    await store.aclose()


def test_a_retried_extraction_keeps_the_add_it_stored_the_first_time(store_factory: Any) -> None:
    store = store_factory("sqlite-file", "sync")
    model = ScriptedChatModel(responses=[_adds("User has a cat")])
    manager = MemoryManager(model, store, search_limit=0, recent_limit=0)
    first = manager.extract(["I have a cat"], user_id="u1")
    again = manager.extract(["I have a cat"], user_id="u1")
    # The same messages give the same id: the repeat is the first attempt's own write, not a duplicate.
    assert [m.memory_id for m in again.added] == [m.memory_id for m in first.added]
    assert not again.rejected
    assert store.list_memories(user_id="u1").total == 1


def test_an_apostrophe_joins_and_other_punctuation_separates() -> None:
    assert normalized_text("User doesn't eat meat") == normalized_text("user doesnt eat meat")
    assert normalized_text("User doesn\u2019t eat meat") == normalized_text("user doesnt eat meat")
    assert normalized_text("User's email is a_b") == "users email is a b"


def test_a_memory_agno_wrote_is_a_duplicate_too(tmp_path: Any, mongo_uri: str, mongo_db_name: str) -> None:
    from agno.db.mongo import MongoDb
    from agno.db.schemas.memory import UserMemory as AgnoUserMemory
    from pymongo import MongoClient

    from langmem_agno import MongoMemoryStore, SQLiteMemoryStore
    from test_agno_interop import COLLECTION, agno_sqlite

    written = AgnoUserMemory(
        memory_id="agno-1", memory="User likes green tea", user_id="u1", updated_at=1_000
    )
    agno_sqlite(tmp_path / "agno.db").upsert_user_memory(written)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    MongoDb(db_client=client, db_name=mongo_db_name, memory_collection=COLLECTION).upsert_user_memory(written)
    for store in (
        SQLiteMemoryStore(tmp_path / "agno.db"),
        MongoMemoryStore(mongo_uri, database=mongo_db_name),
    ):
        result = _add_tool_sync(store, {"memory": "user likes green tea!"})
        assert result.artifact["duplicate_of"] == "agno-1"
        assert store.list_memories(user_id="u1").total == 1
        store.close()
    client.close()


@pytest.mark.parametrize(("backend", "mode"), BACKEND_MODES, ids=IDS)
async def test_two_adds_racing_past_the_lookup_store_one_memory(
    backend: str, mode: str, store_factory: Any
) -> None:
    from langmem_agno.extraction.duplicates import add_plan

    store = store_factory(backend, mode)
    scope: Any = {"user_id": "u1", "agent_id": None, "team_id": None}
    # Two parallel tool calls of one reply: both look for a duplicate before either adds.
    plans = [
        add_plan(store, text, owner={"user_id": "u1"}, scope=scope, topics=None)
        for text in ("User likes green tea", "user likes green tea.")
    ]
    searches = [next(p) for p in plans]
    found = [s.run() if mode == "sync" else await s.arun() for s in searches]
    assert found == [[], []]
    outcomes = []
    for plan, hits in zip(plans, found, strict=True):
        step = plan.send(hits)
        try:
            while True:
                step = plan.send(step.run() if mode == "sync" else await step.arun())
        except StopIteration as done:
            outcomes.append(done.value)
    assert outcomes[0].memory.memory_id == outcomes[1].memory.memory_id
    assert [m.memory for m in await _list(store, mode)] == ["User likes green tea"]
    await store.aclose()


def test_an_add_whose_id_was_taken_by_a_changed_memory_gets_a_new_id(store_factory: Any) -> None:
    store = store_factory("sqlite-file", "sync")
    first = _add_tool_sync(store, {"memory": "User likes green tea"}).artifact
    store.update(first["memory_id"], user_id="u1", memory="User likes coffee")
    again = _add_tool_sync(store, {"memory": "User likes green tea"}).artifact
    assert again.get("duplicate_of") is None and again["memory_id"] != first["memory_id"]
    assert sorted(m.memory for m in store.list_memories(user_id="u1")) == [
        "User likes coffee",
        "User likes green tea",
    ]
