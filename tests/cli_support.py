"""What the CLI tests share: an in-process runner, output checks, the backends as the CLI sees them.

The fixtures (``cli``, ``target``, ``cli_isolated``) reach the tests through ``conftest.py``.
"""

from __future__ import annotations

import importlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import main
from postgres_toggle import POSTGRES


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]
ERROR_PREFIX = "langmem-agno: error: "


@pytest.fixture
def cli_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LANGMEM_AGNO_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)  # a default ./agno.db lands in this test's folder


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run one command line; return its exit code and what it printed."""

    def run(*args: str) -> Result:
        capsys.readouterr()  # only this call's output
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(list(args), code, out, err)

    return run


def ok(result: Result) -> str:
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def as_json(result: Result) -> Any:
    return json.loads(ok(result))


def error_lines(result: Result, code: int) -> list[str]:
    """Assert a failure with ``code`` reported only as error lines on stderr; return the messages."""
    assert result.returncode == code, f"{result.args}: exit {result.returncode}: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith(ERROR_PREFIX) for line in lines), result.stderr
    assert result.stdout == ""
    return [line[len(ERROR_PREFIX) :] for line in lines]


def error_line(result: Result, code: int) -> str:
    """Assert a failure reported as exactly one stderr line with ``code``; return the message."""
    lines = error_lines(result, code)
    assert len(lines) == 1, result.stderr
    return lines[0]


class Target:
    """One backend as the CLI sees it (global options) and as the library opens it.

    On PostgreSQL every test gets a table of its own in Agno's schema (the CLI has no schema
    option), so its default collection is that table and :meth:`opts` always names it.
    """

    def __init__(self, backend: str, db: str, database: str | None, table: str | None = None) -> None:
        self.backend = backend
        self.db = db
        self.database = database
        self.table = table
        self._stores: list[MemoryStore] = []

    def opts(self, collection: str | None = None) -> list[str]:
        opts = ["--db", self.db]
        opts += ["--database", self.database] if self.database else []
        collection = collection or self.table
        opts += ["--collection", collection] if collection else []
        return opts

    def store(self, collection: str | None = None) -> MemoryStore:
        name = collection or self.table or "agno_memories"
        store: MemoryStore
        if self.backend == "sqlite":
            store = SQLiteMemoryStore(self.db, table=name)
        elif self.backend == "postgres":
            store = importlib.import_module("langmem_agno.stores.postgres").PostgresMemoryStore(
                self.db, table=name
            )
        else:
            store = MongoMemoryStore(self.db, database=self.database or "agno", collection=name)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture(params=["sqlite", "mongo", *POSTGRES])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        made = Target("sqlite", str(tmp_path / "cli.db"), None)
    elif request.param == "postgres":
        made = Target(
            "postgres", request.getfixturevalue("postgres_uri"), None, f"cli_{uuid.uuid4().hex[:12]}"
        )
    else:
        made = Target("mongo", request.getfixturevalue("mongo_uri"), request.getfixturevalue("mongo_db_name"))
    yield made
    made.close()


def seeded(user: str, text: str, at: int, **fields: Any) -> UserMemory:
    return UserMemory(memory=text, user_id=user, created_at=at, updated_at=at, **fields)


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as a user's shell would."""

    def isatty(self) -> bool:
        return True
