"""A durable queue: background jobs are claimed spans in the database, so a killed process loses nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from conftest import POSTGRES
from cursor_clock import frozen_cursor_clock
from extraction_support import echo_facts, said
from langmem_agno import ConfigurationError, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import ThreadCursorStore, thread_key
from langmem_agno.extraction.node import create_memory_node
from langmem_agno.scope import MemoryScope
from langmem_agno.testing.scripted import ScriptedChatModel
from langmem_agno.twins import run_calls

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_recover_takes_over_the_spans_of_a_dead_worker(
    store_factory: Any, backend: str, background: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = frozen_cursor_clock(monkeypatch)
    store = store_factory(backend)
    cursors = ThreadCursorStore(store, lease_seconds=60)
    for t in range(3):
        key = thread_key(MemoryScope("u1"), f"t{t}")
        run_calls(cursors.claim(key, MemoryScope("u1"), [HumanMessage(f"fact {t}")], "dead-worker"))
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store), cursors=cursors, background=background)
    clock.now += 59
    assert node.recover() == 0  # still leased
    clock.now += 2
    assert node.recover() == 3
    assert node.flush(timeout=30)
    assert node.recover() == 0
    assert len(model.calls) == 3 and said(store) == [f"User said: fact {t}" for t in range(3)]


@pytest.mark.slow  # subprocesses: a process killed with jobs queued, then a new one
def test_sigkill_with_queued_jobs_then_a_new_process_stores_every_turn_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    script = textwrap.dedent(
        f"""
        import os, signal, time
        from langchain_core.messages import HumanMessage
        from langmem_agno import SQLiteMemoryStore
        from langmem_agno.extraction import MemoryManager
        from langmem_agno.extraction.cursors import ThreadCursorStore
        from langmem_agno.node import create_memory_node
        from langmem_agno.scripted import ScriptedChatModel

        def stuck(messages):
            time.sleep(3600)

        store = SQLiteMemoryStore({str(db)!r})
        node = create_memory_node(
            MemoryManager(ScriptedChatModel(responder=stuck), store),
            background=True,
            cursors=ThreadCursorStore(store, lease_seconds=1),
        )
        for i in range(20):
            config = {{"configurable": {{"user_id": "u1", "thread_id": f"t{{i % 4}}"}}}}
            node.invoke({{"messages": [HumanMessage(f"fact {{i}}", id=f"m{{i}}")]}}, config)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert killed.returncode == -9, killed.stderr
    time.sleep(1.2)  # the dead process's leases run out
    store = SQLiteMemoryStore(db)
    model = ScriptedChatModel(responder=echo_facts)
    node = create_memory_node(MemoryManager(model, store, search_limit=0, recent_limit=0), background=True)
    assert node.recover() == 20
    assert node.flush(timeout=60)
    assert node.recover() == 0
    assert said(store) == sorted(f"User said: fact {i}" for i in range(20))


# ------------------------------------------------------------ a backlog past max_pending
def _gated(gate: threading.Event) -> Any:
    def answer(messages: list[BaseMessage]) -> AIMessage:
        assert gate.wait(30), "the test never opened the gate"
        return echo_facts(messages)

    return answer


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_a_backlog_past_max_pending_waits_in_the_database_and_nothing_is_lost(
    store_factory: Any, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_factory(backend)
    gate = threading.Event()
    model = ScriptedChatModel(responder=_gated(gate))
    node = create_memory_node(MemoryManager(model, store), background=True, max_pending=2)
    assert node.worker is not None
    for t in range(6):
        config = {"configurable": {"user_id": "u1", "thread_id": f"t{t}"}}
        node.invoke({"messages": [HumanMessage(f"fact {t}", id=f"h{t}")]}, config)
        assert node.worker.pending <= 2  # held in memory: never more than max_pending
    assert len([r for r in caplog.records if "is behind" in r.getMessage()]) == 1
    gate.set()
    assert node.flush(timeout=30)
    assert said(store) == ["User said: fact 0", "User said: fact 1"]
    # The other four were given back to the database; recover() takes as many as fit, each time.
    assert node.recover() == 2 and node.flush(timeout=30)
    assert node.recover() == 2 and node.flush(timeout=30)
    assert said(store) == [f"User said: fact {t}" for t in range(6)]
    assert node.recover() == 0 and len(model.calls) == 6
    node.close()


def test_a_span_given_back_goes_with_its_threads_next_turn(store_factory: Any) -> None:
    store = store_factory("sqlite-file")
    gate = threading.Event()
    model = ScriptedChatModel(responder=_gated(gate))
    node = create_memory_node(MemoryManager(model, store), background=True, max_pending=1)
    config = {"configurable": {"user_id": "u1", "thread_id": "t1"}}
    history: list[BaseMessage] = []
    for turn in range(2):
        history += [HumanMessage(f"fact {turn}", id=f"h{turn}"), AIMessage("ok", id=f"a{turn}")]
        node.invoke({"messages": list(history)}, config)
    gate.set()
    assert node.flush(timeout=30) and said(store) == ["User said: fact 0"]
    history += [HumanMessage("fact 2", id="h2")]
    node.invoke({"messages": list(history)}, config)
    assert node.flush(timeout=30)
    # One call for turn 0, one for the given-back turn 1 together with turn 2.
    assert len(model.calls) == 2
    assert said(store) == [f"User said: fact {t}" for t in range(3)]
    node.close()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_bad_bounds_are_refused_by_name(bad: Any) -> None:
    store = SQLiteMemoryStore(":memory:")
    got = re.escape(repr(bad))
    with pytest.raises(ConfigurationError, match="max_pending must be a positive integer, got " + got):
        create_memory_node(MemoryManager(ScriptedChatModel(), store), background=True, max_pending=bad)
    with pytest.raises(ConfigurationError, match="max_attempts must be a positive integer, got " + got):
        ThreadCursorStore(store, max_attempts=bad)
