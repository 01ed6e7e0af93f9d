"""Load: many concurrent extractions and tool calls over 10 users, on threads and on asyncio tasks.

Afterwards every user holds exactly what their own runs produced: nothing lost,
nothing duplicated, nothing of another user, and no error (SQLite's "database is
locked" included) escaped any run.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from conftest import POSTGRES
from langmem_agno import MemoryStore, SQLiteMemoryStore, create_memory_tools
from langmem_agno.extraction import ExtractionResult, MemoryManager
from langmem_agno.scripted import ScriptedChatModel

USERS = [f"user{n}" for n in range(10)]
TURNS = 4  # extractions per user: 40 extractions
TOOL_ADDS = 2  # tool adds per user: 20 tool calls, plus 10 updates, 10 deletes, 10 searches


def said(messages: list[BaseMessage]) -> AIMessage:
    """Add one memory per user line, as a model following the capture instructions would."""
    lines = [ln[6:] for ln in str(messages[-1].content).splitlines() if ln.startswith("user: ")]
    calls = [
        {"name": "add_memory", "args": {"memory": f"Said {t}"}, "id": f"c{i}"} for i, t in enumerate(lines)
    ]
    return AIMessage("", tool_calls=calls)


def expected(user: str) -> dict[str, list[str] | None]:
    """What one user's runs leave: extracted and tool-added facts, the edited seed; the deleted seed gone."""
    out: dict[str, list[str] | None] = {f"Said {user} turn {t}": None for t in range(TURNS)}
    out.update({f"{user} tool fact {k}": ["load"] for k in range(TOOL_ADDS)})
    out[f"{user} seed A, edited"] = ["seed", "edited"]
    return out


def state_of(store: MemoryStore, user: str) -> dict[str, list[str] | None]:
    items = store.list_memories(user_id=user).items
    assert all(m.user_id == user for m in items)
    found = {m.memory: m.topics for m in items}
    assert len(found) == len(items), f"duplicate memories for {user}: {[m.memory for m in items]}"
    return found


def seed(store: MemoryStore) -> dict[str, tuple[str, str]]:
    ids = {}
    for user in USERS:
        a = store.add(f"{user} seed A", user_id=user, topics=["seed"])
        b = store.add(f"{user} seed B", user_id=user, topics=["seed"])
        ids[user] = (a.memory_id, b.memory_id)
    return ids


def tools_by_name(store: MemoryStore) -> dict[str, BaseTool]:
    return {t.name: t for t in create_memory_tools(store)}


def jobs_for(user: str, ids: tuple[str, str]) -> list[tuple[str, Any]]:
    """One user's work: extractions and tool calls, each a (kind, argument) pair."""
    seed_a, seed_b = ids
    work: list[tuple[str, Any]] = [
        ("extract", HumanMessage(f"{user} turn {t}", id=f"{user}-m{t}")) for t in range(TURNS)
    ]
    work += [
        ("add_memory", {"memory": f"{user} tool fact {k}", "topics": ["load"]}) for k in range(TOOL_ADDS)
    ]
    # Two writers change different fields of one memory at once: neither change may be lost.
    work.append(("update_memory", {"memory_id": seed_a, "memory": f"{user} seed A, edited", "topics": None}))
    work.append(("topics", (seed_a, ["seed", "edited"])))
    work.append(("delete_memory", {"memory_id": seed_b}))
    work.append(("search_memories", {"query": f"{user} seed", "limit": 5}))
    return work


def run_job(
    manager: MemoryManager, tools: dict[str, BaseTool], store: MemoryStore, user: str, job: Any
) -> Any:
    kind, arg = job
    config: RunnableConfig = {"configurable": {"user_id": user}}
    if kind == "extract":
        return manager.extract([arg], config=config)
    if kind == "topics":
        return store.update(arg[0], user_id=user, topics=arg[1])
    return tools[kind].invoke(arg, config=config)


async def arun_job(
    manager: MemoryManager, tools: dict[str, BaseTool], store: MemoryStore, user: str, job: Any
) -> Any:
    kind, arg = job
    config: RunnableConfig = {"configurable": {"user_id": user}}
    if kind == "extract":
        return await manager.aextract([arg], config=config)
    if kind == "topics":
        return await store.aupdate(arg[0], user_id=user, topics=arg[1])
    return await tools[kind].ainvoke(arg, config=config)


def check_outcomes(outcomes: list[Any]) -> None:
    assert len(outcomes) >= 50 + 20
    for outcome in outcomes:
        if isinstance(outcome, ExtractionResult):
            assert outcome.ok, outcome.error
            assert not outcome.rejected
        else:
            assert not str(outcome).startswith("Error"), outcome


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_threads(store_factory: Any, backend: str) -> None:
    # Two stores over one database: on SQLite, two connections contending for the file lock.
    first: MemoryStore = store_factory(backend)
    second = SQLiteMemoryStore(first.path) if isinstance(first, SQLiteMemoryStore) else store_factory(backend)
    stores = [first, second]
    ids = seed(first)
    pairs = [(MemoryManager(ScriptedChatModel(responder=said), s), tools_by_name(s), s) for s in stores]
    work = [(pairs[i % 2], user, job) for user in USERS for i, job in enumerate(jobs_for(user, ids[user]))]
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(lambda w: run_job(*w[0], w[1], w[2]), work))
    check_outcomes(outcomes)
    for user in USERS:
        assert state_of(first, user) == expected(user)
    second.close()


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
async def test_asyncio_tasks(store_factory: Any, backend: str) -> None:
    store = store_factory(backend, "async")
    ids = await aseed(store)
    manager = MemoryManager(ScriptedChatModel(responder=said), store)
    tools = tools_by_name(store)
    outcomes = await asyncio.gather(
        *(arun_job(manager, tools, store, user, job) for user in USERS for job in jobs_for(user, ids[user]))
    )
    check_outcomes(list(outcomes))
    for user in USERS:
        items = (await store.alist_memories(user_id=user)).items
        assert all(m.user_id == user for m in items)
        assert len({m.memory for m in items}) == len(items)
        assert {m.memory: m.topics for m in items} == expected(user)
    await store.aclose()


async def aseed(store: MemoryStore) -> dict[str, tuple[str, str]]:
    ids = {}
    for user in USERS:
        a = await store.aadd(f"{user} seed A", user_id=user, topics=["seed"])
        b = await store.aadd(f"{user} seed B", user_id=user, topics=["seed"])
        ids[user] = (a.memory_id, b.memory_id)
    return ids
