"""Soak: many turns of the memory node over several users on a SQLite file, watching memory and time.

Every turn is one user message in one conversation thread, run through the
memory node (foreground) with a scripted, zero-latency extraction model that
adds one memory per turn and, every few turns, updates or deletes one it was
shown. Threads are short (a trimmed history of the last few messages) and new
ones keep starting, so the node's per-thread cursors are exercised too.

It prints, for the first and the last window of turns: time per turn (mean and
p95), the process's resident memory (RSS), the Python heap in use (tracemalloc),
and the stored data (memories, database file size). Neither time nor memory may
grow beyond what the stored data explains.

It runs the turns three times (``--modes``): thread cursors in this process
(``in-memory``), in the database (``durable``, the default), and in the database
with background extraction through the durable queue (``durable+queue``, time per
turn is then the critical path only: the claim, one small write).

Run: ``python benchmarks/bench_soak.py [--turns 10000] [--users 8] [--window 500] [--no-tracemalloc]``
(tracemalloc roughly doubles the time per turn; the time figures are comparable within one run only).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langmem_agno import SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import ThreadCursorStore
from langmem_agno.node import MemoryNode
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.stores.companion_docs import MemoryDocs, SQLiteDocs

TOPICS = ["food", "travel", "work", "family", "music", "sport", "health", "books"]


def rss_mib() -> float:
    """Current resident set size, in MiB (peak RSS where /proc is missing)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        pages = int(statm.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def responder(messages: list[BaseMessage]) -> AIMessage:
    """Add each new turn's fact; every 4th turn also update, every 7th delete, a memory it was shown.

    One call can hold several turns (the background queue hands a thread's given-back spans over
    with its next turn): each of them is added, as a real model would.
    """
    system, new = str(messages[0].content), str(messages[-1].content)
    facts = [line.removeprefix("user: ") for line in new.splitlines() if line.startswith("user: ")]
    turn = int(facts[-1].rsplit(" ", 1)[-1])
    calls: list[dict[str, Any]] = [
        {
            "name": "add_memory",
            "args": {"memory": f"User said {fact}", "topics": [TOPICS[int(fact.rsplit(" ", 1)[-1]) % 8]]},
            "id": f"a{i}",
        }
        for i, fact in enumerate(facts)
    ]
    shown = "\n[1] " in system or system.startswith("[1] ")
    if shown and turn % 4 == 0:
        calls.append(
            {"name": "update_memory", "args": {"id": "1", "memory": f"User revised {facts[-1]}"}, "id": "u"}
        )
    elif shown and turn % 7 == 0:
        calls.append({"name": "delete_memory", "args": {"id": "1"}, "id": "d"})
    return AIMessage("", tool_calls=calls)


def window_stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.fmean(times) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


def cursor_rows(node: MemoryNode) -> int:
    """How many thread cursors the node's cursor store holds (rows of the companion table)."""
    docs = node.cursors.cursors
    if isinstance(docs, MemoryDocs):
        return len(docs._docs)
    if isinstance(docs, SQLiteDocs):
        with docs.store.companion_cursor() as cur:
            return int(cur.execute(f"SELECT count(*) FROM {docs.table}").fetchone()[0])
    return -1


def soak(args: argparse.Namespace, mode: str, db: Path) -> tuple[dict[str, dict[str, float]], float]:
    """Run the turns with cursors ``mode`` (in-memory, durable, durable+queue); return marks and time."""
    window = min(args.window, max(args.turns // 2, 1))
    store = SQLiteMemoryStore(db)
    model = ScriptedChatModel(responder=responder)
    cursors = ThreadCursorStore() if mode == "in-memory" else None
    node = MemoryNode(
        MemoryManager(model, store),
        max_threads=args.max_threads,
        cursors=cursors,
        background=mode == "durable+queue",
    )
    histories: dict[str, list[BaseMessage]] = {}

    if not args.no_tracemalloc:
        tracemalloc.start()
    times: list[float] = []
    marks: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for turn in range(args.turns):
        user = f"user{turn % args.users}"
        thread = f"{user}-t{turn // (args.users * args.turns_per_thread)}"
        history = histories.setdefault(thread, [])
        history.append(HumanMessage(f"I like {TOPICS[turn % 8]} number {turn}", id=f"h{turn}"))
        state = {"messages": history[-args.history :]}
        config = {"configurable": {"user_id": user, "thread_id": thread}}
        t0 = time.perf_counter()
        node.invoke(state, config)
        times.append(time.perf_counter() - t0)
        history.append(AIMessage("ok", id=f"a{turn}"))
        if len(history) > args.history:
            del history[: -args.history]
        if len(histories) > args.users * 2:
            # The application forgets finished threads; the node's cursors must not keep them alive.
            histories.pop(next(iter(histories)))
        if node.last_result is not None and node.last_result.error is not None:
            raise SystemExit(f"turn {turn} failed: {node.last_result.error}")
        if turn + 1 in (window, args.turns):
            node.flush()
            # Spans given back while the queue was past max_pending wait in the database.
            while node.recover():
                node.flush()
            if node.errors:
                raise SystemExit(f"a background extraction failed: {node.errors[0].error}")
            # The model's call log is test instrumentation that grows per call; a real model keeps none.
            model.calls.clear()
            gc.collect()
            label = "start" if turn + 1 == window else "end"
            mean, p95 = window_stats(times[-window:])
            marks[label] = {
                "turns": turn + 1,
                "mean_ms": mean,
                "p95_ms": p95,
                "rss_mib": rss_mib(),
                "heap_mib": tracemalloc.get_traced_memory()[0] / 2**20,
                "memories": sum(
                    store.list_memories(user_id=f"user{u}", limit=1).total for u in range(args.users)
                ),
                "db_mib": sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 2**20,
                "cursors": cursor_rows(node),
            }
        else:
            # In every mode, the background worker's calls included: the log is the scripted model's
            # test instrumentation (about 9 kB a call), not memory the library keeps, and list.clear()
            # is safe beside the worker's append.
            model.calls.clear()
    elapsed = time.perf_counter() - started
    tracemalloc.stop()
    node.close()
    store.close()
    return marks, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--window", type=int, default=500, help="turns averaged at the start and the end")
    parser.add_argument("--turns-per-thread", type=int, default=10)
    parser.add_argument("--history", type=int, default=6, help="messages of a thread kept in its state")
    parser.add_argument("--max-threads", type=int, default=256, help="thread cursors kept in memory")
    parser.add_argument("--no-tracemalloc", action="store_true", help="faster; no Python heap figure")
    parser.add_argument(
        "--modes",
        default="in-memory,durable,durable+queue",
        help="cursors in this process, in the database, and in the database with the background queue",
    )
    parser.add_argument("--db", help="directory for the SQLite files (default: a temporary one)")
    args = parser.parse_args()
    window = min(args.window, max(args.turns // 2, 1))
    tmp = tempfile.TemporaryDirectory()
    where = Path(args.db or tmp.name)

    print(f"soak: {args.turns} turns, {args.users} users, SQLite file, scripted model, window {window} turns")
    print(
        f"{'mode':14} {'':6} {'turns':>6} {'mean ms':>8} {'p95 ms':>7} {'RSS MiB':>8} {'heap MiB':>9} "
        f"{'memories':>9} {'DB MiB':>7} {'cursors':>8}"
    )
    for mode in args.modes.split(","):
        marks, elapsed = soak(args, mode, where / f"soak-{mode.replace('+', '-')}.db")
        for label, m in marks.items():
            print(
                f"{mode:14} {label:6} {m['turns']:>6.0f} {m['mean_ms']:>8.2f} {m['p95_ms']:>7.2f} "
                f"{m['rss_mib']:>8.1f} {m['heap_mib']:>9.2f} {m['memories']:>9.0f} {m['db_mib']:>7.2f} "
                f"{m['cursors']:>8.0f}"
            )
        if "start" in marks and "end" in marks:
            grow = marks["end"]["heap_mib"] - marks["start"]["heap_mib"]
            added = marks["end"]["memories"] - marks["start"]["memories"]
            print(
                f"{mode:14} heap growth {grow:.2f} MiB for {added:.0f} more stored memories "
                f"({grow * 2**20 / max(added, 1):.0f} B per memory); "
                f"time per turn x{marks['end']['mean_ms'] / marks['start']['mean_ms']:.2f}; "
                f"total {elapsed:.1f} s, {elapsed / args.turns * 1e3:.2f} ms per turn"
            )
    tmp.cleanup()


if __name__ == "__main__":
    main()
