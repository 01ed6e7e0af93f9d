"""The notebooks run top to bottom on a fresh machine: no API key, no database server.

``tox -e notebooks`` runs this module in an environment built from the ``notebooks``
extra alone (plus pytest), so a package the notebooks need but the extra does not
list fails here; other environments do not collect it (see ``conftest.py``).

Each notebook is executed by nbclient in a kernel that runs this interpreter
(so under tox, the tox environment's Python), in an empty working directory,
with ``LANGMEM_AGNO_MODEL`` unset so the scripted model is used. A cell error
fails the test; the checks after it make sure the notebook showed what it is
there to show.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = [
    "01_automatic_memory",
    "02_agentic_memory",
    "03_mongodb_multi_user",
    "04_recall_budget",
]
CELL_TIMEOUT_S = 120
pytestmark = [pytest.mark.slow, pytest.mark.notebooks]


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernel spec that runs this very interpreter, found before any other, and a clean cwd."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("LANGMEM_AGNO_MODEL", raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return workdir


def run(name: str, workdir: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts: list[str] = []
    for out in outputs(notebook):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        data = out.get("data", {})
        parts.append(data.get("text/markdown") or data.get("text/plain") or "")
    return "\n".join(parts)


def test_the_kernel_runs_this_interpreter(kernel_env: Path, tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")]
    )
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    assert Path(text_of(notebook).strip()).resolve() == Path(sys.executable).resolve()


@pytest.mark.parametrize("name", NAMES)
def test_committed_outputs_come_from_one_clean_run(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert not [out for out in outputs(notebook) if out.get("output_type") == "error"]
    assert "SCRIPTED model" in text_of(notebook)


def test_01_automatic_memory(kernel_env: Path) -> None:
    text = text_of(run("01_automatic_memory", kernel_env))
    assert "using a SCRIPTED model" in text
    assert "3 memories for sarah" in text
    assert "| User prefers email over phone calls | contact |" in text
    # Session 2 starts from an empty thread, so these answers come from the stored memories.
    assert "assistant: From what I remember: User prefers email over phone calls." in text
    assert "assistant: From what I remember: User is vegetarian." in text
    assert "<memories_from_previous_interactions>" in text


def test_02_agentic_memory(kernel_env: Path) -> None:
    text = text_of(run("02_agentic_memory", kernel_env))
    for tool in ("add_memory(", "search_memories(", "update_memory(", "delete_memory("):
        assert f"→ {tool}" in text
    final_table = text.rsplit("| memory | topics | memory_id |", 1)[1]
    assert "User lives in Porto now" in final_table
    assert "Lisbon" not in final_table
    assert "cat" not in final_table
    assert "assistant: From my memory: User lives in Porto now." in text
    assert "tom's memories: 0" in text


def test_03_mongodb_multi_user(kernel_env: Path) -> None:
    text = text_of(run("03_mongodb_multi_user", kernel_env))
    assert "SecantusDB" in text or "MONGODB_URI" in text
    assert "booker: From my memory: User is allergic to peanuts." in text
    assert "| User is allergic to peanuts | food | planner | trip-team |" in text
    assert "| User prefers aisle seats on trains | travel | booker | trip-team |" in text
    by_agno = text.split("written by Agno, read by langmem-agno:", 1)[1]
    assert "| Bob is vegetarian | food | agno-agent |" in by_agno
    read_by_agno = text.split("written by langmem-agno, read by Agno:", 1)[1]
    assert "| User is allergic to peanuts | food | planner | trip-team |" in read_by_agno
    assert "3 users" in text
    assert "topics of bob: ['contact', 'food', 'work']" in text


def test_04_recall_budget(kernel_env: Path) -> None:
    notebook = run("04_recall_budget", kernel_env)
    text = text_of(notebook)
    assert "top-1 correct: BM25 0/8, embeddings 8/8" in text
    assert "| 10,000 |" in text
    assert any("image/png" in out.get("data", {}) for out in outputs(notebook))
    assert (kernel_env / "prompt_size.png").stat().st_size > 0
    assert "assistant: From what I remember: Sarah prefers email over phone calls." in text
