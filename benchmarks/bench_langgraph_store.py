"""LangGraphStore latency per operation, beside LangGraph's InMemoryStore and langgraph-store-mongodb.

Usage::

    python benchmarks/bench_langgraph_store.py [--items 200] [--repeat 200]

MongoDB is ``$MONGODB_URI`` when set, else a SecantusDB server started in this process;
our MongoDB store and ``MongoDBStore`` run against the same server in the same run.
Needs ``langgraph-store-mongodb`` (``pip install langgraph-store-mongodb``). Figures are
printed (median and p95 microseconds per call), nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench_recall import mongo_uri  # the same server set-up as the recall benchmark
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from pymongo import MongoClient

from langmem_agno import LangGraphStore, MongoMemoryStore, SQLiteMemoryStore

NS = ("memories", "bench-user")
WORDS = ["email", "phone", "tea", "coffee", "jazz", "hiking", "chess", "sushi", "cycling", "yoga", "python"]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def measure(
    name: str, store: BaseStore, items: int, repeat: int
) -> list[tuple[str, str, float | None, float | None]]:
    keys = [str(uuid.uuid4()) for _ in range(items)]
    for i, key in enumerate(keys):
        store.put(NS, key, {"content": f"Bench user likes {WORDS[i % len(WORDS)]} number {i}"})
    counter = iter(range(10**9))
    rows = []

    def put() -> None:
        n = next(counter)
        store.put(NS, f"new-{n}", {"content": f"Bench user wrote note {n} about {WORDS[n % len(WORDS)]}"})

    for op, fn in [
        ("put", put),
        ("get", lambda: store.get(NS, keys[len(keys) // 2])),
        ("search (query)", lambda: store.search(NS, query="does the user like coffee?", limit=5)),
        ("search (newest)", lambda: store.search(NS, limit=10)),
    ]:
        try:
            median, p95 = timed(fn, repeat)
        except Exception as exc:  # e.g. MongoDBStore's query search needs an Atlas vector index
            print(f"{name}: {op} not measured: {type(exc).__name__}: {exc}")
            rows.append((name, op, None, None))
            continue
        rows.append((name, op, median, p95))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from langgraph.store.mongodb import MongoDBStore

    rows = []
    with mongo_uri() as uri, tempfile.TemporaryDirectory() as tmp:
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        db = f"bench_{uuid.uuid4().hex[:8]}"
        stores: list[tuple[str, BaseStore]] = [
            ("InMemoryStore (LangGraph)", InMemoryStore()),
            ("MongoDBStore (langgraph-store-mongodb)", MongoDBStore(client[db]["persistent-store"])),
            (
                "LangGraphStore over MongoMemoryStore",
                LangGraphStore(MongoMemoryStore(client=client, database=db)),
            ),
            ("LangGraphStore over SQLiteMemoryStore", LangGraphStore(SQLiteMemoryStore(f"{tmp}/bench.db"))),
        ]
        for name, store in stores:
            rows += measure(name, store, args.items, args.repeat)
        client.drop_database(db)
        client.close()
    print(f"{args.items} items in one namespace, {args.repeat} calls each; microseconds per call")
    print(f"{'store':42} {'operation':16} {'median':>9} {'p95':>9}")
    for name, op, median, p95 in rows:
        if median is None or p95 is None:
            print(f"{name:42} {op:16} {'n/a':>9} {'n/a':>9}")
        else:
            print(f"{name:42} {op:16} {median:9.0f} {p95:9.0f}")


if __name__ == "__main__":
    main()
