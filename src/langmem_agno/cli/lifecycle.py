"""``langmem-agno history`` and ``prune``: one memory's recorded changes; clean-up by age or count."""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable

from langmem_agno.cli.output import EXIT_USAGE, CliError, Output, memories_text, utc_time
from langmem_agno.stores import MemoryStore
from langmem_agno.stores.types import HistoryEntry

__all__ = ["add_lifecycle_commands", "cmd_history", "cmd_prune", "parse_age"]

StoreCommand = Callable[[MemoryStore, argparse.Namespace, Output], int]
#: How the command line names ages: a number and a unit.
_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_age(text: str) -> float:
    """An age such as ``"90d"``, ``"12h"``, ``"2w"``, ``"30m"`` or ``"45s"``, in seconds.

    Raises:
        argparse.ArgumentTypeError: Naming the text when it is not a positive number and a unit.
    """
    match = _AGE.match(text)
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"expected an age such as 90d, 12h, 2w, 30m or 45s (a number and s/m/h/d/w), got {text!r}"
        )
    return seconds


def _change(entry: HistoryEntry) -> str:
    if entry.event == "add":
        return entry.new_memory or ""
    if entry.event == "delete":
        return entry.old_memory or ""
    if entry.old_memory == entry.new_memory:
        return f"{entry.new_memory} (topics {list(entry.old_topics or [])} -> {list(entry.new_topics or [])})"
    return f"{entry.old_memory} -> {entry.new_memory}"


def cmd_history(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Show every recorded change of one memory, oldest first."""
    entries = store.history(args.memory_id, user_id=args.user)
    if out.as_json:
        out.json([dataclasses.asdict(e) for e in entries])
        return 0
    if not entries:
        out.note(f"no recorded changes of memory {args.memory_id!r} of user {args.user!r}")
        return 0
    out.table(
        ["WHEN", "EVENT", "PATH", "CHANGE"], [[utc_time(e.at), e.event, e.path, _change(e)] for e in entries]
    )
    return 0


def cmd_prune(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Delete a user's memories not changed for ``--older-than``, or all but the newest ``--keep``."""
    if args.older_than is None and args.keep is None:
        raise CliError("prune needs --older-than AGE or --keep N (or both)", EXIT_USAGE)
    deleted = store.prune(user_id=args.user, older_than=args.older_than, keep=args.keep)
    if out.as_json:
        out.json(
            {"deleted": deleted, "user_id": args.user, "older_than_s": args.older_than, "keep": args.keep}
        )
    else:
        out.write(f"pruned {memories_text(deleted)} of user {args.user!r}")
    return 0


def add_lifecycle_commands(
    command: Callable[[str, str, StoreCommand | None], argparse.ArgumentParser],
) -> None:
    """Register ``history`` and ``prune`` with the parser's ``command(name, help, func)`` helper."""
    p = command("history", "show every recorded change of one memory, oldest first", cmd_history)
    p.add_argument("memory_id", metavar="ID")
    p.add_argument("--user", "-u", required=True, metavar="USER", help="the user")

    p = command(
        "prune",
        "delete a user's memories not changed for an age, or all but the newest N (recorded in history)",
        cmd_prune,
    )
    p.add_argument("--user", "-u", required=True, metavar="USER", help="the user")
    p.add_argument(
        "--older-than", type=parse_age, metavar="AGE", help="not changed for this long: 90d, 12h, 2w"
    )
    p.add_argument("--keep", type=int, metavar="N", help="keep only the newest N memories")
