"""Word search at scale: ``store.search`` over 100,000 memories of one user on a SQLite file.

The memories are short generated facts over a vocabulary of 5,000 words drawn with Zipf
frequencies (some common, most rare, as in real text), with two other users beside them. The queries are
one to four words drawn the same way, plus the longest query the store reads (16 terms);
it prints the median and p95 time per search, and the cost of refusing 20,000 topics.

Run: ``python benchmarks/bench_search.py [--memories 100000] [--queries 200]``
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path

from langmem_agno import SQLiteMemoryStore, UserMemory
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import normalize_topics

SUBJECTS = ["User", "The user", "Their partner", "Their sister", "Their manager"]
VERBS = ["likes", "visits", "avoids", "collects", "prefers", "owns", "studies", "plans", "cooks", "reads"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 10))))
    return sorted(words)


class Zipf:
    """Words drawn with frequency 1/rank, as in real text (the commonest about 11 % of all words)."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng = rng
        self.words = words
        self.weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))

    def __call__(self) -> str:
        return self.rng.choices(self.words, cum_weights=self.weights)[0]


def fill(store: SQLiteMemoryStore, rng: random.Random, word: Zipf, count: int, user_id: str) -> None:
    batch: list[UserMemory | str] = []
    for i in range(count):
        tail = " ".join(word() for _ in range(rng.randint(2, 6)))
        batch.append(UserMemory(memory=f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {tail} ({i})"))
        if len(batch) == 2_000:
            store.add_many(batch, user_id=user_id)
            batch = []
    if batch:
        store.add_many(batch, user_id=user_id)


def timed(fn: object, *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(14)
    words = vocabulary(rng, 5_000)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteMemoryStore(Path(tmp) / "agno.db", secret_filter=False)
        start = time.perf_counter()
        word = Zipf(rng, words)
        fill(store, rng, word, args.memories, "u1")
        for other in ("u2", "u3"):
            fill(store, rng, word, args.memories // 10, other)
        print(
            f"wrote {args.memories} memories of u1 (+{args.memories // 5} of others) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        queries = [" ".join(word() for _ in range(rng.randint(1, 4))) for _ in range(args.queries)]
        queries += [" ".join(rng.sample(words, 16)) for _ in range(args.queries // 10)]
        store.search(queries[0], user_id="u1")  # warm the page cache
        times = [timed(store.search, q, user_id="u1", limit=10) for q in queries]
        times.sort()
        print(
            f"store.search, {len(times)} queries: median {statistics.median(times):.2f} ms, "
            f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms"
        )
        store.close()
    topics = [f"t{i}" for i in range(20_000)]
    refusals = []
    for _ in range(20):
        start = time.perf_counter()
        with contextlib.suppress(InvalidMemoryError):
            normalize_topics(topics)
        refusals.append((time.perf_counter() - start) * 1000)
    print(f"refusing 20,000 topics: median {statistics.median(refusals):.3f} ms")


if __name__ == "__main__":
    main()
