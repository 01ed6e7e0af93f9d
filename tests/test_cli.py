"""The ``langmem-agno`` command line, run in process through :func:`langmem_agno.cli.main`.

A call costs milliseconds here instead of a Python start-up; what only a real
process shows (the installed entry point, signals, a terminal) is in
``test_cli_processes.py``. Every test runs in its own working directory, without
``LANGMEM_AGNO_DB`` and with a 100-column "terminal", so calls do not leak into
each other.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_support import (
    ERROR_PREFIX,
    Cli,
    Target,
    Terminal,
    as_json,
    error_line,
    ok,
    seeded,
)
from langmem_agno import LangmemAgnoError, SQLiteMemoryStore, UserMemory
from langmem_agno.cli import render_table
from langmem_agno.record import MEMORY_FIELDS

# Each test in its own working directory, without LANGMEM_AGNO_DB, on a 100-column "terminal".
pytestmark = pytest.mark.usefixtures("cli_isolated")


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
        ["history", "some-id", "--user", "u1"],
        ["failed"],
        ["optimize", "--user", "u1", "--preview"],
        ["prune", "--user", "u1", "--keep", "3"],
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
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    kept = cli(*o, "clear", "--user", "u1")
    assert kept.stderr.startswith("Delete 2 memories of user 'u1'? [y/N] ")
    assert kept.returncode == 1 and kept.stderr.endswith(f"{ERROR_PREFIX}cancelled; nothing deleted\n")
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
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


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--user", "u1", "--offset", str(10**20)],
        ["list", "--user", "u1", "--limit", str(10**20)],
        ["list", "--user", "u1", "--page", str(10**20)],
        ["search", "--user", "u1", "email", "--limit", str(10**20)],
    ],
)
def test_a_number_too_large_to_store_is_a_usage_error(cli: Cli, tmp_path: Path, command: list[str]) -> None:
    result = cli("--db", str(tmp_path / "m.db"), *command)
    assert result.returncode == 2 and "expected a number <=" in result.stderr
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
