"""Storage at scale: round trips per operation and writes/s, ours beside Agno's on the same server.

Usage::

    python benchmarks/bench_storage.py [--n 300] [--bulk 2000] [--backends sqlite,mongo,postgres]

For each backend, in one run and on one server (one file for SQLite):

* **round trips per operation**, counted where they happen: MongoDB by PyMongo's
  ``CommandListener`` on each side's own client; SQLite as calls into SQLite (one per ``execute``
  or ``executemany``): ours by a counting wrapper of the store's connection
  (``tests/sqlite_statements.py``), Agno's by SQLAlchemy's ``before_cursor_execute`` event;
  PostgreSQL by the server's ``pg_stat_statements`` (BEGIN, COMMIT and pre-pings included);
* **writes/s** for single adds and for one bulk add of ``--bulk`` memories: our ``add`` /
  ``add_many`` beside Agno's ``upsert_user_memory`` / ``upsert_memories``;
* for SQLite, the bulk add again in ``--rounds`` alternating rounds on one file that recall has
  already used (its companion tables and triggers exist, as in an application): ours with and
  without history beside Agno's on the same file and on a file of its own, each round in a new
  order, each from a checkpointed WAL and a collected heap; the medians, and the median of the
  per-round ratios;
* reads: ``get``, a listing page, a word search, an update, a delete, and one extraction turn
  (ours only: Agno's extraction needs a live model's tool loop).

MongoDB is ``$MONGODB_URI``, else a SecantusDB server started here. PostgreSQL is ``$POSTGRES_URI``
(with ``pg_stat_statements`` loaded), else a throwaway cluster when ``initdb`` is installed,
else skipped. Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from bench_postgres import Counter as StatementCounter
from bench_postgres import server as postgres_server
from bench_postgres import text
from bench_recall import mongo_uri
from langchain_core.messages import AIMessage, HumanMessage
from pymongo import MongoClient, monitoring
from sqlalchemy import event

from langmem_agno import MemoryRetriever, MemoryStore, MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.extraction import MemoryManager
from langmem_agno.scripted import ScriptedChatModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from sqlite_statements import StatementLog


# ---------------------------------------------------------------- counting
@dataclass
class Tally(monitoring.CommandListener):
    """Commands (MongoDB) or statements (SQLite) seen since the last reset."""

    seen: int = 0
    names: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.seen = 0
        self.names.clear()

    def count(self) -> int:
        return self.seen

    def note(self, name: str) -> None:
        self.seen += 1
        if len(self.names) < 12:
            self.names.append(name)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.note(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def sql(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        """SQLAlchemy's ``before_cursor_execute``: one call per execute or executemany."""
        self.note(statement.split(None, 1)[0].upper() if statement.strip() else "?")


@dataclass
class Row:
    side: str
    operation: str
    per_op: float
    ops_per_s: float
    detail: str


ROWS: list[Row] = []


def measure_bulk(
    side: str, counter: Any, name: str, bulk: int, rounds: int, fn: Callable[[int], Any]
) -> None:
    """``fn(round)`` writes ``bulk`` memories; the median of ``rounds`` runs (one write each is noisy)."""
    speeds: list[float] = []
    for k in range(rounds):
        counter.reset()
        started = time.perf_counter()
        fn(k)
        speeds.append(bulk / (time.perf_counter() - started))
    names = getattr(counter, "names", [])
    detail = ",".join(dict.fromkeys(names))
    ROWS.append(
        Row(side, f"{name} (median of {rounds})", counter.count() / bulk, statistics.median(speeds), detail)
    )


def measure(side: str, counter: Any, name: str, ops: int, fn: Callable[[], Any]) -> None:
    counter.reset()
    started = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - started
    seen = counter.count()
    names = getattr(counter, "names", [])
    detail = ",".join(dict.fromkeys(names)) if names and seen / ops <= 12 else ""
    ROWS.append(Row(side, name, seen / ops, ops / elapsed, detail))


# ---------------------------------------------------------------- the operations
def without_history(store: MemoryStore) -> MemoryStore | None:
    """The store with its change history and expiry checks off, when it has them (else ``None``)."""
    configure = getattr(store, "configure_lifecycle", None)
    return None if configure is None else configure(history=False, expiry_check_interval=None)  # type: ignore[no-any-return]


def bench_both(
    side: str, make: Callable[[], MemoryStore], counter_for: Callable[[MemoryStore], Any], n: int, bulk: int
) -> None:
    """Ours as configured by default, then (when the store keeps a history) with history and expiry off."""
    store = make()
    bench_ours(side, store, counter_for(store), n, bulk)
    store.close()
    bare = without_history(make())
    if bare is not None:
        bench_ours(side + " (no history)", bare, counter_for(bare), n, bulk)
        bare.close()


def bench_ours(side: str, store: MemoryStore, counter: Any, n: int, bulk: int) -> None:
    store.add("warm-up", user_id="warm-up")  # tables, indexes, pools: not measured
    store.search("warm", user_id="warm-up")  # a text index asked about once
    store.apply_changes(user_id="warm-up", adds=["warm a", "warm b"])  # transaction support asked once
    ids: list[str] = []
    measure(
        side,
        counter,
        "add",
        n,
        lambda: ids.extend(store.add(text(i), user_id="u1").memory_id for i in range(n)),
    )
    texts = [text(i) for i in range(bulk)]
    measure_bulk(
        side,
        counter,
        f"add_many ({bulk})",
        bulk,
        5,
        lambda k: store.add_many(texts, user_id=f"u2-{k}" if k else "u2"),
    )
    measure(side, counter, "get", n, lambda: [store.get(i, user_id="u1") for i in ids])
    measure(
        side,
        counter,
        "list (limit 20, of 2000)",
        n,
        lambda: [store.list_memories(user_id="u2", limit=20) for _ in range(n)],
    )
    measure(
        side,
        counter,
        "search (of 2000)",
        n,
        lambda: [store.search("coffee jazz", user_id="u2") for _ in range(n)],
    )
    measure(
        side,
        counter,
        "update",
        n,
        lambda: [store.update(i, user_id="u1", memory="changed " + i) for i in ids],
    )
    measure(side, counter, "delete", n, lambda: [store.delete(i, user_id="u1") for i in ids])
    turns = max(1, n // 10)
    model = ScriptedChatModel(
        responder=lambda _: AIMessage(
            "",
            tool_calls=[
                {
                    "name": "add_memory",
                    "args": {"memory": f"User owns boat {uuid.uuid4().hex[:8]}"},
                    "id": "c1",
                }
            ],
        )
    )
    manager = MemoryManager(model, store)
    measure(
        side,
        counter,
        "extraction turn (1 add, 2000 stored)",
        turns,
        lambda: [
            manager.extract([HumanMessage(f"I bought boat {k}", id=f"m{k}")], user_id="u2")
            for k in range(turns)
        ],
    )


def bench_agno(side: str, db: Any, counter: Any, n: int, bulk: int) -> None:
    db.upsert_user_memory(AgnoUserMemory(memory="warm-up", user_id="warm-up"))
    db.get_user_memories(user_id="warm-up")
    ids = [str(uuid.uuid4()) for _ in range(n)]

    def one(i: str, k: int, memory: str | None = None) -> Any:
        return db.upsert_user_memory(AgnoUserMemory(memory_id=i, memory=memory or text(k), user_id="a1"))

    measure(side, counter, "upsert_user_memory", n, lambda: [one(i, k) for k, i in enumerate(ids)])
    batches = [
        [AgnoUserMemory(memory=text(i), user_id=f"a2-{k}" if k else "a2") for i in range(bulk)]
        for k in range(5)
    ]
    measure_bulk(
        side, counter, f"upsert_memories ({bulk})", bulk, 5, lambda k: db.upsert_memories(batches[k])
    )
    measure(side, counter, "get_user_memory", n, lambda: [db.get_user_memory(i, user_id="a1") for i in ids])
    measure(
        side,
        counter,
        "get_user_memories (limit 20)",
        n,
        lambda: [db.get_user_memories(user_id="a2", limit=20) for _ in range(n)],
    )
    measure(
        side,
        counter,
        "get_user_memories (search_content)",
        n,
        lambda: [db.get_user_memories(user_id="a2", search_content="coffee", limit=10) for _ in range(n)],
    )
    measure(side, counter, "upsert_user_memory (update)", n, lambda: [one(i, 0, "changed") for i in ids])
    measure(
        side, counter, "delete_user_memory", n, lambda: [db.delete_user_memory(i, user_id="a1") for i in ids]
    )


# ---------------------------------------------------------------- backends
def sqlite_backend(n: int, bulk: int, rounds: int, folder: Path) -> None:
    from agno.db.sqlite import SqliteDb

    path = folder / "shared.db"
    made = iter((path, folder / "ours-no-history.db"))
    bench_both(
        "sqlite: langmem-agno",
        lambda: SQLiteMemoryStore(next(made), secret_filter=False),
        StatementLog.install,
        n,
        bulk,
    )
    for side, file in (("sqlite: Agno, same file", path), ("sqlite: Agno, its own file", folder / "agno.db")):
        theirs = Tally()
        db = SqliteDb(db_file=str(file), memory_table="agno_memories")
        event.listen(db.db_engine, "before_cursor_execute", theirs.sql)
        bench_agno(side, db, theirs, n, bulk)
        db.db_engine.dispose()
    sqlite_bulk_rounds(bulk, rounds, folder)


@dataclass
class BulkSide:
    """One side of the alternating SQLite bulk rounds: how it writes a batch, what it sent, how fast."""

    name: str
    write: Callable[[int], Any]
    counter: Any
    speeds: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)


BULK_RATIOS: list[str] = []


def sqlite_bulk_rounds(bulk: int, rounds: int, folder: Path) -> None:
    """``add_many`` beside ``upsert_memories`` in alternating rounds, on a file recall has used."""
    from agno.db.sqlite import SqliteDb

    path = folder / "bulk.db"
    ours = SQLiteMemoryStore(path, secret_filter=False)
    bare = without_history(SQLiteMemoryStore(path, secret_filter=False))
    assert isinstance(bare, SQLiteMemoryStore)
    # Recall's companion tables and triggers exist once a retriever has run, as in an application.
    MemoryRetriever(store=ours).invoke("warm-up", user_id="warm-up")
    agno_dbs = [
        SqliteDb(db_file=str(f), memory_table="agno_memories") for f in (path, folder / "bulk-agno.db")
    ]
    texts = [text(i) for i in range(bulk)]
    sides = [
        BulkSide("langmem-agno", lambda k: ours.add_many(texts, user_id=f"o{k}"), StatementLog.install(ours)),
        BulkSide(
            "langmem-agno (no history)",
            lambda k: bare.add_many(texts, user_id=f"b{k}"),
            StatementLog.install(bare),
        ),
    ]
    for db, where in zip(agno_dbs, ("same file", "its own file"), strict=True):
        tally = Tally()
        event.listen(db.db_engine, "before_cursor_execute", tally.sql)
        db.upsert_user_memory(AgnoUserMemory(memory="warm-up", user_id="warm-up"))

        def upsert(k: int, db: Any = db, tag: str = where[0]) -> Any:
            return db.upsert_memories([AgnoUserMemory(memory=t, user_id=f"a{tag}{k}") for t in texts])

        sides.append(BulkSide(f"Agno, {where}", upsert, tally))
    checkpoint = sqlite3.connect(path)
    for k in range(rounds):
        for side in sides[k % len(sides) :] + sides[: k % len(sides)]:  # a new order each round
            # Each write starts from an empty WAL: SQLite checkpoints inside the commit that takes
            # the WAL past 1,000 pages, which would charge one side, by turn, for earlier writes.
            checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            gc.collect()  # nor for a collection of the garbage another side left
            side.counter.reset()
            started = time.perf_counter()
            side.write(k)
            side.speeds.append(bulk / (time.perf_counter() - started))
            side.calls.append(side.counter.count())
    for side in sides:
        calls = statistics.median(side.calls)
        ROWS.append(
            Row(
                f"sqlite bulk: {side.name}",
                f"add_many ({bulk}), {rounds} rounds",
                calls,
                statistics.median(side.speeds),
                "calls per bulk write; " + ",".join(dict.fromkeys(getattr(side.counter, "names", []))),
            )
        )
    agno_same = statistics.median(sides[2].speeds)
    for side in sides[:2]:
        mine = statistics.median(side.speeds)
        per_round = [a / b for a, b in zip(side.speeds, sides[2].speeds, strict=True)]
        BULK_RATIOS.append(
            f"  {side.name:<26} / Agno same file: {mine:,.0f} / {agno_same:,.0f} = {mine / agno_same:.2f}x; "
            f"per round {', '.join(f'{r:.2f}' for r in per_round)} "
            f"(median {statistics.median(per_round):.2f}x)"
        )
    checkpoint.close()
    ours.close()
    bare.close()
    for db in agno_dbs:
        db.db_engine.dispose()


def mongo_backend(n: int, bulk: int) -> None:
    from agno.db.mongo import MongoDb

    with mongo_uri() as uri:
        ours, theirs = Tally(), Tally()
        client: MongoClient[dict[str, Any]] = MongoClient(uri, event_listeners=[ours])
        names = iter(("bench_storage_ours", "bench_storage_ours_bare"))
        bench_both(
            "mongo: langmem-agno",
            lambda: MongoMemoryStore(client=client, database=next(names), secret_filter=False),
            lambda _: ours,
            n,
            bulk,
        )
        agno_client: MongoClient[dict[str, Any]] = MongoClient(uri, event_listeners=[theirs])
        db = MongoDb(db_client=agno_client, db_name="bench_storage_agno", memory_collection="agno_memories")
        bench_agno("mongo: Agno MongoDb", db, theirs, n, bulk)
        for c in (client, agno_client):
            c.drop_database("bench_storage_ours")
            c.drop_database("bench_storage_ours_bare")
            c.drop_database("bench_storage_agno")
            c.close()


def postgres_backend(n: int, bulk: int) -> None:
    from agno.db.postgres import PostgresDb

    from langmem_agno.stores.postgres import PostgresMemoryStore

    try:
        context = postgres_server()
        uri = context.__enter__()
    except Exception as exc:  # no initdb and no POSTGRES_URI: say so, run the rest
        print(f"PostgreSQL skipped: {exc}")
        return
    try:
        counter = StatementCounter(uri)
        schemas = iter(("bench_storage_ours", "bench_storage_ours_bare"))
        bench_both(
            "postgres: langmem-agno",
            lambda: PostgresMemoryStore(uri, schema=next(schemas), secret_filter=False),
            lambda _: counter,
            n,
            bulk,
        )
        db = PostgresDb(
            db_url=uri.replace("postgresql://", "postgresql+psycopg://", 1), db_schema="bench_storage_agno"
        )
        bench_agno("postgres: Agno PostgresDb", db, counter, n, bulk)
        db.db_engine.dispose()
        counter.conn.close()
    finally:
        context.__exit__(None, None, None)


def report() -> None:
    print(f"{'backend and side':<34} {'operation':<38} {'trips/op':>9} {'ops/s':>9}  commands")
    for r in ROWS:
        speed = f"{r.ops_per_s:9.0f}" if r.ops_per_s >= 10 else f"{r.ops_per_s:9.2f}"
        print(f"{r.side:<34} {r.operation:<38} {r.per_op:9.2f} {speed}  {r.detail}")
    pairs = {
        "add": "upsert_user_memory",
        "add_many": "upsert_memories",
    }
    print("\nwrites/s, ours / Agno's on the same server (same file for SQLite):")
    for backend in ("sqlite", "mongo", "postgres"):
        for our_side in sorted({r.side for r in ROWS if r.side.startswith(backend + ": langmem")}):
            mine = {r.operation.split(" (")[0]: r for r in ROWS if r.side == our_side}
            for theirs_side in sorted({r.side for r in ROWS if r.side.startswith(backend + ": Agno")}):
                theirs = {r.operation.split(" (")[0]: r for r in ROWS if r.side == theirs_side}
                for our_op, their_op in pairs.items():
                    if our_op in mine and their_op in theirs:
                        ratio = mine[our_op].ops_per_s / theirs[their_op].ops_per_s
                        print(f"  {our_side:<40} vs {theirs_side:<28} {our_op:<9} {ratio:6.2f}x")
    if BULK_RATIOS:
        print("\nSQLite add_many beside upsert_memories, alternating rounds on one file recall has used:")
        print("\n".join(BULK_RATIOS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="single operations per measurement")
    parser.add_argument("--bulk", type=int, default=2000, help="memories in one bulk write")
    parser.add_argument("--rounds", type=int, default=7, help="alternating SQLite bulk rounds (at least 5)")
    parser.add_argument("--backends", default="sqlite,mongo,postgres")
    args = parser.parse_args()
    wanted = args.backends.split(",")
    with tempfile.TemporaryDirectory() as folder:
        runs: dict[str, Callable[[], None]] = {
            "sqlite": lambda: sqlite_backend(args.n, args.bulk, max(5, args.rounds), Path(folder)),
            "mongo": lambda: mongo_backend(args.n, args.bulk),
            "postgres": lambda: postgres_backend(args.n, args.bulk),
        }
        for name in wanted:
            try:
                runs[name]()
            except Exception as exc:  # one backend failing must not lose the others' figures
                print(f"{name} failed: {type(exc).__name__}: {exc}")
    report()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
