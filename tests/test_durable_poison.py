"""Poison turns: a span that keeps failing is set aside, the thread goes on, and it can be retried."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from conftest import POSTGRES
from extraction_support import run_node, said
from langmem_agno import InvalidMemoryError, SQLiteMemoryStore
from langmem_agno.errors import StoreUnavailableError
from langmem_agno.extraction import MemoryManager
from langmem_agno.extraction.cursors import is_transient
from langmem_agno.extraction.failed import list_failed, retry_failed
from langmem_agno.extraction.node import MemoryNode, create_memory_node
from langmem_agno.testing.scripted import ScriptedChatModel

CONFIG: RunnableConfig = {"configurable": {"thread_id": "t1", "user_id": "u1"}}


class ContentFilter:
    """Refuses any conversation holding the word POISON, while ``armed``; echoes facts otherwise."""

    def __init__(self) -> None:
        self.armed = True

    def __call__(self, messages: list[BaseMessage]) -> AIMessage:
        conversation = str(messages[-1].content)
        if self.armed and "POISON" in conversation:
            raise ValueError("content filter: this conversation was refused")
        calls = [
            {
                "name": "add_memory",
                "args": {"memory": "User said: " + line[6:]},
                "id": f"c{i}",
                "type": "tool_call",
            }
            for i, line in enumerate(conversation.splitlines())
            if line.startswith("user: ")
        ]
        return AIMessage("", tool_calls=calls)


async def turn(node: MemoryNode, history: list[BaseMessage], text: str, mode: str) -> None:
    history += [HumanMessage(text, id=f"h{len(history)}"), AIMessage("ok", id=f"a{len(history)}")]
    await run_node(node, {"messages": list(history)}, CONFIG, mode)


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background"])
@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_poison_turn_is_set_aside_and_the_next_five_turns_are_extracted(
    store_factory: Any, backend: str, mode: str, background: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_factory(backend, "sync" if mode == "sync" else "async")
    refuse = ContentFilter()
    model = ScriptedChatModel(responder=refuse)
    node = create_memory_node(
        MemoryManager(model, store, search_limit=0, recent_limit=0), background=background
    )
    history: list[BaseMessage] = []
    await turn(node, history, "I like tea", mode)
    with caplog.at_level(logging.WARNING, logger="langmem_agno.extraction.cursors"):
        await turn(node, history, "POISON pill", mode)
        for i in range(5):
            await turn(node, history, f"fact {i}", mode)
    check = store_factory(backend, "sync")
    assert said(check) == sorted(["User said: I like tea", *(f"User said: fact {i}" for i in range(5))])
    failed = node.failed(user_id="u1") if mode == "sync" else await node.afailed(user_id="u1")
    assert [[str(m.content) for m in f.messages] for f in failed] == [["POISON pill", "ok"]]
    assert failed[0].attempts == 3 and "content filter" in failed[0].error
    other = (
        node.failed(user_id="someone else") if mode == "sync" else await node.afailed(user_id="someone else")
    )
    assert other == []
    assert any("set aside as failed span " + failed[0].span_id in r.getMessage() for r in caplog.records)
    # Once the filter is fixed, the span is retried by id and leaves the failed table.
    refuse.armed = False
    result = node.retry(failed[0].span_id) if mode == "sync" else await node.aretry(failed[0].span_id)
    assert result.ok and [m.memory for m in result.added] == ["User said: POISON pill"]
    assert (node.failed() if mode == "sync" else await node.afailed()) == []
    with pytest.raises(InvalidMemoryError, match=failed[0].span_id):
        node.retry(failed[0].span_id) if mode == "sync" else await node.aretry(failed[0].span_id)


def test_a_retry_that_fails_again_keeps_the_span_with_its_new_error() -> None:
    store = SQLiteMemoryStore(":memory:")
    node = create_memory_node(MemoryManager(ScriptedChatModel(responder=ContentFilter()), store))
    history: list[BaseMessage] = []
    for text in ("POISON", "a", "b"):
        history.append(HumanMessage(text, id=text))
        node.invoke({"messages": list(history)}, CONFIG)
    (failed,) = node.failed()
    result = node.retry(failed.span_id)
    assert result.error is not None
    (again,) = node.failed()
    assert again.span_id == failed.span_id and again.attempts == 4


class Flaky:
    """Times out ``failures`` times, then echoes facts."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error

    def __call__(self, messages: list[BaseMessage]) -> AIMessage:
        if self.failures:
            self.failures -= 1
            raise self.error
        return ContentFilter()(messages)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_transient_failures_are_retried_with_backoff_in_the_background(mode: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    model = ScriptedChatModel(responder=Flaky(2, TimeoutError("gateway timeout")))
    node = create_memory_node(MemoryManager(model, store), background=True)
    history: list[BaseMessage] = []
    # No next turn is needed: the job retries itself after 0.5 s and 1 s.
    await turn(node, history, "I like tea", mode)
    assert len(model.calls) == 3 and said(store) == ["User said: I like tea"]
    assert node.failed() == [] and len(node.errors) == 2


def test_which_failures_are_transient() -> None:
    class RateLimitError(Exception):
        pass

    class APIStatusError(Exception):
        status_code = 503

    wrapped = RuntimeError("extraction failed")
    wrapped.__cause__ = TimeoutError("slow")
    for error in (TimeoutError(), StoreUnavailableError("down"), RateLimitError(), APIStatusError(), wrapped):
        assert is_transient(error), error
    for error in (ValueError("content filter"), RuntimeError("context too long")):
        assert not is_transient(error), error


def test_failed_spans_are_listed_and_retried_from_the_store_alone(tmp_path: Any) -> None:
    # What `langmem-agno failed` and `langmem-agno retry ID` do: no node, only the database.
    path = tmp_path / "agno.db"
    refuse = ContentFilter()
    node = create_memory_node(MemoryManager(ScriptedChatModel(responder=refuse), SQLiteMemoryStore(path)))
    history: list[BaseMessage] = []
    for text in ("POISON", "a", "b"):
        history.append(HumanMessage(text, id=text))
        node.invoke({"messages": list(history)}, CONFIG)
    store = SQLiteMemoryStore(path)
    (failed,) = list_failed(store, user_id="u1")
    assert list_failed(store, user_id="u2") == [] and failed.scope.user_id == "u1"
    refuse.armed = False
    result = retry_failed(MemoryManager(ScriptedChatModel(responder=refuse), store), failed.span_id)
    assert result.ok and list_failed(store) == []
    assert "User said: POISON" in said(store)
