"""The memory tools called directly (``invoke`` / ``ainvoke``), on every backend, sync and async."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.prebuilt import ToolRuntime
from pydantic import ValidationError

from langmem_agno import MemoryStore, MissingUserIdError, MongoMemoryStore, UserMemory
from langmem_agno.tools import (
    AddMemoryTool,
    SearchMemoriesTool,
    create_memory_tools,
)

# (backend, mode): "sync" runs tool.invoke over the sync store methods, "async"
# and "motor" run tool.ainvoke over the async twins (a Mongo store built with an
# async client only, so a sync call would fail).
MODES = [
    ("sqlite-file", "sync"),
    ("sqlite-file", "async"),
    ("sqlite-memory", "sync"),
    ("mongo", "sync"),
    ("mongo", "async"),
    ("mongo", "motor"),
]


class ToolEnv:
    """The four tools over one store, called the way ``mode`` says."""

    def __init__(self, store: MemoryStore, mode: str, **options: Any) -> None:
        self.store = store
        self.mode = mode
        self.tools = {t.name: t for t in create_memory_tools(store, **options)}
        self._n = 0

    async def call(self, name: str, args: dict[str, Any], user_id: str | None = "u1") -> ToolMessage:
        """Run one tool call as a model would issue it; return the ToolMessage."""
        self._n += 1
        call = {"type": "tool_call", "id": f"call_{self._n}", "name": name, "args": args}
        config: dict[str, Any] = {"configurable": {"user_id": user_id}} if user_id else {}
        tool = self.tools[name]
        result = tool.invoke(call, config=config) if self.mode == "sync" else await tool.ainvoke(call, config)
        assert isinstance(result, ToolMessage)
        assert result.tool_call_id == call["id"]
        return result

    async def memories(self, user_id: str) -> list[UserMemory]:
        if self.mode == "sync":
            return self.store.list_memories(user_id=user_id).items
        return (await self.store.alist_memories(user_id=user_id)).items

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {u: [m.model_dump() for m in await self.memories(u)] for u in ("u1", "u2")}


@pytest.fixture(params=MODES, ids=[f"{b}-{m}" for b, m in MODES])
async def env(request: pytest.FixtureRequest, store_factory: Any) -> Any:
    backend, mode = request.param
    store = store_factory(backend, mode)
    yield ToolEnv(store, mode)
    await store.aclose()


def _ok(msg: ToolMessage) -> str:
    assert msg.status == "success", msg.content
    assert isinstance(msg.content, str)
    return msg.content


def _error(msg: ToolMessage) -> str:
    assert msg.status == "error", msg.content
    assert isinstance(msg.content, str)
    return msg.content


# ---------------------------------------------------------------- add
async def test_add_memory_stores_for_the_configured_user_and_returns_the_id(env: ToolEnv) -> None:
    msg = await env.call("add_memory", {"memory": "  Sarah prefers email ", "topics": ["Contact", "contact"]})
    content = _ok(msg)
    stored = await env.memories("u1")
    assert len(stored) == 1
    mem = stored[0]
    assert mem.memory == "Sarah prefers email"
    assert mem.topics == ["contact"]
    assert mem.user_id == "u1"
    assert mem.memory_id in content
    assert "Sarah prefers email" in content
    assert msg.artifact["memory_id"] == mem.memory_id
    assert await env.memories("u2") == []


async def test_add_memory_without_topics(env: ToolEnv) -> None:
    _ok(await env.call("add_memory", {"memory": "Likes green tea", "topics": None}))
    _ok(await env.call("add_memory", {"memory": "Lives in Lyon"}))
    assert sorted(m.memory for m in await env.memories("u1")) == ["Likes green tea", "Lives in Lyon"]
    assert all(m.topics is None for m in await env.memories("u1"))


async def test_add_memory_records_agent_and_team(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    add = create_memory_tools(store, include=["add"], agent_id="planner", team_id="ops")[0]
    add.invoke({"memory": "Works night shifts"}, config={"configurable": {"user_id": "u1"}})
    (mem,) = store.list_memories(user_id="u1").items
    assert (mem.agent_id, mem.team_id) == ("planner", "ops")


# ---------------------------------------------------------------- update
async def test_update_memory_changes_text_and_keeps_topics_when_null(env: ToolEnv) -> None:
    added = await env.call("add_memory", {"memory": "Prefers email", "topics": ["contact"]})
    memory_id = added.artifact["memory_id"]
    msg = await env.call(
        "update_memory", {"memory_id": memory_id, "memory": "Prefers phone calls", "topics": None}
    )
    content = _ok(msg)
    assert memory_id in content and "Prefers phone calls" in content
    (mem,) = await env.memories("u1")
    assert (mem.memory_id, mem.memory, mem.topics) == (memory_id, "Prefers phone calls", ["contact"])


async def test_update_memory_replaces_topics(env: ToolEnv) -> None:
    added = await env.call("add_memory", {"memory": "Prefers email", "topics": ["contact"]})
    memory_id = added.artifact["memory_id"]
    _ok(
        await env.call(
            "update_memory", {"memory_id": memory_id, "memory": "Prefers SMS", "topics": ["Phone"]}
        )
    )
    (mem,) = await env.memories("u1")
    assert mem.topics == ["phone"]


# ---------------------------------------------------------------- delete
async def test_delete_memory_removes_only_that_memory(env: ToolEnv) -> None:
    first = (await env.call("add_memory", {"memory": "Has a cat"})).artifact["memory_id"]
    second = (await env.call("add_memory", {"memory": "Has a dog"})).artifact["memory_id"]
    content = _ok(await env.call("delete_memory", {"memory_id": first}))
    assert first in content
    assert [m.memory_id for m in await env.memories("u1")] == [second]


# ---------------------------------------------------------------- search
async def test_search_memories_returns_ids_text_and_topics(env: ToolEnv) -> None:
    email = (await env.call("add_memory", {"memory": "Prefers email", "topics": ["contact"]})).artifact
    await env.call("add_memory", {"memory": "Plays the cello"})
    await env.call("add_memory", {"memory": "Prefers email at work"}, user_id="u2")
    msg = await env.call("search_memories", {"query": "email", "limit": None})
    content = _ok(msg)
    lines = content.splitlines()
    assert lines[0] == "1 memory matches 'email', best first:"
    assert lines[1] == f"- id: {email['memory_id']} | Prefers email [topics: contact]"
    assert "cello" not in content and "at work" not in content
    assert [hit["memory_id"] for hit in msg.artifact] == [email["memory_id"]]


async def test_search_memories_respects_limit(env: ToolEnv) -> None:
    for i in range(4):
        await env.call("add_memory", {"memory": f"Likes tea number {i}"})
    msg = await env.call("search_memories", {"query": "tea", "limit": 2})
    assert len(_ok(msg).splitlines()) == 3
    assert len(msg.artifact) == 2


async def test_search_memories_with_no_match(env: ToolEnv) -> None:
    await env.call("add_memory", {"memory": "Likes tea"})
    msg = await env.call("search_memories", {"query": "skiing"})
    assert _ok(msg) == "No memories match 'skiing'."
    assert msg.artifact == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"query": "  "}, "no words to search for"),
        ({"query": "?!"}, "no words to search for"),
        ({"query": "tea", "limit": 0}, "limit must be between 1 and 20, got 0"),
        ({"query": "tea", "limit": 500}, "limit must be between 1 and 20, got 500"),
        ({"query": ["tea"]}, "query: Input should be a valid string"),
        ({"query": "tea", "limit": "many"}, "limit: Input should be a valid integer"),
    ],
)
async def test_search_memories_bad_calls_are_tool_errors(
    store_factory: Any, args: dict[str, Any], expected: str
) -> None:
    env = ToolEnv(store_factory("sqlite-memory", "sync"), "sync")
    assert expected in _error(await env.call("search_memories", args))


# ---------------------------------------------------------------- bad calls change nothing
async def test_unknown_id_and_other_users_id_get_the_same_not_found_error(env: ToolEnv) -> None:
    theirs = (await env.call("add_memory", {"memory": "Allergic to nuts"}, user_id="u2")).artifact[
        "memory_id"
    ]
    await env.call("add_memory", {"memory": "Likes hiking"}, user_id="u1")
    unknown = str(uuid.uuid4())
    before = await env.snapshot()
    for tool, extra in (("update_memory", {"memory": "Loves nuts", "topics": None}), ("delete_memory", {})):
        foreign = _error(await env.call(tool, {"memory_id": theirs, **extra}, user_id="u1"))
        missing = _error(await env.call(tool, {"memory_id": unknown, **extra}, user_id="u1"))
        assert "no memory with id" in foreign
        assert foreign.replace(theirs, "ID") == missing.replace(unknown, "ID")
        assert "u1" not in foreign and "u2" not in foreign
    assert await env.snapshot() == before


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("add_memory", {"memory": "   "}, "memory text is empty"),
        ("add_memory", {"memory": 42}, "memory: Input should be a valid string, got 42"),
        ("add_memory", {"memory": "Likes tea", "topics": "drinks"}, "topics: Input should be a valid list"),
        ("add_memory", {"memory": "Likes tea", "topics": [1, 2]}, "topics.0: Input should be a valid string"),
        ("add_memory", {"memory": "Likes tea", "topics": ["x" * 65]}, "the limit is 64"),
        ("add_memory", {}, "memory: required argument missing"),
        ("add_memory", {"memory": "Likes tea", "user_id": "u2"}, "user_id: unexpected argument"),
        ("add_memory", {"memory": "Likes tea", "agent_id": "boss"}, "agent_id: unexpected argument"),
        ("update_memory", {"memory_id": "EXISTING", "memory": ""}, "memory text is empty"),
        (
            "update_memory",
            {"memory_id": "EXISTING", "memory": None},
            "memory: Input should be a valid string",
        ),
        (
            "update_memory",
            {"memory_id": 7, "memory": "Likes coffee"},
            "memory_id: Input should be a valid string",
        ),
        ("update_memory", {"memory_id": "", "memory": "Likes coffee"}, "memory_id must not be empty"),
        (
            "update_memory",
            {"memory_id": "EXISTING", "memory": "Likes coffee", "user_id": "u2"},
            "user_id: unexpected argument (the user, agent and team are set by the application",
        ),
        ("delete_memory", {"memory_id": ["EXISTING"]}, "memory_id: Input should be a valid string"),
        ("delete_memory", {"memory_id": "EXISTING", "team_id": "t"}, "team_id: unexpected argument"),
    ],
)
async def test_bad_calls_are_tool_errors_and_change_nothing(
    env: ToolEnv, tool: str, args: dict[str, Any], expected: str
) -> None:
    existing = (await env.call("add_memory", {"memory": "Likes tea", "topics": ["drinks"]})).artifact
    await env.call("add_memory", {"memory": "Likes tea too"}, user_id="u2")
    before = await env.snapshot()
    args = {k: existing["memory_id"] if v == "EXISTING" else v for k, v in args.items()}
    content = _error(await env.call(tool, args))
    assert expected in content
    assert "Nothing was changed" in content
    assert await env.snapshot() == before


async def test_text_over_the_limit_is_a_tool_error(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    env = ToolEnv(store, "sync", max_memory_chars=20)
    content = _error(await env.call("add_memory", {"memory": "x" * 21}))
    assert "memory text is 21 characters" in content and "the limit is 20" in content
    kept = (await env.call("add_memory", {"memory": "x" * 20})).artifact["memory_id"]
    content = _error(await env.call("update_memory", {"memory_id": kept, "memory": "y" * 21}))
    assert "the limit is 20" in content
    assert [m.memory for m in await env.memories("u1")] == ["x" * 20]


async def test_the_stores_own_limit_applies_by_default(store_factory: Any) -> None:
    env = ToolEnv(store_factory("sqlite-memory", "sync", max_memory_chars=10), "sync")
    assert "the limit is 10" in _error(await env.call("add_memory", {"memory": "a" * 11}))
    assert await env.memories("u1") == []


# ---------------------------------------------------------------- scope
async def test_no_user_id_is_an_error_that_says_how_to_pass_one(env: ToolEnv) -> None:
    with pytest.raises(MissingUserIdError, match="configurable"):
        await env.call("add_memory", {"memory": "Likes tea"}, user_id=None)
    assert await env.memories("u1") == []


async def test_default_user_id_is_used_when_the_run_names_none(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    add = create_memory_tools(store, include=["add"], default_user_id="solo")[0]
    add.invoke({"memory": "Likes tea"})
    add.invoke({"memory": "Likes coffee"}, config={"configurable": {"user_id": "u9"}})
    assert [m.memory for m in store.list_memories(user_id="solo").items] == ["Likes tea"]
    assert [m.memory for m in store.list_memories(user_id="u9").items] == ["Likes coffee"]


def _runtime(context: Any) -> ToolRuntime[Any, Any]:
    return ToolRuntime(
        state={}, context=context, config={}, stream_writer=lambda _: None, tool_call_id="c", store=None
    )


async def test_tool_runtime_context_wins_over_configurable(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    add = create_memory_tools(store, include=["add"])[0]
    config = {"configurable": {"user_id": "from-config"}}
    add.invoke({"memory": "Likes tea", "runtime": _runtime({"user_id": "from-runtime"})}, config=config)
    await add.ainvoke({"memory": "Likes jam", "runtime": _runtime({"user_id": "from-runtime"})}, config)
    assert sorted(m.memory for m in store.list_memories(user_id="from-runtime").items) == [
        "Likes jam",
        "Likes tea",
    ]
    assert store.list_memories(user_id="from-config").total == 0


async def test_a_runtime_that_is_not_a_tool_runtime_is_ignored(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    add = create_memory_tools(store, include=["add"])[0]
    forged = {"context": {"user_id": "victim"}}
    add.invoke({"memory": "Likes tea", "runtime": forged}, config={"configurable": {"user_id": "u1"}})
    assert store.list_memories(user_id="victim").total == 0
    assert store.list_memories(user_id="u1").total == 1


async def test_langmem_style_configurable_key_is_accepted(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    add = create_memory_tools(store, include=["add"])[0]
    add.invoke({"memory": "Likes tea"}, config={"configurable": {"langgraph_user_id": "lm"}})
    assert store.list_memories(user_id="lm").total == 1


# ---------------------------------------------------------------- factory options
def test_create_memory_tools_defaults(store_factory: Any) -> None:
    tools = create_memory_tools(store_factory("sqlite-memory", "sync"))
    assert [t.name for t in tools] == ["add_memory", "update_memory", "delete_memory", "search_memories"]
    assert all(t.description for t in tools)


def test_create_memory_tools_include_names_and_descriptions(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    tools = create_memory_tools(
        store,
        include=["search", "add"],
        names={"add": "remember"},
        descriptions={"search": "Look things up."},
    )
    assert [type(t) for t in tools] == [SearchMemoriesTool, AddMemoryTool]
    assert [t.name for t in tools] == ["search_memories", "remember"]
    assert tools[0].description == "Look things up."
    msg = tools[1].invoke(
        {"type": "tool_call", "id": "c1", "name": "remember", "args": {"memory": "Likes tea", "x": 1}},
        config={"configurable": {"user_id": "u1"}},
    )
    assert msg.status == "error" and "invalid arguments for remember" in msg.content


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"include": ["add", "remember"]}, "unknown action 'remember'"),
        ({"include": "add"}, "include must be a list of actions"),
        ({"include": ["add", "add"]}, "names an action twice"),
        ({"names": {"forget": "x"}}, "names has unknown action 'forget'"),
        ({"names": {"add": "has space"}}, "tool name 'has space' must match"),
        ({"names": {"add": "search_memories"}}, "two tools would share a name"),
        ({"descriptions": {"add": ""}}, "descriptions['add'] must be a non-empty string"),
        ({"max_memory_chars": 0}, "max_memory_chars must be a positive integer, got 0"),
        ({"default_search_limit": 30}, "default_limit 30 is above max_limit 20"),
        ({"max_search_limit": -1}, "max_limit must be a positive integer, got -1"),
        ({"default_user_id": ""}, "default_user_id must not be empty"),
    ],
)
def test_create_memory_tools_rejects_bad_options(
    store_factory: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=None) as info:
        create_memory_tools(store_factory("sqlite-memory", "sync"), **kwargs)
    assert message in str(info.value)


def test_tools_hold_no_per_user_state(store_factory: Any) -> None:
    store = store_factory("sqlite-memory", "sync")
    tools = create_memory_tools(store)
    before = [t.model_dump(exclude={"store"}) for t in tools]
    tools[0].invoke({"memory": "Likes tea"}, config={"configurable": {"user_id": "u1"}})
    tools[3].invoke({"query": "tea"}, config={"configurable": {"user_id": "u2"}})
    assert [t.model_dump(exclude={"store"}) for t in tools] == before


async def test_an_unreachable_store_is_a_tool_error(caplog: pytest.LogCaptureFixture) -> None:
    store = MongoMemoryStore("mongodb://127.0.0.1:1", timeout_ms=100, create_indexes=False)
    env = ToolEnv(store, "sync")
    with caplog.at_level("WARNING", logger="langmem_agno.tools"):
        content = _error(await env.call("add_memory", {"memory": "Likes tea"}))
    assert content == "Error in add_memory: the memory store is unavailable right now; try again later."
    assert "store unavailable" in caplog.text
    store.close()


def test_handle_validation_error_false_reraises(store_factory: Any) -> None:
    tool = AddMemoryTool(store=store_factory("sqlite-memory", "sync"), handle_validation_error=False)
    with pytest.raises(ValidationError):
        tool.invoke({"memory": 1}, config={"configurable": {"user_id": "u1"}})
