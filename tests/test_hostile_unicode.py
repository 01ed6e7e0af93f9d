"""Lone UTF-16 surrogates and secrets at rest: every error is ours, and no secret is stored anywhere.

A model's broken emoji escape ("\\ud83d" alone) decodes to a lone surrogate, which no database
driver can encode. In memory text, topics, ids, input or feedback it is refused with an
InvalidMemoryError naming the field and the position, in every path: the store, the memory tools
(a tool error the model reads, inside create_agent too), extraction (that call rejected, the rest
applied), the command line (one line, exit 1). Secrets are refused in ``input`` and ``feedback`` as
in the text, and extraction keeps the user's message as ``input`` with its secrets redacted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from conftest import POSTGRES
from langmem_agno import InvalidMemoryError, MemoryStore, SQLiteMemoryStore, UserMemory, create_memory_tools
from langmem_agno.cli import main
from langmem_agno.extraction import MemoryManager
from langmem_agno.scripted import ScriptedChatModel

SURROGATE = "\ud83d"
BACKENDS = ["sqlite-file", "mongo", *POSTGRES]
LONE = st.builds(
    lambda a, s, b: a + s + b,
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["\ud83d", "\udc00", "\udfff", "\ud800"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.add(f"User likes {SURROGATE} tea", user_id="u1"), "memory text"),
        (lambda s: s.add("User likes tea", user_id="u1", topics=["ok", f"t{SURROGATE}"]), "topics[1]"),
        (lambda s: s.add("User likes tea", user_id=f"u{SURROGATE}"), "user_id"),
        (lambda s: s.add("User likes tea", user_id="u1", agent_id=SURROGATE), "agent_id"),
        (lambda s: s.add("User likes tea", user_id="u1", input=f"hi {SURROGATE}"), "input"),
        (lambda s: s.add_many([UserMemory(memory="ok", feedback=SURROGATE)], user_id="u1"), "feedback"),
        (lambda s: s.list_memories(user_id=f"u{SURROGATE}"), "user_id"),
        (lambda s: s.list_memories(user_id="u1", topics=[SURROGATE]), "topics[0]"),
        (lambda s: s.get(f"m{SURROGATE}", user_id="u1"), "memory_id"),
        (lambda s: s.delete(f"m{SURROGATE}", user_id="u1"), "memory_id"),
        (lambda s: s.update(f"m{SURROGATE}", user_id="u1", memory="x"), "memory_id"),
        (lambda s: s.user_stats(user_id=SURROGATE), "user_id"),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lone_surrogate_is_our_error_naming_the_field(
    store_factory: Any, backend: str, call: Any, field: str
) -> None:
    store: MemoryStore = store_factory(backend)
    kept = store.add("User likes coffee", user_id="u1")
    with pytest.raises(
        InvalidMemoryError, match=re.escape(f"{field} holds a lone UTF-16 surrogate U+D83D at position")
    ):
        call(store)
    assert [m.memory_id for m in store.list_memories(user_id="u1").items] == [kept.memory_id]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=LONE)
def test_any_lone_surrogate_in_text_is_refused_with_its_position(text: str) -> None:
    with SQLiteMemoryStore(":memory:") as store:
        if not text.strip():
            return
        with pytest.raises(InvalidMemoryError, match="lone UTF-16 surrogate") as info:
            store.add(text, user_id="u1")
        position = int(str(info.value).split("at position ")[1].split(",")[0])
        assert 0xD800 <= ord(text[position]) <= 0xDFFF


@pytest.mark.parametrize("backend", BACKENDS)
def test_update_of_input_or_feedback_with_a_surrogate_changes_nothing(
    store_factory: Any, backend: str
) -> None:
    store: MemoryStore = store_factory(backend)
    kept = store.add("User likes coffee", user_id="u1")
    for field in ("input", "feedback"):
        with pytest.raises(InvalidMemoryError, match=field):
            store.update(kept.memory_id, user_id="u1", **{field: f"x{SURROGATE}"})
    assert store.get(kept.memory_id, user_id="u1") == kept


def test_tools_inside_create_agent_answer_a_surrogate_with_a_tool_error(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-file")
    model = ScriptedChatModel(
        responses=[
            AIMessage(
                "",
                tool_calls=[
                    {"name": "add_memory", "args": {"memory": f"User loves {SURROGATE}"}, "id": "c1"},
                    {
                        "name": "add_memory",
                        "args": {"memory": "User loves tea", "topics": [SURROGATE]},
                        "id": "c2",
                    },
                    {"name": "add_memory", "args": {"memory": "User loves jazz"}, "id": "c3"},
                ],
            ),
            AIMessage("done"),
        ]
    )
    agent = create_agent(model, tools=create_memory_tools(store))
    result = agent.invoke({"messages": [HumanMessage("hi")]}, config={"configurable": {"user_id": "u1"}})
    assert result["messages"][-1].content == "done"
    answers = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    assert (
        answers["c1"].status == "error"
        and "memory text holds a lone UTF-16 surrogate" in answers["c1"].content
    )
    assert answers["c2"].status == "error" and "topics[0]" in answers["c2"].content
    assert answers["c3"].status == "success"
    # The message content is valid text a model client can send.
    for message in answers.values():
        str(message.content).encode("utf-8")
    assert [m.memory for m in store.list_memories(user_id="u1").items] == ["User loves jazz"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_extraction_rejects_the_surrogate_call_and_applies_the_rest(
    store_factory: Any, backend: str, mode: str
) -> None:
    store: MemoryStore = store_factory(backend, mode)
    model = ScriptedChatModel(
        responder=lambda msgs: AIMessage(
            "",
            tool_calls=[
                {
                    "name": "add_memory",
                    "args": {"memory": f"User {SURROGATE}"},
                    "id": "a",
                    "type": "tool_call",
                },
                {"name": "add_memory", "args": {"memory": "User likes tea"}, "id": "b", "type": "tool_call"},
                {
                    "name": "add_memory",
                    "args": {"memory": "User hikes", "topics": [f"x{SURROGATE}"]},
                    "id": "c",
                },
            ],
        )
    )
    manager = MemoryManager(model, store)
    # The user's own message carries a broken escape and a password: neither reaches the store.
    messages = [HumanMessage(f"I like tea {SURROGATE} and my password is Blue!Fish42")]
    result = (
        manager.extract(messages, user_id="u1")
        if mode == "sync"
        else await manager.aextract(messages, user_id="u1")
    )
    assert result.error is None
    assert [m.memory for m in result.added] == ["User likes tea"]
    assert len(result.rejected) == 2
    (stored,) = (
        (await store.alist_memories(user_id="u1")).items
        if mode == "async"
        else store.list_memories(user_id="u1").items
    )
    assert stored.input is not None
    assert "Blue!Fish42" not in stored.input and "[redacted: password]" in stored.input
    assert SURROGATE not in stored.input


@pytest.mark.parametrize("backend", BACKENDS)
def test_secrets_in_input_and_feedback_are_refused(store_factory: Any, backend: str) -> None:
    store: MemoryStore = store_factory(backend)
    kept = store.add("User likes coffee", user_id="u1")
    secret = "my password is Blue!Fish42"
    with pytest.raises(InvalidMemoryError, match="input looks like it holds a secret"):
        store.add("User likes tea", user_id="u1", input=secret)
    with pytest.raises(InvalidMemoryError, match="feedback looks like it holds a secret"):
        store.update(kept.memory_id, user_id="u1", feedback="card 4111 1111 1111 1111")
    with pytest.raises(InvalidMemoryError, match="input looks like it holds a secret"):
        store.add_many([UserMemory(memory="User likes tea", input=secret)], user_id="u1")
    with pytest.raises(InvalidMemoryError, match="feedback looks like it holds a secret"):
        store.apply_changes(user_id="u1", adds=[UserMemory(memory="User likes tea", feedback=secret)])
    assert [m.memory_id for m in store.list_memories(user_id="u1").items] == [kept.memory_id]
    assert store.get(kept.memory_id, user_id="u1") == kept


def test_cli_reports_a_surrogate_or_a_secret_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "a.db")
    assert main(["--db", db, "add", "--user", "u1", f"User likes {SURROGATE} tea"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lone UTF-16 surrogate" in err
    assert main(["--db", db, "add", "--user", "u1", "User likes tea", "--input", "pw: s3cr3tP@ss"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "input looks like it holds a secret" in err
    assert main(["--db", db, "add", "--user", "u1", "User likes tea", "--topic", SURROGATE]) == 1
    assert "topics[0]" in capsys.readouterr().err
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"memory_id": "m1", "user_id": "u1", "memory": "ok", "topics": [SURROGATE]}) + "\n"
    )
    assert main(["--db", db, "import", str(path)]) == 1
    assert "line 1" in capsys.readouterr().err
