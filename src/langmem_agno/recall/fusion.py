"""Combining rankings: reciprocal rank fusion of lexical and dense hits, and a recency blend."""

from __future__ import annotations

from collections.abc import Sequence

from langmem_agno.record import UserMemory
from langmem_agno.stores.types import ScoredMemory

__all__ = ["RRF_K", "fuse", "recency"]

#: The usual RRF constant: damps the weight of the very top ranks so that one
#: list alone cannot dominate.
RRF_K = 60
_DAY_S = 86_400


def recency(memory: UserMemory, now: int, half_life_days: float) -> float:
    """Return 1.0 for a memory updated just now, halving every ``half_life_days``."""
    age_days = max(0, now - (memory.updated_at or memory.created_at)) / _DAY_S
    return float(0.5 ** (age_days / half_life_days))


def fuse(
    rankings: Sequence[Sequence[ScoredMemory]],
    *,
    limit: int,
    now: int,
    recency_weight: float = 0.0,
    half_life_days: float = 30.0,
    rrf_k: int = RRF_K,
) -> list[ScoredMemory]:
    """Merge rankings by reciprocal rank fusion, optionally blending in recency.

    Each memory scores ``sum(1 / (rrf_k + rank))`` over the rankings it appears
    in, scaled so the best scores 1.0; then
    ``(1 - recency_weight) * that + recency_weight * recency``. Ties keep the
    order of the first ranking. A single non-empty ranking with no recency
    blend comes back as it is, with its own scores.

    Args:
        rankings: Best-first hit lists (e.g. lexical, dense).
        limit: How many to return.
        now: The current epoch seconds, for recency.
        recency_weight: 0 (relevance only) to 1 (newest first).
        half_life_days: Age at which recency is worth half.
        rrf_k: The RRF constant.

    Returns:
        Up to ``limit`` hits, best first, with the fused score.
    """
    present = [r for r in rankings if r]
    if len(present) == 1 and not recency_weight:
        # Nothing to fuse: keep the ranking's own scores (BM25, cosine), which say more than ranks.
        return list(present[0][:limit])
    fused: dict[str, float] = {}
    by_id: dict[str, UserMemory] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            mid = hit.memory.memory_id
            by_id.setdefault(mid, hit.memory)
            fused[mid] = fused.get(mid, 0.0) + 1.0 / (rrf_k + rank)
    if not fused:
        return []
    best = max(fused.values())
    scored = []
    for mid, value in fused.items():
        score = value / best
        if recency_weight:
            score = (1 - recency_weight) * score + recency_weight * recency(by_id[mid], now, half_life_days)
        scored.append(ScoredMemory(memory=by_id[mid], score=score))
    scored.sort(key=lambda h: h.score, reverse=True)
    return scored[:limit]
