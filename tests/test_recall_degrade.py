"""Degrade, never fail: a failing or hanging embeddings model makes recall lexical, one warning per outage."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import START, MessagesState, StateGraph

from langmem_agno import MemoryRetriever, MemoryStore, ScriptedChatModel, SQLiteMemoryStore
from langmem_agno.agents.injection import MemoryInjector, create_memory_injection_node
from langmem_agno.agents.middleware import MemoryMiddleware
from recall_helpers import ConceptEmbeddings

QUESTION = "Which email address should I use?"
MEMORY = "Sarah prefers email over phone calls"


class FlakyEmbeddings(ConceptEmbeddings):
    """Concept embeddings that raise while ``down`` is set, or answer after ``delay`` seconds."""

    def __init__(self, *, down: bool = True, delay: float = 0.0) -> None:
        super().__init__()
        self.down = down
        self.delay = delay
        self.attempts = 0

    def _check(self, *, sleep: bool = True) -> None:
        self.attempts += 1
        if self.delay and sleep:
            time.sleep(self.delay)
        if self.down:
            raise RuntimeError("embeddings service unavailable (503)")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self._check()
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self._check()
        return super().embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(self.delay)
        self._check(sleep=False)
        return super().embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        await asyncio.sleep(self.delay)
        self._check(sleep=False)
        return super().embed_query(text)


def seeded() -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    store.add(MEMORY, user_id="u1")
    store.add("Sarah has a labrador called Max", user_id="u1")
    return store


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "embeddings" in r.msg]


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
def test_a_failing_model_falls_back_to_lexical_with_one_warning_per_outage(
    ranking: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    model = FlakyEmbeddings()
    retriever = MemoryRetriever(store=seeded(), k=2, embeddings=model, ranking=ranking)
    for _ in range(3):
        docs = retriever.invoke(QUESTION, user_id="u1")
        assert [d.page_content for d in docs] == [MEMORY]
    assert model.attempts >= 3
    warnings = outage_warnings(caplog)
    assert len(warnings) == 1 and "503" in warnings[0] and "lexically" in warnings[0]
    model.down = False
    docs = retriever.invoke("How do I get in touch with her?", user_id="u1")  # no shared word
    assert docs[0].page_content == MEMORY
    assert len(outage_warnings(caplog)) == 2 and "answers again" in outage_warnings(caplog)[1]
    model.down = True
    retriever.invoke(QUESTION, user_id="u1")
    retriever.invoke(QUESTION, user_id="u1")
    assert len(outage_warnings(caplog)) == 3  # a new outage is reported once more


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
async def test_a_failing_model_falls_back_to_lexical_async(
    ranking: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    retriever = MemoryRetriever(store=seeded(), k=2, embeddings=FlakyEmbeddings(), ranking=ranking)
    for _ in range(2):
        docs = await retriever.ainvoke(QUESTION, user_id="u1")
        assert [d.page_content for d in docs] == [MEMORY]
    assert len(outage_warnings(caplog)) == 1


def test_a_model_that_hangs_times_out_to_lexical(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    model = FlakyEmbeddings(down=False, delay=2.0)
    retriever = MemoryRetriever(
        store=seeded(), k=2, embeddings=model, ranking="dense", embeddings_timeout=0.1
    )
    start = time.perf_counter()
    docs = retriever.invoke(QUESTION, user_id="u1")
    assert time.perf_counter() - start < 1.5
    assert [d.page_content for d in docs] == [MEMORY]
    assert len(outage_warnings(caplog)) == 1 and "within 0.1 s" in outage_warnings(caplog)[0]


async def test_a_model_that_hangs_times_out_to_lexical_async(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    model = FlakyEmbeddings(down=False, delay=2.0)
    retriever = MemoryRetriever(
        store=seeded(), k=2, embeddings=model, ranking="hybrid", embeddings_timeout=0.1
    )
    start = time.perf_counter()
    docs = await retriever.ainvoke(QUESTION, user_id="u1")
    assert time.perf_counter() - start < 1.5
    assert [d.page_content for d in docs] == [MEMORY]
    assert len(outage_warnings(caplog)) == 1


async def test_injector_and_injection_node_survive_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    retriever = MemoryRetriever(store=seeded(), embeddings=FlakyEmbeddings(), ranking="dense")
    injector = MemoryInjector(retriever)
    messages = [HumanMessage(QUESTION)]
    assert MEMORY in injector.block(messages, user_id="u1")
    assert MEMORY in await injector.ablock(messages, user_id="u1")
    builder = StateGraph(MessagesState)
    builder.add_node("inject", create_memory_injection_node(retriever))
    builder.add_edge(START, "inject")
    graph = builder.compile()
    config: Any = {"configurable": {"user_id": "u1"}}
    for out in (
        graph.invoke({"messages": messages}, config),
        await graph.ainvoke({"messages": messages}, config),
    ):
        assert MEMORY in out["messages"][0].text
    assert len(outage_warnings(caplog)) == 1


def _agent(store: MemoryStore, ranking: Any = "dense") -> tuple[Any, ScriptedChatModel]:
    model = ScriptedChatModel(responses=[AIMessage("Email her.")])
    middleware = MemoryMiddleware(
        store=store, embeddings=FlakyEmbeddings(), ranking=ranking, extract=False, tools=False
    )
    return create_agent(model, system_prompt="Be brief.", middleware=[middleware]), model


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
def test_create_agent_answers_with_memories_when_embeddings_raise(ranking: str) -> None:
    agent, model = _agent(seeded(), ranking)
    out = agent.invoke({"messages": [HumanMessage(QUESTION)]}, {"configurable": {"user_id": "u1"}})
    assert out["messages"][-1].text == "Email her."
    assert MEMORY in model.calls[0][0].text  # the lexical block still reached the model


async def test_create_agent_answers_with_memories_when_embeddings_raise_async() -> None:
    agent, model = _agent(seeded())
    out = await agent.ainvoke({"messages": [HumanMessage(QUESTION)]}, {"configurable": {"user_id": "u1"}})
    assert out["messages"][-1].text == "Email her."
    assert MEMORY in model.calls[0][0].text
