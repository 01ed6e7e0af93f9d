"""Optimisation from the command line (`langmem-agno optimize`) and the server (`POST /optimize-memories`)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage

from langmem_agno import ScriptedChatModel, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import main
from langmem_agno.server import create_app
from test_optimize import SEED, merging_brain, summarizing_brain


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    """The model every ``--model SPEC`` names in these tests."""
    import langchain.chat_models

    model = ScriptedChatModel(responder=merging_brain)
    monkeypatch.setattr(langchain.chat_models, "init_chat_model", lambda spec, **_: model)
    monkeypatch.delenv("LANGMEM_AGNO_MODEL", raising=False)
    return model


def seeded(path: Path) -> dict[str, UserMemory]:
    store = SQLiteMemoryStore(path)
    memories = [
        UserMemory(memory=t, topics=topics, created_at=c, updated_at=c, agent_id=a)
        for t, topics, c, a in SEED
    ]
    stored = {m.memory: m for m in store.add_many(memories, user_id="u1")}
    store.close()
    return stored


def texts(path: Path) -> list[str]:
    store = SQLiteMemoryStore(path)
    try:
        return sorted(m.memory for m in store.list_memories(user_id="u1").items)
    finally:
        store.close()


def test_cli_preview_writes_nothing_then_optimize_applies(
    tmp_path: Path, scripted: ScriptedChatModel
) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    before = texts(db)
    code, out, _ = run("--db", str(db), "optimize", "--user", "u1", "--preview", "--model", "acme:chat")
    assert code == 0
    assert "  = " in out and "User lives in Berlin" in out
    assert "u1: 7 memories -> 5 memories, 157 -> " in out and "(preview: nothing written)" in out
    assert texts(db) == before
    code, out, _ = run("--db", str(db), "--json", "optimize", "--user", "u1", "--model", "acme:chat")
    assert code == 0
    report = json.loads(out)
    assert (report["memories_before"], report["memories_after"], report["applied"]) == (7, 5, True)
    assert sorted(g["action"] for g in report["groups"]) == ["merge", "merge"]
    assert sorted(m["memory"] for m in report["memories"]) == texts(db)
    assert "User lives in Berlin" in texts(db) and "User lives in Paris" not in texts(db)


def test_cli_summarize_and_model_from_the_environment(
    tmp_path: Path, scripted: ScriptedChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    scripted.responder = summarizing_brain
    monkeypatch.setenv("LANGMEM_AGNO_MODEL", "acme:chat")
    code, out, _ = run("--db", str(db), "--json", "optimize", "--user", "u1", "--strategy", "summarize")
    assert code == 0 and json.loads(out)["memories_after"] == 2
    assert len(texts(db)) == 2


def test_cli_without_a_model_says_how_to_name_one(tmp_path: Path, scripted: ScriptedChatModel) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    code, _, err = run("--db", str(db), "optimize", "--user", "u1")
    assert code == 2 and "--model SPEC" in err and "LANGMEM_AGNO_MODEL" in err
    assert not scripted.calls


def test_cli_a_failing_model_is_exit_1_and_writes_nothing(
    tmp_path: Path, scripted: ScriptedChatModel
) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    before = texts(db)
    scripted.error = ConnectionError("provider down")
    code, _, err = run("--db", str(db), "optimize", "--user", "u1", "--model", "acme:chat")
    assert code == 1 and "provider down" in err
    assert texts(db) == before


def test_cli_on_mongodb(mongo_uri: str, mongo_db_name: str, scripted: ScriptedChatModel) -> None:
    from langmem_agno import MongoMemoryStore

    store = MongoMemoryStore(mongo_uri, database=mongo_db_name)
    store.add_many(
        [UserMemory(memory=t, created_at=c, updated_at=c) for t, _, c, _ in SEED[:5]], user_id="u1"
    )
    db = ["--db", mongo_uri, "--database", mongo_db_name]
    code, out, _ = run(*db, "--json", "optimize", "--user", "u1", "--model", "acme:chat")
    assert code == 0 and json.loads(out)["memories_after"] == 3
    assert store.list_memories(user_id="u1").total == 3
    store.close()


# ---------------------------------------------------------------- the server
def server(db: Path, **options: Any) -> TestClient:
    return TestClient(create_app(SQLiteMemoryStore(db), **options))


def test_server_optimizes_as_agentos_does(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    http = server(db, model=ScriptedChatModel(responder=summarizing_brain))
    preview = http.post("/optimize-memories", json={"user_id": "u1", "apply": False})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert set(body) == {
        "memories",
        "memories_before",
        "memories_after",
        "tokens_before",
        "tokens_after",
        "tokens_saved",
        "reduction_percentage",
    }
    # AgentOS's default strategy is summarize: one memory per agent and team here.
    assert (body["memories_before"], body["memories_after"]) == (7, 2)
    assert body["tokens_saved"] == body["tokens_before"] - body["tokens_after"] > 0
    assert 0 < body["reduction_percentage"] < 100
    assert len(texts(db)) == 7  # a preview writes nothing
    applied = http.post("/optimize-memories", json={"user_id": "u1"})
    assert applied.status_code == 200 and len(texts(db)) == 2
    assert sorted(m["memory"] for m in applied.json()["memories"]) == texts(db)
    merge = http.post("/optimize-memories", json={"user_id": "u1", "strategy": "merge"})
    assert merge.status_code == 200 and merge.json()["memories_after"] == 2


def test_server_without_a_model_says_so(tmp_path: Path, scripted: ScriptedChatModel) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    http = server(db)
    missing = http.post("/optimize-memories", json={"user_id": "u1"})
    assert missing.status_code == 400 and "no model for optimisation" in missing.json()["detail"]
    named = http.post("/optimize-memories", json={"user_id": "u1", "model": "acme:chat"})
    assert named.status_code == 200 and named.json()["memories_after"] == 5
    assert (
        http.post("/optimize-memories", json={"user_id": "nobody", "model": "acme:chat"}).status_code == 404
    )
    extra = http.post("/optimize-memories", json={"user_id": "u1", "colour": 1})
    assert extra.status_code == 422


def test_server_a_failing_model_is_500_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    http = server(db, model=ScriptedChatModel(error=ConnectionError("provider down")))
    failed = http.post("/optimize-memories", json={"user_id": "u1"})
    assert failed.status_code == 500 and "provider down" in failed.json()["detail"]
    assert len(texts(db)) == 7


def test_server_route_needs_the_token(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    seeded(db)
    http = server(db, token="s3cret-token", model=ScriptedChatModel(responder=lambda m: AIMessage("")))
    assert http.post("/optimize-memories", json={"user_id": "u1"}).status_code == 401
    ok = http.post(
        "/optimize-memories", json={"user_id": "u1"}, headers={"Authorization": "Bearer s3cret-token"}
    )
    assert ok.status_code == 200 and ok.json()["memories_after"] == 7


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo"])
async def test_agentos_client_optimizes_through_our_server(backend: str, store_factory: Any) -> None:
    from agno.client.os import AgentOSClient

    from langmem_agno.server import BackgroundServer

    store = store_factory(backend)
    store.add_many(
        [UserMemory(memory=t, created_at=c, updated_at=c) for t, _, c, _ in SEED[:5]], user_id="u1"
    )
    app = create_app(store, model=ScriptedChatModel(responder=summarizing_brain))
    with BackgroundServer(app) as running:
        client = AgentOSClient(running.url, timeout=10)
        # AgentOS's client validates the answer with its own response model.
        preview = await client.optimize_memories(user_id="u1", apply=False, db_id="ignored", table="ignored")
        assert (preview.memories_before, preview.memories_after) == (5, 1)
        assert store.list_memories(user_id="u1").total == 5
        applied = await client.optimize_memories(user_id="u1")
        assert [m.memory for m in applied.memories] == [
            m.memory for m in store.list_memories(user_id="u1").items
        ]
        assert applied.tokens_saved > 0 and applied.reduction_percentage > 0
