"""Dense and hybrid recall ranked by the database's own vector search (Atlas ``$vectorSearch``).

The per-scope view reads every memory of a scope once per change; a database that
ranks by vectors itself needs none of that per query. This plan keeps the scope's
vectors current from the memories changed since its last look
(:func:`~langmem_agno.recall.upkeep.sync_changed`), asks the server for the best
``n`` by vector, and, for hybrid, blends them with BM25 over the store's best word-search
hits (a bounded pool, found in the server). Scores are normalised
over those candidates, not over the whole scope as on the view; a date the question
names boosts the candidates created near it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from langmem_agno.recall.dense import Vector
from langmem_agno.recall.guard import EmbeddingsGuard
from langmem_agno.recall.index import RecallIndex
from langmem_agno.recall.scoring import adjusted, blend, top
from langmem_agno.recall.upkeep import Plan, sync_changed
from langmem_agno.recall.view import z_normalised
from langmem_agno.record import UserMemory
from langmem_agno.stores.types import MemoryFilter, ScoredMemory
from langmem_agno.twins import twin

__all__ = ["LEXICAL_POOL_FACTOR", "SERVER_CANDIDATES", "ServerRanking", "server_ranked"]

#: At least this many vector candidates are asked of the server, so normalising and a date's
#: boost have a field to work on even for k=1.
SERVER_CANDIDATES = 20
#: How many word-search hits, per vector candidate, BM25 ranks for the lexical side of hybrid.
LEXICAL_POOL_FACTOR = 5


@dataclass(frozen=True)
class ServerRanking:
    """What one query asks of the server path.

    Attributes:
        hybrid: Blend BM25 in (else dense alone).
        recency_weight: 0 for relevance only, up to 1 for newest first.
        half_life_days: Age at which recency counts half.
    """

    hybrid: bool
    recency_weight: float
    half_life_days: float


def server_ranked(
    guard: EmbeddingsGuard,
    index: RecallIndex,
    flt: MemoryFilter,
    query: str,
    query_vector: Vector,
    k: int,
    now: int,
    how: ServerRanking,
) -> Plan[tuple[list[ScoredMemory] | None, bool]]:
    """The best ``k`` memories by the server's vector search, and whether the embeddings model answered.

    The hits are ``None`` when the server did not rank (no index, or it refused the
    stage) or the scope's vectors could not be brought up to date (the model failed:
    then the second value is ``False``, and recall goes on lexically).
    """
    if not (yield from sync_changed(guard, index, flt)):
        return None, False
    n = max(k * 4, SERVER_CANDIDATES)
    dense: list[ScoredMemory] | None = yield twin(index.server_dense, index.aserver_dense)(
        flt, query_vector, guard.name, n
    )
    if dense is None:
        return None, True
    pool: dict[str, UserMemory] = {h.memory.memory_id: h.memory for h in dense}
    lexical_by_id: dict[str, float] = {}
    if how.hybrid:
        # The store's own word search (in the server) hands over a bounded pool to rank by BM25.
        words = (
            (yield twin(index.related, index.arelated)(flt, query, n * LEXICAL_POOL_FACTOR))
            if index.lexical_in_process
            else None
        )
        for hit in (yield twin(index.lexical, index.alexical)(flt, query, n, words)):
            pool.setdefault(hit.memory.memory_id, hit.memory)
            lexical_by_id[hit.memory.memory_id] = hit.score
    if not pool:
        return [], True
    memories = list(pool.values())
    by_vector = {h.memory.memory_id: h.score for h in dense}
    # A memory only BM25 found ranks below every vector candidate on the dense side.
    floor = min(by_vector.values(), default=0.0)
    dense_scores = np.array([by_vector.get(m.memory_id, floor) for m in memories], dtype=np.float64)
    if how.hybrid:
        lexical = np.array([lexical_by_id.get(m.memory_id, 0.0) for m in memories], dtype=np.float64)
        relevance = blend(dense_scores, lexical)
    else:
        relevance = z_normalised(dense_scores)
    created = np.fromiter((m.created_at for m in memories), np.int64, len(memories))
    updated = np.fromiter(((m.updated_at or m.created_at) for m in memories), np.int64, len(memories))
    scores, _ = adjusted(relevance, created, updated, query, now, how.recency_weight, how.half_life_days)
    return [ScoredMemory(memories[i], float(scores[i])) for i in top(scores, k)], True
