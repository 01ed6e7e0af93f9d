"""Import is all-or-nothing: every line passes the store's own checks before anything is written.

A secret (in the text, ``input`` or ``feedback``), an id out of limits or too many topics on a late
line used to leave the earlier 500-line batches written and name a range; now the file is refused
whole and each refused line is named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import POSTGRES
from langmem_agno import MemoryStore
from langmem_agno.cli import BadFileError, import_memories, main

BAD_LINES = {
    700: {"memory": "User's pw: s3cr3tP@ss"},
    900: {"memory": "User likes tea", "input": "my password is Blue!Fish42"},
    1000: {"memory": "User likes tea", "feedback": "card 4111 1111 1111 1111"},
    1100: {"memory": "User likes tea", "agent_id": ""},
    1150: {"memory": "User likes tea", "topics": [f"t{i}" for i in range(25)]},
}


def _write(path: Path, lines: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(1, lines + 1):
            doc: dict[str, Any] = {
                "memory_id": f"m{number}",
                "user_id": "u1",
                "memory": f"User fact {number}",
            }
            doc.update(BAD_LINES.get(number, {}))
            handle.write(json.dumps(doc) + "\n")


@pytest.mark.parametrize("backend", ["sqlite-file", "mongo", *POSTGRES])
def test_a_late_bad_line_writes_nothing_and_each_is_named(
    store_factory: Any, backend: str, tmp_path: Path
) -> None:
    store: MemoryStore = store_factory(backend)
    path = tmp_path / "in.jsonl"
    _write(path, 1200)
    with pytest.raises(BadFileError) as info:
        import_memories(store, path, batch_size=100)
    assert sorted(p.line for p in info.value.problems) == sorted(BAD_LINES)
    report = "\n".join(info.value.report())
    assert "s3cr3tP@ss" not in report and "Blue!Fish42" not in report
    assert "input looks like it holds a secret" in report and "feedback looks like" in report
    assert store.list_memories(user_id="u1").total == 0


def test_cli_import_names_each_refused_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    _write(path, 1200)
    db = str(tmp_path / "a.db")
    assert main(["--db", db, "import", str(path)]) == 1
    err = capsys.readouterr().err
    for line in BAD_LINES:
        assert f"line {line}:" in err
    assert "nothing was imported" in err
    assert main(["--db", db, "stats"]) == 0
    assert "no memories" in capsys.readouterr().err
