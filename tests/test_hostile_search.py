"""Bounded cost: topics refused before any work; search capped in length and terms, by a word index.

The SQLite store's word search reads ``<table>_words``, an FTS5 index kept in step by triggers
(so rows Agno writes are found at once) and rebuilt when it drifts; each query term reads at
most the user's newest ``TERM_HITS_LIMIT`` rows holding it, so the cost does not grow with the
user's memory count. ``benchmarks/bench_search.py`` measures it at 100,000 memories.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from agno.db.sqlite import SqliteDb

from langmem_agno import InvalidMemoryError, MemoryStore, SQLiteMemoryStore, UserMemory
from langmem_agno.record import normalize_topics
from langmem_agno.stores.search import MAX_QUERY_CHARS, MAX_QUERY_TERMS, query_terms
from langmem_agno.stores.sqlite import TERM_HITS_LIMIT


class _Unread(list[str]):
    """A list of topics that fails the test if any of its items is looked at."""

    def __iter__(self) -> Any:
        raise AssertionError("a topic was read before the count was checked")

    def __getitem__(self, index: Any) -> Any:
        raise AssertionError("a topic was read before the count was checked")


def test_twenty_thousand_topics_are_refused_before_any_work() -> None:
    # The refusal reads the count only, so its cost cannot grow with the list.
    topics = _Unread(f"topic {i}" for i in range(20_000))
    with pytest.raises(InvalidMemoryError, match="20000 topics given"):
        normalize_topics(topics)
    # Duplicates within the raw bound are still forgiven, as before.
    assert normalize_topics(["a", "A", " a "] * 10) == ["a"]


def test_query_terms_are_capped_in_count_and_length() -> None:
    many = " ".join(f"w{i}" for i in range(100))
    assert query_terms(many) == [f"w{i}" for i in range(MAX_QUERY_TERMS)]
    assert query_terms("x" * (MAX_QUERY_CHARS - 2) + " tail") == ["x" * 100]
    assert query_terms("ab " * 1_000) == ["ab"]


def test_search_uses_only_the_first_terms(store: MemoryStore) -> None:
    store.add("User owns a zebra", user_id="u1")
    filler = " ".join(f"f{i}" for i in range(MAX_QUERY_TERMS))
    assert store.search(f"{filler} zebra", user_id="u1") == []
    assert [h.memory.memory for h in store.search(f"zebra {filler}", user_id="u1")] == ["User owns a zebra"]


def test_words_match_by_prefix_and_unicode(store: MemoryStore) -> None:
    store.add("User enjoys running and the Café Zoë", user_id="u1", topics=["sport_club"])
    for query in ("runni", "CAFÉ", "zoë", "sport_cl", "enjoy running"):
        assert [h.memory.topics for h in store.search(query, user_id="u1")] == [["sport_club"]], query
    assert store.search("unning", user_id="u1") == []  # a word's prefix, not any substring


def test_index_follows_agno_raw_sql_and_rebuilds_when_it_drifts(tmp_path: Path) -> None:
    path = tmp_path / "agno.db"
    store = SQLiteMemoryStore(path)
    agno = SqliteDb(db_file=str(path), memory_table="agno_memories")
    agno.upsert_user_memory(AgnoUserMemory(memory_id="a1", memory="User plays the oboe", user_id="u1"))
    assert [h.memory.memory_id for h in store.search("oboe", user_id="u1")] == ["a1"]
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM agno_memories WHERE memory_id = 'a1'")
        conn.execute(
            "INSERT INTO agno_memories (memory_id, memory, user_id, created_at, updated_at) "
            "VALUES ('r1', '\"User plays the tuba\"', 'u1', 1, 1)"
        )
    assert store.search("oboe", user_id="u1") == []
    assert [h.memory.memory_id for h in store.search("tuba", user_id="u1")] == ["r1"]
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM agno_memories_words")
    reopened = SQLiteMemoryStore(path)
    assert [h.memory.memory_id for h in reopened.search("tuba", user_id="u1")] == ["r1"]
    reopened.close()


def test_other_users_rows_never_crowd_out_a_users_matches(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db", secret_filter=False)
    store.add("User drinks green tea", user_id="quiet")
    store.add_many([f"Loud user fact {i} about tea" for i in range(TERM_HITS_LIMIT + 50)], user_id="loud")
    assert [h.memory.memory for h in store.search("tea", user_id="quiet")] == ["User drinks green tea"]
    hits = store.search("tea", user_id="loud", limit=5)
    assert [h.memory.memory for h in hits] == [
        f"Loud user fact {i} about tea" for i in range(TERM_HITS_LIMIT + 49, TERM_HITS_LIMIT + 44, -1)
    ]
    store.close()


def test_the_most_terms_matched_rank_first_at_scale(tmp_path: Path) -> None:
    store = SQLiteMemoryStore(tmp_path / "agno.db", secret_filter=False)
    best = store.add("User has a red bicycle and a blue kayak", user_id="u1")
    store.add_many(
        [UserMemory(memory=f"User has a red thing number {i}") for i in range(1_000)], user_id="u1"
    )
    hits = store.search("red kayak", user_id="u1", limit=3)
    assert hits[0].memory.memory_id == best.memory_id and hits[0].matched_terms == ("red", "kayak")
    store.close()


HUGE_QUERIES = ["x" * 100_000, " ".join(["common"] * 50_000), " ".join(map(str, range(9_999)))]


@pytest.mark.parametrize("query", HUGE_QUERIES)
def test_huge_queries_reach_the_database_bounded(
    store_factory: Any, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: MemoryStore = store_factory("sqlite-file")
    store.add("User likes common ground", user_id="u1")
    asked: list[list[str]] = []
    search = store._search

    def spy(flt: Any, terms: Any, limit: int) -> Any:
        asked.append(list(terms))
        return search(flt, terms, limit)

    monkeypatch.setattr(store, "_search", spy)
    store.search(query, user_id="u1")
    # What the database is asked is bounded whatever the query's length (the cost is in bench_search.py).
    # (One word of 100,000 letters is cut, not searched for as a prefix: nothing is asked then.)
    assert len(asked) == (0 if query == HUGE_QUERIES[0] else 1)
    assert all(len(terms) <= MAX_QUERY_TERMS and sum(map(len, terms)) <= MAX_QUERY_CHARS for terms in asked)
