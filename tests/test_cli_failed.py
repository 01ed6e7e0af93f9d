"""`langmem-agno failed` lists the extraction spans set aside; `retry ID --model` runs one again."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langmem_agno import MemoryManager, ScriptedChatModel, SQLiteMemoryStore, create_memory_node
from langmem_agno.cli import main

CONFIG: Any = {"configurable": {"thread_id": "t1", "user_id": "u1"}}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def refuse(messages: list[BaseMessage]) -> AIMessage:
    raise ValueError("content filter: this conversation was refused")


def test_failed_lists_the_span_and_retry_extracts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    node = create_memory_node(MemoryManager(ScriptedChatModel(responder=refuse), store))
    for _ in range(3):  # the span fails 3 times and is set aside
        node.invoke({"messages": [HumanMessage("I like green tea", id="h1")]}, CONFIG)
    code, out, _ = run("--db", str(db), "--json", "failed", "--user", "u1")
    assert code == 0
    (span,) = json.loads(out)
    assert span["user_id"] == "u1" and span["attempts"] == 3 and "content filter" in span["error"]
    assert run("--db", str(db), "failed", "--user", "someone-else")[2].strip() == "no failed extraction spans"

    import langchain.chat_models

    learn = {
        "name": "add_memory",
        "args": {"memory": "User likes green tea"},
        "id": "c1",
        "type": "tool_call",
    }
    model = ScriptedChatModel(responses=[AIMessage("", tool_calls=[learn])])
    monkeypatch.setattr(langchain.chat_models, "init_chat_model", lambda spec, **_: model)
    code, out, _ = run("--db", str(db), "retry", span["span_id"], "--model", "acme:chat")
    assert (code, out.strip()) == (0, f"span {span['span_id']}: 1 added, 0 updated, 0 deleted")
    assert [m.memory for m in SQLiteMemoryStore(db).list_memories(user_id="u1")] == ["User likes green tea"]
    assert json.loads(run("--db", str(db), "--json", "failed")[1]) == []
    code, _, err = run("--db", str(db), "retry", span["span_id"], "--model", "acme:chat")
    assert code == 1 and span["span_id"] in err
