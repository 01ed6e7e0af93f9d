"""Hostile input: whatever a caller, a model or an import file sends is refused clearly or stored verbatim.

Property-based (hypothesis) over memory text, topics, ids, search text, tool
arguments and CLI import lines: Unicode, very long strings, NUL bytes, MongoDB
operator objects where a string belongs, regular-expression and SQL
metacharacters. Nothing is interpreted, and another user's memories never change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from langchain_core.tools import BaseTool

from langmem_agno import InvalidMemoryError, MemoryStore, SQLiteMemoryStore, UserMemory, create_memory_tools
from langmem_agno.cli import BadLineError, main, parse_memory_line
from langmem_agno.record import normalize_topics

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPERATORS: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$regex": ".*"},
    {"$where": "true"},
    {"$in": ["victim"]},
    ["victim"],
    123,
    None,
    True,
    b"victim",
]
SQL = ["' OR '1'='1", "victim'; DROP TABLE agno_memories; --", '"); DELETE FROM agno_memories; --', "%", "_"]
REGEX = [".*", "^", "(a+)+$", "[", "\\", "a|b", "$where", "(?i).*", "\\Q.*\\E"]
NASTY = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(SQL + REGEX + ["\x00", "a\x00b", "\u202e\u0000", "é" * 3, "🙂" * 5, " \t\n"]),
    st.text(min_size=1, max_size=5).map(lambda s: s * 1_000),
)
HOSTILE = st.one_of(
    NASTY, st.sampled_from(OPERATORS), st.dictionaries(st.sampled_from(["$ne", "$gt"]), NASTY)
)


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "mongo"])
def guarded(request: pytest.FixtureRequest, store_factory: Any) -> tuple[MemoryStore, list[UserMemory]]:
    """A store where the victim holds memories the tests must never see change."""
    store: MemoryStore = store_factory(request.param)
    victim = [
        store.add("Victim's bank is Acme", user_id="victim", topics=["bank"]),
        store.add("Victim lives in Oslo", user_id="victim", agent_id="a1"),
    ]
    return store, victim


def victim_intact(store: MemoryStore, victim: list[UserMemory]) -> None:
    assert store.list_memories(user_id="victim", sort="asc").items == sorted(
        victim, key=lambda m: (m.updated_at, victim.index(m))
    )


# ------------------------------------------------------------ memory text and topics
@SETTINGS
@given(text=HOSTILE, topics=st.one_of(st.none(), st.lists(HOSTILE, max_size=4), HOSTILE))
def test_memory_text_and_topics_are_refused_or_round_trip(
    guarded: tuple[MemoryStore, list[UserMemory]], text: Any, topics: Any
) -> None:
    store, victim = guarded
    try:
        added = store.add(text, user_id="attacker", topics=topics)
    except InvalidMemoryError as exc:
        assert str(exc)  # a clear, non-empty reason
    else:
        assert isinstance(text, str) and added.memory == text.strip()
        assert added.topics == normalize_topics(topics)
        got = store.get(added.memory_id, user_id="attacker")
        assert got == added
        assert store.get(added.memory_id, user_id="victim") is None
        store.delete(added.memory_id, user_id="attacker")
    victim_intact(store, victim)


# ------------------------------------------------------------ ids and scope arguments
@SETTINGS
@given(value=HOSTILE)
def test_hostile_ids_reach_no_other_user(guarded: tuple[MemoryStore, list[UserMemory]], value: Any) -> None:
    assume(value != "victim")  # the victim may of course reach their own memories
    store, victim = guarded
    target = victim[0].memory_id
    attempts = [
        lambda: store.get(value, user_id="attacker"),
        lambda: store.update(value, user_id="attacker", memory="owned"),
        lambda: store.delete(value, user_id="attacker"),
        lambda: store.delete_many([value, target], user_id="attacker"),
        lambda: store.list_memories(user_id=value),
        lambda: store.list_memories(user_id="attacker", agent_id=value),
        lambda: store.list_memories(user_id="attacker", topics=value),
        lambda: store.get(target, user_id=value),
        lambda: store.update(target, user_id=value, memory="owned"),
        lambda: store.delete(target, user_id=value),
        lambda: store.clear(user_id=value),
        lambda: store.clear(user_id="attacker", agent_id=value),
        lambda: store.search("bank", user_id=value),
        lambda: store.add(UserMemory(memory_id=target, memory="hijack"), user_id="attacker"),
    ]
    for attempt in attempts:
        try:
            outcome = attempt()
        except (InvalidMemoryError, KeyError) as exc:
            assert str(exc)
            continue
        except Exception as exc:  # pydantic refusing a bad id on UserMemory(...) is a clear error too
            assert "validation error" in str(exc), exc
            continue
        assert not outcome or outcome in (0, False) or _owned_by_caller(outcome, value)
    victim_intact(store, victim)


def _owned_by_caller(outcome: Any, user: Any) -> bool:
    items = getattr(outcome, "items", outcome)
    if isinstance(items, UserMemory):
        items = [items]
    if not isinstance(items, list):
        return False
    memories = [getattr(i, "memory", i) for i in items]
    return all(isinstance(m, UserMemory) and m.user_id in (user, "attacker") for m in memories)


# ------------------------------------------------------------ search text
@SETTINGS
@given(query=st.one_of(NASTY, st.sampled_from(REGEX + SQL)))
def test_search_text_is_matched_literally(guarded: tuple[MemoryStore, list[UserMemory]], query: str) -> None:
    store, victim = guarded
    store.add("Attacker likes apples", user_id="attacker")
    hits = store.search(query, user_id="attacker", limit=20)
    words = [w for w in re.findall(r"\w+", query.lower())]
    for hit in hits:
        assert hit.memory.user_id == "attacker"
        text_words = re.findall(r"\w+", hit.memory.memory.lower())
        # Every hit holds a query word as a literal word prefix: nothing matched through a pattern.
        assert any(tw.startswith(w) for w in words for tw in text_words)
    if not words:
        assert hits == []
    victim_intact(store, victim)


@pytest.mark.parametrize("query", [".*", "(?i).*", "^", "q.*", "' OR '1'='1", "%", "_", "$ne", "\x00"])
def test_metacharacter_queries_do_not_match_everything(store: MemoryStore, query: str) -> None:
    store.add("Zed owns a zebra", user_id="u1")
    store.add("Victim's secret plan", user_id="victim")
    assert store.search(query, user_id="u1") == []


def test_non_string_search_text_is_refused(store: MemoryStore) -> None:
    store.add("Victim's plan", user_id="victim")
    for query in OPERATORS:
        with pytest.raises(InvalidMemoryError, match="query must be a string"):
            store.search(query, user_id="victim")


# ------------------------------------------------------------ tool arguments
TOOL_ARGS = st.fixed_dictionaries(
    {},
    optional={
        "memory": HOSTILE,
        "memory_id": HOSTILE,
        "topics": st.one_of(HOSTILE, st.lists(HOSTILE, max_size=3)),
        "query": HOSTILE,
        "limit": st.one_of(st.integers(-5, 50), HOSTILE),
        "user_id": st.just("victim"),
        "agent_id": HOSTILE,
    },
)


@SETTINGS
@given(
    args=TOOL_ARGS, which=st.sampled_from(["add_memory", "update_memory", "delete_memory", "search_memories"])
)
def test_tool_arguments_are_refused_or_stored_verbatim(
    guarded: tuple[MemoryStore, list[UserMemory]], args: dict[str, Any], which: str
) -> None:
    store, victim = guarded
    tools: dict[str, BaseTool] = {t.name: t for t in create_memory_tools(store)}
    if which in ("update_memory", "delete_memory") and "memory_id" not in args:
        args = {**args, "memory_id": victim[0].memory_id}
    reply = tools[which].invoke(args, config={"configurable": {"user_id": "attacker"}})
    assert isinstance(reply, str) and reply
    if reply.startswith("Memory added"):
        assert "user_id" not in args and isinstance(args["memory"], str)
        stored = store.list_memories(user_id="attacker").items
        assert args["memory"].strip() in {m.memory for m in stored}
        store.clear(user_id="attacker")
    elif which != "search_memories":
        assert reply.startswith("Error"), reply
    else:
        # The attacker holds no memories here: a search finds nothing, whatever the query.
        assert reply.startswith(("Error", "No memories")), reply
    victim_intact(store, victim)


# ------------------------------------------------------------ CLI import lines
FIELD_VALUES = st.one_of(HOSTILE, st.integers(), st.lists(HOSTILE, max_size=3), st.none())
IMPORT_DOCS = st.dictionaries(
    st.sampled_from(["memory_id", "memory", "user_id", "topics", "agent_id", "created_at", "$where", "_id"]),
    FIELD_VALUES,
    max_size=6,
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@SETTINGS
@given(doc=IMPORT_DOCS, raw=st.binary(max_size=40))
def test_import_lines_are_refused_with_their_line_or_parsed_verbatim(doc: dict[str, Any], raw: bytes) -> None:
    line = json.dumps(_jsonable(doc)).encode()
    for candidate in (line, raw):
        try:
            memory = parse_memory_line(candidate, path="in.jsonl", line=7, default_user=None, max_chars=2_000)
        except BadLineError as exc:
            assert "in.jsonl: line 7: " in str(exc)
            continue
        if memory is None:
            assert not candidate.decode("utf-8").strip()
            continue
        parsed = json.loads(candidate)
        assert isinstance(parsed["memory_id"], str) and memory.memory_id == parsed["memory_id"]
        assert memory.memory == parsed["memory"].strip() and memory.user_id == parsed["user_id"]


@pytest.mark.parametrize(
    "line",
    [
        {"memory_id": {"$ne": None}, "memory": "x", "user_id": "victim"},
        {"memory_id": "m1", "memory": {"$set": {"memory": "owned"}}, "user_id": "attacker"},
        {"memory_id": "m1", "memory": "x", "user_id": {"$ne": None}},
        {"memory_id": "m1", "memory": "x", "user_id": "attacker", "$where": "1"},
        {"memory_id": "VICTIM_ID", "memory": "hijacked", "user_id": "attacker"},
    ],
)
def test_cli_import_of_a_hostile_line_changes_nothing(
    tmp_path: Path, line: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "agno.db"
    store = SQLiteMemoryStore(db)
    victim = store.add("Victim's bank is Acme", user_id="victim")
    path = tmp_path / "in.jsonl"
    good = {"memory_id": "ok-1", "memory": "Attacker likes tea", "user_id": "attacker"}
    hostile = json.dumps(line).replace("VICTIM_ID", victim.memory_id)
    path.write_text(json.dumps(good) + "\n" + hostile + "\n", encoding="utf-8")
    code = main(["--db", str(db), "import", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and "line 2" in err, err
    assert store.list_memories(user_id="victim").items == [victim]
    assert store.list_memories(user_id="attacker").total == 0  # checked whole before anything is written
    store.close()


@pytest.mark.parametrize("text", ["'; DROP TABLE agno_memories; --", "a\x00b", "🙂 École ﷽", "x" * 2_000])
def test_cli_add_stores_hostile_text_verbatim(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "agno.db"
    assert main(["--db", str(db), "--json", "add", "--user", "u1", text]) == 0
    added = json.loads(capsys.readouterr().out)
    store = SQLiteMemoryStore(db)
    assert [m.memory for m in store.list_memories(user_id="u1")] == [text] == [added["memory"]]
    store.close()


def test_huge_queries_are_searched_not_refused_by_the_database(store: MemoryStore) -> None:
    store.add("User owns a zebra named w7", user_id="u1")
    blob = "q" * 5_000  # one giant word: MongoDB caps $regex size
    many = " ".join(f"w{i}" for i in range(20_000))  # SQLite caps the bound parameters of one statement
    assert store.search(blob, user_id="u1") == []
    assert [h.memory.memory for h in store.search(many, user_id="u1")] == ["User owns a zebra named w7"]
