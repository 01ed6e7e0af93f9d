"""Faults: an unreachable database, a write failing part-way, a failing model, an interrupted process.

In each case the failure is reported with its cause, nothing is half-written,
and retrying the same extraction never duplicates a memory.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pymongo.errors import AutoReconnect

from conftest import POSTGRES
from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore, StoreUnavailableError
from langmem_agno.extraction import ExtractionError, MemoryManager
from langmem_agno.node import create_memory_node
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.stores import mongo as mongo_module

ROOT = Path(__file__).resolve().parent.parent
FACTS = [f"User fact number {i}" for i in range(6)]


def add_facts(_: list[BaseMessage]) -> AIMessage:
    calls = [{"name": "add_memory", "args": {"memory": f}, "id": f"c{i}"} for i, f in enumerate(FACTS)]
    return AIMessage("", tool_calls=calls)


async def extract(manager: MemoryManager, mode: str, messages: list[Any], user_id: str) -> Any:
    if mode == "sync":
        return manager.extract(messages, user_id=user_id)
    return await manager.aextract(messages, user_id=user_id)


def texts(store: MemoryStore, user_id: str) -> list[str]:
    return sorted(m.memory for m in store.list_memories(user_id=user_id))


# ------------------------------------------------------------ unreachable database
def test_mongo_timeouts_and_retryable_writes_are_configured() -> None:
    store = MongoMemoryStore("mongodb://127.0.0.1:1", timeout_ms=250)
    try:
        assert store._client is not None
        options = store._client.options
        assert options.server_selection_timeout == 0.25
        assert options.pool_options.connect_timeout == 0.25
        assert options.pool_options.socket_timeout is not None
        assert options.retry_writes is True
        assert options.retry_reads is True
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_unreachable_mongo_fails_the_extraction_with_its_cause(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MongoMemoryStore("mongodb://127.0.0.1:1", timeout_ms=200)
    model = ScriptedChatModel(responder=add_facts)
    manager = MemoryManager(model, store)
    with caplog.at_level(logging.WARNING, logger="langmem_agno"):
        result = await extract(manager, mode, ["I like tea"], "u1")
    assert isinstance(result.error, ExtractionError)
    assert isinstance(result.error.__cause__, StoreUnavailableError)
    assert "reading existing memories" in str(result.error)
    assert "127.0.0.1:1" in str(result.error)
    assert not result.changed and model.calls == []
    assert any("127.0.0.1:1" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    with pytest.raises(ExtractionError, match=r"127\.0\.0\.1:1"):
        await extract(MemoryManager(model, store, raise_on_error=True), mode, ["I like tea"], "u1")
    await store.aclose()


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_store_lost_after_the_model_call_writes_nothing_and_a_retry_adds_once(
    store_factory: Any, backend: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_factory(backend, mode)
    manager = MemoryManager(ScriptedChatModel(responder=add_facts), store)
    messages = [HumanMessage("here are my facts", id="m1")]

    def unreachable(*_: Any, **__: Any) -> Any:
        raise StoreUnavailableError("connection refused by 10.0.0.9:27017")

    async def aunreachable(*_: Any, **__: Any) -> Any:
        unreachable()

    with monkeypatch.context() as patch:
        patch.setattr(store, "_apply", unreachable)
        patch.setattr(store, "_aapply", aunreachable)
        failed = await extract(manager, mode, messages, "u1")
    assert isinstance(failed.error, ExtractionError)
    assert "writing memories" in str(failed.error) and "10.0.0.9" in str(failed.error)
    listed = (
        await store.alist_memories(user_id="u1") if mode == "async" else store.list_memories(user_id="u1")
    )
    assert listed.total == 0

    first = await extract(manager, mode, messages, "u1")
    again = await extract(manager, mode, messages, "u1")
    assert first.ok and again.ok
    listed = (
        await store.alist_memories(user_id="u1") if mode == "async" else store.list_memories(user_id="u1")
    )
    assert sorted(m.memory for m in listed.items) == sorted(FACTS)
    assert all(str(uuid.UUID(m.memory_id)) == m.memory_id for m in first.added)  # Agno's id format


def test_retrying_the_same_extraction_never_duplicates_even_when_nothing_is_shown() -> None:
    # recent_limit=0 and no search: the model is shown nothing, so only the ids keep a retry from duplicating.
    store = SQLiteMemoryStore(":memory:")
    manager = MemoryManager(ScriptedChatModel(responder=add_facts), store, recent_limit=0, search_limit=0)
    runs = [manager.extract([HumanMessage("facts", id="m7")], user_id="u1") for _ in range(3)]
    assert all(r.ok for r in runs)
    # Each retry derived the same ids, so its adds were no-ops in the store.
    assert len({tuple(m.memory_id for m in r.added) for r in runs}) == 1
    assert texts(store, "u1") == sorted(FACTS)
    # Another turn with the same words (another message id) is a new extraction, not a retry: its
    # adds get new ids, and are refused as duplicates of the memories the first turn stored.
    other = manager.extract([HumanMessage("facts", id="m8")], user_id="u1")
    assert not other.added and store.list_memories(user_id="u1").total == len(FACTS)
    assert {r.duplicate_of for r in other.rejected} == {m.memory_id for m in runs[0].added}
    # The ids are Agno's format: a str(UUID), and another user gets other ids.
    ids_u2 = {m.memory_id for m in manager.extract([HumanMessage("facts", id="m7")], user_id="u2").added}
    assert ids_u2.isdisjoint(m.memory_id for m in store.list_memories(user_id="u1"))


def test_update_refused_by_the_database_rolls_back_the_adds_of_the_same_extraction(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The adds, the update and the deletes of one extraction are one transaction: the database
    # refusing the update (after the adds were written) leaves nothing, and a retry applies it all once.
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    tea = store.add("User likes tea", user_id="u1")
    before = store.list_memories(user_id="u1").items

    def adds_and_update(messages: list[BaseMessage]) -> AIMessage:
        shown = re.search(r"^\[(\d+)\] User likes tea$", str(messages[0].content), re.MULTILINE)
        calls = add_facts(messages).tool_calls
        if shown:
            calls.append(
                {
                    "name": "update_memory",
                    "args": {"id": shown[1], "memory": "User likes green tea"},
                    "id": "u",
                }
            )
        return AIMessage("", tool_calls=calls)

    manager = MemoryManager(ScriptedChatModel(responder=adds_and_update), store)
    turn = [HumanMessage("I like tea, green tea now", id="m1")]
    store._conn.execute(
        "CREATE TRIGGER poison BEFORE UPDATE ON agno_memories "
        "BEGIN SELECT RAISE(ABORT, 'database file is on a disconnected volume'); END"
    )
    with caplog.at_level(logging.WARNING, logger="langmem_agno"):
        failed = manager.extract(turn, user_id="u1")
    assert failed.error is not None and "disconnected volume" in str(failed.error)
    assert any("disconnected volume" in r.getMessage() for r in caplog.records)
    assert not failed.changed
    assert store.list_memories(user_id="u1").items == before
    store._conn.execute("DROP TRIGGER poison")
    retried = manager.extract(turn, user_id="u1")
    assert retried.ok and [m.memory_id for m in retried.updated] == [tea.memory_id]
    assert texts(store, "u1") == sorted([*FACTS, "User likes green tea"])
    assert manager.extract(turn, user_id="u1").ok
    assert store.list_memories(user_id="u1").total == len(FACTS) + 1


# ------------------------------------------------------------ a bulk write failing part-way
def test_sqlite_batch_failing_part_way_is_rolled_back(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    store.add("User likes tea", user_id="u1")
    before = store.list_memories(user_id="u1").items
    # A trigger makes the database itself refuse the 4th row of the batch, mid-statement.
    store._conn.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON agno_memories WHEN NEW.memory LIKE '%number 3%' "
        "BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END"
    )
    manager = MemoryManager(ScriptedChatModel(responder=add_facts), store)
    failed = manager.extract([HumanMessage("facts", id="m1")], user_id="u1")
    assert failed.error is not None and "simulated disk failure" in str(failed.error)
    assert store.list_memories(user_id="u1").items == before
    store._conn.execute("DROP TRIGGER poison")
    assert manager.extract([HumanMessage("facts", id="m1")], user_id="u1").ok
    assert texts(store, "u1") == sorted([*FACTS, "User likes tea"])


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "bulk-only"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_mongo_bulk_write_failing_part_way_is_completed_by_the_retry(
    store_factory: Any,
    mode: str,
    transactions: bool,
    mongo_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = store_factory("mongo", mode, use_transactions=transactions)
    hello = mongo_client.admin.command("hello")
    atomic = transactions and bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
    manager = MemoryManager(ScriptedChatModel(responder=add_facts), store)
    real_exec, real_aexec = store._exec, store._aexec

    def half(op: Any) -> Any:
        # The connection drops after the server applied the first half of the batch.
        return mongo_module._BulkWrite(op.requests[: len(op.requests) // 2])

    def exec_half(coll: Any, op: Any, session: Any = None) -> Any:
        if isinstance(op, mongo_module._BulkWrite):
            real_exec(coll, half(op), session)
            raise AutoReconnect("connection reset by peer")
        return real_exec(coll, op, session)

    async def aexec_half(coll: Any, op: Any, session: Any = None) -> Any:
        if isinstance(op, mongo_module._BulkWrite):
            await real_aexec(coll, half(op), session)
            raise AutoReconnect("connection reset by peer")
        return await real_aexec(coll, op, session)

    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger="langmem_agno"):
        patch.setattr(store, "_exec", exec_half)
        patch.setattr(store, "_aexec", aexec_half)
        failed = await extract(manager, mode, [HumanMessage("facts", id="m1")], "u1")
    assert isinstance(failed.error, ExtractionError)
    assert "AutoReconnect" in str(failed.error) and "connection reset by peer" in str(failed.error)
    assert any("connection reset by peer" in r.getMessage() for r in caplog.records)
    listed = (
        await store.alist_memories(user_id="u1") if mode == "async" else store.list_memories(user_id="u1")
    )
    # In a transaction the half written is rolled back; a standalone server (no multi-document
    # transactions) keeps it, and the retry completes the batch without duplicates.
    assert listed.total == (0 if atomic else len(FACTS) // 2)
    for _ in range(2):
        assert (await extract(manager, mode, [HumanMessage("facts", id="m1")], "u1")).ok
    listed = (
        await store.alist_memories(user_id="u1") if mode == "async" else store.list_memories(user_id="u1")
    )
    assert sorted(m.memory for m in listed.items) == sorted(FACTS)


# ------------------------------------------------------------ the model fails or hangs
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_model_failure_then_retry_adds_exactly_once(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteMemoryStore(":memory:")
    broken = ScriptedChatModel(error=ConnectionError("upstream 503 from the model provider"))
    with caplog.at_level(logging.WARNING, logger="langmem_agno"):
        failed = await extract(MemoryManager(broken, store), mode, [HumanMessage("facts", id="m1")], "u1")
    assert failed.error is not None and "calling the model" in str(failed.error)
    assert any("upstream 503" in r.getMessage() for r in caplog.records)
    assert store.list_memories(user_id="u1").total == 0
    manager = MemoryManager(ScriptedChatModel(responder=add_facts), store)
    for _ in range(2):
        assert (await extract(manager, mode, [HumanMessage("facts", id="m1")], "u1")).ok
    assert texts(store, "u1") == sorted(FACTS)


def test_node_retries_a_failed_turn_without_duplicating() -> None:
    store = SQLiteMemoryStore(":memory:")
    outcomes: list[BaseException | None] = [ConnectionError("model timed out at the gateway"), None, None]

    def flaky(messages: list[BaseMessage]) -> AIMessage:
        error = outcomes.pop(0)
        if error is not None:
            raise error
        return add_facts(messages)

    model = ScriptedChatModel(responder=flaky)
    node = create_memory_node(MemoryManager(model, store, recent_limit=0, search_limit=0))
    config = {"configurable": {"user_id": "u1", "thread_id": "t1"}}
    state = {"messages": [HumanMessage("facts", id="m1")]}
    node.invoke(state, config)
    assert node.last_result is not None and node.last_result.error is not None
    node.invoke(state, config)  # the cursor did not move: the same messages are extracted again
    node.invoke(state, config)  # now processed: no third model call
    assert len(model.calls) == 2
    assert texts(store, "u1") == sorted(FACTS)


# ------------------------------------------------------------ interrupted with work queued
def _run_script(body: str, db: Path) -> subprocess.CompletedProcess[str]:
    header = textwrap.dedent(
        """
        import asyncio, os, signal, time
        from langchain_core.messages import AIMessage, HumanMessage
        from langmem_agno import SQLiteMemoryStore
        from langmem_agno.extraction import MemoryManager
        from langmem_agno.node import create_memory_node
        from langmem_agno.scripted import ScriptedChatModel

        def slow(messages):
            time.sleep(0.05)
            fact = str(messages[-1].content).splitlines()[-1].removeprefix("user: ")
            call = {"name": "add_memory", "args": {"memory": "User said: " + fact}, "id": "c"}
            return AIMessage("", tool_calls=[call])

        store = SQLiteMemoryStore(DB_PATH)
        node = create_memory_node(MemoryManager(ScriptedChatModel(responder=slow), store), background=True)
        """
    ).replace("DB_PATH", repr(str(db)))
    script = header + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow  # a subprocess: interpreter exit is what is tested
def test_ctrl_c_with_queued_work_still_completes_it(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    done = _run_script(
        """
        for i in range(5):
            node.invoke({"messages": [HumanMessage(f"fact {i}")]}, {"configurable": {"user_id": "u1"}})
        assert node.worker.pending > 0
        # A shell starts background jobs with SIGINT ignored, and Python then installs no
        # KeyboardInterrupt handler; put back the one a terminal session has.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt in the main thread, work still queued
        """,
        db,
    )
    assert "KeyboardInterrupt" in done.stderr
    assert texts(SQLiteMemoryStore(db), "u1") == sorted(f"User said: fact {i}" for i in range(5))


@pytest.mark.slow  # a subprocess: interpreter exit is what is tested
def test_async_work_left_when_the_event_loop_closes_is_run_at_exit_and_logged(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    done = _run_script(
        """
        async def main():
            for i in range(5):
                state = {"messages": [HumanMessage(f"fact {i}")]}
                await node.ainvoke(state, {"configurable": {"user_id": "u1"}})
            assert node.worker.pending == 5
            # No aflush: asyncio.run() cancels the worker task, one job mid-flight.

        asyncio.run(main())
        """,
        db,
    )
    assert done.returncode == 0, done.stderr
    assert "5 async memory extraction(s) were still queued when their event loop closed" in done.stderr
    assert texts(SQLiteMemoryStore(db), "u1") == sorted(f"User said: fact {i}" for i in range(5))
