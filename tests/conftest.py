"""Shared fixtures: every store backend, sync and async, against real databases.

MongoDB is the server at ``MONGODB_URI`` when that is set, and otherwise a
SecantusDB server (a MongoDB wire-protocol server) started in this process.
Either way the tests talk to it through real PyMongo sockets.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore
from postgres_toggle import POSTGRES, require_postgres

REAL_MONGO = bool(os.environ.get("MONGODB_URI"))
# The real-model test needs torch (hundreds of MB): it runs in its own tox
# environment, which sets this, and is not collected (so not skipped) elsewhere.
collect_ignore = [] if os.environ.get("LANGMEM_AGNO_EMBEDDINGS") == "1" else ["test_recall_minilm.py"]
# The notebook test needs Jupyter: it runs in `tox -e notebooks`, whose environment is the
# notebooks extra alone, and is not collected elsewhere (so not skipped either).
if os.environ.get("LANGMEM_AGNO_NOTEBOOKS") != "1":
    collect_ignore.append("test_notebooks.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL_MONGO:
        return
    skip = pytest.mark.skip(reason="needs a real MongoDB server: set MONGODB_URI")
    for item in items:
        if "real_mongo" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB URI: ``MONGODB_URI``, or a SecantusDB server started for this session."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    from secantus import SecantusDBServer

    server = SecantusDBServer(storage_path=str(tmp_path_factory.mktemp("secantus")))
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture
def mongo_db_name(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[str]:
    """A database name of this test's own, dropped afterwards."""
    name = f"lma_test_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_client.drop_database(name)


# PostgreSQL is a backend unless LANGMEM_AGNO_POSTGRES=0; see tests/postgres_toggle.py for when its
# tests skip or fail. postgres_server's fixtures need psycopg, which the notebooks environment lacks.
with contextlib.suppress(ImportError):
    from postgres_server import postgres_schema, postgres_uri  # noqa: F401
# The command-line tests' runner and backends (tests/cli_support.py).
from cli_support import cli, cli_isolated, target  # noqa: E402, F401

BACKENDS = ["sqlite-file", "sqlite-memory", "mongo", *POSTGRES]
# (backend, mode): mode "sync" calls the sync methods, "async" the a-prefixed
# twins through AsyncMongoClient, "motor" the twins through a Motor client.
BACKEND_MODES = [
    ("sqlite-file", "sync"),
    ("sqlite-file", "async"),
    ("sqlite-memory", "sync"),
    ("sqlite-memory", "async"),
    ("mongo", "sync"),
    ("mongo", "async"),
    ("mongo", "motor"),
    *((b, m) for b in POSTGRES for m in ("sync", "async")),
]


def _make_store(
    backend: str, mode: str, tmp_path: Path, request: pytest.FixtureRequest, **kwargs: Any
) -> MemoryStore:
    if backend == "sqlite-file":
        return SQLiteMemoryStore(tmp_path / "agno.db", **kwargs)
    if backend == "sqlite-memory":
        return SQLiteMemoryStore(":memory:", **kwargs)
    if backend == "postgres":
        require_postgres()
        # psycopg is imported only when the backend is used (the notebooks environment lacks it).
        from langmem_agno.stores.postgres import PostgresMemoryStore

        # "async" differs only in which twins the test calls: the store opens its async pool itself.
        uri = request.getfixturevalue("postgres_uri")
        return PostgresMemoryStore(uri, schema=request.getfixturevalue("postgres_schema"), **kwargs)
    if backend != "mongo":
        raise ValueError(f"unknown test backend {backend!r}: sqlite-file, sqlite-memory, postgres or mongo")
    uri = request.getfixturevalue("mongo_uri")
    db = request.getfixturevalue("mongo_db_name")
    if mode == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return MongoMemoryStore(async_client=AsyncIOMotorClient(uri), database=db, **kwargs)
    if mode == "async":
        return MongoMemoryStore(async_client=AsyncMongoClient(uri), database=db, **kwargs)
    return MongoMemoryStore(uri, database=db, **kwargs)


@pytest.fixture
def store_factory(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Build stores of a given backend and mode; all are closed after the test."""
    made: list[MemoryStore] = []

    def make(backend: str, mode: str = "sync", **kwargs: Any) -> MemoryStore:
        store = _make_store(backend, mode, tmp_path, request, **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, store_factory: Any) -> MemoryStore:
    """A sync store on each backend."""
    return store_factory(request.param, "sync")  # type: ignore[no-any-return]


ASYNC_MODES = [(b, m) for b, m in BACKEND_MODES if m != "sync"]


@pytest.fixture(params=ASYNC_MODES, ids=[f"{b}-{m}" for b, m in ASYNC_MODES])
async def astore(request: pytest.FixtureRequest, store_factory: Any) -> AsyncIterator[MemoryStore]:
    """A store on each backend, used through its async twins (Mongo: AsyncMongoClient and Motor)."""
    backend, mode = request.param
    store = store_factory(backend, mode)
    yield store
    await store.aclose()


class StoreAPI:
    """One call style for both twins: ``await api.add(...)`` runs ``add`` or ``aadd``.

    A contract test written once against this runs every behaviour through the
    sync methods and through the async twins.
    """

    def __init__(self, store: MemoryStore, mode: str) -> None:
        self.store = store
        self.mode = mode

    def __getattr__(self, name: str) -> Any:
        if self.mode == "sync":
            fn = getattr(self.store, name)

            async def call_sync(*args: Any, **kwargs: Any) -> Any:
                return fn(*args, **kwargs)

            return call_sync
        afn = getattr(self.store, "a" + name)
        assert inspect.iscoroutinefunction(afn), f"a{name} is not a coroutine function"
        return afn


@pytest.fixture(params=BACKEND_MODES, ids=[f"{b}-{m}" for b, m in BACKEND_MODES])
async def api(request: pytest.FixtureRequest, store_factory: Any) -> AsyncIterator[StoreAPI]:
    """Every backend in every mode, behind one awaitable call style."""
    backend, mode = request.param
    store = store_factory(backend, mode)
    yield StoreAPI(store, mode)
    await store.aclose()
