"""Bounded: memory does not grow with thread length; exit waits one deadline, not jobs x timeout."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from langmem_agno import SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import ThreadCursorStore
from langmem_agno.extraction.node import create_memory_node
from langmem_agno.testing.scripted import ScriptedChatModel

ROOT = Path(__file__).resolve().parents[1]


def _run_threads(threads: int, tmp_path: Path, cursors: ThreadCursorStore | None, measure: str) -> float:
    """MB of memory held after ``threads`` threads of 200 messages each were processed.

    ``measure`` is ``"traced"`` (Python objects still alive, tracemalloc) or ``"rss"``
    (growth of the process's peak resident memory: no tracing overhead, for many threads).
    """
    store = SQLiteMemoryStore(tmp_path / "agno.db")
    # Assistant messages only: the cursors do all their work, the model is never needed.
    model = ScriptedChatModel(responder=lambda _: AIMessage(""))
    node = create_memory_node(MemoryManager(model, store), cursors=cursors)
    history: list[BaseMessage] = [AIMessage(f"turn {i} " + "x" * 100, id=f"a{i}") for i in range(200)]
    node.invoke({"messages": history}, {"configurable": {"user_id": "u1", "thread_id": "warm-up"}})
    if measure == "traced":
        tracemalloc.start()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for i in range(threads):
            node.invoke({"messages": history}, {"configurable": {"user_id": "u1", "thread_id": f"t{i}"}})
        held = tracemalloc.get_traced_memory()[0] / 1e6 if measure == "traced" else 0.0
    finally:
        tracemalloc.stop()
    assert model.calls == []
    # ru_maxrss is in kB on Linux.
    return (
        held if measure == "traced" else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1e3
    )


def test_process_memory_per_thread_is_small_and_independent_of_its_length(tmp_path: Path) -> None:
    # The old cursor kept up to 2,000 message ids per thread: about 30 kB each for these.
    held = _run_threads(40, tmp_path, None, "traced")
    assert held < 0.4, f"{held:.2f} MB for 40 threads"


@pytest.mark.slow  # about a minute: 10,000 threads of 200 messages
@pytest.mark.parametrize("where", ["database", "in-process"])
def test_process_memory_for_10000_long_threads_stays_under_50_mb(tmp_path: Path, where: str) -> None:
    grown = _run_threads(10_000, tmp_path, ThreadCursorStore() if where == "in-process" else None, "rss")
    assert grown < 50, f"process memory grew {grown:.1f} MB for 10,000 threads"


@pytest.mark.slow  # a subprocess: interpreter exit is what is tested
def test_exit_with_a_dead_model_and_100_queued_jobs_returns_within_the_deadline(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    script = textwrap.dedent(
        f"""
        import time
        from langchain_core.messages import HumanMessage
        from langmem_agno import SQLiteMemoryStore
        from langmem_agno.extraction import MemoryManager
        from langmem_agno.node import create_memory_node
        from langmem_agno.scripted import ScriptedChatModel

        def dead(messages):
            time.sleep(3600)

        store = SQLiteMemoryStore({str(db)!r})
        node = create_memory_node(
            MemoryManager(ScriptedChatModel(responder=dead), store, timeout=60),
            background=True,
            exit_seconds=2,
        )
        for i in range(100):
            config = {{"configurable": {{"user_id": "u1", "thread_id": f"t{{i}}"}}}}
            node.invoke({{"messages": [HumanMessage(f"fact {{i}}")]}}, config)
        print("queued", node.worker.pending, flush=True)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "queued 100" in done.stdout
    # Start-up (imports) plus the 2 s deadline; before, 100 jobs x 60 s.
    assert elapsed < 15, f"exit took {elapsed:.1f} s"
    assert "not finished within the exit deadline of 2.0 s" in done.stderr
    # What was not done is still claimed in the database, for the next process.
    store = SQLiteMemoryStore(db)
    with store.companion_cursor() as cur:
        docs = [json.loads(r[0]) for r in cur.execute("SELECT doc FROM agno_memories_cursors")]
    assert len(docs) == 100 and all(len(d["spans"]) == 1 for d in docs)
