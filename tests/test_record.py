"""The memory record: validation, topic normalisation, and Agno's MongoDB document and SQLite row forms."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from langmem_agno import InvalidMemoryError, UserMemory
from langmem_agno.record import MEMORY_FIELDS, check_memory_text, normalize_topics

T = 1_700_000_000


def full(**overrides: Any) -> UserMemory:
    data: dict[str, Any] = {
        "memory_id": "m1",
        "memory": "Sarah prefers email",
        "topics": ["contact"],
        "input": "email me",
        "user_id": "u1",
        "agent_id": "a1",
        "team_id": "t1",
        "feedback": "ok",
        "created_at": T,
        "updated_at": T + 5,
    }
    data.update(overrides)
    return UserMemory(**data)


# ------------------------------------------------------------------ the model
def test_defaults() -> None:
    m = UserMemory(memory="x")
    assert len(m.memory_id) == 36
    assert m.updated_at == m.created_at
    assert (m.topics, m.input, m.user_id, m.agent_id, m.team_id, m.feedback) == (None,) * 6
    assert UserMemory(memory="x").memory_id != m.memory_id


def test_text_is_stripped_and_must_not_be_empty() -> None:
    assert UserMemory(memory="  fact \n").memory == "fact"
    # Built directly, pydantic wraps the check's error; the message still names the value.
    with pytest.raises(ValidationError, match="memory text is empty: '  '"):
        UserMemory(memory="  ")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="embedding"):
        UserMemory(memory="x", embedding=[0.1])  # type: ignore[call-arg]


def test_assignment_is_validated() -> None:
    m = UserMemory(memory="x")
    m.topics = [" A "]
    assert m.topics == ["a"]
    with pytest.raises(ValidationError, match="memory text is empty"):
        m.memory = ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T, T),
        (T * 1000 + 123, T),  # milliseconds
        (float(T) + 0.9, T),
        (datetime.fromtimestamp(T, tz=UTC), T),
        (datetime.fromtimestamp(T, tz=UTC).replace(tzinfo=None), T),  # naive = UTC
        ("2023-11-14T22:13:20+00:00", T),
        (str(T), T),
    ],
)
def test_timestamps_in_every_form_agno_has_written(value: Any, expected: int) -> None:
    assert UserMemory(memory="x", created_at=value).created_at == expected


@pytest.mark.parametrize("value", [True, "yesterday", [1]])
def test_bad_timestamps_name_the_value(value: Any) -> None:
    with pytest.raises(ValidationError, match="timestamp must be epoch seconds, got") as err:
        UserMemory(memory="x", created_at=value)
    assert repr(value) in str(err.value)


# ------------------------------------------------------------------ text and topics
def test_check_memory_text() -> None:
    assert check_memory_text(" a ", max_chars=1) == "a"
    assert check_memory_text("a" * 5000, max_chars=None) == "a" * 5000
    with pytest.raises(InvalidMemoryError, match=r"3 characters \('abc'\.\.\.\); the limit is 2"):
        check_memory_text("abc", max_chars=2)
    with pytest.raises(InvalidMemoryError, match="must be a string, got NoneType None"):
        check_memory_text(None)


def test_normalize_topics() -> None:
    raw = ["  Contact ", "EMAIL", "contact", "work   life", "", "  ", "Cafe\u0301"]
    assert normalize_topics(raw) == ["contact", "email", "work life", "café"]
    assert normalize_topics(("a", "b")) == ["a", "b"]
    assert normalize_topics(None) is None
    assert normalize_topics([]) == []


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ("contact", "topics must be a list of strings, got 'contact'"),
        (b"x", "topics must be a list of strings"),
        ({"a": 1}, "topics must be a list of strings"),
        (["a", None], "topic must be a string, got None"),
        (["x" * 65], "is 65 characters; the limit is 64"),
        ([f"t{i}" for i in range(21)], "21 topics given; the limit is 20"),
    ],
)
def test_bad_topics_name_the_value(topics: Any, message: str) -> None:
    with pytest.raises(InvalidMemoryError) as err:
        normalize_topics(topics)
    assert message in str(err.value)


def test_twenty_topics_after_dedup_are_fine() -> None:
    assert len(normalize_topics([f"t{i}" for i in range(20)] + ["T0", " t1 "]) or []) == 20


# ------------------------------------------------------------------ MongoDB documents
def test_to_document_has_exactly_the_ten_fields() -> None:
    doc = full().to_document()
    assert list(doc) == list(MEMORY_FIELDS)
    assert doc["memory"] == "Sarah prefers email"
    assert doc["topics"] == ["contact"]


def test_from_document_ignores_id_and_unknown_keys() -> None:
    doc = {"_id": object(), "lma_extra": 1, **full().to_document()}
    assert UserMemory.from_document(doc) == full()


def test_from_document_of_agnos_single_upsert() -> None:
    # What Agno's MongoDb.upsert_user_memory writes: no created_at, input or feedback.
    doc = {
        "_id": 1,
        "user_id": "u1",
        "agent_id": None,
        "team_id": None,
        "memory_id": "m1",
        "memory": "x",
        "topics": ["a"],
        "updated_at": T + 9,
    }
    m = UserMemory.from_document(doc)
    assert (m.created_at, m.updated_at, m.input, m.feedback) == (T + 9, T + 9, None, None)


def test_from_document_without_any_timestamp() -> None:
    m = UserMemory.from_document({"memory_id": "m1", "memory": "x"})
    assert (m.created_at, m.updated_at) == (0, 0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"memory_id": "m9", "memory": "   "}, "cannot read document 'm9': "),
        ({"memory_id": "m9"}, "cannot read document 'm9': "),
    ],
)
def test_unreadable_documents_name_the_memory(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidMemoryError) as err:
        UserMemory.from_document(doc)
    assert message in str(err.value)


# ------------------------------------------------------------------ SQLite rows
def test_to_row_json_encodes_memory_and_topics() -> None:
    row = full(memory='She said "ça va" \\ ok', topics=["été"]).to_row()
    assert list(row) == list(MEMORY_FIELDS)
    assert row["memory"] == '"She said \\"ça va\\" \\\\ ok"'
    assert json.loads(row["memory"]) == 'She said "ça va" \\ ok'
    assert row["topics"] == '["été"]'
    assert full(topics=None).to_row()["topics"] is None


def _sqlite_row(values: dict[str, Any]) -> sqlite3.Row:
    """A real ``sqlite3.Row`` (it has ``keys()`` but no ``in`` by name), as the store reads it."""
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    select = ", ".join(f"? AS {c}" for c in values)
    row: sqlite3.Row = con.execute(f"SELECT {select}", list(values.values())).fetchone()
    con.close()
    return row


def test_from_row_reads_agnos_json_columns() -> None:
    row = _sqlite_row({**full().to_row(), "memory": '"Caf\\u00e9 \\"x\\""', "topics": '["\\u00e9t\\u00e9"]'})
    m = UserMemory.from_row(row)
    assert (m.memory, m.topics) == ('Café "x"', ["été"])
    assert m == full(memory='Café "x"', topics=["été"])


def test_from_row_accepts_plain_text_and_missing_columns() -> None:
    row = _sqlite_row({"memory_id": "m1", "memory": "not json", "topics": None, "updated_at": T})
    m = UserMemory.from_row(row)
    assert (m.memory, m.topics, m.created_at, m.updated_at, m.user_id) == ("not json", None, T, T, None)
    for text in ("42", "true", "null", "[1, 2]"):
        assert UserMemory.from_row({"memory_id": "m2", "memory": text}).memory == text


def test_for_agno_builds_agnos_user_memory() -> None:
    m = full()
    agno = AgnoUserMemory(**m.for_agno())
    assert {f: getattr(agno, f) for f in MEMORY_FIELDS} == m.to_document()


# ------------------------------------------------------------------ round trips
_text = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() == s and s != "")
_ids = st.none() | st.text(min_size=1, max_size=30)
_topic = st.text(alphabet="abcdefghij é-", min_size=1, max_size=12).map(lambda s: " ".join(s.split()))
_memories = st.builds(
    UserMemory,
    memory_id=st.uuids().map(str),
    memory=_text,
    topics=st.none() | st.lists(_topic.filter(bool), max_size=5, unique=True),
    input=_ids,
    user_id=_ids,
    agent_id=_ids,
    team_id=_ids,
    feedback=_ids,
    created_at=st.integers(0, 4_000_000_000),
    updated_at=st.integers(0, 4_000_000_000),
)


@given(_memories)
def test_document_round_trip(m: UserMemory) -> None:
    assert UserMemory.from_document(m.to_document()) == m


@given(_memories)
def test_row_round_trip(m: UserMemory) -> None:
    assert UserMemory.from_row(m.to_row()) == m


def test_rows_and_documents_beyond_our_write_limits_stay_readable() -> None:
    """Agno has no topic limits: one such row must not make the user's memories unreadable."""
    many = [f"tag{i}" for i in range(25)]
    long_tag = "x" * 72
    doc = {
        "memory_id": "m1",
        "memory": "Sarah likes tea",
        "user_id": "u1",
        "topics": [*many, long_tag, 7],
        "updated_at": 5,
    }
    mem = UserMemory.from_document(doc)
    assert mem.topics == [*many, long_tag]  # kept verbatim, the non-string tag dropped
    assert UserMemory.from_document({**doc, "topics": "a"}).topics is None
    with pytest.raises(ValidationError, match="topics must be a list"):
        UserMemory(memory="Sarah likes tea", topics="a")  # built by hand: the write-time rules
    row = {**doc, "memory": '"Sarah likes tea"', "topics": json.dumps([*many, long_tag])}
    assert UserMemory.from_row(row).topics == [*many, long_tag]


def test_writes_still_enforce_topic_limits(tmp_path: Any) -> None:
    from langmem_agno import SQLiteMemoryStore

    with SQLiteMemoryStore(tmp_path / "a.db") as store:
        with pytest.raises(InvalidMemoryError, match="25 topics"):
            store.add("Sarah likes tea", user_id="u1", topics=[f"t{i}" for i in range(25)])
        with pytest.raises(InvalidMemoryError, match="the limit is 20"):
            # read from another writer's row, then written back through our store
            read = UserMemory.from_document(
                {"memory_id": "m1", "memory": "Sarah likes tea", "topics": [f"t{i}" for i in range(25)]}
            )
            store.add(read, user_id="u1")
        assert store.list_memories(user_id="u1").total == 0
