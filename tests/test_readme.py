"""Every code block of README.md runs, and prints what the README says it prints.

``python`` blocks: each runs in a fresh namespace (a reader copies one quickstart at a
time, so each block carries its own imports and store), in README order and in one
working directory, as a reader who runs them one after the other would.
``MONGODB_URI`` is set to the test suite's server (``mongo_uri``: SecantusDB in process,
or the real ``$MONGODB_URI``), which the MongoDB blocks read (on a real server they write
user ``readme-sarah`` in Agno's database ``agno`` and clear that user at the end). A line
``# -> text`` after a statement promises that ``text`` appears in the block's output; the
promises are checked in order.

``bash`` blocks: every line is either a ``langmem-agno`` command, run for real
(all commands of the README in one subprocess through :func:`langmem_agno.cli.main`,
since a Python start-up with LangChain imports costs seconds each), or one of the
lines in :data:`NOT_RUN`, which install software, start a server or run the suite
itself; those are asserted to appear verbatim. Any other line fails the test, so
nothing in the README goes unchecked.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

from wordnet_data import nltk_data

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PROMISE = re.compile(r"^\s*# -> (.*)$")
OPENING_COMMANDS = ["pip install -e . && langmem-agno demo", 'pip install "tox==4.32.0" && tox']
#: Lines of bash blocks that are shown but not run here, and why.
NOT_RUN = {
    # the fresh-machine commands: `tox` is this very suite; the demo runs in tests/test_demo.py
    *OPENING_COMMANDS,
    "docker run -p 27017:27017 mongo:8",  # starts a server; the suite's own server stands in for it
    "tox",
    "tox -e embeddings",
    "MONGODB_URI=mongodb://localhost:27017 tox",
    "tox -e lock",  # rewrites constraints.txt: run on purpose, never by the suite
    "python benchmarks/bench_extraction.py",  # benchmarks print timings, not test results
    "python benchmarks/bench_recall.py",
    "python benchmarks/bench_storage.py",
    ".tox/embeddings/bin/python benchmarks/recall_eval.py",
    # needs the public LoCoMo data, which is not shipped; tests/test_locomo_set.py runs the script
    "python benchmarks/make_locomo_set.py --data PATH/locomo10.zip --out /tmp/locomo_set.json"
    "  # the public LoCoMo data, not shipped",
    ".tox/embeddings/bin/python benchmarks/recall_eval.py --set /tmp/locomo_set.json --no-latency",
    # installs software; the suite lays Debian's WordNet out as NLTK data instead (tests/wordnet_data.py)
    'pip install "langmem-agno[wordnet]" && python -m nltk.downloader wordnet',
}
# Runs CLI commands in one interpreter: argv lists in, per-command exit code and output out.
_CLI_RUNNER = """
import contextlib, io, json, sys
from langmem_agno.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append({"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
json.dump(results, sys.__stdout__)
"""


def blocks(language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(README.read_text(encoding="utf-8")) if lang == language]


def promises(code: str) -> list[str]:
    return [m.group(1) for line in code.splitlines() if (m := _PROMISE.match(line))]


def assert_printed_in_order(output: str, expected: list[str], where: str) -> None:
    position = 0
    for text in expected:
        found = output.find(text, position)
        assert found >= 0, f"{where}: expected {text!r} in the output after position {position}:\n{output}"
        position = found + len(text)


PYTHON_BLOCKS = blocks("python")
BASH_BLOCKS = blocks("bash")


def test_readme_has_the_blocks_this_test_expects() -> None:
    # Guards the parametrisation below: a broken fence would otherwise drop blocks silently.
    assert len(PYTHON_BLOCKS) >= 6
    assert README.read_text(encoding="utf-8").count("```python") == len(PYTHON_BLOCKS)
    assert README.read_text(encoding="utf-8").count("```bash") == len(BASH_BLOCKS)


def test_opening_block_is_the_two_fresh_machine_commands() -> None:
    assert BASH_BLOCKS[0].splitlines() == OPENING_COMMANDS


@pytest.fixture(scope="module")
def readme_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every block: a reader runs them one after the other in the same place."""
    return tmp_path_factory.mktemp("readme")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_block_runs_and_prints_what_it_promises(
    index: int,
    readme_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    code = PYTHON_BLOCKS[index]
    if "MONGODB_URI" in code:
        monkeypatch.setenv("MONGODB_URI", request.getfixturevalue("mongo_uri"))
    if "WordNetThesaurus()" in code:
        # What `python -m nltk.downloader wordnet` would leave on NLTK's search path.
        import nltk

        root = nltk_data(request.getfixturevalue("tmp_path_factory"))
        monkeypatch.setattr(nltk.data, "path", [str(root), *nltk.data.path])
    # Blocks run in README order in one folder, so a block that picks up what an
    # earlier one left behind (a database file of the same name) fails here.
    monkeypatch.chdir(readme_folder)
    # A real module, as when the block is saved to a file and run: dataclasses and
    # pydantic look their class's module up in sys.modules.
    module = types.ModuleType(f"readme_block_{index}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    # dont_inherit: this file's `from __future__ import annotations` must not leak into the block.
    exec(compile(code, f"README.md python block {index}", "exec", dont_inherit=True), module.__dict__)
    assert_printed_in_order(capsys.readouterr().out, promises(code), f"python block {index}")


def _cli_commands() -> list[tuple[list[str], list[str]]]:
    """Each ``langmem-agno`` line of the bash blocks, with the ``# ->`` promises after it."""
    commands: list[tuple[list[str], list[str]]] = []
    for block in BASH_BLOCKS:
        for line in block.splitlines():
            if (m := _PROMISE.match(line)) is not None:
                assert commands, f"a promise before any command: {line!r}"
                commands[-1][1].append(m.group(1))
            elif line.startswith("langmem-agno "):
                commands.append((shlex.split(line)[1:], []))
            else:
                assert line in NOT_RUN, f"a bash line this test neither runs nor knows: {line!r}"
    return commands


def test_every_bash_line_is_run_or_known() -> None:
    shown = {line for block in BASH_BLOCKS for line in block.splitlines()}
    assert shown >= NOT_RUN, f"lines no longer in the README: {NOT_RUN - shown}"
    assert len(_cli_commands()) >= 5


@pytest.mark.slow
def test_cli_examples_run_and_print_what_they_promise(tmp_path: Path) -> None:
    commands = _cli_commands()
    done = subprocess.run(
        [sys.executable, "-c", _CLI_RUNNER, json.dumps([argv for argv, _ in commands])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results = json.loads(done.stdout)
    assert len(results) == len(commands)
    for result, (argv, expected) in zip(results, commands, strict=True):
        where = "langmem-agno " + shlex.join(argv)
        assert result["code"] == 0, f"{where} exited {result['code']}: {result['stderr']}"
        assert_printed_in_order(result["stdout"], expected, where)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    install, run = OPENING_COMMANDS[1].split(" && ")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    quiet_install = f"python3 -m {install}".replace("pip install", "pip install --quiet")
    assert ci[-2:] == [quiet_install, f"python3 -m {run}"]
