"""Smoke tests of ``langmem-agno`` as a real process: what an in-process call cannot show.

The installed entry point and ``python -m``, exit codes as the shell sees them,
Ctrl-C, a reader closing the pipe, and the progress bar on a real terminal. Each
process costs a Python start-up (most of a second), so these are few and marked
``slow``; the behaviour of the commands is tested in process in ``test_cli.py``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from langmem_agno import SQLiteMemoryStore, UserMemory

_SCRIPT = Path(sys.executable).with_name("langmem-agno")
# The installed console script is what users run; fall back to the module when
# the package was put on the path without its scripts.
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "langmem_agno.cli"]
MODULE = [sys.executable, "-m", "langmem_agno.cli"]
TIMEOUT_S = 120
ERROR_PREFIX = "langmem-agno: error: "

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LANGMEM_AGNO_DB"}
    env["COLUMNS"] = "100"
    return env


def cli_many(*calls: Sequence[str], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start every command line at once (each a full argv), then wait for all of them."""
    procs = [
        subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=_env(),
            cwd=cwd,
        )
        for argv in calls
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT_S)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Assert a failure reported as exactly one stderr line with ``code``; return the message."""
    assert result.returncode == code, f"{result.args}: exit {result.returncode}: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), result.stderr
    assert result.stdout == ""
    return lines[0][len(ERROR_PREFIX) :]


def seeded(user: str, text: str, at: int) -> UserMemory:
    return UserMemory(memory=text, user_id=user, created_at=at, updated_at=at)


def test_entry_point_and_module_run_the_cli_with_its_exit_codes(tmp_path: Path) -> None:
    db = str(tmp_path / "smoke.db")
    (added,) = cli_many(
        [*CLI, "--db", db, "--json", "add", "--user", "u1", "Sarah prefers email"], cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    memory_id = json.loads(added.stdout)["memory_id"]
    listed, as_module, unknown, usage, unreachable = cli_many(
        [*CLI, "--db", db, "--json", "list", "--user", "u1"],
        [*MODULE, "--db", db, "list", "--user", "u1"],
        [*CLI, "--db", db, "show", "no-such-id", "--user", "u1"],
        [*CLI, "--db", db, "list"],
        [*CLI, "--db", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "stats"],
        cwd=tmp_path,
    )
    assert listed.returncode == 0 and [m["memory_id"] for m in json.loads(listed.stdout)] == [memory_id]
    assert as_module.returncode == 0, as_module.stderr
    assert memory_id in as_module.stdout and "Sarah prefers email" in as_module.stdout
    assert error_line(unknown, 1) == "no memory with id 'no-such-id' for user 'u1'"
    assert usage.returncode == 2 and "--user" in usage.stderr and "Traceback" not in usage.stderr
    assert "127.0.0.1:1" in error_line(unreachable, 3)


def _wait_for_reader(fifo: Path, proc: subprocess.Popen[str]) -> int:
    """Open ``fifo`` for writing once ``proc`` has opened it for reading; return the descriptor."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"the import never opened {fifo}")


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler; a user at a terminal has the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX signals and named pipes")
def test_ctrl_c_stops_an_import_with_exit_130_and_nothing_written(tmp_path: Path) -> None:
    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    db = tmp_path / "i.db"
    proc = subprocess.Popen(
        [*CLI, "--db", str(db), "import", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=_default_sigint,
    )
    writer = _wait_for_reader(fifo, proc)
    try:
        # One whole line and the start of the next: the import is now waiting for the rest.
        os.write(writer, (json.dumps(seeded("u1", "Sarah prefers email", 5).to_document()) + "\n{").encode())
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        os.close(writer)
    assert (proc.returncode, out, err) == (130, "", f"{ERROR_PREFIX}interrupted\n")
    store = SQLiteMemoryStore(db)
    assert store.user_stats()[1] == 0  # still checking the file: nothing was written
    store.close()


def test_a_reader_closing_the_pipe_ends_the_export_quietly(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    store = SQLiteMemoryStore(db)
    # Well over a pipe's buffer (64 KiB), so the export is still writing when the reader goes.
    store.add_many([seeded("u1", f"Fact number {i} " + "x" * 100, i + 1) for i in range(2_000)], user_id="u1")
    store.close()
    proc = subprocess.Popen(
        [*CLI, "--db", str(db), "export", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["user_id"] == "u1"
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=TIMEOUT_S) == 1
    assert err == ""  # no traceback, no "Exception ignored" at exit


def _run_with_terminal_stderr(args: Sequence[str]) -> tuple[str, str]:
    """Run the CLI with stderr on a pseudo-terminal (where the progress bar shows); return (stdout, tty)."""
    import fcntl
    import pty
    import struct
    import termios

    main_fd, child_fd = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide, where tqdm draws an empty bar.
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=child_fd, env=_env())
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
    plain_out, plain_tty = _run_with_terminal_stderr(["--db", db, "import", str(path)])
    json_out, json_tty = _run_with_terminal_stderr(["--db", db, "--json", "import", str(path)])
    assert "checking: 100%" in plain_tty and "importing: 100%" in plain_tty
    assert "300/300" in plain_tty and "mem/s" in plain_tty  # the import bar counts memories
    assert plain_out == f"imported 300 memories of 3 users from {path}: 300 new, 0 already there\n"
    assert "%" not in json_tty and json.loads(json_out)["existing"] == 300
