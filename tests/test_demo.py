from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

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


def test_demo_reports_an_unusable_model() -> None:
    out = io.StringIO()
    assert main("no-such-provider:model-x", out=out) == 1
    assert "cannot use model 'no-such-provider:model-x'" in out.getvalue()


def test_python_dash_m_runs_the_demo() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "langmem_agno"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "SCRIPTED model" in done.stdout
    assert "User is vegetarian" in done.stdout.split("=== Session 2", 1)[1]
