"""``langmem-agno doctor``: list, and with ``--fix`` repair, the stored rows that reads skip.

Another writer (Agno has none of our limits) can store a row that no read of ours
accepts: an empty text, a 250-character id, a field of the wrong type. Reads skip
such rows with a warning, so they never hide a user's other memories; this command
shows where they are and repairs them (:meth:`~langmem_agno.stores.base.MemoryStore.repair`).
"""

from __future__ import annotations

import argparse
import logging

from langmem_agno.cli.output import EXIT_FAILED, Output, count_of
from langmem_agno.errors import InvalidMemoryError, MemoryNotFoundError
from langmem_agno.stores import MemoryStore
from langmem_agno.stores.types import StoredRow

logger = logging.getLogger("langmem_agno.cli")


def _users_to_check(store: MemoryStore, user: str | None) -> list[str]:
    if user is not None:
        return [user]
    stats, _ = store.user_stats()
    return [s.user_id for s in stats if s.unreadable_memories]


def _describe(row: StoredRow) -> dict[str, object]:
    return {"user_id": row.user_id, "memory_id": row.memory_id, "reason": row.reason}


def cmd_doctor(store: MemoryStore, args: argparse.Namespace, out: Output) -> int:
    """List the unreadable rows (of one user, or of every user), and repair them with ``--fix``.

    Exits 0 when no unreadable row is left, 1 otherwise.
    """
    found: list[StoredRow] = []
    for user in _users_to_check(store, args.user):
        found += store.unreadable_rows(user_id=user)
    orphans = len(store.inspect_rows(user_id=None)) if args.user is None else 0
    repaired: list[dict[str, object]] = []
    left: list[StoredRow] = []
    for row in found:
        if not args.fix:
            left.append(row)
            continue
        try:
            if not isinstance(row.memory_id, str) or not isinstance(row.user_id, str):
                raise InvalidMemoryError(
                    "its memory_id or user_id is not text: delete it with the database's tools"
                )
            memory = store.repair(row.memory_id, user_id=row.user_id)
        except (InvalidMemoryError, MemoryNotFoundError) as exc:
            logger.warning("cannot repair memory %.80r of user %.80r: %s", row.memory_id, row.user_id, exc)
            left.append(row)
            continue
        repaired.append({**_describe(row), "now": None if memory is None else memory.memory_id})
    if out.as_json:
        out.json(
            {
                "unreadable": [_describe(r) for r in left],
                "repaired": repaired,
                "rows_without_user": orphans,
            }
        )
        return EXIT_FAILED if left else 0
    for row in left:
        out.write(f"user {row.user_id!r:.80}  memory {row.memory_id!r:.80}: {row.reason}")
    for fix in repaired:
        what = "deleted (it holds no text)" if fix["now"] is None else f"rewritten as {fix['now']}"
        out.write(f"user {fix['user_id']!r:.80}  memory {fix['memory_id']!r:.80}: {what}")
    if orphans:
        out.note(
            f"{count_of(orphans, 'row has', 'rows have')} no user_id: no user's reads see them; "
            "`export --include-orphans` writes them out, `import --user U` gives them an owner"
        )
    if left:
        hint = "" if args.fix else "; `doctor --fix` repairs them (or `delete ID --user U`)"
        out.note(f"{count_of(len(left), 'unreadable memory', 'unreadable memories')}{hint}")
        return EXIT_FAILED
    out.note("no unreadable memories" if not repaired else f"repaired {len(repaired)}")
    return 0
