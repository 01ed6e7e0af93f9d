"""Lexical recall outside SQLite ranks only the memories the database finds for the query's word stems."""

from __future__ import annotations

from typing import Any

import pytest

from langmem_agno import MemoryRetriever
from langmem_agno.lexical import stem_prefix
from langmem_agno.stores.base import MemoryFilter
from langmem_agno.stores.recall_index import recall_index

FACTS = [
    "Sarah prefers email over phone calls",
    "Tom runs every morning before work",
    "Sarah is allergic to peanuts",
] + [f"Filler fact number {i} about the weather in town" for i in range(40)]


@pytest.mark.parametrize(
    ("word", "prefix"),
    [("preferred", "pre"), ("running", "run"), ("runs", "run"), ("run", "run"), ("ok", "ok")],
)
def test_stem_prefix(word: str, prefix: str) -> None:
    assert stem_prefix(word) == prefix


@pytest.mark.parametrize("mode", ["sync", "async", "motor"])
async def test_mongo_lexical_finds_other_word_forms_and_fetches_only_candidates(
    store_factory: Any, mode: str
) -> None:
    store = store_factory("mongo", mode)
    if mode == "sync":
        store.add_many(FACTS, user_id="u1")
        store.add_many(["Sarah prefers letters"], user_id="someone-else")
    else:
        await store.aadd_many(FACTS, user_id="u1")
        await store.aadd_many(["Sarah prefers letters"], user_id="someone-else")
    retriever = MemoryRetriever(store=store, k=2, ranking="lexical")
    index = recall_index(store)
    flt = MemoryFilter("u1")
    if mode == "sync":
        docs = retriever.invoke("who preferred e-mail?", user_id="u1")
        running = retriever.invoke("running", user_id="u1")
        pool = index.word_candidates(flt, "who preferred email?")
    else:
        docs = await retriever.ainvoke("who preferred e-mail?", user_id="u1")
        running = await retriever.ainvoke("running", user_id="u1")
        pool = await index.aword_candidates(flt, "who preferred email?")
        await store.aclose()
    assert docs[0].page_content == "Sarah prefers email over phone calls"
    assert all(d.metadata["user_id"] == "u1" for d in docs)
    assert running[0].page_content == "Tom runs every morning before work"
    # Only the memory sharing a stem prefix ("pre", "ema") came back from the server, not all 43.
    assert [m.memory for m in pool] == ["Sarah prefers email over phone calls"]
