"""The ``langmem-agno`` command line, run through its installed entry point in subprocesses.

Each subprocess costs about a second of imports, so independent commands are
started together (``cli_many``) and each test checks several things at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from langmem_agno import MemoryStore, MongoMemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import BadLineError, parse_memory_line, render_table
from langmem_agno.record import MEMORY_FIELDS

_SCRIPT = Path(sys.executable).with_name("langmem-agno")
# The installed console script is what users run; fall back to the module when
# the package was put on the path without its scripts.
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "langmem_agno.cli"]
TIMEOUT_S = 120
ERROR_PREFIX = "langmem-agno: error: "


@dataclass
class Call:
    args: Sequence[str]
    stdin: str | None = None
    env: dict[str, str] | None = None


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LANGMEM_AGNO_DB"}
    env["COLUMNS"] = "100"
    env.update(extra or {})
    return env


def cli_many(*calls: Call, cwd: Path | None = None) -> list[subprocess.CompletedProcess[str]]:
    """Start every call at once, then wait for all of them."""
    procs = [
        subprocess.Popen(
            [*CLI, *c.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=_env(c.env),
            cwd=cwd,
        )
        for c in calls
    ]
    results = []
    for call, proc in zip(calls, procs, strict=True):
        out, err = proc.communicate(call.stdin or "", timeout=TIMEOUT_S)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return cli_many(Call(args, stdin, env))[0]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Assert a failure reported as exactly one stderr line with ``code``; return the message."""
    assert result.returncode == code, f"{result.args}: exit {result.returncode}: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), result.stderr
    assert result.stdout == ""
    return lines[0][len(ERROR_PREFIX) :]


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


def test_memory_commands_end_to_end(target: Target) -> None:
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

    list_all, page2, by_topic, list_text, show, search, topics, stats_all, stats_u2 = cli_many(
        Call([*o, "--json", "list", "--user", "u1"]),
        Call([*o, "list", "--user", "u1", "--asc", "--limit", "2", "--page", "2", "--json"]),
        Call([*o, "--json", "list", "-u", "u1", "--topic", "work", "--topic", "nothing"]),
        Call(["list", "-u", "u1", "--limit", "0", *o]),  # global options after the command work too
        Call([*o, "--json", "show", mid, "--user", "u1"]),
        Call([*o, "--json", "search", "--user", "u1", "email phone", "--limit", "5"]),
        Call([*o, "--json", "topics", "--user", "u1"]),
        Call([*o, "--json", "stats"]),
        Call([*o, "stats", "--user", "u2"]),
    )
    listed = as_json(list_all)
    assert [m["memory_id"] for m in listed] == [mid] + [m.memory_id for m in reversed(old)]
    assert listed[1] == old[2].to_document()
    assert [m["memory_id"] for m in as_json(page2)] == [old[2].memory_id, mid]
    assert [m["memory_id"] for m in as_json(by_topic)] == [mid]
    table = ok(list_text).splitlines()
    assert table[0].split() == ["ID", "UPDATED", "(UTC)", "AGENT", "TOPICS", "MEMORY"]
    assert mid in table[1] and "bot" in table[1] and "contact,work" in table[1]
    assert len(table) == 5 and ok(list_text).count("Sarah visited city") == 3
    assert "memories 1-4 of 4" in list_text.stderr
    assert as_json(show) == added
    hits = as_json(search)
    assert [h["memory"]["memory_id"] for h in hits] == [mid]  # Bob's "phone" is another user's
    assert hits[0]["matched_terms"] == ["email"] and hits[0]["score"] == 0.5
    assert as_json(topics) == ["contact", "travel", "work"]
    stats = {s["user_id"]: s for s in as_json(stats_all)}
    assert stats["u1"]["total_memories"] == 4 and stats["u2"]["total_memories"] == 1
    assert stats["u1"]["last_memory_updated_at"] == added["updated_at"]
    assert [line.split()[:2] for line in ok(stats_u2).splitlines()] == [["USER", "MEMORIES"], ["u2", "1"]]

    updated, deleted, refused = cli_many(
        Call([*o, "update", mid, "--user", "u1", "Sarah prefers email over phone", "-t", "contact"]),
        Call([*o, "--json", "delete", old[0].memory_id, "--user", "u1"]),
        Call([*o, "clear", "--user", "u1", "--agent", "bot"]),  # no --yes and stdin is not a terminal
    )
    after = store.get(mid, user_id="u1")
    assert after is not None
    assert (after.memory, after.topics) == ("Sarah prefers email over phone", ["contact"])
    assert (after.created_at, after.input, after.agent_id) == (added["created_at"], "please email me", "bot")
    assert f"memory:      {after.memory}\n" in ok(updated) and f"memory_id:   {mid}\n" in ok(updated)
    assert as_json(deleted) == {"deleted": 1, "memory_id": old[0].memory_id}
    assert store.get(old[0].memory_id, user_id="u1") is None
    assert "refusing to delete 1 memories of user 'u1', agent 'bot' without --yes" in error_line(refused, 1)
    assert store.list_memories(user_id="u1", agent_id="bot").total == 1

    cleared = as_json(cli(*o, "--json", "clear", "--user", "u1", "--yes"))
    assert cleared == {"deleted": 3, "user_id": "u1", "agent_id": None, "team_id": None}
    assert store.list_memories(user_id="u1").total == 0
    assert store.get(bob.memory_id, user_id="u2") == bob  # clear touched one user only


def test_unknown_id_and_other_users_id_look_the_same(target: Target) -> None:
    store = target.store()
    mine = store.add("Sarah prefers email", user_id="u1")
    unknown = "00000000-0000-4000-8000-000000000000"
    o = target.opts()
    show_unknown, show_foreign, update_foreign, delete_unknown, delete_foreign = cli_many(
        Call([*o, "show", unknown, "--user", "u2"]),
        Call([*o, "show", mine.memory_id, "--user", "u2"]),
        Call([*o, "update", mine.memory_id, "--user", "u2", "Hijacked"]),
        Call([*o, "--json", "delete", unknown, "--user", "u2"]),
        Call([*o, "--json", "delete", mine.memory_id, "--user", "u2"]),
    )
    expected = f"no memory with id {unknown!r} for user 'u2'"
    assert error_line(show_unknown, 1) == expected
    assert error_line(delete_unknown, 1) == expected
    for foreign in (show_foreign, update_foreign, delete_foreign):
        assert error_line(foreign, 1).replace(mine.memory_id, unknown) == expected
    assert store.get(mine.memory_id, user_id="u1") == mine


def test_export_import_round_trip_into_custom_collection(target: Target, tmp_path: Path) -> None:
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

    exp_all, exp_u2 = cli_many(
        Call([*o, "export", str(everything)]),
        Call([*o, "--json", "export", str(only_u2), "--user", "u2"]),
    )
    assert "exported 523 memories of 3 users" in ok(exp_all) + exp_all.stderr
    assert as_json(exp_u2) == {"exported": 2, "users": 1, "path": str(only_u2)}
    lines = [json.loads(line) for line in everything.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 523 and len({d["memory_id"] for d in lines}) == 523
    assert all(list(d) == list(MEMORY_FIELDS) for d in lines)
    assert sorted(d["memory_id"] for d in map(json.loads, only_u2.read_text().splitlines())) == sorted(
        m.memory_id for m in full
    )

    custom = target.opts(collection="imported_memories")
    summary = as_json(cli(*custom, "--json", "import", str(everything), "--batch-size", "200"))
    assert summary == {"memories": 523, "users": 3, "kept_existing": 0, "path": str(everything)}
    copy = target.store("imported_memories")
    for user in ("u1", "u2", "u3"):
        original = source.list_memories(user_id=user).items
        assert copy.list_memories(user_id=user).items == original  # field for field, same order
    assert source.list_memories(user_id="u1").total == 520  # the default collection is untouched

    # A rerun writes nothing twice and keeps what changed in the store meanwhile.
    changed = copy.update(many[0].memory_id, user_id="u1", memory="Fact number zero, corrected")
    rerun = as_json(cli(*custom, "--json", "import", str(everything)))
    assert rerun["memories"] == 523 and rerun["kept_existing"] == 1
    assert sum(s.total_memories for s in copy.user_stats()[0]) == 523
    assert copy.get(many[0].memory_id, user_id="u1") == changed


def _line(**fields: Any) -> str:
    return json.dumps(fields)


def test_import_stops_at_a_bad_line_and_a_fixed_rerun_is_safe(target: Target, tmp_path: Path) -> None:
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


def test_import_refuses_another_users_memory_id(target: Target, tmp_path: Path) -> None:
    store = target.store()
    taken = store.add("Sarah prefers email", user_id="u1")
    path = tmp_path / "steal.jsonl"
    stolen = {**taken.to_document(), "user_id": "u2", "memory": "Stolen"}
    path.write_text(_line(**seeded("u2", "Own fact", 5).to_document()) + "\n" + json.dumps(stolen) + "\n")
    message = error_line(cli(*target.opts(), "import", str(path), "--user", "u2"), 1)
    assert message.startswith(f"{path}: line 2: ") and taken.memory_id in message
    assert store.get(taken.memory_id, user_id="u1") == taken
    assert store.get(taken.memory_id, user_id="u2") is None


def test_unreachable_mongodb_fails_fast_with_one_line() -> None:
    message = error_line(
        cli("--db", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "list", "-u", "u1"), 3
    )
    assert "127.0.0.1:1" in message and "Topology" not in message


def test_errors_are_one_line_with_distinct_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a sqlite database" * 100)
    (
        blank, too_long, missing_file, no_user, bad_db, nothing, bad_table, bad_limit,
    ) = cli_many(
        Call(["--db", db, "add", "--user", "u1", "   "]),
        Call(["--db", db, "add", "--user", "u1", "x" * 2_001]),
        Call(["--db", db, "import", str(tmp_path / "missing.jsonl")]),
        Call(["--db", db, "list"]),
        Call(["--db", str(garbage), "list", "--user", "u1"]),
        Call(["--db", db, "update", "some-id", "--user", "u1"]),
        Call(["--db", db, "--collection", "bad name;", "list", "--user", "u1"]),
        Call(["--db", db, "list", "--user", "u1", "--limit", "-3"]),
    )  # fmt: skip
    assert "memory text is empty" in error_line(blank, 1)
    assert "2001 characters" in error_line(too_long, 1)
    assert "missing.jsonl" in error_line(missing_file, 1) and "No such file" in missing_file.stderr
    assert no_user.returncode == 2 and "--user" in no_user.stderr
    assert "garbage.db" in error_line(bad_db, 3)
    assert "nothing to update" in error_line(nothing, 1)
    assert "bad name;" in error_line(bad_table, 1)
    assert bad_limit.returncode == 2 and "-3" in bad_limit.stderr
    assert SQLiteMemoryStore(db).list_memories(user_id="u1").total == 0


def test_db_from_environment_and_text_output(tmp_path: Path) -> None:
    env = {"LANGMEM_AGNO_DB": str(tmp_path / "env.db")}
    added = cli("add", "--user", "u1", "Sarah prefers email", env=env)
    memory_id = ok(added).strip()
    assert f"added memory {memory_id}" in added.stderr
    listed, exported, default_db = cli_many(
        Call(["--json", "list", "--user", "u1"], env=env),
        Call(["export", "-", "--user", "u1"], env=env),
        Call(["--json", "list", "--user", "u1"]),  # no --db, no env: ./agno.db in the working directory
        cwd=tmp_path,
    )
    assert [m["memory_id"] for m in as_json(listed)] == [memory_id]
    assert [json.loads(line)["memory_id"] for line in ok(exported).splitlines()] == [memory_id]
    assert as_json(default_db) == [] and (tmp_path / "agno.db").exists()


def test_demo_subcommand_runs_the_demo(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    scripted, bad_model, on_mongo, help_text = cli_many(
        Call(["--db", str(db), "demo"]),
        Call(["demo", "--model", "no-such-provider:model-x"]),
        Call(["--db", "mongodb://127.0.0.1:1", "demo"]),
        Call(["demo", "--help"]),
    )
    assert "SCRIPTED model" in ok(scripted)
    assert SQLiteMemoryStore(db).list_memories(user_id="sarah").total > 0  # --db reached the demo
    assert bad_model.returncode == 1 and "cannot use model 'no-such-provider:model-x'" in bad_model.stdout
    assert "give --db a file path" in error_line(on_mongo, 1)
    assert "--model" in ok(help_text)


def _run_with_terminal_stderr(args: Sequence[str]) -> tuple[str, str]:
    """Run the CLI with stderr on a pseudo-terminal (where the progress bar shows); return (stdout, tty)."""
    import fcntl
    import pty
    import struct
    import termios

    main_fd, child_fd = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide, where tqdm draws an empty bar.
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=child_fd, env=_env(None))
    os.close(child_fd)
    seen = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_fd)
    stdout = proc.communicate(timeout=TIMEOUT_S)[0]
    assert proc.returncode == 0, seen
    return stdout.decode(), seen.decode("utf-8", "replace")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a Linux pseudo-terminal")
def test_import_shows_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps(seeded(f"u{i % 3}", f"Fact {i}", i + 1).to_document()) + "\n" for i in range(300))
    )
    db = str(tmp_path / "p.db")
    (plain_out, plain_tty), (json_out, json_tty) = (
        _run_with_terminal_stderr(["--db", db, "import", str(path)]),
        _run_with_terminal_stderr(["--db", db, "--json", "import", str(path)]),
    )
    assert "checking: 100%" in plain_tty and "importing: 100%" in plain_tty
    assert plain_out == f"imported 300 memories of 3 users from {path}\n"
    assert "%" not in json_tty and json.loads(json_out)["memories"] == 300


def test_table_shortens_only_the_text_column() -> None:
    long_text = "Sarah prefers email " * 20
    lines = render_table(["ID", "MEMORY"], [["abc", long_text], ["d", "short\nline"]], width=60)
    assert lines[0].split() == ["ID", "MEMORY"]
    assert lines[1].startswith("abc  Sarah prefers email") and lines[1].endswith("…")
    assert max(len(line) for line in lines) < 60
    assert lines[2] == "d    short line"
