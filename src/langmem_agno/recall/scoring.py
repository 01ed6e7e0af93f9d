"""Turning relevance into a ranking: the hybrid blend, a named date's boost, recency, the top k.

Pure array work shared by the two places recall ranks: over a scope's whole view
(:mod:`~langmem_agno.recall.retriever`) and over the candidates the database's own
vector search returned (:mod:`~langmem_agno.recall.server_rank`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from langmem_agno.recall.dates import date_closeness, date_windows
from langmem_agno.recall.view import max_normalised, z_normalised

__all__ = ["DATE_WEIGHT", "DENSE_WEIGHT", "adjusted", "blend", "top"]

Scores = npt.NDArray[np.float64]
#: The dense share of a hybrid score (the rest is lexical), both normalised per scope. Chosen on
#: the tune halves of two sets (benchmarks/RECALL_BASELINE.md, fourth round): 0.7 is at least as
#: good as 0.8 on every half of both, up to 4 points of recall@5 better on LoCoMo's dialogue turns,
#: where the question's rare words matter more; lower weights lose paraphrases on the labelled set.
DENSE_WEIGHT = 0.7
#: What a memory created inside the date window a question names adds to its score (best is 1).
DATE_WEIGHT = 0.6
_DAY_S = 86_400


def blend(dense: Scores, lexical: Scores, dense_weight: float = DENSE_WEIGHT) -> Scores:
    """The hybrid relevance: dense z-scores and max-normalised BM25, weighted."""
    return dense_weight * z_normalised(dense) + (1.0 - dense_weight) * max_normalised(lexical)


def adjusted(
    relevance: Scores,
    created: npt.NDArray[np.int64],
    updated: npt.NDArray[np.int64],
    query: str,
    now: int,
    recency_weight: float,
    half_life_days: float,
) -> tuple[Scores, npt.NDArray[np.bool_]]:
    """Relevance (normalised, best 1) with a named date's boost and recency blended in.

    Args:
        relevance: One normalised score per memory.
        created: ``created_at`` per memory.
        updated: ``updated_at`` per memory.
        query: The question, for the dates it names.
        now: Epoch seconds the question's relative dates and recency count from.
        recency_weight: 0 for relevance only, up to 1 for newest first.
        half_life_days: Age at which recency counts half.

    Returns:
        The scores, and which memories fall near a date the query names.
    """
    scores = relevance
    windows = date_windows(query, now) if query.strip() else []
    dated = np.zeros(len(created), dtype=np.bool_)
    if windows:
        closeness = date_closeness(created, windows)
        scores = scores + DATE_WEIGHT * closeness
        dated = closeness > 0
    if recency_weight:
        age_days = np.maximum(now - updated, 0) / _DAY_S
        recent = 0.5 ** (age_days / half_life_days)
        scores = (1.0 - recency_weight) * scores + recency_weight * recent
    return scores, dated


def top(scores: Scores, k: int) -> list[int]:
    """Positions of the ``k`` best finite scores, best first; ties among those keep the given order.

    Which of several memories tied at the ``k``-th score is returned is left to numpy's
    partial sort (deterministic for the same array): measured on the recall set, settling
    those by position instead moves two lexical answers out of the top 5.
    """
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) > k:
        finite = finite[np.argpartition(-scores[finite], k - 1)[:k]]
    return sorted(finite.tolist(), key=lambda i: (-scores[i], i))
