"""A row recall's word index finds but our reads refuse is skipped there too, not fatal (SQLite FTS5)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langmem_agno import MemoryRetriever, SQLiteMemoryStore
from langmem_agno.recall.registry import recall_index
from langmem_agno.stores.types import MemoryFilter


def test_related_memories_skip_a_row_with_a_250_character_id(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    store.add("Sarah drinks green tea", user_id="u1")
    index = recall_index(store)
    index.ensure()  # the word index and its triggers exist before the foreign row is written
    with sqlite3.connect(db) as conn:  # what Agno, which has no id limit, can write
        conn.execute(
            "INSERT INTO agno_memories (memory_id, memory, user_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ("x" * 250, '"Sarah likes tea at noon"', "u1", 1, 1),
        )
    hits = index.related(MemoryFilter("u1"), "tea", 10)
    assert [m.memory for m in hits] == ["Sarah drinks green tea"]
    docs = MemoryRetriever(store=store).invoke("tea", user_id="u1")
    assert [d.page_content for d in docs] == ["Sarah drinks green tea"]
