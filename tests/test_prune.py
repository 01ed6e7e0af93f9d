"""Pruning by age and by count, and the ``history`` and ``prune`` commands, on every backend."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from langmem_agno import SQLiteMemoryStore, UserMemory
from langmem_agno.cli import main
from langmem_agno.cli.lifecycle import parse_age
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import now_epoch_s

DAY = 86_400


def aged(memory_id: str, days_ago: int) -> UserMemory:
    at = now_epoch_s() - days_ago * DAY
    return UserMemory(memory_id=memory_id, memory=f"Fact {memory_id}", created_at=at, updated_at=at)


async def test_prune_keeps_the_newest_n(api: Any) -> None:
    await api.add_many([aged(f"m{i}", days_ago=10 - i) for i in range(5)], user_id="u1")
    await api.add_many([aged("other", days_ago=30)], user_id="u2")
    assert await api.prune(user_id="u1", keep=2) == 3
    assert [m.memory_id for m in await api.list_memories(user_id="u1")] == ["m4", "m3"]
    assert [(e.event, e.path) for e in await api.history("m0", user_id="u1")] == [
        ("add", "api"),
        ("delete", "prune"),
    ]
    assert (await api.history("m0", user_id="u1"))[-1].old_memory == "Fact m0"
    assert (await api.list_memories(user_id="u2")).total == 1
    assert await api.prune(user_id="u1", keep=2) == 0


async def test_prune_by_age(api: Any) -> None:
    await api.add_many([aged("old", 100), aged("older", 400), aged("recent", 5)], user_id="u1")
    assert await api.prune(user_id="u1", older_than=dt.timedelta(days=90)) == 2
    assert [m.memory_id for m in await api.list_memories(user_id="u1")] == ["recent"]
    assert await api.prune(user_id="u1", older_than=4 * DAY, keep=5) == 1
    assert (await api.list_memories(user_id="u1")).total == 0


async def test_prune_of_one_agents_memories(api: Any) -> None:
    await api.add(aged("mine", 100), user_id="u1", agent_id="planner")
    await api.add(aged("shared", 100), user_id="u1")
    assert await api.prune(user_id="u1", older_than=DAY, agent_id="planner") == 1
    assert [m.memory_id for m in await api.list_memories(user_id="u1")] == ["shared"]


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [({}, "neither"), ({"keep": -1}, "-1"), ({"older_than": 0}, "older_than"), ({"keep": True}, "True")],
)
def test_bad_prune_arguments_are_refused_by_name(store: Any, kwargs: dict[str, Any], bad: str) -> None:
    store.add("Kept", user_id="u1")
    with pytest.raises(InvalidMemoryError, match=bad):
        store.prune(user_id="u1", **kwargs)
    assert store.list_memories(user_id="u1").total == 1


@pytest.mark.parametrize(
    ("text", "seconds"), [("90d", 90 * DAY), ("12h", 12 * 3600), ("2w", 14 * DAY), ("1.5m", 90)]
)
def test_ages_on_the_command_line(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["90", "d", "-3d", "0d", "3 days", "1y"])
def test_a_bad_age_names_itself(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=repr(text).replace("[", r"\[")):
        parse_age(text)


def test_the_history_and_prune_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "agno.db")
    store = SQLiteMemoryStore(db)
    store.add_many([aged("old", 100), aged("recent", 1)], user_id="u1")
    store.update("recent", user_id="u1", memory="Fact recent, changed")
    store.close()
    capsys.readouterr()

    assert main(["--db", db, "history", "recent", "--user", "u1", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [(e["event"], e["old_memory"], e["new_memory"]) for e in entries] == [
        ("add", None, "Fact recent"),
        ("update", "Fact recent", "Fact recent, changed"),
    ]
    assert main(["--db", db, "history", "recent", "--user", "u1"]) == 0
    table = capsys.readouterr().out
    assert "update" in table and "Fact recent -> Fact recent, changed" in table
    assert main(["--db", db, "history", "recent", "--user", "u2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["--db", db, "prune", "--user", "u1", "--older-than", "90d", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] == 1
    assert main(["--db", db, "history", "old", "--user", "u1", "--json"]) == 0
    assert [(e["event"], e["path"]) for e in json.loads(capsys.readouterr().out)] == [
        ("add", "api"),
        ("delete", "prune"),
    ]
    assert main(["--db", db, "prune", "--user", "u1", "--keep", "0"]) == 0
    assert "pruned 1 memory" in capsys.readouterr().out


def test_prune_commands_refuse_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "agno.db")
    SQLiteMemoryStore(db).close()
    assert main(["--db", db, "prune", "--user", "u1", "--older-than", "3 days"]) == 2
    assert "'3 days'" in capsys.readouterr().err
    assert main(["--db", db, "prune", "--user", "u1"]) == 2
    assert "--older-than AGE or --keep N" in capsys.readouterr().err
    assert main(["--db", db, "prune", "--user", "u1", "--keep", "-2"]) == 1
    assert "-2" in capsys.readouterr().err
