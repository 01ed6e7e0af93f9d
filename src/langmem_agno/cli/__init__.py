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

``doctor [--user U] [--fix]`` lists the stored rows that reads skip (another writer's empty
text, an id out of limits, a field of the wrong type: every read skips them with a warning, so
they never hide a user's other memories), and with ``--fix`` rewrites what can be kept (a fresh
id for one out of limits) and deletes rows with no text; it exits 1 while any is left. ``show``
displays such a row as stored, and ``delete`` accepts its id, however long. ``export`` of every
user writes users whose id is out of limits too, and counts the rows with no ``user_id``
(``--include-orphans`` writes them).

The package, one job a module: :mod:`~langmem_agno.cli.app` (the parser and
:func:`main`), :mod:`~langmem_agno.cli.commands` (one function per command),
:mod:`~langmem_agno.cli.jsonl_export` and :mod:`~langmem_agno.cli.jsonl_import`
(export and import, usable as functions), :mod:`~langmem_agno.cli.doctor` (the rows reads
skip), :mod:`~langmem_agno.cli.store` (opening
``--db``) and :mod:`~langmem_agno.cli.output` (tables, JSON, errors, exit codes).
"""

from __future__ import annotations

from langmem_agno.cli.app import PROG, build_parser, main
from langmem_agno.cli.jsonl_export import EXPORT_PAGE_SIZE, ExportSummary, export_memories, iter_memories
from langmem_agno.cli.jsonl_import import (
    DEFAULT_IMPORT_BATCH,
    MAX_REPORTED_BAD_LINES,
    BadFileError,
    BadLineError,
    ImportSummary,
    import_memories,
    parse_memory_line,
)
from langmem_agno.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    Output,
    memory_dict,
    render_table,
)
from langmem_agno.cli.store import DEFAULT_DB, open_store, redact_uri

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_IMPORT_BATCH",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "EXPORT_PAGE_SIZE",
    "MAX_REPORTED_BAD_LINES",
    "PROG",
    "BadFileError",
    "BadLineError",
    "CliError",
    "ExportSummary",
    "ImportSummary",
    "Output",
    "build_parser",
    "export_memories",
    "import_memories",
    "iter_memories",
    "main",
    "memory_dict",
    "open_store",
    "parse_memory_line",
    "redact_uri",
    "render_table",
]
