"""The per-user view notices every change, even two writes within one second (epoch seconds, as Agno stores).

The stamp that says "nothing changed" is read from the newest memories; a write in the same
second as the newest one leaves the count and the newest ``updated_at`` as they were, so the
stamp must see the texts written in that second too.
"""

from __future__ import annotations

import pytest

from conftest import StoreAPI
from langmem_agno import MemoryRetriever
from recall_helpers import ConceptEmbeddings

NOW = 1_800_000_000


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every write lands in the same second.
    monkeypatch.setattr("langmem_agno.stores.validation.now_epoch_s", lambda: NOW)
    monkeypatch.setattr("langmem_agno.record.now_epoch_s", lambda: NOW)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("ranking", ["lexical", "hybrid"])
async def test_an_update_in_the_same_second_reaches_recall(api: StoreAPI, ranking: str) -> None:
    embeddings = None if ranking == "lexical" else ConceptEmbeddings()
    retriever = MemoryRetriever(store=api.store, k=3, embeddings=embeddings, ranking=ranking)

    async def recalled(query: str) -> list[str]:
        docs = (
            await retriever.ainvoke(query, user_id="u1")
            if api.mode != "sync"
            else retriever.invoke(query, user_id="u1")
        )
        return [d.page_content for d in docs]

    other = await api.add("Sarah lives in Lisbon", user_id="u1")
    newest = await api.add("Sarah plays jazz guitar", user_id="u1")
    assert "Sarah plays jazz guitar" in await recalled("guitar")
    # The same second: the count and the newest updated_at stay as they were.
    await api.update(newest.memory_id, user_id="u1", memory="Sarah plays jazz piano")
    piano = await recalled("piano")
    assert piano[0] == "Sarah plays jazz piano" and "Sarah plays jazz guitar" not in piano
    await api.update(other.memory_id, user_id="u1", memory="Sarah lives in Porto")
    porto = await recalled("Porto")
    assert porto[0] == "Sarah lives in Porto" and "Sarah lives in Lisbon" not in porto
