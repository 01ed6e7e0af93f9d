"""What the command line writes: exit codes, its one error type, tables, JSON and the wording helpers."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from langmem_agno.errors import LangmemAgnoError
from langmem_agno.record import UserMemory

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130
_MIN_TEXT_WIDTH = 24
_MAX_ERROR_CHARS = 400


class CliError(LangmemAgnoError):
    """A failure the command line reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code

    def report(self) -> list[str]:
        """The error lines to print; one, unless the failure has several parts."""
        return [str(self)]


def count_of(count: int, one: str, many: str) -> str:
    """``count`` and the noun that agrees with it: ``1 memory``, ``2 memories``, ``0 memories``."""
    return f"{count} {one if count == 1 else many}"


def memories_text(count: int) -> str:
    """``1 memory``, ``2 memories``."""
    return count_of(count, "memory", "memories")


def users_text(count: int) -> str:
    """``1 user``, ``2 users``."""
    return count_of(count, "user", "users")


class Output:
    """Where a command's results go: a text table or JSON on stdout, notes on stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    @property
    def progress(self) -> bool:
        """Whether to draw progress bars: only on a terminal's stderr, and never with ``--json``."""
        return not self.as_json and sys.stderr.isatty()

    def write(self, text: str = "") -> None:
        """Write one line (or several joined by newlines) to stdout."""
        sys.stdout.write(text + "\n")

    def note(self, text: str) -> None:
        """Write a human-oriented remark to stderr, so stdout stays parseable."""
        sys.stderr.write(text + "\n")

    def json(self, value: Any) -> None:
        """Write ``value`` as indented JSON, keys in the order given."""
        self.write(json.dumps(value, ensure_ascii=False, indent=2))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Write an aligned table; the last column is shortened to fit the terminal."""
        for line in render_table(headers, rows, width=shutil.get_terminal_size((120, 24)).columns):
            self.write(line)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int) -> list[str]:
    """Lay out ``rows`` in columns two spaces apart, shortening the last column to ``width``.

    Args:
        headers: Column titles.
        rows: Cell texts; whitespace runs (newlines included) become one space.
        width: The line width to fit; the last column never shrinks below a readable minimum.

    Returns:
        The lines, header first.
    """
    cells = [[" ".join(c.split()) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    fixed = sum(widths[:-1]) + 2 * (len(headers) - 1)
    widths[-1] = min(widths[-1], max(_MIN_TEXT_WIDTH, width - fixed - 1))
    lines = []
    for row in cells:
        fitted = [_shorten(c, widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(fitted)).rstrip())
    return lines


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def utc_time(epoch_s: int | None) -> str:
    """``2026-12-01 23:05`` (UTC) for a time in seconds since the epoch, ``-`` for none."""
    if epoch_s is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch_s))


def memory_dict(memory: UserMemory) -> dict[str, Any]:
    """The JSON form of a memory: Agno's ten fields, in Agno's column order."""
    return memory.to_document()


def memory_rows(memories: Sequence[UserMemory]) -> tuple[list[str], list[list[str]]]:
    """The table headers and rows of a listing of memories, the memory text last."""
    # Agent and team columns appear only when some memory has one, so the
    # common single-agent listing keeps its width for the text.
    show_agent = any(m.agent_id for m in memories)
    show_team = any(m.team_id for m in memories)
    headers = ["ID", "UPDATED (UTC)", *(["AGENT"] if show_agent else []), *(["TEAM"] if show_team else [])]
    headers += ["TOPICS", "MEMORY"]
    rows = []
    for m in memories:
        row = [m.memory_id, utc_time(m.updated_at)]
        row += [m.agent_id or "-"] if show_agent else []
        row += [m.team_id or "-"] if show_team else []
        rows.append([*row, ",".join(m.topics or []) or "-", m.memory])
    return headers, rows


def one_line(message: str) -> str:
    """An error message squeezed onto one line of readable length."""
    # PyMongo's server-selection errors append a multi-line topology dump:
    # useful with -v, noise in a one-line error.
    head = message.split(", Topology Description:")[0]
    head = " ".join(head.split())
    return _shorten(head, _MAX_ERROR_CHARS)


def file_error(action: str, path: str, exc: OSError) -> CliError:
    """The error for a file that cannot be read or written: ``cannot read PATH: Permission denied``."""
    return CliError(f"cannot {action} {path}: {exc.strerror or exc}")
