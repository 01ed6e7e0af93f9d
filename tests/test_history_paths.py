"""Each entry point records its changes with its own path: tools, extraction, CLI, server, import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage

from langmem_agno import MemoryManager, SQLiteMemoryStore, create_memory_tools
from langmem_agno.cli import main
from langmem_agno.server import create_app
from langmem_agno.testing.scripted import ScriptedChatModel

CONFIG: Any = {"configurable": {"user_id": "u1"}}
BACKEND_PAIRS = [("sqlite-file", "sync"), ("sqlite-file", "async"), ("mongo", "sync"), ("mongo", "async")]


def _call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{name}", "type": "tool_call"}


async def _paths(store: Any, mode: str, memory_id: str, user_id: str = "u1") -> list[tuple[str, str]]:
    entries = (
        store.history(memory_id, user_id=user_id)
        if mode == "sync"
        else await store.ahistory(memory_id, user_id=user_id)
    )
    return [(e.event, e.path) for e in entries]


@pytest.mark.parametrize(("backend", "mode"), BACKEND_PAIRS)
async def test_the_memory_tools_record_path_tool(store_factory: Any, backend: str, mode: str) -> None:
    store = store_factory(backend, mode)
    tools = {t.name: t for t in create_memory_tools(store)}

    async def invoke(name: str, args: dict[str, Any]) -> Any:
        tool = tools[name]
        return tool.invoke(args, config=CONFIG) if mode == "sync" else await tool.ainvoke(args, config=CONFIG)

    await invoke("add_memory", {"memory": "Likes green tea"})
    page = store.list_memories(user_id="u1") if mode == "sync" else await store.alist_memories(user_id="u1")
    memory_id = page.items[0].memory_id
    await invoke("update_memory", {"memory_id": memory_id, "memory": "Likes black tea"})
    await invoke("delete_memory", {"memory_id": memory_id})
    assert await _paths(store, mode, memory_id) == [("add", "tool"), ("update", "tool"), ("delete", "tool")]


@pytest.mark.parametrize(("backend", "mode"), BACKEND_PAIRS)
async def test_extraction_records_path_extraction(store_factory: Any, backend: str, mode: str) -> None:
    store = store_factory(backend, mode)
    tea = (
        store.add("User likes tea", user_id="u1")
        if mode == "sync"
        else await store.aadd("User likes tea", user_id="u1")
    )
    answer = AIMessage(
        "",
        tool_calls=[
            _call("add_memory", memory="User prefers email"),
            _call("update_memory", id="1", memory="User likes green tea"),
        ],
    )
    manager = MemoryManager(ScriptedChatModel(responses=[answer]), store)
    messages = [HumanMessage("I like green tea now; email me"), AIMessage("Noted.")]
    result = (
        manager.extract(messages, user_id="u1")
        if mode == "sync"
        else await manager.aextract(messages, user_id="u1")
    )
    assert result.ok and len(result.added) == 1 and len(result.updated) == 1, result
    assert await _paths(store, mode, tea.memory_id) == [("add", "api"), ("update", "extraction")]
    assert await _paths(store, mode, result.added[0].memory_id) == [("add", "extraction")]


def test_the_command_line_records_path_cli_and_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "agno.db")
    assert main(["--db", db, "--json", "add", "--user", "u1", "Sarah prefers email"]) == 0
    memory_id = json.loads(capsys.readouterr().out)["memory_id"]
    assert main(["--db", db, "update", memory_id, "--user", "u1", "Sarah prefers phone"]) == 0
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"memory_id": "imported-1", "memory": "Has a dog", "user_id": "u1"}) + "\n")
    assert main(["--db", db, "import", str(lines)]) == 0
    store = SQLiteMemoryStore(db)
    try:
        assert [(e.event, e.path) for e in store.history(memory_id, user_id="u1")] == [
            ("add", "cli"),
            ("update", "cli"),
        ]
        assert [(e.event, e.path) for e in store.history("imported-1", user_id="u1")] == [("add", "import")]
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo"])
def test_the_memory_server_records_path_server(store_factory: Any, backend: str) -> None:
    store = store_factory(backend)
    http = TestClient(create_app(store))
    created = http.post("/memories", json={"memory": "Likes tea", "user_id": "u1"})
    assert created.status_code == 200, created.text
    memory_id = created.json()["memory_id"]
    assert (
        http.patch(f"/memories/{memory_id}", json={"memory": "Likes coffee", "user_id": "u1"}).status_code
        == 200
    )
    assert http.delete(f"/memories/{memory_id}", params={"user_id": "u1"}).status_code == 204
    assert [(e.event, e.path) for e in store.history(memory_id, user_id="u1")] == [
        ("add", "server"),
        ("update", "server"),
        ("delete", "server"),
    ]
