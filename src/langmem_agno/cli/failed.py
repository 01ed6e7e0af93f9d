"""``langmem-agno failed`` and ``retry``: the extraction spans set aside after failing, and running one again.

Extraction (and so LangChain) is loaded only by these two commands, by name, so every
other command starts without it.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from langmem_agno.cli.output import EXIT_FAILED, Output, count_of
from langmem_agno.stores import MemoryStore


def _failed_module() -> Any:
    # By name: extraction pulls in LangChain, which no other command needs.
    return importlib.import_module("langmem_agno.extraction.failed")


def cmd_failed(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """List the failed extraction spans, of one user or of every user."""
    spans = _failed_module().list_failed(store, user_id=args.user, limit=args.limit)
    rows = [
        {
            "span_id": s.span_id,
            "user_id": s.scope.user_id,
            "messages": len(s.messages),
            "attempts": s.attempts,
            "failed_at": int(s.failed_at),
            "error": s.error,
        }
        for s in spans
    ]
    if out.as_json:
        out.json(rows)
        return 0
    if not rows:
        out.note("no failed extraction spans")
        return 0
    headers = ["SPAN", "USER", "MESSAGES", "ATTEMPTS", "ERROR"]
    out.table(
        headers,
        [[r["span_id"], r["user_id"], str(r["messages"]), str(r["attempts"]), r["error"]] for r in rows],
    )
    out.note(count_of(len(rows), "failed span", "failed spans"))
    return 0


def cmd_retry(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Extract one failed span again with ``--model``; it leaves the failed table when that succeeds."""
    manager = importlib.import_module("langmem_agno.extraction.manager").MemoryManager(args.model, store)
    result = _failed_module().retry_failed(manager, args.span_id)
    summary = {
        "span_id": args.span_id,
        "added": len(result.added),
        "updated": len(result.updated),
        "deleted": len(result.deleted),
        "error": None if result.error is None else str(result.error),
    }
    if out.as_json:
        out.json(summary)
    elif result.error is None:
        out.write(
            f"span {args.span_id}: {summary['added']} added, {summary['updated']} updated, "
            f"{summary['deleted']} deleted"
        )
    else:
        out.note(f"span {args.span_id} failed again and stays set aside: {result.error}")
    return 0 if result.error is None else EXIT_FAILED
