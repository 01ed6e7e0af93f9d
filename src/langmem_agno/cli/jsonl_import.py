"""JSON Lines import of memories: one document with Agno's ten fields per line, as export writes.

What ``langmem-agno import`` runs, usable without the command line::

    summary = import_memories(store, "memories.jsonl")

:func:`import_memories` checks the whole file before writing anything, with the
store's own checks (the secret filter included), so a bad line stops the import with
nothing written, and every bad line is reported (the
first :data:`MAX_REPORTED_BAD_LINES`, then how many more); the writes are
insert-if-absent by ``memory_id``, so a rerun, after a fix or after a failure
half-way through the writes, never writes a memory twice and leaves memories
already stored as they are.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from langmem_agno.checks import check_id, check_int
from langmem_agno.cli.output import CliError, count_of, file_error
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import MEMORY_FIELDS, UserMemory, check_memory_text
from langmem_agno.stores import MemoryStore
from langmem_agno.stores.history import recording

DEFAULT_IMPORT_BATCH = 500
#: How many bad lines of an import file are reported one by one; the rest are counted.
MAX_REPORTED_BAD_LINES = 20


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
        super().__init__(f"{path}: {count_of(total, 'bad line', 'bad lines')}; nothing was imported")
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


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_memories` read and wrote.

    Attributes:
        memories: The memories in the file.
        users: How many users they belong to.
        new: How many were written.
        existing: How many were stored already (under their ``memory_id``) and left as they are.
        kept_existing: Of those, how many are stored with other content than the file's.
        path: The file.
    """

    memories: int
    users: int
    new: int
    existing: int
    kept_existing: int
    path: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``import --json`` prints, keys in field order."""
        return asdict(self)


def import_memories(
    store: MemoryStore,
    path: str | os.PathLike[str],
    *,
    default_user: str | None = None,
    batch_size: int = DEFAULT_IMPORT_BATCH,
    progress: bool = False,
) -> ImportSummary:
    """Import a JSON Lines file: check every line, then write in per-user batches.

    Args:
        store: The store to write.
        path: The file, one memory document per line (what :func:`export_memories` writes).
        default_user: The user of lines without ``user_id``; lines of another user are then refused.
        batch_size: Memories per write.
        progress: Draw progress bars on stderr (checking, then importing).

    Returns:
        The counts: memories and users in the file, new and already-stored ones.

    Raises:
        BadFileError: If any line is bad, naming each (up to :data:`MAX_REPORTED_BAD_LINES`);
            nothing is written then.
        CliError: If the file cannot be read, or the store refuses a memory (naming its line).
        ConfigurationError: If ``batch_size`` is not a positive integer.
    """
    check_int("batch_size", batch_size)
    name = os.fspath(path)
    count, users = _check_file(store, name, default_user, progress)
    with tqdm(total=count, unit="mem", desc="importing", file=sys.stderr, disable=not progress) as bar:
        importer = _Importer(store, name, batch_size, bar)
        for line, memory in _parsed(store, name, default_user):
            importer.add(line, memory)
        importer.flush_all()
    return ImportSummary(
        memories=count,
        users=users,
        new=importer.new,
        existing=importer.existing,
        kept_existing=importer.kept,
        path=name,
    )


def _read_lines(path: str, bar: tqdm[Any] | None = None) -> Iterator[tuple[int, bytes]]:
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if bar is not None:
                    bar.update(len(raw))
                yield number, raw
    except OSError as exc:
        raise file_error("read", path, exc) from exc


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise file_error("read", path, exc) from exc


def _parsed(store: MemoryStore, path: str, default_user: str | None) -> Iterator[tuple[int, UserMemory]]:
    for number, raw in _read_lines(path):
        memory = parse_memory_line(
            raw, path=path, line=number, default_user=default_user, max_chars=store.max_memory_chars
        )
        if memory is not None:
            yield number, memory


def _check_file(store: MemoryStore, path: str, default_user: str | None, progress: bool) -> tuple[int, int]:
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
        total=_file_size(path),
        unit="B",
        unit_scale=True,
        desc="checking",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        for number, raw in _read_lines(path, bar):
            try:
                memory = parse_memory_line(
                    raw, path=path, line=number, default_user=default_user, max_chars=store.max_memory_chars
                )
                if memory is not None and memory.memory_id in first_seen:
                    seen = first_seen[memory.memory_id]
                    raise BadLineError(
                        path, number, f"memory_id {memory.memory_id!r} already appears on line {seen}"
                    )
                if memory is not None:
                    # The store's own checks (secrets in text, input and feedback, ids, topics), here,
                    # so a line the store would refuse stops the import before anything is written.
                    _store_checks(store, memory, path, number)
            except BadLineError as exc:
                bad += 1
                if len(problems) < MAX_REPORTED_BAD_LINES:
                    problems.append(exc)
                continue
            if memory is not None:
                first_seen[memory.memory_id] = number
                users.add(memory.user_id or "")
    if bad:
        raise BadFileError(path, problems, bad)
    return len(first_seen), len(users)


def _store_checks(store: MemoryStore, memory: UserMemory, path: str, line: int) -> None:
    try:
        store.check_record(memory, user_id=memory.user_id or "")
    except InvalidMemoryError as exc:
        raise BadLineError(path, line, str(exc)) from exc


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
            with recording("import"):
                stored = self.store.add_many(records, user_id=user)
        except InvalidMemoryError as exc:
            # The store names the memory_id it refused; point at its line.
            line = next((n for n, m in batch if repr(m.memory_id) in str(exc)), None)
            where = f"line {line}" if line else f"lines {batch[0][0]}-{batch[-1][0]}"
            raise CliError(
                f"{self.path}: {where}: {exc} ({count_of(self.new, 'new memory was', 'new memories were')} "
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
