"""Option errors are ConfigurationError (a LangmemAgnoError and a ValueError) naming the bad value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from langmem_agno import (
    BackgroundError,
    BackgroundFailure,
    ConfigurationError,
    LangmemAgnoError,
    MemoryManager,
    MemoryMiddleware,
    MemoryRetriever,
    ScriptedChatModel,
    SQLiteMemoryStore,
    create_memory_node,
    create_memory_tools,
    render_memories,
)

STORE = SQLiteMemoryStore(":memory:")
NO_OPS = {"enable_add": False, "enable_update": False, "enable_delete": False}
MODEL = ScriptedChatModel(responses=[AIMessage("ok")])

CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("manager limit", lambda: MemoryManager(MODEL, STORE, search_limit=-1), "search_limit"),
    ("manager ops", lambda: MemoryManager(MODEL, STORE, **NO_OPS), "enable_add"),
    ("manager timeout", lambda: MemoryManager(MODEL, STORE, timeout=0), "timeout"),
    ("middleware k", lambda: MemoryMiddleware(store=STORE, extract=False, k=0), "k must be"),
    ("middleware store", lambda: MemoryMiddleware(store="agno.db", extract=False), "store must be"),  # type: ignore[arg-type]
    ("tools include", lambda: create_memory_tools(STORE, include=["add", "add"]), "twice"),  # type: ignore[list-item]
    ("tools limits", lambda: create_memory_tools(STORE, default_search_limit=0), "positive integer"),
    ("retriever ranking", lambda: MemoryRetriever(store=STORE, ranking="dense"), "needs embeddings"),
    ("render", lambda: render_memories([], max_chars=0), "max_chars"),
    (
        "node debounce",
        lambda: create_memory_node(MemoryManager(MODEL, STORE), debounce_seconds=1),
        "background",
    ),
    ("sqlite table", lambda: SQLiteMemoryStore(":memory:", table="x; drop"), "table name"),
]


@pytest.mark.parametrize(("case", "build", "names"), CASES, ids=[c[0] for c in CASES])
def test_option_errors_are_configuration_errors_naming_the_option(
    case: str, build: Callable[[], Any], names: str
) -> None:
    with pytest.raises(ConfigurationError, match=names) as caught:
        build()
    assert isinstance(caught.value, LangmemAgnoError)
    assert isinstance(caught.value, ValueError)  # what callers caught before ConfigurationError existed


def test_the_background_failure_record_is_not_named_like_an_exception() -> None:
    assert not issubclass(BackgroundFailure, BaseException)
    assert BackgroundError is BackgroundFailure  # the old name, for one release
