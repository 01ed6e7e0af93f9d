"""The ``langmem-agno`` command line, run in process through :func:`langmem_agno.cli.main`.

A call costs milliseconds here instead of a Python start-up; what only a real
process shows (the installed entry point, signals, a terminal) is in
``test_cli_processes.py``. Every test runs in its own working directory, without
``LANGMEM_AGNO_DB`` and with a 100-column "terminal", so calls do not leak into
each other.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from langmem_agno import LangmemAgnoError, MemoryStore, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import MAX_REPORTED_BAD_LINES, BadLineError, main, parse_memory_line, render_table
from langmem_agno.record import MEMORY_FIELDS

ERROR_PREFIX = "langmem-agno: error: "


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
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
    """One backend as the CLI sees it (global options) and as the library opens it."""

    def __init__(self, backend: str, db: str, database: str | None) -> None:
        self.backend = backend
        self.db = db
        self.database = database
        self._stores: list[MemoryStore] = []

    def opts(self, collection: str | None = None) -> list[str]:
        opts = ["--db", self.db]
        opts += ["--database", self.database] if self.database else []
        opts += ["--collection", collection] if collection else []
        return opts

    def store(self, collection: str = "agno_memories") -> MemoryStore:
        store: MemoryStore
        if self.backend == "sqlite":
            store = SQLiteMemoryStore(self.db, table=collection)
        else:
            store = MongoMemoryStore(self.db, database=self.database or "agno", collection=collection)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture(params=["sqlite", "mongo"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        made = Target("sqlite", str(tmp_path / "cli.db"), None)
    else:
        made = Target("mongo", request.getfixturevalue("mongo_uri"), request.getfixturevalue("mongo_db_name"))
    yield made
    made.close()


def seeded(user: str, text: str, at: int, **fields: Any) -> UserMemory:
    return UserMemory(memory=text, user_id=user, created_at=at, updated_at=at, **fields)


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as a user's shell would."""

    def isatty(self) -> bool:
        return True


def test_memory_commands_end_to_end(target: Target, cli: Cli) -> None:
    store = target.store()
    old = [seeded("u1", f"Sarah visited city {i}", 1_000 * i, topics=["travel"]) for i in (1, 2, 3)]
    store.add_many(old, user_id="u1")
    bob = store.add("Bob prefers phone calls", user_id="u2", topics=["contact"])
    o = target.opts()

    add_args = ["add", "--user", "u1", "Sarah prefers email", "-t", "Contact", "--topic", "work"]
    added = as_json(cli(*o, "--json", *add_args, "--agent", "bot", "--input", "please email me"))
    assert list(added) == list(MEMORY_FIELDS)
    assert added["memory"] == "Sarah prefers email"
    assert added["topics"] == ["contact", "work"]
    assert (added["agent_id"], added["input"], added["user_id"]) == ("bot", "please email me", "u1")
    assert store.get(added["memory_id"], user_id="u1") == UserMemory(**added)
    mid = added["memory_id"]

    listed = as_json(cli(*o, "--json", "list", "--user", "u1"))
    assert [m["memory_id"] for m in listed] == [mid] + [m.memory_id for m in reversed(old)]
    assert listed[1] == old[2].to_document()
    page2 = cli(*o, "list", "--user", "u1", "--asc", "--limit", "2", "--page", "2", "--json")
    assert [m["memory_id"] for m in as_json(page2)] == [old[2].memory_id, mid]
    by_topic = cli(*o, "--json", "list", "-u", "u1", "--topic", "work", "--topic", "nothing")
    assert [m["memory_id"] for m in as_json(by_topic)] == [mid]
    list_text = cli("list", "-u", "u1", "--limit", "0", *o)  # global options after the command work too
    table = ok(list_text).splitlines()
    assert table[0].split() == ["ID", "UPDATED", "(UTC)", "AGENT", "TOPICS", "MEMORY"]
    assert mid in table[1] and "bot" in table[1] and "contact,work" in table[1]
    assert len(table) == 5 and ok(list_text).count("Sarah visited city") == 3
    assert "memories 1-4 of 4" in list_text.stderr
    assert as_json(cli(*o, "--json", "show", mid, "--user", "u1")) == added
    hits = as_json(cli(*o, "--json", "search", "--user", "u1", "email phone", "--limit", "5"))
    assert [h["memory"]["memory_id"] for h in hits] == [mid]  # Bob's "phone" is another user's
    assert hits[0]["matched_terms"] == ["email"] and hits[0]["score"] == 0.5
    assert as_json(cli(*o, "--json", "topics", "--user", "u1")) == ["contact", "travel", "work"]
    stats = {s["user_id"]: s for s in as_json(cli(*o, "--json", "stats"))}
    assert stats["u1"]["total_memories"] == 4 and stats["u2"]["total_memories"] == 1
    assert stats["u1"]["last_memory_updated_at"] == added["updated_at"]
    stats_u2 = ok(cli(*o, "stats", "--user", "u2"))
    assert [line.split()[:2] for line in stats_u2.splitlines()] == [["USER", "MEMORIES"], ["u2", "1"]]

    updated = cli(*o, "update", mid, "--user", "u1", "Sarah prefers email over phone", "-t", "contact")
    deleted = cli(*o, "--json", "delete", old[0].memory_id, "--user", "u1")
    refused = cli(*o, "clear", "--user", "u1", "--agent", "bot")  # no --yes and stdin is not a terminal
    after = store.get(mid, user_id="u1")
    assert after is not None
    assert (after.memory, after.topics) == ("Sarah prefers email over phone", ["contact"])
    assert (after.created_at, after.input, after.agent_id) == (added["created_at"], "please email me", "bot")
    assert f"memory:      {after.memory}\n" in ok(updated) and f"memory_id:   {mid}\n" in ok(updated)
    assert as_json(deleted) == {"deleted": 1, "memory_id": old[0].memory_id}
    assert store.get(old[0].memory_id, user_id="u1") is None
    assert "refusing to delete 1 memory of user 'u1', agent 'bot' without --yes" in error_line(refused, 1)
    assert store.list_memories(user_id="u1", agent_id="bot").total == 1

    cleared = as_json(cli(*o, "--json", "clear", "--user", "u1", "--yes"))
    assert cleared == {"deleted": 3, "user_id": "u1", "agent_id": None, "team_id": None}
    assert store.list_memories(user_id="u1").total == 0
    assert store.get(bob.memory_id, user_id="u2") == bob  # clear touched one user only


def test_unknown_id_and_other_users_id_look_the_same(target: Target, cli: Cli) -> None:
    store = target.store()
    mine = store.add("Sarah prefers email", user_id="u1")
    unknown = "00000000-0000-4000-8000-000000000000"
    o = target.opts()
    expected = f"no memory with id {unknown!r} for user 'u2'"
    assert error_line(cli(*o, "show", unknown, "--user", "u2"), 1) == expected
    assert error_line(cli(*o, "--json", "delete", unknown, "--user", "u2"), 1) == expected
    for foreign in (
        cli(*o, "show", mine.memory_id, "--user", "u2"),
        cli(*o, "update", mine.memory_id, "--user", "u2", "Hijacked"),
        cli(*o, "--json", "delete", mine.memory_id, "--user", "u2"),
    ):
        assert error_line(foreign, 1).replace(mine.memory_id, unknown) == expected
    assert store.get(mine.memory_id, user_id="u1") == mine


def test_search_table_shows_the_words_matched_best_first(target: Target, cli: Cli) -> None:
    store = target.store()
    both = store.add("Sarah: email over phone", user_id="u1", topics=["contact"])
    one = store.add("Sarah has a new phone", user_id="u1")
    store.add("Sarah is vegetarian", user_id="u1")
    hits = as_json(cli(*target.opts(), "--json", "search", "--user", "u1", "email phone"))
    assert [h["memory"]["memory_id"] for h in hits] == [both.memory_id, one.memory_id]
    assert hits[0]["score"] > hits[1]["score"]

    table = ok(cli(*target.opts(), "search", "--user", "u1", "email phone")).splitlines()
    assert table[0].split() == ["SCORE", "MATCHED", "ID", "UPDATED", "(UTC)", "TOPICS", "MEMORY"]
    assert len(table) == 3  # the vegetarian memory matches no word
    first, second = (line.split() for line in table[1:])
    assert first[:3] == [f"{hits[0]['score']:.2f}", ",".join(hits[0]["matched_terms"]), both.memory_id]
    assert set(first[1].split(",")) == {"email", "phone"}
    assert second[:3] == [f"{hits[1]['score']:.2f}", "phone", one.memory_id]
    assert table[1].endswith("contact  Sarah: email over phone")

    nothing = cli(*target.opts(), "search", "--user", "u1", "zebra")
    assert ok(nothing) == "" and "no memory of user 'u1' matches 'zebra'" in nothing.stderr


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
    terminal = _Terminal()
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


def test_unreachable_mongodb_fails_fast_with_one_line(cli: Cli) -> None:
    message = error_line(
        cli("--db", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "list", "-u", "u1"), 3
    )
    assert "127.0.0.1:1" in message and "Topology" not in message


def test_errors_are_one_line_with_distinct_codes(cli: Cli, tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a sqlite database" * 100)
    assert "memory text is empty" in error_line(cli("--db", db, "add", "--user", "u1", "   "), 1)
    assert "2001 characters" in error_line(cli("--db", db, "add", "--user", "u1", "x" * 2_001), 1)
    missing_file = cli("--db", db, "import", str(tmp_path / "missing.jsonl"))
    assert "missing.jsonl" in error_line(missing_file, 1) and "No such file" in missing_file.stderr
    no_user = cli("--db", db, "list")
    assert no_user.returncode == 2 and "--user" in no_user.stderr
    assert "garbage.db" in error_line(cli("--db", str(garbage), "list", "--user", "u1"), 3)
    assert "nothing to update" in error_line(cli("--db", db, "update", "some-id", "--user", "u1"), 1)
    assert "bad name;" in error_line(cli("--db", db, "--collection", "bad name;", "list", "--user", "u1"), 1)
    bad_limit = cli("--db", db, "list", "--user", "u1", "--limit", "-3")
    assert bad_limit.returncode == 2 and "-3" in bad_limit.stderr
    assert SQLiteMemoryStore(db).list_memories(user_id="u1").total == 0


def test_ctrl_c_is_exit_130_with_one_line(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    db = str(tmp_path / "i.db")
    assert ok(cli("--db", db, "add", "--user", "u1", "Sarah prefers email"))
    monkeypatch.setattr(SQLiteMemoryStore, "list_memories", interrupted)
    assert error_line(cli("--db", db, "list", "--user", "u1"), 130) == "interrupted"


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--user", "u1"],
        ["show", "some-id", "--user", "u1"],
        ["search", "--user", "u1", "email"],
        ["topics", "--user", "u1"],
        ["stats"],
        ["export", "out.jsonl"],
        ["--json", "export", "-"],
    ],
)
def test_read_only_commands_refuse_a_missing_database(cli: Cli, tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "no" / "such" / "memories.db"
    message = error_line(cli("--db", str(db), *command), 1)
    assert message.startswith(f"no database at {db} (")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no folder, no export file
    assert not (tmp_path / "no").exists()


def test_write_commands_create_a_missing_database(cli: Cli, tmp_path: Path) -> None:
    added_to = tmp_path / "new" / "added.db"
    memory_id = ok(cli("--db", str(added_to), "add", "--user", "u1", "Sarah prefers email")).strip()
    assert added_to.exists()
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(seeded("u1", "Sarah is vegetarian", 5).to_document()) + "\n")
    imported_to = tmp_path / "other" / "imported.db"
    assert as_json(cli("--db", str(imported_to), "--json", "import", str(path)))["new"] == 1
    assert imported_to.exists()
    assert [m["memory_id"] for m in as_json(cli("--db", str(added_to), "--json", "list", "-u", "u1"))] == [
        memory_id
    ]
    assert (
        as_json(cli("--db", str(added_to), "--json", "stats", "--user", "nobody")) == []
    )  # exists: empty is fine


def test_read_only_commands_on_an_empty_mongodb_are_not_errors(
    cli: Cli, mongo_uri: str, mongo_db_name: str
) -> None:
    o = ["--db", mongo_uri, "--database", mongo_db_name]
    assert as_json(cli(*o, "--json", "list", "--user", "u1")) == []
    assert as_json(cli(*o, "--json", "stats")) == []


def test_db_from_environment_and_text_output(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = cli("--json", "list", "--user", "u1")  # no --db, no env: ./agno.db in the working directory
    assert error_line(missing, 1).startswith("no database at agno.db (list only reads;")
    assert not (tmp_path / "agno.db").exists()
    default_id = ok(cli("add", "--user", "u1", "Sarah likes tea")).strip()
    assert (tmp_path / "agno.db").exists()
    assert [m["memory_id"] for m in as_json(cli("--json", "list", "--user", "u1"))] == [default_id]

    monkeypatch.setenv("LANGMEM_AGNO_DB", str(tmp_path / "env.db"))
    added = cli("add", "--user", "u1", "Sarah prefers email")
    memory_id = ok(added).strip()
    assert f"added memory {memory_id}" in added.stderr
    assert [m["memory_id"] for m in as_json(cli("--json", "list", "--user", "u1"))] == [memory_id]
    exported = ok(cli("export", "-", "--user", "u1"))
    assert [json.loads(line)["memory_id"] for line in exported.splitlines()] == [memory_id]
    assert SQLiteMemoryStore(tmp_path / "agno.db").list_memories(user_id="u1").total == 1  # env won over it


def test_counts_read_right_in_the_singular_and_the_plural(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = ["--db", str(tmp_path / "n.db")]
    ok(cli(*o, "add", "--user", "u1", "Sarah prefers email"))
    listed = cli(*o, "list", "--user", "u1")
    assert listed.stderr == "memory 1 of 1\n"
    assert cli(*o, "list", "--user", "u1", "--page", "2", "--limit", "1").stderr == (
        "no memories on this page; user 'u1' has 1 memory\n"
    )
    assert cli(*o, "stats").stderr == "1 user, 1 memory\n"
    assert cli(*o, "export", "one.jsonl").stderr == "exported 1 memory of 1 user to one.jsonl\n"
    assert ok(cli("--db", "copy.db", "import", "one.jsonl")) == (
        "imported 1 memory of 1 user from one.jsonl: 1 new, 0 already there\n"
    )
    refused = cli(*o, "clear", "--user", "u1")
    assert error_line(refused, 1) == "refusing to delete 1 memory of user 'u1' without --yes"

    ok(cli(*o, "add", "--user", "u1", "Sarah is vegetarian"))
    ok(cli(*o, "add", "--user", "u2", "Bob prefers phone calls"))
    assert cli(*o, "list", "--user", "u1").stderr == "memories 1-2 of 2\n"
    assert cli(*o, "list", "--user", "u1", "--page", "3", "--limit", "1").stderr == (
        "no memories on this page; user 'u1' has 2 memories\n"
    )
    assert cli(*o, "stats").stderr == "2 users, 3 memories\n"
    assert cli(*o, "export", "all.jsonl").stderr == "exported 3 memories of 2 users to all.jsonl\n"
    assert cli(*o, "export", "none.jsonl", "--user", "nobody").stderr == (
        "exported 0 memories of 0 users to none.jsonl\n"
    )
    assert ok(cli("--db", "copy.db", "import", "all.jsonl")) == (
        "imported 3 memories of 2 users from all.jsonl: 2 new, 1 already there\n"
    )

    # Asked on a terminal: "n" keeps them, "y" deletes them.
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    kept = cli(*o, "clear", "--user", "u1")
    assert kept.stderr.startswith("Delete 2 memories of user 'u1'? [y/N] ")
    assert kept.returncode == 1 and kept.stderr.endswith(f"{ERROR_PREFIX}cancelled; nothing deleted\n")
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    cleared = cli(*o, "clear", "--user", "u1")
    assert ok(cleared) == "deleted 2 memories of user 'u1'\n"
    assert ok(cli(*o, "clear", "--user", "u2", "--yes")) == "deleted 1 memory of user 'u2'\n"
    assert cli(*o, "stats").stderr == "no memories\n"


def test_verbose_logs_details_and_repeated_calls_leave_logging_as_they_found_it(
    cli: Cli, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a sqlite database" * 100)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for _ in range(3):
        quiet = cli("--db", str(garbage), "list", "--user", "u1")
        assert "garbage.db" in error_line(quiet, 3)  # no log lines without -v
        verbose = cli("-v", "--db", str(garbage), "list", "--user", "u1")
        assert verbose.returncode == 3
        assert verbose.stderr.count("langmem-agno: DEBUG: langmem_agno.cli: store unavailable\n") == 1
        assert "Traceback" in verbose.stderr
        assert verbose.stderr.splitlines()[-1].startswith(f"{ERROR_PREFIX}cannot open SQLite database")
        assert (root.handlers, root.level) == (handlers, level)


def test_demo_subcommand_runs_the_demo(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    scripted = ok(cli("--db", str(db), "demo"))
    assert "SCRIPTED model" in scripted
    assert f"Memories are stored in {db} (" in scripted
    assert scripted.endswith(
        f"The memories are kept in {db}; list them with:\n  langmem-agno --db {db} list --user sarah\n"
    )
    with SQLiteMemoryStore(db) as kept:  # closed here: an open connection keeps its WAL file around
        assert kept.list_memories(user_id="sarah").total > 0  # --db reached the demo
    listed = as_json(cli("--db", str(db), "--json", "list", "--user", "sarah"))  # the printed hint works
    assert "User is vegetarian" in {m["memory"] for m in listed}

    before = sorted(tmp_path.iterdir())
    temporary = ok(cli("demo"))
    assert "Memories are stored in a temporary SQLite file" in temporary
    assert temporary.endswith("The temporary database was deleted; give --db FILE to keep the memories.\n")
    assert sorted(tmp_path.iterdir()) == before  # nothing left in the working directory either

    bad_model = cli("demo", "--model", "no-such-provider:model-x")
    assert bad_model.returncode == 1 and "cannot use model 'no-such-provider:model-x'" in bad_model.stdout
    assert "give --db a file path" in error_line(cli("--db", "mongodb://127.0.0.1:1", "demo"), 1)
    assert "--model" in ok(cli("demo", "--help"))


def test_table_shortens_only_the_text_column() -> None:
    long_text = "Sarah prefers email " * 20
    lines = render_table(["ID", "MEMORY"], [["abc", long_text], ["d", "short\nline"]], width=60)
    assert lines[0].split() == ["ID", "MEMORY"]
    assert lines[1].startswith("abc  Sarah prefers email") and lines[1].endswith("…")
    assert max(len(line) for line in lines) < 60
    assert lines[2] == "d    short line"


def test_serve_refuses_a_public_host_without_a_token(cli: Cli, tmp_path: Path) -> None:
    line = error_line(cli("--db", str(tmp_path / "agno.db"), "serve", "--host", "0.0.0.0"), 1)
    assert "'0.0.0.0'" in line and "token" in line


def test_a_postgres_uri_names_a_postgres_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from langmem_agno.cli.store import open_store

    opened = open_store("postgresql://lma@127.0.0.1:1/none")
    assert type(opened).__name__ == "PostgresMemoryStore"
    monkeypatch.setitem(sys.modules, "langmem_agno.stores.postgres", None)
    with pytest.raises(LangmemAgnoError, match=r"pip install 'langmem-agno\[postgres\]'"):
        open_store("postgresql://lma@127.0.0.1:1/none")
