"""Module paths from before the restructure keep working for a release, as one-line re-exports."""

from __future__ import annotations

import importlib

import pytest

# (old module, name, new module): the old path must give the very same object.
MOVED = [
    ("langmem_agno.lexical", "stem_prefix", "langmem_agno.recall.text"),
    ("langmem_agno.lexical", "rank_in_process", "langmem_agno.recall.lexical"),
    ("langmem_agno.vectors", "EmbeddingError", "langmem_agno.errors"),
    ("langmem_agno.vectors", "as_vectors", "langmem_agno.recall.dense"),
    ("langmem_agno.recall", "MemoryRetriever", "langmem_agno.recall.retriever"),
    ("langmem_agno.prompting", "render_memories", "langmem_agno.recall.render"),
    ("langmem_agno.prompting", "DEFAULT_HEADER", "langmem_agno.recall.render"),
    ("langmem_agno.prompting", "MemoryInjector", "langmem_agno.agents.injection"),
    ("langmem_agno.prompting", "MEMORY_MESSAGE_ID", "langmem_agno.agents.injection"),
    ("langmem_agno.prompting", "message_text", "langmem_agno.recall.text"),
    ("langmem_agno.plans", "run_plan", "langmem_agno.twins"),
    ("langmem_agno.stores.recall_index", "recall_index", "langmem_agno.recall.registry"),
    ("langmem_agno.stores.recall_sqlite", "SQLiteRecallIndex", "langmem_agno.recall.index_sqlite"),
    ("langmem_agno.stores.recall_mongo", "vector_search_index_model", "langmem_agno.recall.index_mongo"),
    ("langmem_agno.stores.base", "ChangeSet", "langmem_agno.stores.types"),
    ("langmem_agno.stores.base", "query_terms", "langmem_agno.stores.search"),
    ("langmem_agno.scope", "check_id", "langmem_agno.checks"),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=[f"{o}.{n}" for o, n, _ in MOVED])
def test_the_old_path_gives_the_same_object(old: str, name: str, new: str) -> None:
    assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)
