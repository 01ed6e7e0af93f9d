"""``langmem-agno optimize``: fold a user's memories into fewer with a model, or preview it.

Extraction (and so LangChain) is loaded only by this command, by name, so every other command
starts without it.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import TYPE_CHECKING

from langmem_agno.cli.output import EXIT_USAGE, CliError, Output, memories_text, memory_dict
from langmem_agno.stores import MemoryStore

if TYPE_CHECKING:
    from langmem_agno.extraction.optimize_result import OptimizedGroup

__all__ = ["MODEL_ENV", "add_optimize_arguments", "cmd_optimize", "given_model"]

#: The model ``optimize`` uses when ``--model`` is not given.
MODEL_ENV = "LANGMEM_AGNO_MODEL"


def add_optimize_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``optimize`` (its ``--user`` is added by the caller, like every command's)."""
    parser.add_argument(
        "--strategy",
        choices=["merge", "summarize"],
        default="merge",
        help="merge: fold duplicates and contradictions only (default); summarize: all into one (Agno's)",
    )
    parser.add_argument("--preview", action="store_true", help="show the planned changes; write nothing")
    parser.add_argument(
        "--model",
        metavar="SPEC",
        default=None,
        help=f"the chat model, e.g. openai:gpt-4o-mini (default: ${MODEL_ENV})",
    )
    parser.add_argument("--agent", metavar="AGENT", help="only this agent's memories")
    parser.add_argument("--team", metavar="TEAM", help="only this team's memories")


def given_model(args: argparse.Namespace) -> str | None:
    """The model spec of ``--model``, else of ``$LANGMEM_AGNO_MODEL``; ``None`` when neither is set."""
    return args.model or os.environ.get(MODEL_ENV) or None


def _model_spec(args: argparse.Namespace) -> str:
    spec = given_model(args)
    if not spec:
        raise CliError(
            f"optimize needs a chat model: pass --model SPEC (e.g. openai:gpt-4o-mini) or set ${MODEL_ENV}",
            EXIT_USAGE,
        )
    return str(spec)


def cmd_optimize(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """Optimise one user's memories (or preview it) and report before and after."""
    # By name: extraction pulls in LangChain, which no other command needs.
    manager = importlib.import_module("langmem_agno.extraction.manager").MemoryManager(
        _model_spec(args), store
    )
    result = manager.optimize(
        user_id=args.user,
        agent_id=args.agent,
        team_id=args.team,
        strategy=args.strategy,
        preview=args.preview,
    )
    if out.as_json:
        out.json(
            {
                **result.summary(),
                "groups": [g.as_dict() for g in result.groups],
                "memories": [memory_dict(m) for m in result.memories],
            }
        )
        return 0
    for group in result.groups:
        _write_group(out, group)
    verb = "would change" if result.preview else "changed"
    out.write(
        f"{args.user}: {memories_text(result.memories_before)} -> {memories_text(result.memories_after)}, "
        f"{result.chars_before} -> {result.chars_after} characters "
        f"(about {result.tokens_before} -> {result.tokens_after} tokens); "
        f"{len(result.groups)} {'group' if len(result.groups) == 1 else 'groups'} {verb}"
        + (" (preview: nothing written)" if result.preview else "")
    )
    for rejected in result.rejected:
        out.note(f"refused {rejected.tool}: {rejected.reason}")
    return 0


def _write_group(out: Output, group: OptimizedGroup) -> None:
    out.write(f"{group.action}:")
    for memory in group.before:
        out.write(f"  - {memory.memory_id}  {memory.memory}")
    if group.after is not None:
        out.write(f"  = {group.after.memory_id}  {group.after.memory}")
