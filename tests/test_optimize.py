"""MemoryManager.optimize / aoptimize with scripted models, on every backend, sync and async.

The scripted model reads the ``[n] text`` lines it is shown and answers with the tool calls a
real model would make for those texts, so the aliases it uses are the ones the library showed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from conftest import BACKEND_MODES, StoreAPI
from langmem_agno import ExtractionError, MemoryManager, MemoryStore, ScriptedChatModel, UserMemory
from langmem_agno.extraction.optimize_calls import OPTIMIZE_MARKER

IDS = [f"{b}-{m}" for b, m in BACKEND_MODES]
LINE = re.compile(r"^\[(\d+)\] (.*?)(?: \(([^)]*)\))?$", re.MULTILINE)

# (text, topics, created_at, agent_id): duplicates, a rewording, a contradiction, distinct facts.
SEED: list[tuple[str, list[str] | None, int, str | None]] = [
    ("User likes green tea", ["food"], 1_000, None),
    ("User lives in Paris", ["home"], 1_100, None),
    ("User enjoys drinking green tea", ["drinks"], 1_200, None),
    ("User has a dog named Rex", ["pets"], 1_300, None),
    ("User moved to Berlin", ["home"], 1_400, None),
    ("User works as a nurse", None, 1_500, "coach"),
    ("User works night shifts", None, 1_600, "coach"),
]


def shown(messages: list[BaseMessage]) -> dict[str, str]:
    """The aliases the model was shown, by memory text."""
    system = str(messages[0].content)
    assert system.startswith(OPTIMIZE_MARKER)
    return {m.group(2): m.group(1) for m in LINE.finditer(system.split("Memories:\n", 1)[1])}


def call(name: str, n: int = 0, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"c{n}", "type": "tool_call"}


def merging_brain(messages: list[BaseMessage]) -> AIMessage:
    """Folds the tea rewording and the Paris/Berlin contradiction; leaves everything else."""
    a = shown(messages)
    calls = []
    if "User likes green tea" in a and "User enjoys drinking green tea" in a:
        ids = [a["User likes green tea"], a["User enjoys drinking green tea"]]
        calls.append(call("merge_memories", 1, ids=ids, memory="User likes drinking green tea"))
    if "User lives in Paris" in a and "User moved to Berlin" in a:
        ids = [a["User lives in Paris"], a["User moved to Berlin"]]
        calls.append(call("merge_memories", 2, ids=ids, memory="User lives in Berlin", topics=["moves"]))
    return AIMessage("", tool_calls=calls)


def summarizing_brain(messages: list[BaseMessage]) -> AIMessage:
    """Says every fact shown once, in one sentence."""
    a = shown(messages)
    text = "User " + "; ".join(t.removeprefix("User ") for t in a)
    return AIMessage("", tool_calls=[call("merge_memories", 1, ids=list(a.values()), memory=text)])


async def seed(api: StoreAPI, user_id: str = "u1") -> dict[str, UserMemory]:
    memories = [
        UserMemory(
            memory=text,
            topics=topics,
            created_at=t,
            updated_at=t,
            agent_id=agent,
            team_id="team",
            input="said",
        )
        for text, topics, t, agent in SEED
    ]
    stored = await api.add_many(memories, user_id=user_id)
    return {m.memory: m for m in stored}


async def optimize(api: StoreAPI, manager: MemoryManager, **kwargs: Any) -> Any:
    if api.mode == "sync":
        return manager.optimize(**kwargs)
    return await manager.aoptimize(**kwargs)


async def listing(api: StoreAPI, user_id: str = "u1") -> dict[str, UserMemory]:
    return {m.memory_id: m for m in (await api.list_memories(user_id=user_id)).items}


def manager_of(api: StoreAPI, responder: Callable[[list[BaseMessage]], AIMessage]) -> MemoryManager:
    return MemoryManager(ScriptedChatModel(responder=responder), api.store)


async def test_merge_folds_rewordings_and_contradictions_and_keeps_the_rest(api: StoreAPI) -> None:
    seeded = await seed(api)
    other_user = await seed(api, "u2")
    manager = manager_of(api, merging_brain)
    result = await optimize(api, manager, user_id="u1")
    assert result.applied and result.model_calls == 2  # one per agent: "coach" and none
    after = await listing(api)
    tea, paris = seeded["User likes green tea"], seeded["User lives in Paris"]
    # Each group keeps its earliest memory: id, created_at, agent, team, input; topics are the union.
    assert after[tea.memory_id].memory == "User likes drinking green tea"
    assert after[tea.memory_id].topics == ["food", "drinks"]
    assert after[paris.memory_id].memory == "User lives in Berlin"
    assert after[paris.memory_id].topics == ["home", "moves"]
    for kept in (tea, paris):
        got = after[kept.memory_id]
        assert (got.created_at, got.agent_id, got.team_id, got.input) == (
            kept.created_at,
            None,
            "team",
            "said",
        )
    # Distinct facts are untouched, to the second.
    for text in ("User has a dog named Rex", "User works as a nurse", "User works night shifts"):
        assert after[seeded[text].memory_id] == seeded[text]
    assert len(after) == 5
    assert result.memories_before == 7 and result.memories_after == 5
    assert result.chars_before == sum(len(t) for t, *_ in SEED)
    assert result.chars_after == sum(len(m.memory) for m in after.values())
    assert sorted(g.action for g in result.groups) == ["merge", "merge"]
    merged = next(g for g in result.groups if g.after and g.after.memory_id == tea.memory_id)
    assert [m.memory_id for m in merged.before] == [
        tea.memory_id,
        seeded["User enjoys drinking green tea"].memory_id,
    ]
    assert merged.after == after[tea.memory_id]
    # Another user's memories are another user's.
    assert {m.memory for m in (await listing(api, "u2")).values()} == set(other_user)


async def test_preview_plans_the_same_changes_and_writes_nothing(api: StoreAPI) -> None:
    await seed(api)
    before = await listing(api)
    manager = manager_of(api, merging_brain)
    preview = await optimize(api, manager, user_id="u1", preview=True)
    assert preview.preview and not preview.applied and preview.changed
    assert await listing(api) == before
    assert (preview.memories_before, preview.memories_after) == (7, 5)
    applied = await optimize(api, manager, user_id="u1")
    assert [g.as_dict()["before"] for g in preview.groups] == [g.as_dict()["before"] for g in applied.groups]
    assert [(m.memory_id, m.memory, m.topics) for m in preview.memories] == [
        (m.memory_id, m.memory, m.topics) for m in applied.memories
    ]


async def test_summarize_folds_each_agents_memories_into_one(api: StoreAPI) -> None:
    seeded = await seed(api)
    manager = manager_of(api, summarizing_brain)
    result = await optimize(api, manager, user_id="u1", strategy="summarize")
    after = await listing(api)
    # The coach's memories are summarised apart: a summary never moves a fact to another agent.
    assert sorted(m.agent_id or "" for m in after.values()) == ["", "coach"]
    first = seeded["User likes green tea"]
    summary = after[first.memory_id]
    facts = [
        "likes green tea",
        "lives in Paris",
        "enjoys drinking green tea",
        "has a dog named Rex",
        "moved to Berlin",
    ]
    assert summary.memory == "User " + "; ".join(facts)
    assert summary.created_at == first.created_at
    assert summary.topics == ["food", "home", "drinks", "pets"]
    assert result.memories_after == 2 and result.chars_after < result.chars_before


async def test_summarize_takes_another_round_over_batches(api: StoreAPI) -> None:
    await seed(api)
    cities = [
        UserMemory(memory=f"User visited city number {i} last spring", team_id="team") for i in range(12)
    ]
    await api.add_many(cities, user_id="u1")

    def counting_brain(messages: list[BaseMessage]) -> AIMessage:
        # A summary as short as a real one, saying how many original facts it covers.
        lines = LINE.findall(str(messages[0].content).split("Memories:\n", 1)[1])
        n = sum(
            int(m.group(1)) if (m := re.match(r"User summary of (\d+) facts", t)) else 1 for _, t, _ in lines
        )
        merge = call("merge_memories", 1, ids=[a for a, _, _ in lines], memory=f"User summary of {n} facts")
        return AIMessage("", tool_calls=[merge])

    # A budget that fits a few memories per call: several batches, then a round over their summaries.
    manager = manager_of(api, counting_brain)
    result = await optimize(api, manager, user_id="u1", strategy="summarize", batch_chars=300)
    assert result.model_calls >= 4
    after = sorted((m.agent_id or "", m.memory) for m in (await listing(api)).values())
    assert after == [("", "User summary of 17 facts"), ("coach", "User summary of 2 facts")]


async def test_a_contradicted_memory_is_rewritten_and_a_redundant_one_dropped(api: StoreAPI) -> None:
    old = await api.add(UserMemory(memory="User's daughter is 5", created_at=10, updated_at=10), user_id="u1")
    new = await api.add(
        UserMemory(memory="User's daughter turned 6", created_at=20, updated_at=20), user_id="u1"
    )

    def brain(messages: list[BaseMessage]) -> AIMessage:
        a = shown(messages)
        return AIMessage(
            "",
            tool_calls=[
                call("rewrite_memory", 1, id=a["User's daughter is 5"], memory="User's daughter is 6"),
                call("drop_memory", 2, id=a["User's daughter turned 6"]),
            ],
        )

    result = await optimize(api, manager_of(api, brain), user_id="u1")
    after = await listing(api)
    assert list(after) == [old.memory_id] and after[old.memory_id].memory == "User's daughter is 6"
    assert sorted(g.action for g in result.groups) == ["drop", "rewrite"]
    drop = next(g for g in result.groups if g.action == "drop")
    assert [m.memory_id for m in drop.before] == [new.memory_id] and drop.after is None


async def test_bad_calls_are_refused_and_nothing_else_is_lost(api: StoreAPI) -> None:
    seeded = await seed(api)
    theirs = await seed(api, "u2")
    their_id = theirs["User has a dog named Rex"].memory_id

    def brain(messages: list[BaseMessage]) -> AIMessage:
        a = shown(messages)
        if "User works as a nurse" in a:  # the coach's batch: garbage only
            return AIMessage(
                "I think these are fine!",
                invalid_tool_calls=[
                    {"name": "drop_memory", "args": "{id: 1", "id": "x", "error": "bad json"}
                ],
            )
        tea, dog = a["User likes green tea"], a["User has a dog named Rex"]
        return AIMessage(
            "",
            tool_calls=[
                call("drop_memory", 1, id="99"),  # never shown
                call("drop_memory", 2, id=their_id),  # another user's real id
                call("merge_memories", 3, ids=[dog, their_id], memory="User has two dogs"),
                call("merge_memories", 4, ids=[tea], memory="User likes tea"),  # one id
                call("merge_memories", 5, ids=[tea, tea], memory="User likes tea"),
                call("forget_everything", 6),
                call("rewrite_memory", 7, id=dog, memory="   "),
                call("rewrite_memory", 8, id=dog, memory="User has a dog named Rex"),  # no change
                call("drop_memory", 9, id=a["User enjoys drinking green tea"]),  # the one valid call
            ],
        )

    result = await optimize(api, manager_of(api, brain), user_id="u1")
    reasons = [r.reason for r in result.rejected]
    assert len(reasons) == 9, reasons
    assert any("unknown memory id '99'" in r for r in reasons)
    assert sum(their_id in r for r in reasons) == 2
    assert any("two or more ids" in r for r in reasons)
    assert any("named twice" in r for r in reasons)
    assert any("unknown tool 'forget_everything'" in r for r in reasons)
    assert any("not valid JSON" in r for r in reasons)
    assert any("unchanged" in r for r in reasons)
    after = await listing(api)
    assert set(after) == {m.memory_id for t, m in seeded.items() if t != "User enjoys drinking green tea"}
    assert {m.memory_id for m in (await listing(api, "u2")).values()} == {
        m.memory_id for m in theirs.values()
    }


async def test_a_failing_model_writes_nothing(api: StoreAPI) -> None:
    await seed(api)
    before = await listing(api)
    calls = {"n": 0}

    def brain(messages: list[BaseMessage]) -> AIMessage:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("model provider down")
        return merging_brain(messages)

    with pytest.raises(
        ExtractionError, match=r"user 'u1' failed calling the model \(batch 2 of 2\).*provider down"
    ):
        await optimize(api, manager_of(api, brain), user_id="u1")
    assert await listing(api) == before


async def test_equal_texts_fold_without_a_model_call(api: StoreAPI) -> None:
    first = await api.add(
        UserMemory(memory="User likes tea.", created_at=5, updated_at=5, topics=["a"]), user_id="u1"
    )
    await api.add(UserMemory(memory="user likes TEA", created_at=9, updated_at=9, topics=["b"]), user_id="u1")
    model = ScriptedChatModel(responses=[AIMessage("")])
    result = await optimize(api, MemoryManager(model, api.store), user_id="u1")
    assert result.model_calls == 0 and not model.calls
    (only,) = (await listing(api)).values()
    assert (only.memory_id, only.memory, only.topics, only.created_at) == (
        first.memory_id,
        "User likes tea.",
        ["a", "b"],
        5,
    )


async def test_nothing_to_do_writes_nothing(api: StoreAPI) -> None:
    await seed(api)
    before = await listing(api)
    result = await optimize(api, manager_of(api, lambda m: AIMessage("")), user_id="u1")
    assert not result.changed and not result.applied and result.memories_after == 7
    assert await listing(api) == before
    empty = await optimize(api, manager_of(api, lambda m: AIMessage("")), user_id="nobody")
    assert (empty.memories_before, empty.model_calls) == (0, 0)


def test_bad_arguments_are_named(store_factory: Any) -> None:
    store: MemoryStore = store_factory("sqlite-memory", "sync")
    manager = MemoryManager(ScriptedChatModel(), store)
    with pytest.raises(ValueError, match="strategy must be 'merge' or 'summarize', got 'squash'"):
        manager.optimize(user_id="u1", strategy="squash")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_chars"):
        manager.optimize(user_id="u1", batch_chars=3)
    with pytest.raises(ValueError, match="user_id"):
        manager.optimize(user_id="")


async def test_the_write_is_recorded_in_history_as_optimization(api: StoreAPI) -> None:
    seeded = await seed(api)
    await optimize(api, manager_of(api, merging_brain), user_id="u1")
    tea, reworded = seeded["User likes green tea"], seeded["User enjoys drinking green tea"]
    kept = await api.history(tea.memory_id, user_id="u1")
    assert [(e.event, e.path) for e in kept] == [("add", "api"), ("update", "optimization")]
    assert (kept[-1].old_memory, kept[-1].new_memory) == (
        "User likes green tea",
        "User likes drinking green tea",
    )
    gone = await api.history(reworded.memory_id, user_id="u1")
    assert [(e.event, e.path) for e in gone] == [("add", "api"), ("delete", "optimization")]
