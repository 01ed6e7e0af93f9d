"""SQLite bulk adds: each record encoded once, one multi-row INSERT in one transaction, nothing read back.

What each write sends is counted on the store's own connection (:mod:`sqlite_statements`: one
entry per execute or executemany). The speed beside Agno's ``upsert_memories`` is measured in
``benchmarks/bench_storage.py``, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langmem_agno import SQLiteMemoryStore, UserMemory
from langmem_agno.record import MEMORY_FIELDS
from sqlite_statements import Statement, StatementLog

TABLE = "agno_memories"


def _on_table(log: StatementLog) -> list[Statement]:
    """The statements that read or write the memory table itself, not its companions."""
    return [s for s in log.statements if f" {TABLE} " in s.sql + " " or f" {TABLE}(" in s.sql]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    made = SQLiteMemoryStore(tmp_path / "agno.db", secret_filter=False)
    made.add("warm-up", user_id="warm-up")
    yield made
    made.close()


def test_add_many_is_one_check_and_one_insert_statement_in_one_transaction(
    store: SQLiteMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[str] = []
    to_row = UserMemory.to_row

    def counting(self: UserMemory) -> dict[str, Any]:
        encoded.append(self.memory_id)
        return to_row(self)

    monkeypatch.setattr(UserMemory, "to_row", counting)
    log = StatementLog.install(store)
    added = store.add_many([f"User fact {i}" for i in range(500)], user_id="u1")
    assert sorted(encoded) == sorted(m.memory_id for m in added)  # each record encoded exactly once
    mine = _on_table(log)
    # The owners of the ids, then every row in one INSERT statement (each statement that fires the
    # word index's triggers flushes FTS5's pending terms); no SELECT of the rows afterwards.
    assert [(s.sql.split(" (")[0].split(" WHERE")[0], s.rows, s.values) for s in mine] == [
        (f"SELECT memory_id, user_id FROM {TABLE}", 1, 500),
        (f"INSERT INTO {TABLE}", 1, 500 * len(MEMORY_FIELDS)),
    ]
    assert log.names[0] == "BEGIN" and log.names.count("BEGIN") == log.names.count("COMMIT")
    first_commit = log.names.index("COMMIT")
    assert all(log.statements.index(s) < first_commit for s in mine)  # both in the first transaction
    # What add_many returns is what a read finds.
    assert {m.memory_id: m for m in store.list_memories(user_id="u1").items} == {
        m.memory_id: m for m in added
    }


def test_only_ids_already_stored_are_read_back(store: SQLiteMemoryStore) -> None:
    first = store.add(UserMemory(memory_id="m-1", memory="User likes tea", topics=["drink"]), user_id="u1")
    log = StatementLog.install(store)
    again = store.add_many(
        [
            UserMemory(memory_id="m-1", memory="User likes TEA"),
            UserMemory(memory_id="m-2", memory="User likes jam"),
        ],
        user_id="u1",
    )
    assert again[0] == first  # the stored memory, not the text of the retry
    assert again[1].memory == "User likes jam"
    # The owners' check, the one new row, and a read of the one id already stored.
    assert [s.sql.split(" (")[0].split(" WHERE")[0] for s in _on_table(log)] == [
        f"SELECT memory_id, user_id FROM {TABLE}",
        f"INSERT INTO {TABLE}",
        f"SELECT {', '.join(MEMORY_FIELDS)} FROM {TABLE}",
    ]
    changes = store.apply_changes(
        user_id="u1", adds=[UserMemory(memory_id="m-1", memory="x"), "User owns a kayak"]
    )
    assert changes.added[0] == first and changes.added[1].memory == "User owns a kayak"
    assert store.get(changes.added[1].memory_id, user_id="u1") == changes.added[1]


def test_a_batch_holding_another_users_id_writes_nothing(store: SQLiteMemoryStore) -> None:
    store.add(UserMemory(memory_id="a-1", memory="Alice's fact"), user_id="alice")
    with pytest.raises(ValueError, match="'a-1' is already in use"):
        store.add_many(
            [UserMemory(memory_id="b-1", memory="b"), UserMemory(memory_id="a-1", memory="x")], user_id="bob"
        )
    assert store.list_memories(user_id="bob").total == 0


def test_a_batch_larger_than_one_statement_binds_is_split_and_fully_indexed(
    store: SQLiteMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An old SQLite build binds at most 999 values: 120 rows of 10 columns take two statements.
    monkeypatch.setattr(store, "_max_params", 999)
    log = StatementLog.install(store)
    added = store.add_many([f"User fact n{i}x about kayaks" for i in range(120)], user_id="u1")
    inserts = [s for s in _on_table(log) if s.sql.startswith(f"INSERT INTO {TABLE}")]
    assert [s.values for s in inserts] == [99 * len(MEMORY_FIELDS), 21 * len(MEMORY_FIELDS)]
    # Written in order (rowid order is the order of same-second memories) and every row searchable.
    assert [m.memory_id for m in store.list_memories(user_id="u1", sort="asc").items] == [
        m.memory_id for m in added
    ]
    for i in (0, 98, 99, 119):  # each side of the split, by a word only that memory holds
        assert [h.memory.memory_id for h in store.search(f"n{i}x", user_id="u1")] == [added[i].memory_id]


def test_reads_by_id_of_a_large_batch_stay_within_the_bind_limit(
    store: SQLiteMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A retried batch reads back every id it already holds, and a change set reads its targets'
    # before-images, checks and deletes them by id: on a build that binds at most 999 values,
    # 1,200 ids take two statements each.
    monkeypatch.setattr(store, "_max_params", 999)
    added = store.add_many([f"User fact n{i}x about kayaks" for i in range(1200)], user_id="u1")
    log = StatementLog.install(store)
    assert store.add_many(added, user_id="u1") == added
    result = store.apply_changes(user_id="u1", deletes=[m.memory_id for m in added[:1100]])
    assert len(result.deleted) == 1100 and store.list_memories(user_id="u1").total == 100
    on_table = _on_table(log)
    assert len(on_table) > 4 and max(s.values for s in on_table) <= 999
