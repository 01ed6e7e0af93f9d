from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from conftest import POSTGRES
from langmem_agno import MemoryStore, MissingUserIdError, SQLiteMemoryStore
from langmem_agno.extraction import ExtractionError, ExtractionResult, MemoryManager, search_query
from langmem_agno.scripted import ScriptedChatModel

BACKENDS = ["sqlite-file", "mongo", *POSTGRES]
_LINE = re.compile(r"^\[(\d+)\] (.+?)(?: \((.*)\))?$", re.MULTILINE)


def call(name: str, /, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{name}_{len(args)}", "type": "tool_call"}


def shown(messages: list[BaseMessage]) -> dict[str, str]:
    """What a model reads in the prompt: memory text -> the alias it is shown under."""
    system = messages[0].content
    assert isinstance(system, str)
    block = system.split("Existing memories:\n", 1)[1]
    return {m.group(2): m.group(1) for m in _LINE.finditer(block)}


def model_from(fn: Callable[[dict[str, str]], list[dict[str, Any]]]) -> ScriptedChatModel:
    """A model that reads the aliases in its prompt and answers with the tool calls ``fn`` makes."""
    return ScriptedChatModel(responder=lambda msgs: AIMessage("", tool_calls=fn(shown(msgs))))


async def run(manager: MemoryManager, mode: str, messages: Any, **kwargs: Any) -> ExtractionResult:
    if mode == "sync":
        return manager.extract(messages, **kwargs)
    return await manager.aextract(messages, **kwargs)


def texts(store: MemoryStore, user_id: str) -> set[str]:
    return {m.memory for m in store.list_memories(user_id=user_id)}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_add_update_delete_in_one_call(store_factory: Any, backend: str, mode: str) -> None:
    store = store_factory(backend, "sync" if mode == "sync" else "async")
    owner = {"agent_id": "agent-a", "team_id": "team-t"}
    tea = await _add(store, mode, "User likes tea", "u1", **owner)
    phone = await _add(store, mode, "User phone is 555-0100", "u1", **owner)
    # Another agent's memory of the same user is neither shown nor touched.
    elsewhere = await _add(store, mode, "User likes tea", "u1", agent_id="agent-b")
    model = model_from(
        lambda aliases: [
            call("add_memory", memory="User prefers email", topics=["Contact"]),
            call("update_memory", id=aliases["User likes tea"], memory="User likes green tea"),
            call("delete_memory", id=f"[{aliases['User phone is 555-0100']}]"),
        ]
    )
    manager = MemoryManager(model, store)
    result = await run(
        manager,
        mode,
        [HumanMessage("I like green tea now, drop my phone, email me"), AIMessage("Sure.")],
        user_id="u1",
        agent_id="agent-a",
        team_id="team-t",
    )

    assert len(model.calls) == 1
    assert result.ok and result.model_called and not result.rejected
    assert [m.memory for m in result.added] == ["User prefers email"]
    added = result.added[0]
    assert (added.user_id, added.agent_id, added.team_id) == ("u1", "agent-a", "team-t")
    assert added.topics == ["contact"]
    assert added.input == "I like green tea now, drop my phone, email me"
    assert [(m.memory_id, m.memory) for m in result.updated] == [(tea.memory_id, "User likes green tea")]
    assert [m.memory_id for m in result.deleted] == [phone.memory_id]
    stored = {m.memory_id: m.memory for m in await _list(store, mode, "u1")}
    assert stored == {
        tea.memory_id: "User likes green tea",
        added.memory_id: "User prefers email",
        elsewhere.memory_id: "User likes tea",
    }
    assert result.shown_memories == 2


async def _add(store: MemoryStore, mode: str, text: str, user_id: str, **kw: Any) -> Any:
    return (
        store.add(text, user_id=user_id, **kw)
        if mode == "sync"
        else await store.aadd(text, user_id=user_id, **kw)
    )


async def _list(store: MemoryStore, mode: str, user_id: str) -> list[Any]:
    page = (
        store.list_memories(user_id=user_id)
        if mode == "sync"
        else await store.alist_memories(user_id=user_id)
    )
    return page.items


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "messages",
    [
        [],
        [AIMessage("Hello, how can I help?")],
        [SystemMessage("be nice"), HumanMessage("   ")],
    ],
    ids=["empty", "assistant-only", "blank-user"],
)
async def test_no_model_call_when_the_user_said_nothing(mode: str, messages: list[BaseMessage]) -> None:
    model = ScriptedChatModel(responses=[AIMessage("", tool_calls=[call("add_memory", memory="x y z")])])
    store = SQLiteMemoryStore(":memory:")
    result = await run(MemoryManager(model, store), mode, messages, user_id="u1")
    assert model.calls == []
    assert not result.model_called and not result.changed
    assert store.list_memories(user_id="u1").total == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_bad_calls_are_rejected_one_by_one_and_the_rest_applied(
    store_factory: Any, backend: str
) -> None:
    store = store_factory(backend)
    kept = store.add("User likes tea", user_id="u1")
    other = store.add("Bob's secret", user_id="u2")
    answer = AIMessage(
        "",
        tool_calls=[
            call("add_memory", memory="User prefers email"),
            call("update_memory", id="99", memory="User likes coffee"),
            call("update_memory", id="1"),
            call("add_memory", memory="   "),
            call("add_memory", memory="x" * 81),
            call("delete_memory", id=other.memory_id),
            call("drop_table", table="agno_memories"),
            call("add_memory", memory="User likes tea"),
        ],
        invalid_tool_calls=[{"name": "add_memory", "args": "{oops", "id": "bad", "error": "bad json"}],
    )
    model = ScriptedChatModel(responses=[answer])
    result = MemoryManager(model, store, max_memory_chars=80).extract(["I prefer email"], user_id="u1")

    assert [m.memory for m in result.added] == ["User prefers email"]
    reasons = {(r.tool, r.reason) for r in result.rejected}
    assert len(result.rejected) == 8
    assert any("unknown memory id '99'" in r for t, r in reasons if t == "update_memory")
    assert any("memory: field required" in r for t, r in reasons if t == "update_memory")
    assert any("empty" in r for t, r in reasons if t == "add_memory")
    assert any("81 characters" in r and "limit is 80" in r for t, r in reasons)
    assert any(other.memory_id in r for t, r in reasons if t == "delete_memory")
    assert any("unknown or disabled tool 'drop_table'" in r for t, r in reasons)
    assert any("duplicate of existing memory [1]" in r for t, r in reasons)
    assert any("not valid JSON" in r for t, r in reasons)
    assert texts(store, "u1") == {"User likes tea", "User prefers email"}
    assert store.get(kept.memory_id, user_id="u1") == kept
    assert texts(store, "u2") == {"Bob's secret"}


def test_one_change_per_memory_per_reply() -> None:
    store = SQLiteMemoryStore(":memory:")
    store.add("User likes tea", user_id="u1")
    model = ScriptedChatModel(
        responses=[
            AIMessage(
                "",
                tool_calls=[
                    call("update_memory", id=1, memory="User likes green tea"),
                    call("delete_memory", id="1"),
                ],
            )
        ]
    )
    result = MemoryManager(model, store).extract(["I like green tea"], user_id="u1")
    assert [m.memory for m in result.updated] == ["User likes green tea"]
    assert [r.reason for r in result.rejected] == [
        "memory [1] was already changed by an earlier call in this reply"
    ]
    assert texts(store, "u1") == {"User likes green tea"}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_model_error_leaves_the_store_unchanged(store_factory: Any, backend: str, mode: str) -> None:
    store = store_factory(backend, "sync" if mode == "sync" else "async")
    await _add(store, mode, "User likes tea", "u1")
    before = await _list(store, mode, "u1")
    model = ScriptedChatModel(error=RuntimeError("provider is down"))
    result = await run(MemoryManager(model, store), mode, ["I hate tea now"], user_id="u1")
    assert isinstance(result.error, ExtractionError)
    assert "provider is down" in str(result.error)
    assert not result.changed
    assert await _list(store, mode, "u1") == before

    with pytest.raises(ExtractionError, match="provider is down"):
        await run(MemoryManager(model, store, raise_on_error=True), mode, ["I hate tea now"], user_id="u1")
    assert await _list(store, mode, "u1") == before


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_model_timeout_leaves_the_store_unchanged(mode: str) -> None:
    release = threading.Event()
    answered = threading.Event()

    def slow(_: list[BaseMessage]) -> AIMessage:
        release.wait(5)
        answered.set()
        return AIMessage("", tool_calls=[call("add_memory", memory="User likes tea")])

    store = SQLiteMemoryStore(":memory:")
    manager = MemoryManager(ScriptedChatModel(responder=slow), store, timeout=0.05)
    result = await run(manager, mode, ["I like tea"], user_id="u1")
    assert isinstance(result.error, ExtractionError)
    assert isinstance(result.error.__cause__, TimeoutError)
    # Let the abandoned call finish: its late answer must not be applied either.
    release.set()
    assert answered.wait(5)
    assert store.list_memories(user_id="u1").total == 0


def test_shown_memories_are_relevant_bounded_and_aliased() -> None:
    store = SQLiteMemoryStore(":memory:")
    rex = store.add("User's dog is named Rex", user_id="u1", topics=["pets"])
    for i in range(300):
        store.add(f"User visited museum number {i} and liked the paintings there", user_id="u1")
    model = ScriptedChatModel(responses=[AIMessage("")])
    manager = MemoryManager(model, store, memory_budget_chars=1_000, recent_limit=3)
    result = manager.extract(["My dog Rex is sick today"], user_id="u1")

    system = model.calls[0][0].content
    assert isinstance(system, str)
    aliases = shown(model.calls[0])
    assert aliases["User's dog is named Rex"] == "1"
    block = system.split("Existing memories:\n", 1)[1]
    assert len(block) <= 1_000
    assert result.shown_memories == len(aliases) == 4
    assert rex.memory_id not in system
    assert all(m.memory_id not in system for m in store.list_memories(user_id="u1", limit=10))


def test_an_update_of_an_alias_reaches_the_right_memory_among_many() -> None:
    store = SQLiteMemoryStore(":memory:")
    for i in range(50):
        store.add(f"User owns book {i}", user_id="u1")
    target = store.add("User lives in Paris", user_id="u1")
    model = model_from(
        lambda a: [call("update_memory", id=a["User lives in Paris"], memory="User lives in Lyon")]
    )
    result = MemoryManager(model, store).extract(["I moved from Paris to Lyon"], user_id="u1")
    assert [m.memory_id for m in result.updated] == [target.memory_id]
    assert store.get(target.memory_id, user_id="u1").memory == "User lives in Lyon"  # type: ignore[union-attr]
    assert store.list_memories(user_id="u1").total == 51


def test_scope_comes_from_config_or_context_never_from_the_model() -> None:
    store = SQLiteMemoryStore(":memory:")
    answer = AIMessage("", tool_calls=[call("add_memory", memory="User likes tea", user_id="victim")])
    manager = MemoryManager(ScriptedChatModel(responses=[answer]), store)
    config = {"configurable": {"user_id": "u1", "agent_id": "a1"}}
    result = manager.extract(["I like tea"], config=config)  # type: ignore[arg-type]
    assert [(m.user_id, m.agent_id) for m in result.added] == [("u1", "a1")]
    result = manager.extract(["I like tea"], context={"user_id": "u2"})
    assert [m.user_id for m in result.added] == ["u2"]
    assert store.list_memories(user_id="victim").total == 0
    with pytest.raises(MissingUserIdError, match="user_id"):
        manager.extract(["I like tea"])


def test_disabled_operations_are_not_offered_and_are_rejected() -> None:
    store = SQLiteMemoryStore(":memory:")
    store.add("User likes tea", user_id="u1")
    answer = AIMessage(
        "", tool_calls=[call("delete_memory", id="1"), call("add_memory", memory="User is tall")]
    )
    model = ScriptedChatModel(responses=[answer])
    manager = MemoryManager(model, store, enable_delete=False, additional_instructions="Answer in French.")
    result = manager.extract(["I'm tall and I dislike tea"], user_id="u1")
    assert model.bound_tool_names == [["add_memory", "update_memory"]]
    assert "Answer in French." in str(model.calls[0][0].content)
    assert "delete_memory" not in str(model.calls[0][0].content)
    assert [r.tool for r in result.rejected] == ["delete_memory"]
    assert texts(store, "u1") == {"User likes tea", "User is tall"}
    with pytest.raises(ValueError, match="enable at least one"):
        MemoryManager(model, store, enable_add=False, enable_update=False, enable_delete=False)


def test_custom_capture_instructions_replace_the_default() -> None:
    model = ScriptedChatModel(responses=[AIMessage("")])
    manager = MemoryManager(model, SQLiteMemoryStore(":memory:"), capture_instructions="Only remember pets.")
    manager.extract(["I have a cat"], user_id="u1")
    system = str(model.calls[0][0].content)
    assert "Only remember pets." in system
    assert "how they like to be contacted" not in system


def test_search_query_keeps_content_words_only() -> None:
    assert (
        search_query(["I'm a vegetarian and I like the mountains", "My dog Rex"])
        == "vegetarian mountains dog rex"
    )
    assert search_query(["hi, how are you?"]) == ""
