"""What history and expiry cost: writes and reads with history on, beside the same store with it off.

Usage::

    python benchmarks/bench_history.py [--n 300] [--backends sqlite,mongo]

For each backend (a SQLite file; MongoDB at ``$MONGODB_URI``, else a SecantusDB server started here),
two fresh stores on the same database: one with history recorded (the default), one with
``configure_lifecycle(history=False)``, the baseline. Each runs ``--n`` adds, then ``--n`` updates,
then ``--n`` deletes, and ``--n`` reads of each kind (``get``, a listing page, a word search) while no
memory has a time to live, and again while one memory of another user has a (far) time to live.
Median milliseconds per operation are printed side by side; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench_recall import mongo_uri

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore


def per_op_ms(action: Callable[[int], Any], n: int) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(store: MemoryStore, n: int) -> dict[str, float]:
    user = f"bench-{uuid.uuid4().hex[:8]}"
    ids = [store.add(f"warm-up fact {i} about tea", user_id=user).memory_id for i in range(3)]
    store.get(ids[0], user_id=user)
    store.search("tea", user_id=user)
    figures: dict[str, float] = {}
    added: list[str] = []
    figures["add"] = per_op_ms(lambda i: added.append(store.add(f"Fact {i}: tea", user_id=user).memory_id), n)
    figures["update"] = per_op_ms(lambda i: store.update(added[i], user_id=user, memory=f"{i}: coffee"), n)
    figures["get"] = per_op_ms(lambda i: store.get(added[i], user_id=user), n)
    figures["list 20"] = per_op_ms(lambda i: store.list_memories(user_id=user, limit=20), n)
    figures["search"] = per_op_ms(lambda i: store.search("coffee", user_id=user), n)
    store.add("Someone else's short-lived fact", user_id=f"{user}-other", ttl=86_400)
    figures["get, a TTL known"] = per_op_ms(lambda i: store.get(added[i], user_id=user), n)
    figures["delete"] = per_op_ms(lambda i: store.delete(added[i], user_id=user), n)
    return figures


@contextlib.contextmanager
def stores(backend: str) -> Iterator[tuple[MemoryStore, MemoryStore]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "agno.db"
            on, off = SQLiteMemoryStore(path), SQLiteMemoryStore(path)
            yield on, off.configure_lifecycle(history=False)
            on.close()
            off.close()
        return
    with mongo_uri() as uri:
        database = f"bench_history_{uuid.uuid4().hex[:8]}"
        on, off = MongoMemoryStore(uri, database=database), MongoMemoryStore(uri, database=database)
        yield on, off.configure_lifecycle(history=False)
        on.close()
        off.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,mongo")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with stores(backend) as (on, off):
            baseline = run(off, args.n)
            recorded = run(on, args.n)
        print(f"\n{backend}: median ms per operation, n={args.n}")
        print(f"{'operation':<18} {'history off':>12} {'history on':>12} {'ratio':>7}")
        for name, base in baseline.items():
            print(f"{name:<18} {base:>12.3f} {recorded[name]:>12.3f} {recorded[name] / base:>7.2f}")


if __name__ == "__main__":
    main()
