"""Keeping a scope's vectors current: embed the memories that have none or whose text changed.

Written as plans (generators of :func:`~langmem_agno.twins.twin` calls, see CONTRIBUTING.md),
so the retriever runs them with the sync methods or their async twins. Two callers:
the per-scope view, which checks every memory of the scope once per change, and the
database's own vector search (Atlas ``$vectorSearch``), which must not read the scope
per query: :func:`sync_changed` looks only at the memories changed since its last look.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

from langmem_agno.recall.dense import StoredVector, as_vectors, text_hash
from langmem_agno.recall.guard import EmbeddingsGuard
from langmem_agno.recall.index import RecallIndex
from langmem_agno.record import UserMemory, now_epoch_s
from langmem_agno.stores.types import MemoryFilter
from langmem_agno.twins import Call, twin

__all__ = ["EMBED_BATCH", "Plan", "embed_stale", "sync_changed"]

logger = logging.getLogger("langmem_agno.recall")
T = TypeVar("T")
#: A plan: yields typed calls, receives their results, returns ``T``.
Plan = Generator[Call[Any], Any, T]
#: Memories per call to the embeddings model: within what hosted providers take in one
#: request, and small enough that one call fits a time limit meant for a query.
EMBED_BATCH = 128
#: The clock the embedding time of one query is measured on (a test moves its own).
_clock: Callable[[], float] = time.monotonic


def embed_stale(
    guard: EmbeddingsGuard,
    index: RecallIndex,
    user_id: str,
    memories: Sequence[UserMemory],
    stored: dict[str, StoredVector],
) -> Plan[bool]:
    """Embed and save the ``memories`` whose vector in ``stored`` is missing or stale; update ``stored``.

    Missing: written by Agno, or before embeddings were on; stale: the text changed.
    They go to the model :data:`EMBED_BATCH` at a time, each batch saved as it comes,
    so a scope of thousands is embedded over a few queries even when the whole would
    take longer than the time limit of one call, and nothing embedded is embedded
    again. One query spends at most the guard's time limit on this: past it, the
    rest waits for the next query and this one ranks lexically.

    Returns:
        ``False`` when some memories still have no current vector: the embeddings model
        failed (the guard has logged it) or the query's time for embedding ran out.
    """
    # Each text hashed once: it says whether the stored vector is current and keys the new one.
    hashed = [(m, text_hash(m.memory)) for m in memories]
    stale = [(m, h) for m, h in hashed if (v := stored.get(m.memory_id)) is None or v.text_hash != h]
    deadline = None if guard.timeout is None else _clock() + guard.timeout
    for start in range(0, len(stale), EMBED_BATCH):
        if start and deadline is not None and _clock() >= deadline:
            logger.info(
                "embedded %d of %d memories of user %r for %s; the rest on the next queries",
                start,
                len(stale),
                user_id,
                guard.name,
            )
            return False
        batch = stale[start : start + EMBED_BATCH]
        raw = yield twin(guard.embed_documents, guard.aembed_documents)([m.memory for m, _ in batch])
        if raw is None:
            return False
        fresh = [
            (m.memory_id, StoredVector(h, v))
            for (m, h), v in zip(batch, as_vectors(raw, len(batch)), strict=True)
        ]
        owners = {m.memory_id: (m.agent_id, m.team_id) for m, _ in batch}
        yield twin(index.save_vectors, index.asave_vectors)(user_id, guard.name, fresh, owners)
        stored.update(fresh)
    return True


def sync_changed(guard: EmbeddingsGuard, index: RecallIndex, flt: MemoryFilter) -> Plan[bool]:
    """Give every memory of the scope changed since the last sync a current vector.

    One change check (the index's stamp) per call; when the scope changed, only the
    memories updated since the last sync are read (all of them the first time in a
    process). Deleted memories need nothing: their vectors no longer join a memory.

    Returns:
        ``False`` when the embeddings model failed (nothing is marked synced then).
    """
    stamp = yield twin(index.stamp, index.astamp)(flt)
    synced = index.vector_sync(flt, guard.name)
    if synced is not None and synced.stamp == stamp:
        return True
    since = None if synced is None else synced.mark
    started = now_epoch_s()
    changed: list[UserMemory] = yield twin(index.changed_since, index.achanged_since)(flt, since)
    if changed:
        stored: dict[str, StoredVector] = yield twin(index.load_vectors, index.aload_vectors)(
            flt.user_id, guard.name, [m.memory_id for m in changed], False
        )
        if not (yield from embed_stale(guard, index, flt.user_id, changed, stored)):
            return False
        # The server filters vectors by agent and team: a memory moved to another one, or a
        # vector written before they were kept, must carry the memory's own.
        owners = {m.memory_id: (m.agent_id, m.team_id) for m in changed}
        yield twin(index.keep_owners, index.akeep_owners)(flt.user_id, guard.name, owners)
    newest = max((m.updated_at or m.created_at for m in changed), default=since)
    # A memory stamped in the future (another writer's clock) must not hide the changes made
    # before that time: the mark never passes this sync's own start, and that memory is
    # looked at again each time, which costs one row.
    mark = None if newest is None else min(newest, started)
    index.mark_vector_sync(flt, guard.name, stamp, mark)
    return True
