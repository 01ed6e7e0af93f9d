"""The commands of ``langmem-agno``: each takes the open store, the parsed arguments and the output.

Export and import are :mod:`~langmem_agno.cli.jsonl_export` and
:mod:`~langmem_agno.cli.jsonl_import`, called here with explicit arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

import langmem_agno.server as memory_server
from langmem_agno.cli.jsonl_export import export_memories
from langmem_agno.cli.jsonl_import import import_memories
from langmem_agno.cli.optimize import given_model
from langmem_agno.cli.output import (
    CliError,
    Output,
    count_of,
    memories_text,
    memory_dict,
    memory_rows,
    users_text,
    utc_time,
)
from langmem_agno.cli.store import is_mongo_uri
from langmem_agno.errors import MemoryNotFoundError
from langmem_agno.record import MEMORY_FIELDS, UserMemory
from langmem_agno.stores import MemoryStore, ScoredMemory, UserStats


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
            f"no memories on this page; user {args.user!r} has {memories_text(page.total)}"
            if page.total
            else f"no memories for user {args.user!r}"
        )
        return 0
    out.table(*memory_rows(page.items))
    first, last = page.offset + 1, page.offset + len(page.items)
    out.note(
        f"memory {first} of {page.total}" if first == last else f"memories {first}-{last} of {page.total}"
    )
    return 0


def cmd_show(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Show every field of one memory."""
    memory = store.get(args.memory_id, user_id=args.user)
    if memory is None:
        # A row reads skip is still this user's: show it as stored, with why it cannot be read.
        rows = store.unreadable_rows(user_id=args.user, memory_ids=[args.memory_id])
        if not rows:
            raise MemoryNotFoundError(args.memory_id, args.user)
        if out.as_json:
            out.json({"unreadable": rows[0].reason, "row": {k: _jsonable(v) for k, v in rows[0].row.items()}})
            return 0
        out.write(f"{'unreadable:':<12} {rows[0].reason}")
        for key, value in rows[0].row.items():
            out.write(f"{key + ':':<12} {value!r}")
        out.note("`doctor --fix --user U` repairs it; `delete ID --user U` deletes it")
        return 0
    _print_memory(memory, out)
    return 0


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool, list)) else repr(value)


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
            shown = f"{value} ({utc_time(value)} UTC)"
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
            raise CliError(f"refusing to delete {memories_text(count)} of {scope} without --yes")
        sys.stderr.write(f"Delete {memories_text(count)} of {scope}? [y/N] ")
        sys.stderr.flush()
        if input().strip().lower() not in ("y", "yes"):
            raise CliError("cancelled; nothing deleted")
    deleted = store.clear(user_id=args.user, agent_id=args.agent, team_id=args.team)
    if out.as_json:
        out.json({"deleted": deleted, "user_id": args.user, "agent_id": args.agent, "team_id": args.team})
    else:
        out.write(f"deleted {memories_text(deleted)} of {scope}")
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
    headers, rows = memory_rows([h.memory for h in hits])
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
    rows = [[s.user_id, str(s.total_memories), utc_time(s.last_memory_updated_at)] for s in stats]
    out.table(["USER", "MEMORIES", "LAST UPDATED (UTC)"], rows)
    out.note(f"{users_text(len(stats))}, {memories_text(sum(s.total_memories for s in stats))}")
    return 0


def _stats_dict(stats: UserStats) -> dict[str, Any]:
    return {
        "user_id": stats.user_id,
        "total_memories": stats.total_memories,
        "last_memory_updated_at": stats.last_memory_updated_at,
    }


def cmd_export(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Write memories as JSON Lines to a file (atomically) or to stdout (``-``)."""
    if args.include_orphans and args.user is not None:
        raise CliError("--include-orphans exports the memories with no user: it cannot go with --user")
    summary = export_memories(
        store, args.path, user_id=args.user, progress=out.progress, include_orphans=args.include_orphans
    )
    to_stdout = args.path == "-"
    if out.as_json and not to_stdout:
        out.json(summary.as_dict())
    else:
        where = "stdout" if to_stdout else args.path
        out.note(f"exported {memories_text(summary.exported)} of {users_text(summary.users)} to {where}")
    if summary.orphans and not args.include_orphans:
        out.note(
            f"{count_of(summary.orphans, 'memory has', 'memories have')} no user_id and "
            f"{'was' if summary.orphans == 1 else 'were'} not exported: add --include-orphans"
        )
    elif summary.orphans:
        out.note(f"{count_of(summary.orphans, 'memory', 'memories')} with no user_id included")
    if summary.unreadable:
        out.note(
            f"{count_of(summary.unreadable, 'unreadable memory was', 'unreadable memories were')} "
            "skipped: `langmem-agno doctor` lists and repairs them"
        )
    return 0


def cmd_import(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Import a JSON Lines file: check every line, then write in per-user batches."""
    summary = import_memories(
        store, args.path, default_user=args.user, batch_size=args.batch_size, progress=out.progress
    )
    if out.as_json:
        out.json(summary.as_dict())
    else:
        kept = summary.kept_existing
        kept_text = f" ({kept} with other content, left as stored)" if kept else ""
        out.write(
            f"imported {memories_text(summary.memories)} of {users_text(summary.users)} from {args.path}: "
            f"{summary.new} new, {summary.existing} already there{kept_text}"
        )
    return 0


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    """Run the end-to-end demo (extraction, storage and recall) with a model."""
    try:
        # Imported on demand, not at the top: the demo pulls in agent machinery
        # (LangChain, LangGraph) no other command needs, and every start would pay for it.
        demo = importlib.import_module("langmem_agno.testing.demo")
    except ModuleNotFoundError as exc:
        if exc.name != "langmem_agno.testing.demo":
            raise
        raise CliError("the demo is not part of this installation of langmem-agno") from exc
    if args.db_given is None:
        return int(demo.main(model=args.model))
    if is_mongo_uri(args.db_given):
        raise CliError("the demo keeps its memories in SQLite: give --db a file path, or leave it out")
    return int(demo.main(model=args.model, db=args.db_given))


def cmd_serve(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Serve AgentOS's memory API and the memory page over the store until Ctrl-C."""
    memory_server.serve(
        store,
        host=args.host,
        port=args.port,
        token=args.token,
        cors_origins=args.cors_origin or (),
        model=given_model(args),
    )
    return 0
