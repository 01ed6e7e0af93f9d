"""The adaptive block: all of a small memory in the prompt, relevant first; never over the budget."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.graph import START, MessagesState, StateGraph

from langmem_agno import MemoryRetriever, ScriptedChatModel, SQLiteMemoryStore, UserMemory
from langmem_agno.agents.injection import MemoryInjector, create_memory_injection_node, create_memory_prompt
from langmem_agno.agents.middleware import MemoryMiddleware
from langmem_agno.recall.index import RecallIndex
from langmem_agno.stores.types import MemoryFilter

BASKETBALL = "John Doe likes to play basketball on the weekends"
SUSHI = "John Doe loves sushi"
CASES = [
    ("What do I do for fun?", BASKETBALL),
    ("Any dinner ideas for me?", SUSHI),
    ("What do I like to eat?", SUSHI),
    ("Plans for Saturday?", BASKETBALL),
    ("hi", SUSHI),
]


def john() -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    store.add(BASKETBALL, user_id="john")
    store.add(SUSHI, user_id="john")
    store.add("Bob hates sushi", user_id="bob")
    return store


def lines(block: str) -> list[str]:
    return [line[2:] for line in block.splitlines() if line.startswith("- ")]


@pytest.mark.parametrize(("question", "memory"), CASES)
def test_two_memories_reach_the_block_with_no_embeddings(question: str, memory: str) -> None:
    injector = MemoryInjector(MemoryRetriever(store=john()))
    block = injector.block([HumanMessage(question)], user_id="john")
    assert memory in lines(block)
    assert sorted(lines(block)) == sorted([BASKETBALL, SUSHI])  # every memory, no other user's


async def test_the_relevant_memory_comes_first_async() -> None:
    injector = MemoryInjector(MemoryRetriever(store=john()))
    block = await injector.ablock([HumanMessage("Where can I get good sushi?")], user_id="john")
    assert lines(block) == [SUSHI, BASKETBALL]


def test_adaptive_off_shows_only_what_the_ranking_finds() -> None:
    injector = MemoryInjector(MemoryRetriever(store=john()), adaptive=False)
    assert injector.block([HumanMessage("What do I do for fun?")], user_id="john") == ""


def test_prompt_helper_and_node_are_adaptive_by_default() -> None:
    retriever = MemoryRetriever(store=john())
    config: Any = {"configurable": {"user_id": "john"}}
    prompt = create_memory_prompt(retriever, system_prompt="Be brief.")
    messages = prompt.invoke({"messages": [HumanMessage("Any dinner ideas for me?")]}, config)
    assert SUSHI in messages[0].text and messages[0].text.startswith("Be brief.")
    builder = StateGraph(MessagesState)
    builder.add_node("inject", create_memory_injection_node(retriever))
    builder.add_edge(START, "inject")
    out = builder.compile().invoke({"messages": [HumanMessage("What do I do for fun?")]}, config)
    assert BASKETBALL in out["messages"][0].text


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_middleware_puts_a_block_for_a_question_sharing_no_word(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    store.add("Sarah prefers email over phone calls", user_id="u1")
    store.add("Sarah has a labrador called Max", user_id="u1")
    model = ScriptedChatModel(responses=[AIMessage("Email.")])
    agent = create_agent(model, middleware=[MemoryMiddleware(store=store, extract=False, tools=False)])
    state = {"messages": [HumanMessage("How do I get in touch with her? Best channel?")]}
    config: Any = {"configurable": {"user_id": "u1"}}
    if mode == "sync":
        agent.invoke(state, config)
    else:
        await agent.ainvoke(state, config)
    system = model.calls[0][0]
    assert isinstance(system, SystemMessage)
    assert "Sarah prefers email over phone calls" in lines(system.text)


def many(n: int) -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    store.add_many(
        [
            UserMemory(memory=f"Fact number {i} about the user", created_at=1000 + i, updated_at=1000 + i)
            for i in range(n)
        ],
        user_id="u1",
    )
    store.add("The user is allergic to peanuts", user_id="u1")
    return store


@pytest.mark.parametrize("n", [0, 3, 9])
def test_under_the_budget_the_block_holds_every_memory(n: int) -> None:
    store = many(n)
    block = MemoryInjector(MemoryRetriever(store=store), max_memories=10, max_chars=5000).block(
        [HumanMessage("Can I eat satay?")], user_id="u1"
    )
    assert len(lines(block)) == n + 1
    assert sorted(lines(block)) == sorted(m.memory for m in store.list_memories(user_id="u1"))


@pytest.mark.parametrize(("max_memories", "max_chars"), [(5, 5000), (50, 300), (3, 120)])
def test_over_the_budget_the_block_never_passes_it(max_memories: int, max_chars: int) -> None:
    store = many(40)
    injector = MemoryInjector(MemoryRetriever(store=store), max_memories=max_memories, max_chars=max_chars)
    block = injector.block([HumanMessage("Any peanuts allergy?")], user_id="u1")
    assert 0 < len(lines(block)) <= max_memories
    assert len(block) <= max_chars
    assert lines(block)[0].startswith("The user is allergic")  # relevant first
    newest = [m.memory for m in store.list_memories(user_id="u1", limit=max_memories)]
    rest = lines(block)[1:]
    assert rest == [m for m in newest if not m.startswith("The user is")][: len(rest)]  # then the newest


def test_finding_out_whether_they_fit_is_one_bounded_read(monkeypatch: pytest.MonkeyPatch) -> None:
    store = many(40)
    seen: list[int] = []
    original = RecallIndex.newest

    def newest(self: RecallIndex, flt: MemoryFilter, limit: int) -> list[UserMemory]:
        seen.append(limit)
        return original(self, flt, limit)

    monkeypatch.setattr(RecallIndex, "newest", newest)
    calls: list[int | None] = []
    list_memories = store.list_memories

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs.get("limit"))
        return list_memories(**kwargs)

    monkeypatch.setattr(store, "list_memories", counting)
    injector = MemoryInjector(MemoryRetriever(store=store, ranking="lexical"), max_memories=7)
    injector.block([HumanMessage("peanuts")], user_id="u1")  # reads the scope once for ranking
    seen.clear()
    calls.clear()
    block = injector.block([HumanMessage("peanuts again")], user_id="u1")
    assert "peanuts" in block
    assert seen == [8]
    assert calls == [8]  # no unbounded load of every memory while nothing changed
