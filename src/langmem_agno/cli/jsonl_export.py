"""JSON Lines export of memories: one document with Agno's ten fields per line.

What ``langmem-agno export`` runs, usable without the command line::

    summary = export_memories(store, "memories.jsonl", user_id="u1")

The file is replaced only once everything is written, each user's memories oldest
first; :func:`~langmem_agno.cli.jsonl_import.import_memories` reads it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from langmem_agno.checks import check_id, check_int
from langmem_agno.cli.output import file_error, memory_dict
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import UserMemory
from langmem_agno.stores import MemoryStore

EXPORT_PAGE_SIZE = 500


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_memories` wrote.

    Attributes:
        exported: How many memories.
        users: How many users they belong to.
        path: The file written, ``-`` for stdout, ``None`` for a stream the caller gave.
        orphans: Readable memories with no ``user_id`` found (written only with ``include_orphans``).
        unreadable: Rows skipped because they cannot be read (``langmem-agno doctor`` repairs them).
    """

    exported: int
    users: int
    path: str | None
    orphans: int = 0
    unreadable: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form ``export --json`` prints: ``{"exported", "users", "path"}``.

        ``orphans`` and ``unreadable`` are added only when not zero, so the common case keeps its form.
        """
        doc = asdict(self)
        for key in ("orphans", "unreadable"):
            if not doc[key]:
                del doc[key]
        return doc


def iter_memories(
    store: MemoryStore, user_id: str, page_size: int = EXPORT_PAGE_SIZE
) -> Iterator[UserMemory]:
    """Yield every memory of one user, oldest first, a page at a time, each id once.

    Memories are listed oldest first by ``updated_at``, so a write during the export
    takes a memory out of its place (a delete, or an update, which moves it to the
    end) or adds one at the end; the memories not yet read can then move up past the
    page boundary. Each page therefore starts a little before where the last one
    ended and, unless the first memory it reads there is one already exported and
    unchanged since, further back: an unchanged memory keeps its place among the
    others, so none not yet read lies before it. No memory that exists from the start
    to the end of the export is left out, whatever is written meanwhile. A memory
    changed during the export is yielded once, as first seen.
    """
    check_int("page_size", page_size, error=InvalidMemoryError)
    slack = max(1, page_size // 10)
    offset = 0
    seen: dict[str, UserMemory] = {}
    while True:
        back = slack
        while True:
            start = max(0, offset - back)
            wanted = page_size + offset - start
            page = store.list_memories(user_id=user_id, sort="asc", limit=wanted, offset=start).items
            # Only a memory yielded and unchanged since proves that nothing unread lies before the
            # page: a changed one has moved to the end, past unread ones, and an empty page proves
            # nothing (the memories read may all have been deleted).
            if start == 0 or (page and seen.get(page[0].memory_id) == page[0]):
                break
            back *= 2
        for memory in page:
            if memory.memory_id not in seen:
                seen[memory.memory_id] = memory
                yield memory
        if len(page) < wanted:
            return
        offset = start + len(page)


def export_memories(
    store: MemoryStore,
    destination: str | os.PathLike[str] | IO[str],
    *,
    user_id: str | None = None,
    page_size: int = EXPORT_PAGE_SIZE,
    progress: bool = False,
    include_orphans: bool = False,
) -> ExportSummary:
    """Write memories as JSON Lines: every user's, or one user's, each user's oldest first.

    Args:
        store: The store to read.
        destination: A file path, replaced only once everything is written (created
            readable by its owner only: memories are personal data); ``"-"`` for
            stdout; or an open text stream, written to and left open.
        user_id: Only this user's memories; every user's when ``None``.
        page_size: Memories read per query.
        progress: Draw a progress bar on stderr.
        include_orphans: Also write the memories that have no ``user_id`` (every user's export only);
            without it they are only counted, in ``orphans``.

    Returns:
        How many memories of how many users were written, and where.

    Raises:
        CliError: If the file cannot be written.
        ConfigurationError: If ``page_size`` is not a positive integer.
    """
    check_int("page_size", page_size)
    # The whole user list is read once, up front: paging through users sorted
    # by last activity would skip or repeat users whose memories change meanwhile.
    users, _ = store.user_stats(user_id=user_id)
    expected = sum(s.total_memories for s in users)
    if isinstance(destination, str | os.PathLike):
        path: str | None = os.fspath(destination)
        sink: contextlib.AbstractContextManager[IO[str]] = _AtomicOutput(os.fspath(destination))
    else:
        path, sink = None, contextlib.nullcontext(destination)
    unreadable = sum(s.unreadable_memories for s in users)
    orphans = [] if user_id is not None else _readable(store, None)
    bar = tqdm(total=expected, unit="mem", desc="exporting", file=sys.stderr, disable=not progress)
    written = 0
    with bar, sink as stream:
        for stats in users:
            for memory in _memories_of(store, stats.user_id, page_size):
                stream.write(json.dumps(memory_dict(memory), ensure_ascii=False) + "\n")
                written += 1
                bar.update()
        for memory in orphans if include_orphans else ():
            stream.write(json.dumps(memory_dict(memory), ensure_ascii=False) + "\n")
            written += 1
    return ExportSummary(
        exported=written, users=len(users), path=path, orphans=len(orphans), unreadable=unreadable
    )


def _readable(store: MemoryStore, user_id: str | None) -> list[UserMemory]:
    """The readable memories among the stored rows of ``user_id`` (``None``: rows with no user)."""
    rows = store.inspect_rows(user_id=user_id)
    return [UserMemory.from_document(r.row) for r in rows if r.reason is None]


def _memories_of(store: MemoryStore, user_id: str, page_size: int) -> Iterator[UserMemory]:
    try:
        check_id("user_id", user_id)
    except InvalidMemoryError:
        # Stored by another writer with an id out of our limits: no scoped read takes it, the raw rows do.
        yield from _readable(store, user_id)
        return
    yield from iter_memories(store, user_id, page_size)


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
            raise file_error("write", self.path, exc) from exc
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
