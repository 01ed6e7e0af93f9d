"""PostgresMemoryStore beside Agno's own PostgresDb on one server: round trips per operation and writes/s.

Usage::

    python benchmarks/bench_postgres.py [--n 300] [--bulk 2000]

Starts a throwaway cluster (``tests/postgres_server.py``) with ``pg_stat_statements`` loaded,
so every statement either client sends is counted by the server itself: BEGIN, COMMIT and
SQLAlchemy's pre-ping included. ``$POSTGRES_URI`` is used instead when set (it needs
``pg_stat_statements`` in ``shared_preload_libraries``). Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from agno.db.postgres import PostgresDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory

from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.types import MemoryUpdate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from postgres_server import PostgresCluster

WORDS = ["email", "phone", "tea", "coffee", "jazz", "hiking", "chess", "sushi", "cycling", "yoga", "python"]


@contextmanager
def server() -> Iterator[str]:
    uri = os.environ.get("POSTGRES_URI")
    if uri:
        yield uri
        return
    cluster = PostgresCluster(settings={"shared_preload_libraries": "pg_stat_statements"})
    cluster.start()
    try:
        yield cluster.uri
    finally:
        cluster.stop()


class Counter:
    """Statements the server ran since the last reset, from ``pg_stat_statements``."""

    def __init__(self, uri: str) -> None:
        self.conn = psycopg.connect(uri, autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%'"
        ).fetchone()
        return int(row[0]) if row else 0


def measure(counter: Counter, name: str, ops: int, fn: Callable[[], Any]) -> None:
    counter.reset()
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    statements = counter.count()
    print(
        f"  {name:<42} {statements / ops:7.3f} statements/op ({statements:>4} in all) "
        f"{ops / elapsed:8.0f} ops/s ({ops} ops, {elapsed * 1000:.0f} ms)"
    )


def text(i: int) -> str:
    return f"Fact {i}: likes {WORDS[i % len(WORDS)]} and {WORDS[(i * 7) % len(WORDS)]}"


def bench_ours(uri: str, counter: Counter, n: int, bulk: int) -> None:
    print("langmem-agno PostgresMemoryStore (sync):")
    store = PostgresMemoryStore(uri, schema="bench_ours")
    store.list_memories(user_id="warm-up")  # table created, pool open: not measured
    ids: list[str] = []
    measure(
        counter, "add", n, lambda: ids.extend(store.add(text(i), user_id="u1").memory_id for i in range(n))
    )
    measure(
        counter,
        f"add_many ({bulk})",
        bulk,
        lambda: store.add_many([text(i) for i in range(bulk)], user_id="u2"),
    )
    measure(counter, "get", n, lambda: [store.get(i, user_id="u1") for i in ids])
    measure(counter, "update", n, lambda: [store.update(i, user_id="u1", memory="changed " + i) for i in ids])
    measure(
        counter,
        "list_memories (limit 20)",
        n,
        lambda: [store.list_memories(user_id="u2", limit=20) for _ in range(n)],
    )
    measure(counter, "search", n, lambda: [store.search("coffee jazz", user_id="u2") for _ in range(n)])
    measure(
        counter,
        "apply_changes (1 add, 1 update, 1 delete)",
        n // 2,
        lambda: [
            store.apply_changes(
                user_id="u1",
                adds=[f"new {k}"],
                updates=[MemoryUpdate(ids[2 * k], memory="x")],
                deletes=[ids[2 * k + 1]],
            )
            for k in range(n // 2)
        ],
    )
    store.close()

    print("langmem-agno PostgresMemoryStore (async, AsyncConnectionPool):")
    astore = PostgresMemoryStore(uri, schema="bench_ours_async")

    async def run() -> None:
        await astore.alist_memories(user_id="warm-up")
        started = time.perf_counter()
        counter.reset()
        await asyncio.gather(*(astore.aadd(text(i), user_id="u1") for i in range(n)))
        elapsed = time.perf_counter() - started
        print(
            f"  {'aadd (concurrent)':<42} {counter.count() / n:7.3f} statements/op {n / elapsed:8.0f} ops/s"
        )
        await astore.aclose()

    asyncio.run(run())


def bench_agno(uri: str, counter: Counter, n: int, bulk: int) -> None:
    print("Agno PostgresDb (SQLAlchemy + psycopg):")
    db = PostgresDb(db_url=uri.replace("postgresql://", "postgresql+psycopg://", 1), db_schema="bench_agno")
    db.get_user_memories(user_id="warm-up")
    db.upsert_user_memory(AgnoUserMemory(memory="warm-up", user_id="warm-up"))
    ids = [str(uuid.uuid4()) for _ in range(n)]
    measure(
        counter,
        "upsert_user_memory",
        n,
        lambda: [
            db.upsert_user_memory(AgnoUserMemory(memory_id=i, memory=text(k), user_id="u1"))
            for k, i in enumerate(ids)
        ],
    )
    measure(
        counter,
        f"upsert_memories ({bulk})",
        bulk,
        lambda: db.upsert_memories([AgnoUserMemory(memory=text(i), user_id="u2") for i in range(bulk)]),
    )
    measure(counter, "get_user_memory", n, lambda: [db.get_user_memory(i, user_id="u1") for i in ids])
    measure(
        counter,
        "upsert_user_memory (update)",
        n,
        lambda: [
            db.upsert_user_memory(AgnoUserMemory(memory_id=i, memory="changed", user_id="u1")) for i in ids
        ],
    )
    measure(
        counter,
        "get_user_memories (limit 20)",
        n,
        lambda: [db.get_user_memories(user_id="u2", limit=20) for _ in range(n)],
    )
    measure(
        counter,
        "get_user_memories (search_content)",
        n,
        lambda: [db.get_user_memories(user_id="u2", search_content="coffee", limit=10) for _ in range(n)],
    )
    db.db_engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="single operations per measurement")
    parser.add_argument("--bulk", type=int, default=2000, help="memories in one bulk write")
    args = parser.parse_args()
    with server() as uri:
        counter = Counter(uri)
        bench_ours(uri, counter, args.n, args.bulk)
        bench_agno(uri, counter, args.n, args.bulk)
        counter.conn.close()


if __name__ == "__main__":
    main()
