"""The command line's JSON Lines export and import, run in process on every backend.

What a line may hold, how bad lines are reported, what an import counts, and that another
user's ids are refused; the shared runner and backends are in ``cli_support.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_support import (
    Cli,
    Target,
    Terminal,
    as_json,
    error_line,
    error_lines,
    ok,
    seeded,
)
from langmem_agno import UserMemory
from langmem_agno.cli import MAX_REPORTED_BAD_LINES, BadLineError, parse_memory_line
from langmem_agno.record import MEMORY_FIELDS

# Each test in its own working directory, without LANGMEM_AGNO_DB, on a 100-column "terminal".
pytestmark = pytest.mark.usefixtures("cli_isolated")


def test_export_import_round_trip_into_custom_collection(target: Target, cli: Cli, tmp_path: Path) -> None:
    source = target.store()
    # More than one export page (500) for u1, every field set for u2, agent and team for u3.
    many = [
        seeded("u1", f"Fact number {i}", 1_700_000_000 + i // 3, topics=[f"t{i % 4}"]) for i in range(520)
    ]
    source.add_many(many, user_id="u1")
    full = [
        seeded(
            "u2", "Bob prefers phone", 1_600_000_000, input="call me", feedback="correct", topics=["contact"]
        ),
        UserMemory(memory="Bob likes jazz", user_id="u2", created_at=1_600_000_000, updated_at=1_650_000_000),
    ]
    source.add_many(full, user_id="u2")
    source.add("Carol works nights", user_id="u3", agent_id="planner", team_id="ops")
    everything = tmp_path / "all.jsonl"
    only_u2 = tmp_path / "u2.jsonl"
    o = target.opts()

    exp_all = cli(*o, "export", str(everything))
    assert "exported 523 memories of 3 users" in ok(exp_all) + exp_all.stderr
    assert as_json(cli(*o, "--json", "export", str(only_u2), "--user", "u2")) == {
        "exported": 2,
        "users": 1,
        "path": str(only_u2),
    }
    lines = [json.loads(line) for line in everything.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 523 and len({d["memory_id"] for d in lines}) == 523
    assert all(list(d) == list(MEMORY_FIELDS) for d in lines)
    assert sorted(d["memory_id"] for d in map(json.loads, only_u2.read_text().splitlines())) == sorted(
        m.memory_id for m in full
    )

    custom = target.opts(collection="imported_memories")
    summary = as_json(cli(*custom, "--json", "import", str(everything), "--batch-size", "200"))
    assert summary == {
        "memories": 523,
        "users": 3,
        "new": 523,
        "existing": 0,
        "kept_existing": 0,
        "path": str(everything),
    }
    copy = target.store("imported_memories")
    for user in ("u1", "u2", "u3"):
        original = source.list_memories(user_id=user).items
        assert copy.list_memories(user_id=user).items == original  # field for field, same order
    assert source.list_memories(user_id="u1").total == 520  # the default collection is untouched

    # A rerun writes nothing twice and keeps what changed in the store meanwhile.
    changed = copy.update(many[0].memory_id, user_id="u1", memory="Fact number zero, corrected")
    rerun = as_json(cli(*custom, "--json", "import", str(everything)))
    assert (rerun["memories"], rerun["new"], rerun["existing"], rerun["kept_existing"]) == (523, 0, 523, 1)
    assert sum(s.total_memories for s in copy.user_stats()[0]) == 523
    assert copy.get(many[0].memory_id, user_id="u1") == changed


def test_import_counts_new_and_already_there_memories(target: Target, cli: Cli, tmp_path: Path) -> None:
    store = target.store()
    kept = store.add("Sarah prefers email", user_id="u1")
    path = tmp_path / "in.jsonl"
    docs = [
        kept.to_document(),
        *(seeded("u1", f"Fact {i}", 1_700_000_000 + i).to_document() for i in range(3)),
    ]
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    first = ok(cli(*target.opts(), "import", str(path), "--batch-size", "2"))
    assert first == f"imported 4 memories of 1 user from {path}: 3 new, 1 already there\n"
    again = as_json(cli(*target.opts(), "--json", "import", str(path)))
    assert (again["new"], again["existing"], again["kept_existing"]) == (0, 4, 0)
    assert ok(cli(*target.opts(), "import", str(path))).endswith(": 0 new, 4 already there\n")
    store.update(kept.memory_id, user_id="u1", memory="Sarah prefers email, not phone")
    assert ok(cli(*target.opts(), "import", str(path))) == (
        f"imported 4 memories of 1 user from {path}: 0 new, 4 already there"
        " (1 with other content, left as stored)\n"
    )
    assert store.list_memories(user_id="u1").total == 4


def _line(**fields: Any) -> str:
    return json.dumps(fields)


def test_import_stops_at_a_bad_line_and_a_fixed_rerun_is_safe(
    target: Target, cli: Cli, tmp_path: Path
) -> None:
    good = [seeded("u1", f"Good fact {i}", 1_700_000_000 + i).to_document() for i in range(3)]
    head = [json.dumps(d) for d in good] + [""]  # line 4 is blank, which is allowed
    broken = tmp_path / "broken.jsonl"
    tail = json.dumps({**good[2], "memory_id": "after-the-bad-line"})
    broken.write_text("\n".join([*head, json.dumps(good[1]), tail]) + "\n")  # line 5 repeats line 2
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("\n".join(head) + "\n")
    o = target.opts()

    message = error_line(cli(*o, "import", str(broken)), 1)
    assert message == f"{broken}: line 5: memory_id {good[1]['memory_id']!r} already appears on line 2"
    store = target.store()
    assert store.user_stats()[1] == 0  # the whole file is checked before anything is written

    assert as_json(cli(*o, "--json", "import", str(fixed)))["memories"] == 3
    assert as_json(cli(*o, "--json", "import", str(fixed)))["kept_existing"] == 0
    assert [m.to_document() for m in store.list_memories(user_id="u1", sort="asc")] == good


def test_import_reports_every_bad_line_up_to_a_cap(target: Target, cli: Cli, tmp_path: Path) -> None:
    good = seeded("u1", "Good fact", 1_700_000_000).to_document()
    lines = [json.dumps(good), "{not json", json.dumps(good), "[1]", json.dumps({**good, "memory_id": "m2"})]
    lines += [json.dumps({"memory": "No id", "user_id": "u1"})] * 3
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(lines) + "\n")
    messages = error_lines(cli(*target.opts(), "import", str(few)), 1)
    assert [m.split(": ")[1] for m in messages[:-1]] == [
        "line 2",
        "line 3",
        "line 4",
        "line 6",
        "line 7",
        "line 8",
    ]
    assert "invalid JSON" in messages[0] and "already appears on line 1" in messages[1]
    assert "expected a JSON object" in messages[2] and all("memory_id is missing" in m for m in messages[3:6])
    assert messages[-1] == f"{few}: 6 bad lines; nothing was imported"

    extra = 7
    many = tmp_path / "many.jsonl"
    many.write_text(json.dumps(good) + "\n" + "{oops\n" * (MAX_REPORTED_BAD_LINES + extra))
    messages = error_lines(cli(*target.opts(), "import", str(many)), 1)
    assert len(messages) == MAX_REPORTED_BAD_LINES + 2
    assert [m.split(": ")[1] for m in messages[:MAX_REPORTED_BAD_LINES]] == [
        f"line {n}" for n in range(2, MAX_REPORTED_BAD_LINES + 2)
    ]
    assert messages[-2] == f"{many}: ... and {extra} more"
    assert messages[-1] == f"{many}: {MAX_REPORTED_BAD_LINES + extra} bad lines; nothing was imported"
    assert target.store().user_stats()[1] == 0  # all or nothing: the good lines were not written either


GOOD_DOC = seeded("u1", "Good fact", 1_700_000_000).to_document()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json", "invalid JSON: Expecting property name enclosed in double quotes at column 2"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[1, 2]", "expected a JSON object (one memory), got list"),
        (json.dumps({**GOOD_DOC, "embedding": [0.1]}).encode(), "unknown field 'embedding'"),
        (json.dumps({"memory": "No id", "user_id": "u1"}).encode(), "memory_id is missing"),
        (json.dumps({**GOOD_DOC, "user_id": None}).encode(), "user_id is missing (pass --user"),
        (json.dumps({**GOOD_DOC, "memory": "  "}).encode(), "memory: Value error, memory text is empty"),
        (json.dumps({**GOOD_DOC, "memory": "x" * 2_001}).encode(), "memory text is 2001 characters"),
        (json.dumps({**GOOD_DOC, "created_at": "yesterday"}).encode(), "created_at: Value error"),
        (json.dumps({**GOOD_DOC, "topics": "contact"}).encode(), "topics must be a list of strings"),
        (json.dumps({**GOOD_DOC, "memory_id": 12}).encode(), "memory_id: Input should be a valid string"),
    ],
)
def test_bad_import_lines_name_the_line_and_the_problem(line: bytes, problem: str) -> None:
    with pytest.raises(BadLineError) as caught:
        parse_memory_line(line, path="in.jsonl", line=7, default_user=None, max_chars=2_000)
    assert str(caught.value).startswith("in.jsonl: line 7: ")
    assert problem in str(caught.value)
    assert caught.value.code == 1


def test_import_line_forms_that_are_accepted() -> None:
    def parse(doc: dict[str, Any], user: str | None = None) -> UserMemory | None:
        return parse_memory_line(
            json.dumps(doc).encode(), path="f", line=1, default_user=user, max_chars=None
        )

    assert parse_memory_line(b"  \n", path="f", line=1, default_user=None, max_chars=None) is None
    assert parse({**GOOD_DOC, "_id": {"$oid": "0" * 24}}) == UserMemory(**GOOD_DOC)  # mongoexport output
    assert parse({**GOOD_DOC, "user_id": None}, user="u9") == UserMemory(**{**GOOD_DOC, "user_id": "u9"})
    with pytest.raises(BadLineError, match="user_id is 'u1', not 'u9' as --user says"):
        parse(GOOD_DOC, user="u9")


def test_import_refuses_another_users_memory_id(target: Target, cli: Cli, tmp_path: Path) -> None:
    store = target.store()
    taken = store.add("Sarah prefers email", user_id="u1")
    path = tmp_path / "steal.jsonl"
    stolen = {**taken.to_document(), "user_id": "u2", "memory": "Stolen"}
    path.write_text(_line(**seeded("u2", "Own fact", 5).to_document()) + "\n" + json.dumps(stolen) + "\n")
    message = error_line(cli(*target.opts(), "import", str(path), "--user", "u2"), 1)
    assert message.startswith(f"{path}: line 2: ") and taken.memory_id in message
    assert "(0 new memories were written before it;" in message
    assert store.get(taken.memory_id, user_id="u1") == taken
    assert store.get(taken.memory_id, user_id="u2") is None


def test_import_progress_bar_counts_memories_on_a_terminal_only(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps(seeded(f"u{i % 3}", f"Fact {i}", i + 1).to_document()) + "\n" for i in range(300))
    )
    db = str(tmp_path / "p.db")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    plain = cli("--db", db, "import", str(path), "--batch-size", "40")
    assert ok(plain) == f"imported 300 memories of 3 users from {path}: 300 new, 0 already there\n"
    bar = terminal.getvalue()
    assert "checking: 100%" in bar and f"{path.stat().st_size / 1000:.1f}k/" in bar  # the check reads bytes
    assert "importing: 100%" in bar and "| 300/300 [" in bar and "mem/s]" in bar  # the writes count memories

    terminal.seek(0)
    terminal.truncate()
    assert as_json(cli("--db", db, "--json", "import", str(path)))["existing"] == 300
    assert terminal.getvalue() == ""  # --json output is for programs: no bar
    assert ok(cli("--db", db, "import", str(path))).startswith("imported 300 memories")
    assert sys.stderr is terminal
