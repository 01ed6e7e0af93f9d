"""Embedding vectors for recall: which model made them, for which text.

Vectors are computed once per memory text and kept in a companion table or
collection keyed by ``memory_id`` (never in the memory document: Agno's readers
reject unknown keys). A vector remembers a hash of the text it was made from,
so a memory whose text changed is embedded again, and the model that made it,
so switching models never mixes vector spaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from langmem_agno.errors import EmbeddingError

__all__ = ["StoredVector", "Vector", "as_vectors", "model_key", "text_hash"]

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StoredVector:
    """A memory's vector as kept in the companion table.

    Attributes:
        text_hash: :func:`text_hash` of the text the vector was computed from.
        vector: The embedding.
    """

    text_hash: str
    vector: Vector


def text_hash(text: str) -> str:
    """Return a short stable hash of a memory's text, to notice when it changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def model_key(embeddings: Embeddings) -> str:
    """Name the model behind an ``Embeddings`` object, to keep its vectors apart from other models'.

    Uses the class and the usual model-name attributes (``model``, ``model_name``).
    Pass an explicit key to the retriever when two differently configured
    objects of one class would otherwise share a name.
    """
    cls = type(embeddings)
    name = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None) or ""
    return f"{cls.__module__}.{cls.__qualname__}:{name}"[:200]


def as_vectors(raw: Sequence[Sequence[float]], expected: int) -> list[Vector]:
    """Check a model's output (one finite vector per text, one width) and convert it.

    Raises:
        EmbeddingError: If the count, width or values are wrong.
    """
    if len(raw) != expected:
        raise EmbeddingError(f"embeddings model returned {len(raw)} vectors for {expected} texts")
    vectors = [np.asarray(v, dtype=np.float32) for v in raw]
    widths = {v.shape for v in vectors}
    if len(widths) > 1 or any(len(w) != 1 or w[0] == 0 for w in widths):
        raise EmbeddingError(f"embeddings model returned vectors of shapes {sorted(widths)}")
    if any(not np.isfinite(v).all() for v in vectors):
        raise EmbeddingError("embeddings model returned a vector with NaN or infinite values")
    return vectors
