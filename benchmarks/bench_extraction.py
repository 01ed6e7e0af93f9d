"""Library cost of one memory extraction, with a zero-latency scripted model, on SQLite.

For 10, 100 and 1,000 existing memories of one user (plus other users' memories
in the same table), it runs many extractions of one realistic turn and prints:

* model calls per extraction;
* the library's own time per extraction (median and p95), i.e. wall time minus
  the time spent inside the model's ``invoke`` (LangChain's call machinery
  included there), and the wall time for reference; split into store reads
  (related memories from the full-text index + recent list), the store write (one ``add_many``) and the rest
  (prompt building, validation, planning);
* characters sent to the model: the system prompt (instructions + shown
  memories), of which the memories block, and the new messages, separately.

Targets: one call; at most 4,000 characters of instructions and memories; at
most 5 ms of library time at 1,000 memories.

Run: ``python benchmarks/bench_extraction.py [--runs 200]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langmem_agno import SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.stores.recall_index import recall_index

SIZES = (10, 100, 1_000)
TURN = [
    HumanMessage("I just adopted a dog named Rex, and I'm training for the Berlin marathon in September."),
    AIMessage("Congratulations on Rex! How is the marathon training going?"),
]
SUBJECTS = ["coffee", "jazz", "hiking", "python", "paris", "sushi", "tennis", "novels", "dog", "marathon"]
FACTS = [
    "User likes {s} number {i}",
    "User went to a {s} event in week {i}",
    "User's friend {i} enjoys {s}",
    "User wants to learn more about {s} topic {i}",
]


class TimedModel(ScriptedChatModel):
    """A scripted model that also adds up the time spent inside its ``invoke``."""

    seconds: float = 0.0

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:
        start = time.perf_counter()
        try:
            return super().invoke(input, config, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def answer(messages: list[BaseMessage]) -> AIMessage:
    call = {
        "name": "add_memory",
        "args": {"memory": "User has a dog named Rex", "topics": ["pets"]},
        "id": "c1",
    }
    return AIMessage("", tool_calls=[call])


def seed(store: SQLiteMemoryStore, n: int) -> None:
    rng = random.Random(n)
    texts = [rng.choice(FACTS).format(s=rng.choice(SUBJECTS), i=i) for i in range(n)]
    for start in range(0, n, 500):
        store.add_many(texts[start : start + 500], user_id="u1")
    store.add_many([f"Other user fact {i}" for i in range(200)], user_id="someone-else")


def time_store_calls(store: SQLiteMemoryStore, clock: dict[str, float]) -> None:
    """Wrap the store methods extraction uses so their time is added to ``clock``."""
    index = recall_index(store)
    targets = ((store, "list_memories", "read"), (index, "related", "read"), (store, "add_many", "write"))
    for owner, name, bucket in targets:
        method = getattr(owner, name)

        def timed(*args: Any, _method: Any = method, _bucket: str = bucket, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                clock[_bucket] += time.perf_counter() - start

        setattr(owner, name, timed)


def bench(n: int, runs: int, directory: Path) -> dict[str, float]:
    store = SQLiteMemoryStore(directory / f"bench_{n}.db")
    seed(store, n)
    model = TimedModel(responder=answer)
    manager = MemoryManager(model, store, timeout=None)
    clock = {"read": 0.0, "write": 0.0}
    time_store_calls(store, clock)
    library: list[float] = []
    wall: list[float] = []
    reads: list[float] = []
    writes: list[float] = []
    for i in range(runs + 10):
        model.seconds = 0.0
        clock.update(read=0.0, write=0.0)
        start = time.perf_counter()
        result = manager.extract(TURN, user_id="u1")
        elapsed = time.perf_counter() - start
        assert result.ok and len(result.added) == 1, result
        store.delete_many([m.memory_id for m in result.added], user_id="u1")  # keep n constant, untimed
        if i >= 10:  # warm-up
            wall.append(elapsed)
            library.append(elapsed - model.seconds)
            reads.append(clock["read"])
            writes.append(clock["write"])
    calls = len(model.calls) / (runs + 10)
    system, new = model.calls[-1][0], model.calls[-1][1]
    system_text, new_text = str(system.content), str(new.content)
    memories_block = system_text.split("Existing memories:\n", 1)[1]
    store.close()
    return {
        "n": n,
        "calls": calls,
        "lib_ms": statistics.median(library) * 1000,
        "lib_p95_ms": statistics.quantiles(library, n=20)[-1] * 1000,
        "wall_ms": statistics.median(wall) * 1000,
        "read_ms": statistics.median(reads) * 1000,
        "write_ms": statistics.median(writes) * 1000,
        "own_ms": statistics.median(lib - r - w for lib, r, w in zip(library, reads, writes, strict=True))
        * 1000,
        "system_chars": len(system_text),
        "memory_chars": len(memories_block),
        "new_chars": len(new_text),
        "shown": result.shown_memories,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    header = (
        f"{'memories':>8} {'calls':>5} {'lib ms (med)':>12} {'lib ms p95':>10} {'wall ms':>8} "
        f"{'store read':>10} {'store write':>11} {'rest':>6} "
        f"{'instr+mem chars':>15} {'of which mem':>12} {'shown':>5} {'new msg chars':>13}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            r = bench(n, args.runs, Path(tmp))
            print(
                f"{r['n']:>8} {r['calls']:>5.1f} {r['lib_ms']:>12.2f} {r['lib_p95_ms']:>10.2f} "
                f"{r['wall_ms']:>8.2f} "
                f"{r['read_ms']:>10.2f} {r['write_ms']:>11.2f} {r['own_ms']:>6.2f} "
                f"{r['system_chars']:>15} {r['memory_chars']:>12} {r['shown']:>5} {r['new_chars']:>13}"
            )


if __name__ == "__main__":
    main()
