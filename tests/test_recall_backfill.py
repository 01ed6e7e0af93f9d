"""Embedding a scope's memories for the first time: in batches, saved as they come, within one query's time.

A user with thousands of memories (written by Agno, or before embeddings were on) used
to be embedded in one call under a time limit meant for a query: when it took longer,
nothing was kept, and every later query paid for the whole batch again.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

from langmem_agno import MemoryRetriever, SQLiteMemoryStore, UserMemory
from langmem_agno.recall import upkeep
from langmem_agno.recall.upkeep import EMBED_BATCH
from recall_helpers import ConceptEmbeddings


class BatchLog(ConceptEmbeddings):
    """Concept embeddings that log each call's size and can raise on chosen calls (1-based)."""

    def __init__(self, *, fail_on: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.fail_on = fail_on

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        if len(self.calls) in self.fail_on:
            raise ConnectionError("provider unavailable")
        return super().embed_documents(texts)


def _store(n: int) -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    facts = [UserMemory(memory=f"Sarah note {i} about her garden", user_id="u1") for i in range(n)]
    facts.append(UserMemory(memory="Sarah prefers email over phone calls", user_id="u1"))
    store.add_many(facts, user_id="u1")
    return store


def _top(retriever: MemoryRetriever) -> str:
    return retriever.rank("How do I get in touch with her?", user_id="u1", k=1)[0].memory.memory


N = 2 * EMBED_BATCH + 43  # three batches, the last one short


def test_a_large_scope_is_embedded_in_batches_each_text_once() -> None:
    embeddings = BatchLog()
    with _store(N) as store:
        retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense")
        # The question shares no word with its answer: only the vectors find it.
        assert _top(retriever) == "Sarah prefers email over phone calls"
        assert embeddings.calls == [EMBED_BATCH, EMBED_BATCH, N + 1 - 2 * EMBED_BATCH]
        _top(retriever)
    assert sum(embeddings.calls) == N + 1
    assert max(Counter(embeddings.documents_embedded).values()) == 1


def test_a_batch_that_fails_keeps_the_ones_before_it_and_the_next_query_goes_on() -> None:
    embeddings = BatchLog(fail_on=frozenset({2}))
    with _store(N) as store:
        retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense")
        # The model fails on its second call: this query still answers (lexically).
        first = retriever.rank("Sarah garden", user_id="u1", k=3)
        assert len(first) == 3 and all("garden" in h.memory.memory for h in first)
        assert embeddings.calls == [EMBED_BATCH, EMBED_BATCH]
        assert _top(retriever) == "Sarah prefers email over phone calls"
    # The first batch was saved: only the failed one and the rest were sent again.
    assert embeddings.calls == [EMBED_BATCH, EMBED_BATCH, EMBED_BATCH, N + 1 - 2 * EMBED_BATCH]
    assert max(Counter(embeddings.documents_embedded).values()) == 1


def test_one_query_spends_at_most_the_time_limit_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each look at the clock is 0.45 of the limit later: a query starts three batches, not more.
    ticks = itertools.count()
    monkeypatch.setattr(upkeep, "_clock", lambda: next(ticks) * 0.45)
    embeddings = BatchLog()
    n = 5 * EMBED_BATCH
    with _store(n) as store:
        retriever = MemoryRetriever(
            store=store, embeddings=embeddings, ranking="dense", embeddings_timeout=1.0
        )
        first = retriever.rank("How do I get in touch with her?", user_id="u1", k=1)
        # Not every memory has a vector yet, so this query ranked lexically: no shared word, no hit.
        assert first == []
        assert embeddings.calls == [EMBED_BATCH] * 3
        assert _top(retriever) == "Sarah prefers email over phone calls"
    assert embeddings.calls == [EMBED_BATCH] * 5 + [1]
    assert max(Counter(embeddings.documents_embedded).values()) == 1


async def test_the_async_twin_embeds_in_the_same_batches() -> None:
    embeddings = BatchLog(fail_on=frozenset({2}))
    with _store(N) as store:
        retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="hybrid")
        await retriever.arank("Sarah garden", user_id="u1", k=3)
        hits = await retriever.arank("How do I get in touch with her?", user_id="u1", k=1)
    assert hits[0].memory.memory == "Sarah prefers email over phone calls"
    assert embeddings.calls == [EMBED_BATCH, EMBED_BATCH, EMBED_BATCH, N + 1 - 2 * EMBED_BATCH]
    assert max(Counter(embeddings.documents_embedded).values()) == 1


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", "postgres"])
def test_an_agents_retriever_leaves_the_other_agents_vectors_alone(store_factory: Any, backend: str) -> None:
    # A view of agent a's memories is complete for agent a only: the vectors of agent b's
    # memories are not orphans, and must not be dropped (b would be embedded again and again).
    embeddings = BatchLog()
    store = store_factory(backend, "sync")
    try:
        for agent in ("a", "b"):
            store.add(f"Sarah told agent {agent} she prefers email", user_id="u1", agent_id=agent)
        retrievers = {
            agent: MemoryRetriever(store=store, embeddings=embeddings, ranking="dense", agent_id=agent)
            for agent in ("a", "b")
        }
        for round_ in range(3):
            for retriever in retrievers.values():
                assert retriever.rank("How do I get in touch with her?", user_id="u1", k=1)
            store.add(f"Sarah note {round_} for agent a", user_id="u1", agent_id="a")
    finally:
        store.close()
    twice = [text for text, n in Counter(embeddings.documents_embedded).items() if n > 1]
    assert twice == []
