"""The ``langmem-agno`` command line: manage stored memories in SQLite or MongoDB.

Every command opens one store (``--db``: a SQLite path, or a ``mongodb://`` /
``mongodb+srv://`` URI), does one job and closes it. Output is a plain-text table
by default and stable JSON with ``--json``. Errors print one line to stderr,
``langmem-agno: error: ...``, and exit with a distinct code:

* ``1``: not found (an unknown id, or another user's id: they look the same) or bad input;
* ``2``: wrong usage, as argparse reports it;
* ``3``: the store is unavailable (unreachable server, unreadable database).

``--json`` output: ``list`` and ``search`` print an array (of memory objects with
Agno's ten fields; of ``{"score", "matched_terms", "memory"}`` hits), ``show``,
``add`` and ``update`` one memory object, ``topics`` an array of strings,
``stats`` an array of ``{"user_id", "total_memories", "last_memory_updated_at"}``,
and ``delete``, ``clear``, ``export`` and ``import`` a summary object (``import``'s:
``{"memories", "users", "new", "existing", "kept_existing", "path"}``, where
``kept_existing`` counts the memories already stored with other content than the file's).

The commands that only read (``list``, ``show``, ``search``, ``topics``, ``stats``,
``export``) refuse a SQLite path where no database exists, rather than create an
empty one there: a mistyped path is an error, not an empty result. The others
create the database.

``import`` reads JSON Lines, one memory document per line with Agno's ten fields
(what ``export`` writes). It checks the whole file before writing anything, so a
bad line stops the import with nothing written, and every bad line is reported
(the first 20, then how many more); the writes are insert-if-absent
by ``memory_id``, so a rerun, after a fix or after a failure half-way through the
writes, never writes a memory twice and leaves memories already stored as they are.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError
from pymongo.errors import PyMongoError
from tqdm import tqdm

from langmem_agno.errors import (
    InvalidMemoryError,
    LangmemAgnoError,
    MemoryNotFoundError,
    StoreUnavailableError,
)
from langmem_agno.record import MEMORY_FIELDS, UserMemory, check_memory_text
from langmem_agno.scope import check_id
from langmem_agno.stores import MemoryStore, MongoMemoryStore, ScoredMemory, SQLiteMemoryStore, UserStats

logger = logging.getLogger(__name__)

PROG = "langmem-agno"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130
#: The store used when neither ``--db`` nor ``LANGMEM_AGNO_DB`` says otherwise.
DEFAULT_DB = "agno.db"
DB_ENV = "LANGMEM_AGNO_DB"
DEFAULT_COLLECTION = "agno_memories"
DEFAULT_DATABASE = "agno"
#: Server selection timeout for MongoDB unless the URI sets one: a command line
#: user waiting on a dead server wants to know in seconds, not the driver's 30.
DEFAULT_MONGO_TIMEOUT_MS = 3_000
DEFAULT_LIST_LIMIT = 50
EXPORT_PAGE_SIZE = 500
DEFAULT_IMPORT_BATCH = 500
_MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")
#: How many bad lines of an import file are reported one by one; the rest are counted.
MAX_REPORTED_BAD_LINES = 20
_MIN_TEXT_WIDTH = 24
_MAX_ERROR_CHARS = 400
#: The commands that only read: on a SQLite path with no database they fail instead of creating one.
READ_ONLY_COMMANDS = frozenset({"list", "show", "search", "topics", "stats", "export"})


class CliError(LangmemAgnoError):
    """A failure the command line reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code

    def report(self) -> list[str]:
        """The error lines to print; one, unless the failure has several parts."""
        return [str(self)]


def _count_of(count: int, one: str, many: str) -> str:
    """``count`` and the noun that agrees with it: ``1 memory``, ``2 memories``, ``0 memories``."""
    return f"{count} {one if count == 1 else many}"


def _memories(count: int) -> str:
    return _count_of(count, "memory", "memories")


def _users(count: int) -> str:
    return _count_of(count, "user", "users")


# ------------------------------------------------------------------ output
class Output:
    """Where a command's results go: a text table or JSON on stdout, notes on stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

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


def _when(epoch_s: int | None) -> str:
    if epoch_s is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch_s))


def memory_dict(memory: UserMemory) -> dict[str, Any]:
    """The JSON form of a memory: Agno's ten fields, in Agno's column order."""
    return memory.to_document()


def _memory_rows(memories: Sequence[UserMemory]) -> tuple[list[str], list[list[str]]]:
    # Agent and team columns appear only when some memory has one, so the
    # common single-agent listing keeps its width for the text.
    show_agent = any(m.agent_id for m in memories)
    show_team = any(m.team_id for m in memories)
    headers = ["ID", "UPDATED (UTC)", *(["AGENT"] if show_agent else []), *(["TEAM"] if show_team else [])]
    headers += ["TOPICS", "MEMORY"]
    rows = []
    for m in memories:
        row = [m.memory_id, _when(m.updated_at)]
        row += [m.agent_id or "-"] if show_agent else []
        row += [m.team_id or "-"] if show_team else []
        rows.append([*row, ",".join(m.topics or []) or "-", m.memory])
    return headers, rows


def _one_line(message: str) -> str:
    # PyMongo's server-selection errors append a multi-line topology dump:
    # useful with -v, noise in a one-line error.
    head = message.split(", Topology Description:")[0]
    head = " ".join(head.split())
    return _shorten(head, _MAX_ERROR_CHARS)


# ------------------------------------------------------------------ store
def redact_uri(uri: str) -> str:
    """Hide the password of a MongoDB URI, for messages."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hosts}").geturl()


def _uri_timeout_ms(uri: str) -> int:
    for key, value in parse_qsl(urlsplit(uri).query):
        if key.lower() == "serverselectiontimeoutms" and value.isdigit():
            return int(value)
    return DEFAULT_MONGO_TIMEOUT_MS


def open_store(db: str, *, collection: str | None = None, database: str = DEFAULT_DATABASE) -> MemoryStore:
    """Open the store ``--db`` names: a MongoDB URI, or else a SQLite file path.

    Args:
        db: ``mongodb://...`` / ``mongodb+srv://...``, or a SQLite path (``:memory:`` works, uselessly).
        collection: The MongoDB collection or SQLite table; ``agno_memories`` by default.
        database: The MongoDB database; ignored for SQLite.

    Returns:
        The store.

    Raises:
        StoreUnavailableError: If the database cannot be opened.
    """
    name = collection or DEFAULT_COLLECTION
    if db.startswith(_MONGO_SCHEMES):
        try:
            return MongoMemoryStore(db, database=database, collection=name, timeout_ms=_uri_timeout_ms(db))
        except PyMongoError as exc:
            raise StoreUnavailableError(f"cannot open MongoDB at {redact_uri(db)}: {exc}") from exc
    try:
        return SQLiteMemoryStore(db, table=name)
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"cannot open SQLite database {db!r}: {exc}") from exc


# ------------------------------------------------------------------ commands
def cmd_list(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """List one user's memories, newest first unless ``--asc``."""
    page = store.list_memories(
        user_id=args.user,
        agent_id=args.agent,
        team_id=args.team,
        topics=args.topic,
        sort="asc" if args.asc else "desc",
        limit=args.limit or None,
        offset=args.offset or 0,
        page=args.page,
    )
    if out.as_json:
        out.json([memory_dict(m) for m in page.items])
        return 0
    if not page.items:
        out.note(
            f"no memories on this page; user {args.user!r} has {_memories(page.total)}"
            if page.total
            else f"no memories for user {args.user!r}"
        )
        return 0
    out.table(*_memory_rows(page.items))
    first, last = page.offset + 1, page.offset + len(page.items)
    out.note(
        f"memory {first} of {page.total}" if first == last else f"memories {first}-{last} of {page.total}"
    )
    return 0


def cmd_show(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Show every field of one memory."""
    memory = store.get(args.memory_id, user_id=args.user)
    if memory is None:
        raise MemoryNotFoundError(args.memory_id, args.user)
    _print_memory(memory, out)
    return 0


def _print_memory(memory: UserMemory, out: Output) -> None:
    if out.as_json:
        out.json(memory_dict(memory))
        return
    doc = memory_dict(memory)
    doc["topics"] = ", ".join(memory.topics) if memory.topics is not None else None
    for key in MEMORY_FIELDS:
        value = doc[key]
        shown = "-" if value is None else str(value)
        if key in ("created_at", "updated_at") and value is not None:
            shown = f"{value} ({_when(value)} UTC)"
        out.write(f"{key + ':':<12} {shown}")


def cmd_add(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Add one memory."""
    memory = store.add(
        args.text,
        user_id=args.user,
        agent_id=args.agent,
        team_id=args.team,
        topics=args.topic,
        input=args.input,
    )
    if out.as_json:
        out.json(memory_dict(memory))
    else:
        out.write(memory.memory_id)
        out.note(f"added memory {memory.memory_id} for user {args.user!r}")
    return 0


def cmd_update(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Change the text, topics, input or feedback of one memory."""
    topics: list[str] | None = [] if args.no_topics else args.topic
    if args.text is None and topics is None and args.input is None and args.feedback is None:
        raise CliError("nothing to update: give the new TEXT, --topic, --no-topics, --input or --feedback")
    memory = store.update(
        args.memory_id,
        user_id=args.user,
        memory=args.text,
        topics=topics,
        input=args.input,
        feedback=args.feedback,
    )
    if out.as_json:
        out.json(memory_dict(memory))
    else:
        out.note(f"updated memory {memory.memory_id}")
        _print_memory(memory, out)
    return 0


def cmd_delete(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Delete one memory."""
    if not store.delete(args.memory_id, user_id=args.user):
        raise MemoryNotFoundError(args.memory_id, args.user)
    if out.as_json:
        out.json({"deleted": 1, "memory_id": args.memory_id})
    else:
        out.write(f"deleted memory {args.memory_id}")
    return 0


def cmd_clear(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Delete every memory of one user (optionally one agent's or team's only)."""
    scope = f"user {args.user!r}" + (f", agent {args.agent!r}" if args.agent else "")
    scope += f", team {args.team!r}" if args.team else ""
    count = store.list_memories(user_id=args.user, agent_id=args.agent, team_id=args.team, limit=1).total
    if not args.yes and count:
        if not sys.stdin.isatty():
            raise CliError(f"refusing to delete {_memories(count)} of {scope} without --yes")
        sys.stderr.write(f"Delete {_memories(count)} of {scope}? [y/N] ")
        sys.stderr.flush()
        if input().strip().lower() not in ("y", "yes"):
            raise CliError("cancelled; nothing deleted")
    deleted = store.clear(user_id=args.user, agent_id=args.agent, team_id=args.team)
    if out.as_json:
        out.json({"deleted": deleted, "user_id": args.user, "agent_id": args.agent, "team_id": args.team})
    else:
        out.write(f"deleted {_memories(deleted)} of {scope}")
    return 0


def cmd_search(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Search one user's memories by words."""
    hits = store.search(args.query, user_id=args.user, limit=args.limit)
    if out.as_json:
        out.json([_hit_dict(h) for h in hits])
        return 0
    if not hits:
        out.note(f"no memory of user {args.user!r} matches {args.query!r}")
        return 0
    headers, rows = _memory_rows([h.memory for h in hits])
    # MATCHED comes before the memory text, the one column shortened to fit the terminal.
    out.table(
        ["SCORE", "MATCHED", *headers],
        [
            [f"{h.score:.2f}", ",".join(h.matched_terms) or "-", *row]
            for h, row in zip(hits, rows, strict=True)
        ],
    )
    return 0


def _hit_dict(hit: ScoredMemory) -> dict[str, Any]:
    return {"score": hit.score, "matched_terms": list(hit.matched_terms), "memory": memory_dict(hit.memory)}


def cmd_topics(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """List the distinct topics of one user's memories."""
    topics = store.list_topics(user_id=args.user)
    if out.as_json:
        out.json(topics)
    elif topics:
        out.write("\n".join(topics))
    else:
        out.note(f"no topics for user {args.user!r}")
    return 0


def cmd_stats(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Per-user counts and last update, most recently active first."""
    stats, _ = store.user_stats(user_id=args.user)
    if out.as_json:
        out.json([_stats_dict(s) for s in stats])
        return 0
    if not stats:
        out.note("no memories" + (f" for user {args.user!r}" if args.user else ""))
        return 0
    rows = [[s.user_id, str(s.total_memories), _when(s.last_memory_updated_at)] for s in stats]
    out.table(["USER", "MEMORIES", "LAST UPDATED (UTC)"], rows)
    out.note(f"{_users(len(stats))}, {_memories(sum(s.total_memories for s in stats))}")
    return 0


def _stats_dict(stats: UserStats) -> dict[str, Any]:
    return {
        "user_id": stats.user_id,
        "total_memories": stats.total_memories,
        "last_memory_updated_at": stats.last_memory_updated_at,
    }


# ------------------------------------------------------------------ export
def _users_to_export(store: MemoryStore, user: str | None) -> list[UserStats]:
    # The whole user list is read once, up front: paging through users sorted
    # by last activity would skip or repeat users whose memories change meanwhile.
    stats, _ = store.user_stats(user_id=user)
    return stats


def iter_memories(
    store: MemoryStore, user_id: str, page_size: int = EXPORT_PAGE_SIZE
) -> Iterator[UserMemory]:
    """Yield every memory of one user, oldest first, a page at a time, each id once.

    Pages are read by offset, so a memory changed during the export moves to the
    end: it is yielded once (at its first sighting), and the export is exact only
    for memories that are not changing meanwhile.
    """
    offset = 0
    seen: set[str] = set()
    while True:
        page = store.list_memories(user_id=user_id, sort="asc", limit=page_size, offset=offset)
        for memory in page.items:
            if memory.memory_id not in seen:
                seen.add(memory.memory_id)
                yield memory
        if len(page.items) < page_size:
            return
        offset += page_size


def cmd_export(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Write memories as JSON Lines to a file (atomically) or to stdout (``-``)."""
    users = _users_to_export(store, args.user)
    expected = sum(s.total_memories for s in users)
    to_stdout = args.path == "-"
    bar = tqdm(total=expected, unit="mem", desc="exporting", file=sys.stderr, disable=_no_progress(out))
    written = 0
    with bar, _AtomicOutput(args.path) as sink:
        for stats in users:
            for memory in iter_memories(store, stats.user_id):
                sink.write(json.dumps(memory_dict(memory), ensure_ascii=False) + "\n")
                written += 1
                bar.update()
    summary = {"exported": written, "users": len(users), "path": args.path}
    if out.as_json and not to_stdout:
        out.json(summary)
    else:
        where = "stdout" if to_stdout else args.path
        out.note(f"exported {_memories(written)} of {_users(len(users))} to {where}")
    return 0


class _AtomicOutput:
    """A text sink that replaces ``path`` only once everything is written (``-`` is stdout).

    The file is created readable by its owner only (``mkstemp``): memories are personal data.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp: IO[str] | None = None
        self._tmp_path = ""

    def __enter__(self) -> IO[str]:
        if self.path == "-":
            return sys.stdout
        target = Path(self.path)
        try:
            fd, self._tmp_path = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        except OSError as exc:
            raise CliError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._tmp = os.fdopen(fd, "w", encoding="utf-8")
        return self._tmp

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self._tmp is None:
            return
        self._tmp.close()
        if exc_type is None:
            os.replace(self._tmp_path, self.path)
        else:
            os.unlink(self._tmp_path)


# ------------------------------------------------------------------ import
class BadLineError(CliError):
    """One line of an import file is not a valid memory document."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}: line {line}: {problem}")
        self.line = line


class BadFileError(CliError):
    """An import file with bad lines: each is reported, up to a cap, and nothing was written.

    Args:
        path: The file.
        problems: The first bad lines found, in file order.
        total: How many lines are bad in all (``len(problems)`` or more).
    """

    def __init__(self, path: str, problems: Sequence[BadLineError], total: int) -> None:
        super().__init__(f"{path}: {_count_of(total, 'bad line', 'bad lines')}; nothing was imported")
        self.path = path
        self.problems = list(problems)
        self.total = total

    def report(self) -> list[str]:
        """One line per bad line reported, then how many more there are, then the outcome."""
        lines = [str(problem) for problem in self.problems]
        unreported = self.total - len(self.problems)
        if unreported:
            lines.append(f"{self.path}: ... and {unreported} more")
        # A single bad line reads as the whole story; with several, the count closes the list.
        return lines if self.total == 1 else [*lines, str(self)]


def parse_memory_line(
    raw: bytes, *, path: str, line: int, default_user: str | None, max_chars: int | None
) -> UserMemory | None:
    """Parse and validate one JSON Lines record; ``None`` for a blank line.

    Args:
        raw: The line's bytes.
        path: The file name, for messages.
        line: The 1-based line number, for messages.
        default_user: The user of lines without ``user_id`` (``import --user``); lines of
            another user are then refused.
        max_chars: The store's longest accepted memory text.

    Returns:
        The memory, or ``None`` if the line is blank.

    Raises:
        BadLineError: Naming the line and what is wrong with it.
    """

    def bad(problem: str) -> BadLineError:
        return BadLineError(path, line, problem)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not text.strip():
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"invalid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(doc, dict):
        raise bad(f"expected a JSON object (one memory), got {type(doc).__name__}")
    doc.pop("_id", None)  # mongoexport output carries MongoDB's own id; it is not part of a memory
    unknown = sorted(set(doc) - set(MEMORY_FIELDS))
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}; a memory has only {', '.join(MEMORY_FIELDS)}")
    if "memory_id" not in doc:
        raise bad("memory_id is missing (without it a rerun could not tell the memory is already stored)")
    user = doc.get("user_id")
    if user is None and default_user is None:
        raise bad("user_id is missing (pass --user to import memories that have none)")
    if user is None:
        doc["user_id"] = default_user
    elif default_user is not None and user != default_user:
        raise bad(f"user_id is {user!r}, not {default_user!r} as --user says")
    try:
        memory = UserMemory.model_validate(doc)
        check_id("memory_id", memory.memory_id)
        check_id("user_id", memory.user_id)
        check_memory_text(memory.memory, max_chars)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise bad(f"{where}: {err['msg']}") from exc
    except InvalidMemoryError as exc:
        raise bad(str(exc)) from exc
    return memory


def _read_lines(path: str, bar: tqdm[Any] | None = None) -> Iterator[tuple[int, bytes]]:
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if bar is not None:
                    bar.update(len(raw))
                yield number, raw
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _parsed(store: MemoryStore, args: argparse.Namespace) -> Iterator[tuple[int, UserMemory]]:
    for number, raw in _read_lines(args.path):
        memory = parse_memory_line(
            raw, path=args.path, line=number, default_user=args.user, max_chars=store.max_memory_chars
        )
        if memory is not None:
            yield number, memory


def _check_file(store: MemoryStore, args: argparse.Namespace, out: Output) -> tuple[int, int]:
    """First pass: every line valid and every memory_id once; return (memories, users).

    Raises:
        BadFileError: Naming every bad line (up to :data:`MAX_REPORTED_BAD_LINES`).
    """
    first_seen: dict[str, int] = {}
    users: set[str] = set()
    problems: list[BadLineError] = []
    bad = 0
    # This pass only reads, and the file's size is the one total known before reading it.
    with tqdm(
        total=_file_size(args.path),
        unit="B",
        unit_scale=True,
        desc="checking",
        file=sys.stderr,
        disable=_no_progress(out),
    ) as bar:
        for number, raw in _read_lines(args.path, bar):
            try:
                memory = parse_memory_line(
                    raw, path=args.path, line=number, default_user=args.user, max_chars=store.max_memory_chars
                )
                if memory is not None and memory.memory_id in first_seen:
                    seen = first_seen[memory.memory_id]
                    raise BadLineError(
                        args.path, number, f"memory_id {memory.memory_id!r} already appears on line {seen}"
                    )
            except BadLineError as exc:
                bad += 1
                if len(problems) < MAX_REPORTED_BAD_LINES:
                    problems.append(exc)
                continue
            if memory is not None:
                first_seen[memory.memory_id] = number
                users.add(memory.user_id or "")
    if bad:
        raise BadFileError(args.path, problems, bad)
    return len(first_seen), len(users)


class _Importer:
    """Second pass: write the memories in per-user batches through ``add_many``."""

    def __init__(self, store: MemoryStore, path: str, batch_size: int, bar: tqdm[Any]) -> None:
        self.store = store
        self.path = path
        self.batch_size = batch_size
        self.bar = bar
        self.pending: dict[str, list[tuple[int, UserMemory]]] = {}
        self.new = 0
        self.existing = 0
        self.kept = 0
        self.totals: dict[str, int] = {}  # each user's memory count after the last batch written

    def add(self, line: int, memory: UserMemory) -> None:
        user = memory.user_id or ""
        batch = self.pending.setdefault(user, [])
        batch.append((line, memory))
        if len(batch) >= self.batch_size:
            self.flush(user)

    def flush_all(self) -> None:
        for user in list(self.pending):
            self.flush(user)

    def _total(self, user: str) -> int:
        return self.store.list_memories(user_id=user, limit=1).total

    def flush(self, user: str) -> None:
        batch = self.pending.pop(user, [])
        if not batch:
            return
        records = [m for _, m in batch]
        # add_many does not say which ids it inserted, and asking per id would cost a
        # round trip per memory, so the new ones are counted from the user's total
        # around the write. Another writer to this user meanwhile can skew that split
        # (it is clamped to the batch), never what is written.
        before = self.totals[user] if user in self.totals else self._total(user)
        try:
            stored = self.store.add_many(records, user_id=user)
        except InvalidMemoryError as exc:
            # The store names the memory_id it refused; point at its line.
            line = next((n for n, m in batch if repr(m.memory_id) in str(exc)), None)
            where = f"line {line}" if line else f"lines {batch[0][0]}-{batch[-1][0]}"
            raise CliError(
                f"{self.path}: {where}: {exc} ({_count_of(self.new, 'new memory was', 'new memories were')} "
                "written before it; a rerun after fixing it writes none of them twice)"
            ) from exc
        # add_many leaves a memory already stored under that id unchanged and returns it as stored.
        differing = sum(1 for given, now in zip(records, stored, strict=True) if given != now)
        self.totals[user] = self._total(user)
        new = min(max(self.totals[user] - before, 0), len(records) - differing)
        self.new += new
        self.existing += len(records) - new
        self.kept += differing
        self.bar.update(len(records))


def cmd_import(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Import a JSON Lines file: check every line, then write in per-user batches."""
    count, users = _check_file(store, args, out)
    with tqdm(total=count, unit="mem", desc="importing", file=sys.stderr, disable=_no_progress(out)) as bar:
        importer = _Importer(store, args.path, args.batch_size, bar)
        for line, memory in _parsed(store, args):
            importer.add(line, memory)
        importer.flush_all()
    summary = {
        "memories": count,
        "users": users,
        "new": importer.new,
        "existing": importer.existing,
        "kept_existing": importer.kept,
        "path": args.path,
    }
    if out.as_json:
        out.json(summary)
    else:
        kept = f" ({importer.kept} with other content, left as stored)" if importer.kept else ""
        out.write(
            f"imported {_memories(count)} of {_users(users)} from {args.path}: "
            f"{importer.new} new, {importer.existing} already there{kept}"
        )
    return 0


def _no_progress(out: Output) -> bool:
    return out.as_json or not sys.stderr.isatty()


# ------------------------------------------------------------------ demo
def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    """Run the end-to-end demo (extraction, storage and recall) with a model."""
    try:
        # Imported on demand: the demo pulls in agent machinery no other command needs.
        demo = importlib.import_module("langmem_agno.testing.demo")
    except ModuleNotFoundError as exc:
        if exc.name != "langmem_agno.testing.demo":
            raise
        raise CliError("the demo is not part of this installation of langmem-agno") from exc
    if args.db_given is None:
        return int(demo.main(model=args.model))
    if args.db_given.startswith(_MONGO_SCHEMES):
        raise CliError("the demo keeps its memories in SQLite: give --db a file path, or leave it out")
    return int(demo.main(model=args.model, db=args.db_given))


# ------------------------------------------------------------------ parser
StoreCommand = Callable[[MemoryStore, argparse.Namespace, Output], int]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps an option given before the command from being reset by the
    # subcommand's own copy; defaults are filled in afterwards by _defaults().
    s = argparse.SUPPRESS
    parser.add_argument(
        "--db",
        default=s,
        help=f"SQLite file path or mongodb:// URI (default: ${DB_ENV} or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--collection",
        default=s,
        help=f"MongoDB collection or SQLite table, Agno's memory_table (default: {DEFAULT_COLLECTION})",
    )
    parser.add_argument(
        "--database",
        default=s,
        help=f"MongoDB database name (default: {DEFAULT_DATABASE}; unused for SQLite)",
    )
    parser.add_argument("--json", action="store_true", default=s, help="machine-readable JSON output")
    parser.add_argument("-v", "--verbose", action="store_true", default=s, help="log details to stderr")


def _defaults(args: argparse.Namespace) -> argparse.Namespace:
    args.db_given = getattr(args, "db", None)
    args.db = args.db_given or os.environ.get(DB_ENV) or DEFAULT_DB
    args.collection = getattr(args, "collection", None)
    args.database = getattr(args, "database", None) or DEFAULT_DATABASE
    args.json = getattr(args, "json", False)
    args.verbose = getattr(args, "verbose", False)
    return args


def _user(parser: argparse.ArgumentParser, *, required: bool = True, help: str = "the user") -> None:
    parser.add_argument("--user", "-u", required=required, metavar="USER", help=help)


def _scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", metavar="AGENT", help="only this agent's memories")
    parser.add_argument("--team", metavar="TEAM", help="only this team's memories")


def _topics(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--topic", "-t", action="append", metavar="TOPIC", help=help)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``langmem-agno`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage Agno-style user memories stored in SQLite or MongoDB.",
        epilog="Exit codes: 0 ok, 1 not found or bad input, 2 usage, 3 store unavailable.",
    )
    _add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str, func: StoreCommand | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _add_global_options(p)
        p.set_defaults(store_command=func)
        return p

    p = command("list", "list a user's memories, newest first", cmd_list)
    _user(p)
    _scope(p)
    _topics(p, "only memories with this topic (repeatable: any of them)")
    p.add_argument(
        "--limit",
        type=_non_negative,
        default=DEFAULT_LIST_LIMIT,
        help="page size, 0 for all (default: %(default)s)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--offset", type=_non_negative, help="skip this many memories")
    where.add_argument("--page", type=_positive, help="1-based page number of --limit memories")
    p.add_argument("--asc", action="store_true", help="oldest first")

    p = command("show", "show every field of one memory", cmd_show)
    p.add_argument("memory_id", metavar="ID")
    _user(p)

    p = command("add", "add a memory", cmd_add)
    _user(p)
    p.add_argument("text", metavar="TEXT", help="the fact, e.g. 'Sarah prefers email'")
    _topics(p, "a topic tag (repeatable)")
    p.add_argument("--agent", metavar="AGENT", help="the agent writing it")
    p.add_argument("--team", metavar="TEAM", help="the team writing it")
    p.add_argument("--input", metavar="TEXT", help="the user text the fact came from")

    p = command("update", "change a memory's text, topics, input or feedback", cmd_update)
    p.add_argument("memory_id", metavar="ID")
    _user(p)
    p.add_argument("text", metavar="TEXT", nargs="?", help="the new text (unchanged when omitted)")
    topics = p.add_mutually_exclusive_group()
    topics.add_argument(
        "--topic", "-t", action="append", metavar="TOPIC", help="replace the topics (repeatable)"
    )
    topics.add_argument("--no-topics", action="store_true", help="remove all topics")
    p.add_argument("--input", metavar="TEXT", help="set the user text the fact came from")
    p.add_argument("--feedback", metavar="TEXT", help="set the feedback")

    p = command("delete", "delete one memory", cmd_delete)
    p.add_argument("memory_id", metavar="ID")
    _user(p)

    p = command("clear", "delete all memories of one user (only this user's)", cmd_clear)
    _user(p)
    _scope(p)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    p = command("search", "search a user's memories by words", cmd_search)
    _user(p)
    p.add_argument("query", metavar="QUERY")
    p.add_argument(
        "--limit", type=_positive, default=10, help="at most this many hits (default: %(default)s)"
    )

    p = command("topics", "list the topics of a user's memories", cmd_topics)
    _user(p)

    p = command("stats", "memory count and last update per user", cmd_stats)
    _user(p, required=False, help="only this user (default: every user)")

    p = command("export", "write memories as JSON Lines", cmd_export)
    p.add_argument("path", metavar="OUT.jsonl", help="output file, or - for stdout")
    _user(p, required=False, help="only this user's memories (default: every user)")

    p = command(
        "import",
        "read memories from JSON Lines (as export writes); memories already stored are left as they are",
        cmd_import,
    )
    p.add_argument("path", metavar="IN.jsonl")
    _user(p, required=False, help="the user of lines without user_id; lines of other users are refused")
    p.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_IMPORT_BATCH,
        help="memories per write (default: %(default)s)",
    )

    p = command(
        "demo",
        "run the two-session memory demo (memories go to a temporary SQLite file unless --db names one)",
    )
    p.add_argument(
        "--model", metavar="SPEC", help="a chat model, e.g. openai:gpt-4o-mini (default: a scripted one)"
    )
    return parser


# ------------------------------------------------------------------ main
def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args, extras = parser.parse_known_args(argv)
    # argparse fills both positionals of `update ID [TEXT]` from the first run of
    # positionals, so in `update ID --user U "new text"` the text comes back as
    # an extra; it is the TEXT the usage line promises.
    if args.command == "update" and args.text is None and len(extras) == 1 and not extras[0].startswith("-"):
        args.text = extras[0]
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _check_database_exists(db: str, command: str) -> None:
    """Refuse a command that only reads when ``db`` is a SQLite path with no database there.

    Opening a SQLite path creates the file (and its folders); a command that only
    reads would leave an empty database behind a typo and report no memories.

    Args:
        db: The ``--db`` value.
        command: The command name.

    Raises:
        CliError: If ``command`` only reads and ``db`` is a SQLite path that does not exist.
    """
    if command not in READ_ONLY_COMMANDS or db == ":memory:" or db.startswith(_MONGO_SCHEMES):
        return
    if not os.path.exists(os.path.expanduser(db)):
        raise CliError(
            f"no database at {db} ({command} only reads; a command that writes, such as add or import, "
            "creates it)"
        )


def _run(args: argparse.Namespace, out: Output) -> int:
    func: StoreCommand | None = args.store_command
    if func is None:
        return cmd_demo(args, out)
    _check_database_exists(args.db, args.command)
    store = open_store(args.db, collection=args.collection, database=args.database)
    try:
        return func(store, args, out)
    finally:
        store.close()


def _fail(message: str, code: int) -> int:
    return _fail_lines([message], code)


def _fail_lines(messages: Sequence[str], code: int) -> int:
    for message in messages:
        sys.stderr.write(f"{PROG}: error: {_one_line(message)}\n")
    return code


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool) -> Iterator[None]:
    """Log to this call's stderr, and undo it afterwards.

    ``main`` also runs in process (tests, scripts calling it in a loop), where a
    handler left on the root logger would pile up and write to a stale stream.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code: 0 ok, 1 not found or bad input, 2 usage, 3 store unavailable.
    """
    for stream in (sys.stdout, sys.stderr):
        # A memory in a script the terminal cannot show must not crash the listing.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args = _defaults(_parse(parser, argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    with _logging_to_stderr(args.verbose):
        return _handled(args)


def _handled(args: argparse.Namespace) -> int:
    try:
        return _run(args, Output(args.json))
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; Python would complain again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except CliError as exc:
        return _fail_lines(exc.report(), exc.code)
    except MemoryNotFoundError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except (StoreUnavailableError, PyMongoError, sqlite3.Error) as exc:
        logger.debug("store unavailable", exc_info=True)
        return _fail(str(exc), EXIT_UNAVAILABLE)
    except LangmemAgnoError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except Exception as exc:
        logger.debug("unexpected error", exc_info=True)
        return _fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for details)", EXIT_FAILED)


if __name__ == "__main__":
    raise SystemExit(main())
