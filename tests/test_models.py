"""Models named by their LangChain ids work wherever a model is taken; a missing provider is one error."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import AIMessage

from langmem_agno import (
    ConfigurationError,
    MemoryManager,
    MemoryMiddleware,
    MemoryRetriever,
    ScriptedChatModel,
    SQLiteMemoryStore,
)


@pytest.fixture
def store() -> SQLiteMemoryStore:
    return SQLiteMemoryStore(":memory:")


@pytest.fixture
def without_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever this machine has installed, the provider package is missing for this test.
    monkeypatch.setitem(sys.modules, "langchain_openai", None)


@pytest.mark.usefixtures("without_openai")
def test_a_missing_chat_provider_names_the_package_to_install(store: SQLiteMemoryStore) -> None:
    for build in (
        lambda: MemoryManager("openai:gpt-4o-mini", store),
        lambda: MemoryMiddleware(store=store, model="openai:gpt-4o-mini"),
    ):
        with pytest.raises(ConfigurationError, match=r"'openai:gpt-4o-mini'.*pip install.*langchain-openai"):
            build()


@pytest.mark.usefixtures("without_openai")
def test_a_missing_embeddings_provider_names_the_package_to_install(store: SQLiteMemoryStore) -> None:
    wanted = r"'openai:text-embedding-3-small'.*pip install.*langchain-openai"
    with pytest.raises(ConfigurationError, match=wanted):
        MemoryRetriever(store=store, embeddings="openai:text-embedding-3-small")
    with pytest.raises(ConfigurationError, match=r"'openai:text-embedding-3-small'.*langchain-openai"):
        MemoryMiddleware(store=store, extract=False, embeddings="openai:text-embedding-3-small")


def test_an_unknown_provider_is_one_line_naming_the_id(store: SQLiteMemoryStore) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MemoryManager("no-such-provider:model-x", store)
    assert "'no-such-provider:model-x'" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="got int 3"):
        MemoryManager(3, store)  # type: ignore[arg-type]


def test_ids_are_resolved_by_langchains_own_factories(
    store: SQLiteMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain.chat_models
    import langchain.embeddings

    asked: list[str] = []
    call = {"name": "add_memory", "args": {"memory": "User prefers email"}, "id": "c1"}
    chat = ScriptedChatModel(responses=[AIMessage("", tool_calls=[call])])
    embeddings = DeterministicFakeEmbedding(size=16)

    def init_chat_model(model: str, **_: Any) -> ScriptedChatModel:
        asked.append(model)
        return chat

    def init_embeddings(model: str, **_: Any) -> DeterministicFakeEmbedding:
        asked.append(model)
        return embeddings

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    monkeypatch.setattr(langchain.embeddings, "init_embeddings", init_embeddings)

    manager = MemoryManager("acme:chat-1", store)
    assert manager.model is chat
    added = manager.extract(["I prefer email"], user_id="u1").added
    assert [m.memory for m in added] == ["User prefers email"]
    retriever = MemoryRetriever(store=store, embeddings="acme:embed-1")
    assert retriever.embeddings is embeddings and retriever.mode == "hybrid"
    assert [d.page_content for d in retriever.invoke("email", user_id="u1")] == ["User prefers email"]
    assert asked == ["acme:chat-1", "acme:embed-1"]
