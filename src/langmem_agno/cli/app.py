"""The ``langmem-agno`` program: its argument parser and :func:`main`, which runs one command."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence

from pymongo.errors import PyMongoError

from langmem_agno.cli.commands import (
    cmd_add,
    cmd_clear,
    cmd_delete,
    cmd_demo,
    cmd_export,
    cmd_import,
    cmd_list,
    cmd_search,
    cmd_serve,
    cmd_show,
    cmd_stats,
    cmd_topics,
    cmd_update,
)
from langmem_agno.cli.doctor import cmd_doctor
from langmem_agno.cli.failed import cmd_failed, cmd_retry
from langmem_agno.cli.jsonl_import import DEFAULT_IMPORT_BATCH
from langmem_agno.cli.lifecycle import add_lifecycle_commands
from langmem_agno.cli.optimize import add_optimize_arguments, cmd_optimize
from langmem_agno.cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    CliError,
    Output,
    one_line,
)
from langmem_agno.cli.store import (
    DB_ENV,
    DEFAULT_COLLECTION,
    DEFAULT_DATABASE,
    DEFAULT_DB,
    check_database_exists,
    open_store,
)
from langmem_agno.errors import LangmemAgnoError, MemoryNotFoundError, StoreUnavailableError
from langmem_agno.stores import MemoryStore
from langmem_agno.stores.history import recording
from langmem_agno.stores.validation import MAX_PAGING

# The name the module had as one file: users' logging configuration names it.
logger = logging.getLogger("langmem_agno.cli")

PROG = "langmem-agno"
DEFAULT_LIST_LIMIT = 50

StoreCommand = Callable[[MemoryStore, argparse.Namespace, Output], int]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    if value > MAX_PAGING:
        raise argparse.ArgumentTypeError(f"expected a number <= {MAX_PAGING}, got {value}")
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


def _id_and_user(parser: argparse.ArgumentParser) -> None:
    # The commands on one memory name it by ID, and by its user: another user's id is not found.
    parser.add_argument("memory_id", metavar="ID")
    _user(parser)


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
    _id_and_user(p)

    p = command("add", "add a memory", cmd_add)
    _user(p)
    p.add_argument("text", metavar="TEXT", help="the fact, e.g. 'Sarah prefers email'")
    _topics(p, "a topic tag (repeatable)")
    p.add_argument("--agent", metavar="AGENT", help="the agent writing it")
    p.add_argument("--team", metavar="TEAM", help="the team writing it")
    p.add_argument("--input", metavar="TEXT", help="the user text the fact came from")

    p = command("update", "change a memory's text, topics, input or feedback", cmd_update)
    _id_and_user(p)
    p.add_argument("text", metavar="TEXT", nargs="?", help="the new text (unchanged when omitted)")
    topics = p.add_mutually_exclusive_group()
    topics.add_argument(
        "--topic", "-t", action="append", metavar="TOPIC", help="replace the topics (repeatable)"
    )
    topics.add_argument("--no-topics", action="store_true", help="remove all topics")
    p.add_argument("--input", metavar="TEXT", help="set the user text the fact came from")
    p.add_argument("--feedback", metavar="TEXT", help="set the feedback")

    p = command("delete", "delete one memory", cmd_delete)
    _id_and_user(p)

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
    p.add_argument(
        "--include-orphans",
        action="store_true",
        help="also write the memories that have no user_id (only with every user's export)",
    )

    p = command(
        "doctor",
        "list the stored memories that cannot be read (another writer's), and repair them",
        cmd_doctor,
    )
    _user(p, required=False, help="only this user (default: every user)")
    p.add_argument(
        "--fix",
        action="store_true",
        help="repair them: rewrite what can be kept (a new id for one out of limits); delete empty ones",
    )

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

    p = command("failed", "list the extraction spans set aside after failing 3 times", cmd_failed)
    _user(p, required=False, help="only this user's spans (default: every user)")
    p.add_argument("--limit", type=_positive, default=100, help="at most this many (default: %(default)s)")
    p = command("retry", "extract one failed span again; it stays set aside if it fails again", cmd_retry)
    p.add_argument("span_id", metavar="SPAN_ID")
    p.add_argument(
        "--model", required=True, metavar="SPEC", help="the extraction model, e.g. openai:gpt-4o-mini"
    )

    p = command(
        "optimize",
        "fold a user's memories into fewer with a chat model (--preview writes nothing)",
        cmd_optimize,
    )
    _user(p)
    add_optimize_arguments(p)

    add_lifecycle_commands(command)

    p = command(
        "serve",
        "serve AgentOS's memory API and a browser page at / (pip install 'langmem-agno[server]')",
        cmd_serve,
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; beyond loopback a token is required"
    )
    p.add_argument("--port", type=_positive, default=7777, help="port (default: %(default)s)")
    p.add_argument("--token", default=None, help="bearer token to require (default: $LANGMEM_AGNO_TOKEN)")
    p.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="a browser origin allowed to call the API"
    )
    p.add_argument(
        "--model",
        metavar="SPEC",
        help="chat model of POST /optimize-memories, e.g. openai:gpt-4o-mini (default: $LANGMEM_AGNO_MODEL)",
    )

    p = command(
        "demo",
        "run the two-session memory demo (memories go to a temporary SQLite file unless --db names one)",
    )
    p.add_argument(
        "--model", metavar="SPEC", help="a chat model, e.g. openai:gpt-4o-mini (default: a scripted one)"
    )
    return parser


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


def _run(args: argparse.Namespace, out: Output) -> int:
    func: StoreCommand | None = args.store_command
    if func is None:
        return cmd_demo(args, out)
    check_database_exists(args.db, args.command)
    store = open_store(args.db, collection=args.collection, database=args.database)
    try:
        return func(store, args, out)
    finally:
        store.close()


def _fail(message: str, code: int) -> int:
    return _fail_lines([message], code)


def _fail_lines(messages: Sequence[str], code: int) -> int:
    for message in messages:
        sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
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
    with _logging_to_stderr(args.verbose), recording("cli"):
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
