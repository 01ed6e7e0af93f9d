"""What-if rankings on the recall set, built from the library's own parts, scored on both halves of the users.

Usage::

    python benchmarks/recall_variants.py [--no-minilm]

Each variant changes one thing in the hybrid ranking (dense weight, centring, a second
pass, diversity, topics, vocabulary expansion, a question split into its clauses) and is
scored on the tune half of the users (the first five) and on the report half (the last
five), so a gain that holds on one half only shows as such. Every variant uses the
library's BM25 lexicon over the user's own memories
(:class:`~langmem_agno.recall.view.Lexicon`), its normalisations and its date windows;
``lib hybrid`` re-computes the library's own blend here, as a check that this script
ranks as ``recall_eval.py``'s ``lib hybrid`` does (ties aside).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
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

from langmem_agno.recall import view as view_module
from langmem_agno.recall.dates import date_closeness, date_windows
from langmem_agno.recall.scoring import DATE_WEIGHT, DENSE_WEIGHT
from langmem_agno.recall.text import content_terms
from langmem_agno.recall.thesaurus import Thesaurus, expansion_terms
from langmem_agno.recall.view import CENTRE_SHRINK, Lexicon, max_normalised, related_stems, z_normalised

Array = np.ndarray
#: Set by main() when WordNet is there (recall_common.load_wordnet); the "wordnet" rows need it.
WORDNET: Thesaurus | None = None


@dataclass
class User:
    ids: list[str]
    lexicon: Lexicon
    vectors: Array  # unit rows
    created: Array
    topic_rows: list[list[int]]
    vocabulary: list[str]
    word_vectors: Array


@dataclass
class Asked:
    question: Question
    user: User
    query: Array  # unit
    bm25: Array
    dated: Array
    topic_sim: Array = field(default_factory=lambda: np.zeros(0))
    expansions: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    clauses: list[tuple[Array, Array]] = field(default_factory=list)  # per clause: query vector, BM25


def _unit(m: Array) -> Array:
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-12)


def prepare(data: RecallSet, emb: CachedEmbeddings) -> list[Asked]:
    topics = sorted({t for m in data.all_memories for t in m.topics})
    topic_vectors = _unit(emb.doc_matrix(topics)) if topics else np.zeros(0)
    words = sorted({w for m in data.all_memories for w in content_terms(m.text)})
    words += sorted({w for q in data.questions for w in content_terms(q.text)} - set(words))
    word_index = {w: i for i, w in enumerate(words)}
    word_vectors = _unit(emb.doc_matrix(words))
    stems = {w: view_module._tokenizer.terms(w) for w in words}
    users: dict[str, User] = {}
    for uid, memories in data.memories.items():
        records = [to_user_memory(m) for m in memories]
        vocabulary = sorted({w for m in memories for w in content_terms(m.text)})
        users[uid] = User(
            ids=[m.id for m in memories],
            lexicon=Lexicon.build(records),
            vectors=_unit(emb.doc_matrix([m.text for m in memories])),
            created=np.array([r.created_at for r in records], dtype=np.int64),
            topic_rows=[[topics.index(t) for t in m.topics] for m in memories],
            vocabulary=vocabulary,
            word_vectors=word_vectors[[word_index[w] for w in vocabulary]],
        )
    asked = []
    for q in data.questions:
        user = users[q.user_id]
        now = int(datetime.fromisoformat(q.asked_at + "+00:00").timestamp())
        windows = date_windows(q.text, now)
        query = emb.query_vector(q.text)
        sims = topic_vectors @ query if topics else np.zeros(0)
        a = Asked(
            question=q,
            user=user,
            query=query,
            bm25=user.lexicon.scores(q.text),
            dated=date_closeness(user.created, windows) if windows else np.zeros(len(user.ids)),
            topic_sim=np.array([max((sims[j] for j in rows), default=0.0) for rows in user.topic_rows]),
        )
        own = {s for w in content_terms(q.text) for s in stems[w]}
        for w in content_terms(q.text):
            close = user.word_vectors @ word_vectors[word_index[w]]
            for j in np.argsort(-close)[:3]:
                if not set(stems[user.vocabulary[j]]) & own:
                    a.expansions.append((float(close[j]), stems[user.vocabulary[j]]))
        for part in clauses(q.text):
            a.clauses.append((emb.query_vector(part), user.lexicon.scores(part)))
        asked.append(a)
    return asked


#: Where a question of several parts splits ("on Fridays or with fasting", "my diet and my cuisine").
_CLAUSE_SPLIT = re.compile(r",\s*|\s+(?:and|or|but|also|plus)\s+", re.IGNORECASE)


def clauses(question: str) -> list[str]:
    """The parts of a question joined by a comma or a conjunction; none for a question of one part."""
    parts = [p for p in _CLAUSE_SPLIT.split(question) if content_terms(p)]
    return parts if len(parts) > 1 else []


# ---------------------------------------------------------------- the pieces
def centred(a: Asked, shrink: float | None) -> tuple[Array, Array, Array]:
    """Centred cosines, the centred matrix and query (``shrink=None``: no centring)."""
    n = len(a.user.vectors)
    mean = a.user.vectors.mean(0) * (n / (n + shrink)) if shrink is not None else 0.0
    matrix, query = _unit(a.user.vectors - mean), _unit(a.query - mean)
    return matrix @ query, matrix, query


def idf(lexicon: Lexicon, df: int) -> float:
    """BM25's IDF of a term in ``df`` of the lexicon's memories, as :meth:`Lexicon.scores` has it."""
    n = len(lexicon.lengths)
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def query_terms(a: Asked) -> set[str]:
    """The question's stemmed content words, as the lexicon indexes them."""
    return set(view_module._tokenizer.terms(" ".join(content_terms(a.question.text))))


def term_bm25(lexicon: Lexicon, term: str) -> Array:
    """One stemmed term's BM25 over a lexicon, as :meth:`Lexicon.scores` sums it."""
    n = len(lexicon.lengths)
    out = np.zeros(n)
    found = lexicon.postings.get(term)
    if found is None:
        return out
    rows, tf = found
    k1, b = view_module.BM25_K1, view_module.BM25_B
    norm = k1 * (1.0 - b + b * lexicon.lengths[rows] / (float(lexicon.lengths.mean()) or 1.0))
    out[rows] = idf(lexicon, len(rows)) * tf * (k1 + 1.0) / (tf + norm)
    return out


def ranked(scores: Array) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def hybrid(
    a: Asked,
    weight: float = DENSE_WEIGHT,
    shrink: float | None = CENTRE_SHRINK,
    feedback: float = 0.0,
    topics: float = 0.0,
    expand_above: float | None = None,
    query_normalised: bool = False,
    related: float = 0.0,
) -> Array:
    dense, matrix, query = centred(a, shrink)
    bm25 = a.bm25
    if related and WORDNET is not None:
        # The library's own expansion (recall.thesaurus), at this weight instead of EXPANSION_WEIGHT.
        terms = expansion_terms(a.question.text, WORDNET, related_stems, weight=related)
        bm25 = a.user.lexicon.scores(a.question.text, terms)
    if expand_above is not None:
        bm25 = bm25 + sum(
            (s * term_bm25(a.user.lexicon, t) for s, ts in a.expansions if s >= expand_above for t in ts),
            start=np.zeros_like(bm25),
        )
    # BM25 over the query's own IDF mass (a word the user never wrote at the highest IDF) rather
    # than over the best memory's score: an incidental one-word match stays small.
    lexical = np.minimum(bm25 / query_mass(a), 1.0) if query_normalised else max_normalised(bm25)
    scores = weight * z_normalised(dense) + (1 - weight) * lexical + DATE_WEIGHT * a.dated
    if feedback:
        # A second pass: the query moved toward the vector of the first pass's best memory.
        best = int(np.argmax(scores))
        dense = matrix @ _unit(query + feedback * matrix[best])
        scores = weight * z_normalised(dense) + (1 - weight) * max_normalised(bm25) + DATE_WEIGHT * a.dated
    if topics:
        scores = scores + topics * z_normalised(a.topic_sim)
    return scores


def by_clauses(a: Asked, whole: float = 0.5) -> Array:
    """The whole question's hybrid blended with the best of its clauses' hybrids, each clause ranked alone."""
    base = hybrid(a)
    if not a.clauses:
        return base
    parts = [
        hybrid(Asked(question=a.question, user=a.user, query=vector, bm25=bm25, dated=a.dated))
        for vector, bm25 in a.clauses
    ]
    return whole * base + (1.0 - whole) * np.stack(parts).max(axis=0)


def peaked_weight(a: Asked, low: float = 0.7, high: float = 0.9, gap: float = 0.6) -> float:
    """A dense weight per query: ``high`` when the best dense z-score stands ``gap`` above the next."""
    dense = centred(a, CENTRE_SHRINK)[0]
    z = np.sort((dense - dense.mean()) / (float(dense.std()) or 1.0))
    return high if len(z) > 1 and z[-1] - z[-2] >= gap else low


def length_weight(a: Asked, low: float = 0.7, high: float = 0.9, words: int = 3) -> float:
    """A dense weight per query: ``high`` for a question of at least ``words`` content words."""
    return high if len(content_terms(a.question.text)) >= words else low


def coverage(a: Asked) -> float:
    """The share of the question's IDF mass that its best BM25 match contains (0 when nothing matches).

    A word the user never wrote counts at the highest IDF, so a paraphrase whose only
    match is an incidental common word covers little, and a question whose rare words
    one memory holds covers most.
    """
    lexicon = a.user.lexicon
    terms = query_terms(a)
    if not terms or not len(lexicon.lengths) or not a.bm25.any():
        return 0.0
    best = int(np.argmax(a.bm25))
    covered = sum(
        idf(lexicon, len(found[0]))
        for term in terms
        if (found := lexicon.postings.get(term)) is not None and bool(np.any(found[0] == best))
    )
    return covered / query_mass(a)


def query_mass(a: Asked) -> float:
    """The sum of the IDF of the question's stemmed content words over the user's memories."""
    lexicon = a.user.lexicon
    found = (lexicon.postings.get(term) for term in query_terms(a))
    return sum(idf(lexicon, 0 if f is None else len(f[0])) for f in found) or 1.0


def covered_weight(a: Asked, high: float = 0.8, low: float = 0.4) -> float:
    """A dense weight per query: ``high`` when the lexical side covers nothing, ``low`` when it covers all."""
    return high - (high - low) * coverage(a)


def diverse(a: Asked, keep: float, depth: int = 10) -> list[int]:
    """Maximal marginal relevance over the hybrid's top ``depth``, then the rest in order."""
    scores = hybrid(a)
    order = ranked(scores)
    pool, chosen = order[:depth], []
    _, matrix, _ = centred(a, CENTRE_SHRINK)
    low, high = scores[pool].min(), scores[pool].max()
    scaled = (scores - low) / max(high - low, 1e-9)
    while pool:
        best = max(
            pool,
            key=lambda i: (
                keep * scaled[i] - (1 - keep) * max((float(matrix[i] @ matrix[j]) for j in chosen), default=0)
            ),
        )
        chosen.append(best)
        pool.remove(best)
    return chosen + order[depth:]


VARIANTS: dict[str, Callable[[Asked], list[int]]] = {
    "plain cosine": lambda a: ranked(a.user.vectors @ a.query),
    "lib hybrid": lambda a: ranked(hybrid(a)),
    "dense weight 0.8 (the default before)": lambda a: ranked(hybrid(a, weight=0.8)),
    "dense weight 0.9": lambda a: ranked(hybrid(a, weight=0.9)),
    "dense weight 0.6": lambda a: ranked(hybrid(a, weight=0.6)),
    "dense weight 0.5": lambda a: ranked(hybrid(a, weight=0.5)),
    "dense weight 0.4": lambda a: ranked(hybrid(a, weight=0.4)),
    "dense weight 0.3": lambda a: ranked(hybrid(a, weight=0.3)),
    "BM25 over the query's IDF mass, dense 0.8": lambda a: ranked(hybrid(a, 0.8, query_normalised=True)),
    "BM25 over the query's IDF mass, dense 0.7": lambda a: ranked(hybrid(a, 0.7, query_normalised=True)),
    "BM25 over the query's IDF mass, dense 0.6": lambda a: ranked(hybrid(a, 0.6, query_normalised=True)),
    "BM25 over the query's IDF mass, dense 0.5": lambda a: ranked(hybrid(a, 0.5, query_normalised=True)),
    "dense weight 0.8 down to 0.4 by lexical coverage": lambda a: ranked(hybrid(a, weight=covered_weight(a))),
    "dense weight 0.8 down to 0.2 by lexical coverage": lambda a: ranked(
        hybrid(a, weight=covered_weight(a, 0.8, 0.2))
    ),
    "dense weight 0.7 down to 0.3 by lexical coverage": lambda a: ranked(
        hybrid(a, weight=covered_weight(a, 0.7, 0.3))
    ),
    "dense weight 0.9 if peaked, else 0.7": lambda a: ranked(hybrid(a, weight=peaked_weight(a))),
    "dense weight 0.9 if 3+ words, else 0.7": lambda a: ranked(hybrid(a, weight=length_weight(a))),
    "no centring": lambda a: ranked(hybrid(a, shrink=None)),
    "full centring": lambda a: ranked(hybrid(a, shrink=0.0)),
    "second pass 0.2": lambda a: ranked(hybrid(a, feedback=0.2)),
    "second pass 0.5": lambda a: ranked(hybrid(a, feedback=0.5)),
    "MMR top 10, keep 0.8": lambda a: diverse(a, 0.8),
    "MMR top 10, keep 0.6": lambda a: diverse(a, 0.6),
    "topics 0.1": lambda a: ranked(hybrid(a, topics=0.1)),
    "topics 0.2": lambda a: ranked(hybrid(a, topics=0.2)),
    "topics 0.3": lambda a: ranked(hybrid(a, topics=0.3)),
    "own words >= 0.6": lambda a: ranked(hybrid(a, expand_above=0.6)),
    "own words >= 0.7": lambda a: ranked(hybrid(a, expand_above=0.7)),
    "wordnet 0.3 (WordNetThesaurus at its default weight)": lambda a: ranked(hybrid(a, related=0.3)),
    "wordnet 0.5": lambda a: ranked(hybrid(a, related=0.5)),
    "clauses ranked apart, 0.5 x best clause": lambda a: ranked(by_clauses(a, 0.5)),
    "clauses ranked apart, 0.7 x best clause": lambda a: ranked(by_clauses(a, 0.3)),
}


def recall(
    asked: list[Asked], rank: Callable[[Asked], list[int]], users: frozenset[str] | None, kind: str, k: int
) -> float:
    hits = []
    for a in asked:
        q = a.question
        if (users is None or q.user_id in users) and kind in ("all", q.kind):
            top = {a.user.ids[i] for i in rank(a)[:k]}
            hits.append(sum(x in top for x in q.answers) / len(q.answers))
    return float(np.mean(hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-minilm", action="store_true")
    parser.add_argument("--set", type=Path, default=SET_PATH, help="recall set (see make_locomo_set.py)")
    parser.add_argument("--only", default="", help="run only the variants whose name holds this text")
    args = parser.parse_args()
    print(limit_threads(1))
    global WORDNET
    WORDNET = load_wordnet()
    data = load_set(args.set)
    split = halves(data)
    models = {"hash": HashEmbeddings()}
    if not args.no_minilm and (minilm := load_minilm()) is not None:
        models["minilm"] = minilm
    for name, model in models.items():
        asked = prepare(data, CachedEmbeddings(model))
        print(f"\n{name}: R@5 per half, then all users R@1 R@5 R@10 and R@5 per kind\n")
        print("| variant | tune R@5 | report R@5 | all R@1 R@5 R@10 | " + " | ".join(data.kinds) + " |")
        print("|---|---|---|---|" + "---|" * len(data.kinds))
        for variant, rank in VARIANTS.items():
            if args.only not in variant and variant not in ("plain cosine", "lib hybrid"):
                continue
            if variant.startswith("wordnet") and WORDNET is None:
                continue  # would print the plain hybrid's figures under a WordNet label
            cells = [f"{recall(asked, rank, split[h], 'all', 5):.3f}" for h in ("tune", "report")]
            cells.append(" ".join(f"{recall(asked, rank, None, 'all', k):.3f}" for k in KS))
            cells += [f"{recall(asked, rank, None, kind, 5):.2f}" for kind in data.kinds]
            print(f"| {variant} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
