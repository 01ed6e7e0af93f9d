from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from langmem_agno import SQLiteMemoryStore
from langmem_agno.demo import main


def test_demo_recalls_in_session_two_what_session_one_learned(tmp_path: Path) -> None:
    out = io.StringIO()
    db = tmp_path / "demo.db"
    assert main(db=str(db), out=out) == 0
    text = out.getvalue()
    assert "SCRIPTED model" in text
    session_2 = text.split("=== Session 2", 1)[1]
    assert "assistant: From what I remember: User prefers email over phone calls" in session_2
    assert "assistant: From what I remember: User is vegetarian" in session_2
    # The memories were really extracted into the SQLite file, not kept in the graph.
    stored = {m.memory for m in SQLiteMemoryStore(db).list_memories(user_id="sarah")}
    assert stored == {"User's name is Sarah", "User prefers email over phone calls", "User is vegetarian"}


def test_demo_with_a_database_prints_where_the_memories_are_kept(tmp_path: Path) -> None:
    out = io.StringIO()
    db = tmp_path / "my memories.db"
    assert main(db=str(db), out=out) == 0
    text = out.getvalue()
    assert f"Memories are stored in {db} (table agno_memories, Agno's layout)." in text
    assert text.endswith(
        f"The memories are kept in {db}; list them with:\n  langmem-agno --db '{db}' list --user sarah\n"
    )
    assert db.exists()  # the path printed is still there afterwards
    assert SQLiteMemoryStore(db).list_memories(user_id="sarah").total == 3


def test_demo_without_a_database_says_it_was_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(out=out) == 0
    text = out.getvalue()
    assert "Memories are stored in a temporary SQLite file" in text
    assert "deleted when the demo ends; give --db FILE to keep them." in text
    assert text.endswith("The temporary database was deleted; give --db FILE to keep the memories.\n")
    # No path is printed that is gone once the demo ends, and nothing is left here.
    assert tempfile.gettempdir() not in text and ".db" not in text
    assert list(tmp_path.iterdir()) == []


def test_demo_reports_an_unusable_model() -> None:
    out = io.StringIO()
    assert main("no-such-provider:model-x", out=out) == 1
    assert "cannot use model 'no-such-provider:model-x'" in out.getvalue()


@pytest.mark.slow
def test_python_dash_m_runs_the_demo() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "langmem_agno"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "SCRIPTED model" in done.stdout
    assert "User is vegetarian" in done.stdout.split("=== Session 2", 1)[1]
    assert "The temporary database was deleted" in done.stdout
