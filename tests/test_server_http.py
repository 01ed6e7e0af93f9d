"""The server's own rules over HTTP: errors and their statuses, the token, CORS, the bounds, the page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from langmem_agno import MongoMemoryStore, SQLiteMemoryStore
from langmem_agno.errors import ConfigurationError
from langmem_agno.server import create_app, serve
from langmem_agno.server.routes import MAX_PAGE_LIMIT
from langmem_agno.server.security import TOKEN_ENV, is_loopback


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


@pytest.fixture
def store(store_factory: Any) -> SQLiteMemoryStore:
    made: SQLiteMemoryStore = store_factory("sqlite-file")
    return made


@pytest.fixture
def http(store: SQLiteMemoryStore) -> TestClient:
    return TestClient(create_app(store))


def _locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


def test_a_missing_or_bad_parameter_is_422_naming_it(http: TestClient) -> None:
    assert _locs(http.get("/memories")) == [["query", "user_id"]]
    assert _locs(http.get("/memories", params={"user_id": "u1", "limit": MAX_PAGE_LIMIT + 1})) == [
        ["query", "limit"]
    ]
    assert _locs(http.get("/memories", params={"user_id": "u1", "page": 0})) == [["query", "page"]]
    assert _locs(http.get("/memories", params={"user_id": "u1", "page": 10**30})) == [["query", "page"]]
    assert _locs(http.get("/user_memory_stats", params={"page": 10**30})) == [["query", "page"]]
    assert _locs(http.get("/memories", params={"user_id": "u1", "sort_order": "up"})) == [
        ["query", "sort_order"]
    ]
    assert _locs(http.post("/memories", json={"memory": "x"})) == [["body", "user_id"]]
    assert _locs(http.post("/memories", json={"memory": "x", "user_id": "u1", "colour": 1})) == [
        ["body", "colour"]
    ]
    assert _locs(http.request("DELETE", "/memories", json={"memory_ids": [], "user_id": "u1"})) == [
        ["body", "memory_ids"]
    ]
    # The store's own checks: the message names the value.
    sort = http.get("/memories", params={"user_id": "u1", "sort_by": "memory"})
    assert sort.status_code == 422 and "sort_by" in sort.json()["detail"]
    empty = http.post("/memories", json={"memory": "   ", "user_id": "u1"})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    secret = http.post("/memories", json={"memory": "My password is hunter2-Correct-Horse", "user_id": "u1"})
    assert secret.status_code == 422


def test_unknown_ids_are_404_and_updates_keep_what_is_not_given(
    http: TestClient, store: SQLiteMemoryStore
) -> None:
    assert http.get("/memories/nope", params={"user_id": "u1"}).status_code == 404
    assert http.patch("/memories/nope", json={"user_id": "u1", "memory": "x"}).status_code == 404
    assert http.delete("/memories/nope", params={"user_id": "u1"}).status_code == 404
    made = store.add("Sarah prefers email", user_id="u1", topics=["contact"], agent_id="a1")
    changed = http.patch(
        f"/memories/{made.memory_id}", json={"user_id": "u1", "memory": "Sarah prefers phone"}
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["memory"], body["topics"], body["agent_id"]) == ("Sarah prefers phone", ["contact"], "a1")
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    cleared = http.patch(f"/memories/{made.memory_id}", json={"user_id": "u1", "topics": []})
    assert cleared.json()["topics"] == []


def test_an_unreachable_store_is_503() -> None:
    down = MongoMemoryStore("mongodb://127.0.0.1:1", timeout_ms=200)
    try:
        answer = TestClient(create_app(down)).get("/memories", params={"user_id": "u1"})
    finally:
        down.close()
    assert answer.status_code == 503
    assert answer.json()["detail"]


def test_the_token_from_the_environment(store: SQLiteMemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    http = TestClient(create_app(store))
    assert http.get("/user_memory_stats").status_code == 401
    assert http.get("/user_memory_stats", headers={"Authorization": "Bearer from-env"}).status_code == 200
    assert http.get("/user_memory_stats", headers={"Authorization": "Basic from-env"}).status_code == 401
    # The page and the API docs hold no data: they load without the token, and the page asks for it.
    assert http.get("/").status_code == 200
    assert http.get("/openapi.json").status_code == 200
    with pytest.raises(ConfigurationError, match="whitespace"):
        create_app(store, token="two words")


def test_serve_refuses_a_public_host_without_a_token(store: SQLiteMemoryStore) -> None:
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.com"):
        assert not is_loopback(host)
        with pytest.raises(ConfigurationError, match=host.replace(".", r"\.")):
            serve(store, host=host, port=1)
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))


def test_cors_is_off_by_default_and_configurable(store: SQLiteMemoryStore) -> None:
    preflight = {"Origin": "https://os.example.com", "Access-Control-Request-Method": "GET"}
    closed = TestClient(create_app(store)).options("/memories", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = TestClient(create_app(store, cors_origins=["https://os.example.com"]))
    answer = opened.options("/memories", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "https://os.example.com"
    other = opened.options("/memories", headers={**preflight, "Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_request_bodies_are_bounded(store: SQLiteMemoryStore) -> None:
    http = TestClient(create_app(store, max_body_bytes=1000))
    big = {"memory": "x" * 2000, "user_id": "u1"}
    assert http.post("/memories", json=big).status_code == 413

    def chunks() -> Any:
        for _ in range(5):
            yield b" " * 400

    assert (
        http.post("/memories", content=chunks(), headers={"Content-Type": "application/json"}).status_code
        == 413
    )
    assert http.post("/memories", json={"memory": "Small", "user_id": "u1"}).status_code == 200
    assert store.list_memories(user_id="u1").total == 1


def test_the_page_escapes_by_construction(http: TestClient) -> None:
    page = http.get("/")
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy
    html = page.text
    # No markup is ever built from strings: data goes in through textContent and form values.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in html
    # One script element, closed once: a stray "</script" (in a comment, say) would end it early.
    assert html.count("<script") == 1 and html.lower().count("</script") == 1
    assert "http://" not in html and "https://" not in html  # no CDN: everything is in the page
    assert http.get("/docs").status_code == 200
