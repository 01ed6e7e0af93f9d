"""A durable queue: background jobs are claimed spans in the database, so a killed process loses nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from conftest import POSTGRES
from cursor_clock import frozen_cursor_clock
from langmem_agno import MemoryStore, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import ThreadCursorStore, thread_key
from langmem_agno.extraction.node import create_memory_node
from langmem_agno.scope import MemoryScope
from langmem_agno.testing.scripted import ScriptedChatModel
from langmem_agno.twins import run_calls

ROOT = Path(__file__).resolve().parents[1]


def echo_facts(messages: list[BaseMessage]) -> AIMessage:
    lines = str(messages[-1].content).splitlines()
    calls = [
        {
            "name": "add_memory",
            "args": {"memory": "User said: " + line[6:]},
            "id": f"c{i}",
            "type": "tool_call",
        }
        for i, line in enumerate(lines)
        if line.startswith("user: ")
    ]
    return AIMessage("", tool_calls=calls)


def said(store: MemoryStore, user_id: str = "u1") -> list[str]:
    return sorted(m.memory for m in store.list_memories(user_id=user_id, limit=None))


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
