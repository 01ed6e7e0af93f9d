"""Export pages through a user's memories while others write: no memory that stays is left out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from langmem_agno import MemoryStore, UserMemory
from langmem_agno.cli.jsonl_export import iter_memories
from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import now_epoch_s


def _seed(store: MemoryStore, n: int) -> list[str]:
    # One second apart, oldest first, so the listing's order is the order written.
    base = now_epoch_s() - 10 * n
    records = [
        UserMemory(memory=f"memory {i:03d}", user_id="u1", created_at=base + i, updated_at=base + i)
        for i in range(n)
    ]
    return [m.memory_id for m in store.add_many(records, user_id="u1")]


def _export(store: MemoryStore, page_size: int, during: Callable[[int, UserMemory], None]) -> list[str]:
    out = []
    for i, memory in enumerate(iter_memories(store, "u1", page_size=page_size)):
        out.append(memory.memory_id)
        during(i, memory)
    return out


def test_an_update_of_a_memory_already_read_skips_nothing(store: MemoryStore) -> None:
    ids = _seed(store, 4)

    def edit_the_first(i: int, memory: UserMemory) -> None:
        if i == 0:
            store.update(ids[0], user_id="u1", memory="memory 000, edited")

    assert _export(store, 2, edit_the_first) == ids


def test_deletes_among_the_memories_read_skip_nothing_else(store: MemoryStore) -> None:
    ids = _seed(store, 30)
    deleted: list[str] = []

    def delete_behind(i: int, memory: UserMemory) -> None:
        # Five deletes of memories already exported per page of 4: more than a page's slack.
        if i % 4 == 3:
            for gone in ids[: i + 1]:
                if gone not in deleted and len(deleted) < 5 * (i // 4 + 1):
                    store.delete(gone, user_id="u1")
                    deleted.append(gone)

    exported = _export(store, 4, delete_behind)
    assert exported == ids  # each memory once, in order, the deleted ones as they were read
    assert len(deleted) == 28  # every memory read by the last page of 4 but the final two


def test_memories_added_and_changed_during_the_export_come_last_once(store: MemoryStore) -> None:
    ids = _seed(store, 10)
    added: list[str] = []

    def write(i: int, memory: UserMemory) -> None:
        if i == 2:
            store.update(ids[7], user_id="u1", memory="memory 007, edited")
            added.append(store.add("a new memory", user_id="u1").memory_id)

    exported = _export(store, 3, write)
    assert sorted(exported) == sorted([*ids, *added]) and len(exported) == len(set(exported))
    assert exported[:7] == ids[:7]


def test_page_size_is_checked(store: MemoryStore) -> None:
    with pytest.raises(InvalidMemoryError, match="page_size"):
        list(iter_memories(store, "u1", page_size=0))


@pytest.mark.parametrize("updated", [10, 7])
def test_updates_of_a_whole_page_already_read_skip_nothing(store: MemoryStore, updated: int) -> None:
    # The updated memories move to the end, behind the two not yet read: a page that starts among
    # them starts past those two, so a memory already exported proves nothing once it changed.
    ids = _seed(store, 12)

    def update_what_was_read(i: int, memory: UserMemory) -> None:
        if i == 9:
            for mid in ids[:updated]:
                store.update(mid, user_id="u1", memory=f"changed {mid}")

    exported = _export(store, 10, update_what_was_read)
    assert exported == ids
