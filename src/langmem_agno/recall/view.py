"""One scope's memories held ready for ranking: a BM25 lexicon and a vector matrix, built once per change.

Ranking a user's memories by vectors used to mean, per query, loading and
validating every memory row, reading every vector blob and hashing every text.
A :class:`ScopeView` does that once, when the scope's memories changed, and keeps:

* the memories (newest first) and their ``created_at``/``updated_at`` as arrays;
* a :class:`Lexicon`: BM25 over the scope's own memories (its document
  frequencies are this user's, not the whole table's), with FTS5's Porter tokenizer
  so it stems exactly as the SQLite index does;
* per embeddings model, a :class:`DenseMatrix`: the vectors as one matrix, centred
  on the scope's mean vector and normalised, so a query is one matrix product.

Queries then cost a change check (one indexed read, see the recall index), a few
array operations and no row decoding.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from langmem_agno.recall.dense import Vector
from langmem_agno.recall.lexical import BODY_WEIGHT, FTS_TOKENIZE, TAGS_WEIGHT
from langmem_agno.recall.text import content_terms, topics_text
from langmem_agno.record import UserMemory

__all__ = [
    "CENTRE_SHRINK",
    "DenseMatrix",
    "Lexicon",
    "ScopeView",
    "max_normalised",
    "related_stems",
    "stems",
    "z_normalised",
]

Scores = npt.NDArray[np.float64]
#: BM25's usual term-frequency saturation and length normalisation.
BM25_K1 = 1.2
BM25_B = 0.75
#: Centring on the mean of a scope of n memories uses n / (n + this) of the mean: a scope of
#: two memories has no meaningful "average direction", one of thousands has a strong one. On the
#: set of benchmarks/recall_eval.py (about 50 memories a user) full centring cost MiniLM 5 points
#: of recall@5 and this much costs none; it grows to nearly full centring at 10,000 memories.
CENTRE_SHRINK = 200.0
#: How many distinct query texts keep their stemmed terms (a plain dict, emptied when full).
_TERMS_CACHE = 4096


class _Tokenizer:
    """FTS5's own tokenizer (Porter, Unicode, accents folded), for text outside any index."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='{FTS_TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE tv USING fts5vocab(t, 'row')")
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, ...]] = {}

    def terms(self, text: str) -> tuple[str, ...]:
        with self._lock:
            # A chat repeats its words; three SQLite statements per query add up at scale.
            known = self._seen.get(text)
            if known is not None:
                return known
            self._conn.execute("DELETE FROM t")
            self._conn.execute("INSERT INTO t(body) VALUES (?)", (text,))
            found = tuple(r[0] for r in self._conn.execute("SELECT term FROM tv"))
            if len(self._seen) >= _TERMS_CACHE:
                self._seen.clear()
            self._seen[text] = found
            return found


_tokenizer = _Tokenizer()
#: The thesaurus's words go through a tokenizer of their own: dozens per question would
#: otherwise push the questions' own terms out of the cache above.
_related_tokenizer = _Tokenizer()


@dataclass(frozen=True)
class Lexicon:
    """BM25 over one scope's memories: postings per stemmed term, document lengths.

    Attributes:
        postings: Term to (row numbers, weighted term frequencies).
        lengths: Weighted token count per memory.
    """

    postings: dict[str, tuple[npt.NDArray[np.int64], Scores]]
    lengths: Scores

    @classmethod
    def build(cls, memories: Sequence[UserMemory]) -> Lexicon:
        """Index ``memories`` (text and topics, topics weighing less) with FTS5's tokenizer."""
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute(f"CREATE VIRTUAL TABLE idx USING fts5(body, tags, tokenize='{FTS_TOKENIZE}')")
            conn.execute("CREATE VIRTUAL TABLE iv USING fts5vocab(idx, 'instance')")
            conn.executemany(
                "INSERT INTO idx(rowid, body, tags) VALUES (?, ?, ?)",
                [(i, m.memory, topics_text(m.topics)) for i, m in enumerate(memories)],
            )
            rows = conn.execute("SELECT term, doc, col, COUNT(*) FROM iv GROUP BY term, doc, col").fetchall()
        finally:
            conn.close()
        weights = {"body": BODY_WEIGHT, "tags": TAGS_WEIGHT}
        lengths = np.zeros(len(memories), dtype=np.float64)
        by_term: dict[str, dict[int, float]] = {}
        for term, doc, col, count in rows:
            tf = weights[col] * count
            lengths[doc] += tf
            docs = by_term.setdefault(term, {})
            docs[doc] = docs.get(doc, 0.0) + tf
        postings = {
            term: (
                np.fromiter(docs.keys(), np.int64, len(docs)),
                np.fromiter(docs.values(), np.float64, len(docs)),
            )
            for term, docs in by_term.items()
        }
        return cls(postings, lengths)

    def scores(self, query: str, related: Sequence[tuple[float, Sequence[str]]] = ()) -> Scores:
        """BM25 of every memory for ``query``'s content words (0 where none matches).

        Args:
            query: The question.
            related: Groups of further stemmed terms, none of them the question's own, each
                with its weight (:func:`~langmem_agno.recall.thesaurus.expansion_terms`, one
                group per question word): a memory adds the best BM25 of each group's terms,
                at that weight, so a question word with many related words counts no more than one.
        """
        n = len(self.lengths)
        out = np.zeros(n, dtype=np.float64)
        words = " ".join(content_terms(query))
        if not n or not words:
            return out
        average = float(self.lengths.mean()) or 1.0
        for term in set(_tokenizer.terms(words)):
            self._add(out, term, average)
        for weight, terms in related:
            best = np.zeros(n, dtype=np.float64)
            for term in terms:
                self._add(best, term, average, keep_max=True)
            out += weight * best
        return out

    def _add(self, out: Scores, term: str, average: float, keep_max: bool = False) -> None:
        """Add (or, with ``keep_max``, take the larger of) ``term``'s BM25 per memory into ``out``."""
        found = self.postings.get(term)
        if found is None:
            return
        rows, tf = found
        n = len(self.lengths)
        idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
        norm = BM25_K1 * (1.0 - BM25_B + BM25_B * self.lengths[rows] / average)
        value = idf * tf * (BM25_K1 + 1.0) / (tf + norm)
        if keep_max:
            out[rows] = np.maximum(out[rows], value)
        else:
            out[rows] += value


def stems(text: str) -> tuple[str, ...]:
    """``text``'s stemmed terms, as the lexicon indexes them (FTS5's Porter tokenizer)."""
    return _tokenizer.terms(text)


def related_stems(text: str) -> tuple[str, ...]:
    """:func:`stems` for a thesaurus's words, cached apart from the questions' own."""
    return _related_tokenizer.terms(text)


@dataclass(frozen=True)
class DenseMatrix:
    """One model's vectors of a scope's memories, centred on the scope's mean and normalised.

    Attributes:
        rows: For each matrix row, the memory's position in the view.
        matrix: The centred, unit-length vectors.
        mean: The (shrunk) mean that was subtracted; queries are centred on it too.
    """

    rows: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float32]
    mean: Vector

    @classmethod
    def build(cls, rows: Sequence[int], vectors: Sequence[Vector]) -> DenseMatrix:
        """Stack, normalise, centre on the scope's mean direction and normalise again."""
        if not vectors:
            return cls(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.float32))
        matrix = np.stack(vectors).astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        n = len(matrix)
        # Sentence embeddings share a common direction (anisotropy): subtracting it spreads
        # the cosines of one user's memories, which all talk about the same person.
        mean = (matrix.mean(axis=0) * (n / (n + CENTRE_SHRINK))).astype(np.float32)
        centred = matrix - mean
        centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
        return cls(np.asarray(rows, dtype=np.int64), centred, mean)

    def scores(self, query: Vector, size: int) -> Scores:
        """Centred cosine of every memory to ``query``; ``-inf`` for memories without a vector."""
        if not len(self.rows) or query.shape[0] != self.matrix.shape[1]:
            return np.full(size, -np.inf, dtype=np.float64)
        q = query.astype(np.float32) / max(float(np.linalg.norm(query)), 1e-12)
        q = q - self.mean
        q /= max(float(np.linalg.norm(q)), 1e-12)
        # numpy's own loop, not BLAS: a multi-threaded BLAS matrix-vector product is a little
        # faster on an idle machine and many times slower (10+ ms at 10,000 rows) on a busy one.
        cosines: Scores = np.einsum("ij,j->i", self.matrix, q).astype(np.float64)
        if len(self.rows) == size:  # every memory has a vector: rows are 0..size-1 in order
            return cosines
        out = np.full(size, -np.inf, dtype=np.float64)
        out[self.rows] = cosines
        return out


@dataclass
class ScopeView:
    """One scope's memories as of one change stamp, with lazily built rankers.

    Attributes:
        stamp: What the change check returned when the memories were read.
        memories: The memories, newest first.
        complete: Whether that is every memory of the scope.
        created: ``created_at`` per memory.
        updated: ``updated_at`` per memory.
        dense: Per embeddings model key, its matrix.
    """

    stamp: Hashable
    memories: list[UserMemory]
    complete: bool
    created: npt.NDArray[np.int64] = field(init=False)
    updated: npt.NDArray[np.int64] = field(init=False)
    dense: dict[str, DenseMatrix] = field(default_factory=dict)
    _lexicon: Lexicon | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.created = np.fromiter((m.created_at for m in self.memories), np.int64, len(self.memories))
        self.updated = np.fromiter(
            ((m.updated_at or m.created_at) for m in self.memories), np.int64, len(self.memories)
        )

    @property
    def lexicon(self) -> Lexicon:
        """The scope's BM25 index, built on first use."""
        with self._lock:
            if self._lexicon is None:
                self._lexicon = Lexicon.build(self.memories)
            return self._lexicon


def max_normalised(scores: Scores) -> Scores:
    """Scores divided by the best one, so the best is 1 and no match stays 0."""
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else np.zeros_like(scores)


def z_normalised(scores: Scores) -> Scores:
    """Scores as standard deviations above the scope's mean, scaled so the best is 1.

    Cosine similarities of one model sit in a narrow band that differs by model and
    user; the z-score says how exceptional a memory is *within this user's memories*.
    Memories without a score (``-inf``) end at the bottom.
    """
    finite = np.isfinite(scores)
    out = np.full_like(scores, -1.0)
    if not finite.any():
        return out
    values = scores[finite]
    spread = float(values.std()) or 1.0
    z = (values - float(values.mean())) / spread
    top = float(z.max())
    out[finite] = z / top if top > 0 else z
    return out
