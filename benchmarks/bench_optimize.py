"""What optimisation does to a user's memory block: memories, characters and tokens before and after.

A realistic long-lived user is seeded on SQLite: distinct facts, exact repeats (other case or
punctuation), rewordings of one fact, and contradictions (an old fact and its newer
replacement), an hour apart. A scripted model plays the optimiser: it
knows which seeded texts say the same fact (the seeder's ground truth), and answers the
batch it is shown the way a good model would (merge the rewordings into the fact's plainest
wording, keep the newest of a contradiction; for "summarize", one sentence of every distinct
current fact). The model answers at once, so the times are the library's own.

Printed, in one run, for: nothing (the baseline: the memories as they are), equal texts only
(a model that proposes nothing, so only the no-model fold of equal texts), "merge" and
"summarize":

* memories and characters of their texts, and tokens estimated at 4 characters a token;
* the memory block recall puts in the system prompt (``render_memories`` with a budget large
  enough for every memory), in characters and estimated tokens: what each model call of the
  agent pays for memory;
* model calls, and the library's wall time per optimisation (median of ``--runs``).

Then the cost of the duplicate check the memory tools make before an add (one bounded word
search), at 1,000 and 10,000 memories of the user: the store's plain ``add``, the search alone,
the ``add_memory`` tool's whole call (LangChain's tool machinery included) without the check (the
baseline: a private tool in a run naming no agent, which skips it), with it for a new memory, and
for a refused duplicate.

Run: ``python benchmarks/bench_optimize.py [--runs 5] [--batch-chars 12000] [--adds 200]`` (a small
``--batch-chars`` shows several calls, and "summarize" in rounds).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from langmem_agno import MemoryManager, ScriptedChatModel, SQLiteMemoryStore, UserMemory, create_memory_tools
from langmem_agno.extraction.duplicates import DUPLICATE_SEARCH_LIMIT
from langmem_agno.extraction.optimize_result import CHARS_PER_TOKEN
from langmem_agno.extraction.prompt import search_query
from langmem_agno.recall.render import render_memories

# (kind, verb of the plain wording, verb of a rewording, values): one distinct fact per value.
KINDS = [
    ("likes", "likes", "really enjoys", ["green tea", "jazz", "hiking", "sushi", "tennis", "crime novels",
                                         "chess", "salsa", "board games", "gardening", "yoga", "opera"]),
    ("visited", "has visited", "has been to", ["Paris", "Lisbon", "Oslo", "Vienna", "Prague", "Kyoto"]),
    ("speaks", "speaks", "can speak", ["French", "Spanish", "German", "Japanese"]),
    ("owns", "owns", "has", ["a road bike", "a cat named Miso", "an electric car", "a sailing boat"]),
    ("dislikes", "dislikes", "does not like", ["olives", "horror films", "early meetings", "loud bars"]),
]  # fmt: skip
# (kind, old value, new value): an old fact, later replaced.
CHANGES = [
    ("lives in", "Paris", "Berlin"),
    ("works as", "a nurse", "a data analyst"),
    ("is training for", "a 10 km race", "a half marathon"),
    ("drives", "a diesel car", "an electric car"),
]
LINE = re.compile(r"^\[(\d+)\] (.*?)(?: \(([^)]*)\))?$", re.MULTILINE)

Fact = tuple[str, str]  # (kind, value)


def seed_user() -> tuple[list[UserMemory], dict[str, Fact]]:
    """The memories, oldest first, and the fact each text states (the ground truth)."""
    memories: list[UserMemory] = []
    fact_of: dict[str, Fact] = {}
    t = 1_700_000_000

    def add(text: str, fact: Fact, topic: str) -> None:
        nonlocal t
        t += 3_600
        memories.append(UserMemory(memory=text, topics=[topic], created_at=t, updated_at=t))
        fact_of[text] = fact

    n = 0
    for kind, verb, other, values in KINDS:
        for value in values:
            add(f"User {verb} {value}", (kind, value), kind)
            if n % 3 == 0:  # the same fact, reworded
                add(f"User {other} {value}", (kind, value), kind)
            if n % 4 == 0:  # the same fact, word for word, other case and punctuation
                add(f"user {verb} {value}.", (kind, value), kind)
            n += 1
    for kind, old, new in CHANGES:  # a contradiction: the newer fact is the true one
        add(f"User {kind} {old}", (kind, "?"), "changes")
        add(f"User {kind} {new} now", (kind, "?"), "changes")
    return memories, fact_of


def current_text(fact: Fact) -> str:
    """The plainest wording of a fact as it is now."""
    kind, value = fact
    for k, new in ((k, new) for k, _, new in CHANGES):
        if k == kind:
            return f"User {kind} {new}"
    verb = next(v for k, v, _, _ in KINDS if k == kind)
    return f"User {verb} {value}"


def shown(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    block = str(messages[0].content).split("Memories:\n", 1)[1]
    return [(m.group(1), m.group(2)) for m in LINE.finditer(block)]


def merging(fact_of: dict[str, Fact]) -> Callable[[list[BaseMessage]], AIMessage]:
    """Merges what states one fact into its current, plainest wording; leaves the rest."""

    def brain(messages: list[BaseMessage]) -> AIMessage:
        groups: dict[Fact, list[str]] = {}
        for alias, text in shown(messages):
            if text in fact_of:
                groups.setdefault(fact_of[text], []).append(alias)
        calls = [
            {"name": "merge_memories", "args": {"ids": ids, "memory": current_text(fact)}, "id": f"c{n}"}
            for n, (fact, ids) in enumerate(groups.items())
            if len(ids) > 1
        ]
        return AIMessage("", tool_calls=calls)

    return brain


def summarizing(fact_of: dict[str, Fact]) -> Callable[[list[BaseMessage]], AIMessage]:
    """One concise sentence of every current fact shown (a summary's own facts included)."""
    written: dict[str, list[Fact]] = {}

    def brain(messages: list[BaseMessage]) -> AIMessage:
        lines = shown(messages)
        facts: dict[Fact, None] = {}
        for _, text in lines:
            for fact in written.get(text) or ([fact_of[text]] if text in fact_of else []):
                facts[fact] = None
        clauses = []
        for kind, verb, _, _ in KINDS:
            values = [v for k, v in facts if k == kind]
            if values:
                clauses.append(f"{verb} {', '.join(values)}")
        clauses += [current_text(f).removeprefix("User ") for f in facts if f[1] == "?"]
        text = "User " + "; ".join(clauses)
        written[text] = list(facts)
        merge = {"name": "merge_memories", "args": {"ids": [a for a, _ in lines], "memory": text}, "id": "c1"}
        return AIMessage("", tool_calls=[merge])

    return brain


def block_chars(memories: list[UserMemory]) -> int:
    return len(render_memories(memories, max_memories=10_000, max_chars=10_000_000))


def tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def run_once(
    responder: Callable[[list[BaseMessage]], AIMessage] | None, strategy: str, batch_chars: int
) -> tuple[list[UserMemory], list[UserMemory], int, float]:
    memories, _ = seed_user()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteMemoryStore(Path(tmp) / "agno.db")
        store.add_many(memories, user_id="u1")
        before = store.list_memories(user_id="u1").items
        if responder is None:
            store.close()
            return before, before, 0, 0.0
        model = ScriptedChatModel(responder=responder)
        manager = MemoryManager(model, store)
        start = time.perf_counter()
        result = manager.optimize(user_id="u1", strategy=strategy, batch_chars=batch_chars)  # type: ignore[arg-type]
        if result.rejected:
            raise SystemExit(f"{strategy}: the library refused {result.rejected}")
        seconds = time.perf_counter() - start
        after = store.list_memories(user_id="u1").items
        store.close()
        return before, after, result.model_calls, seconds


def _median_ms(fn: Callable[[int], object], calls: int) -> float:
    times = []
    for i in range(calls):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _add_costs(size: int, calls: int) -> tuple[float, float, float, float, float]:
    """Median ms of: store.add, the word search alone, a tool add unchecked, checked, refused."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteMemoryStore(Path(tmp) / "agno.db")
        words = [w for _, _, _, values in KINDS for w in values]
        notes = [
            f"User note {i}: {words[i % len(words)]} and {words[(i * 7) % len(words)]}" for i in range(size)
        ]
        store.add_many(notes, user_id="u1")
        tool = create_memory_tools(store, include=["add"])[0]
        # Private tools in a run naming no agent skip the check (see AddMemoryTool): the same
        # call through the same machinery, without the search.
        unchecked = create_memory_tools(store, include=["add"], private_to_agent=True)[0]
        config: Any = {"configurable": {"user_id": "u1"}}
        plain = _median_ms(lambda i: store.add(f"User plain fact number {i} of {size}", user_id="u1"), calls)
        # The search the check makes: the text's content words, DUPLICATE_SEARCH_LIMIT hits.
        probe = [search_query([f"User probe fact number {i}"]) for i in range(calls)]
        search = _median_ms(
            lambda i: store.search(probe[i], user_id="u1", limit=DUPLICATE_SEARCH_LIMIT), calls
        )
        bare = _median_ms(lambda i: unchecked.invoke({"memory": f"User bare fact {i}"}, config=config), calls)
        added = _median_ms(
            lambda i: tool.invoke({"memory": f"User tool fact number {i}"}, config=config), calls
        )
        refused = _median_ms(
            lambda i: tool.invoke({"memory": f"user tool fact number {i}."}, config=config), calls
        )
        store.close()
    return plain, search, bare, added, refused


def duplicate_check_cost(sizes: tuple[int, ...], calls: int) -> None:
    """The memory tool's add (word search for a duplicate, then the add) beside the store's plain add."""
    print()
    print(f"the add_memory tool's duplicate check, SQLite file: median ms per call over {calls} calls")
    heads = [
        ("memories", 9),
        ("store.add", 10),
        ("search", 8),
        ("tool, no check", 15),
        ("tool", 8),
        ("tool, dup", 10),
    ]
    print("".join(f"{h:>{w + 1}}" for h, w in heads)[1:])
    for size in sizes:
        plain, search, bare, added, refused = _add_costs(size, calls)
        print(f"{size:>9} {plain:>10.2f} {search:>8.2f} {bare:>15.2f} {added:>8.2f} {refused:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="optimisations timed per row (default: 5)")
    parser.add_argument(
        "--batch-chars", type=int, default=12_000, help="characters shown per model call (default: 12000)"
    )
    parser.add_argument("--adds", type=int, default=200, help="adds timed per size for the duplicate check")
    args = parser.parse_args()
    memories, fact_of = seed_user()
    rows: list[tuple[str, Callable[[list[BaseMessage]], AIMessage] | None, str]] = [
        ("nothing (baseline)", None, "merge"),
        ("equal texts only", lambda m: AIMessage(""), "merge"),
        ("merge", merging(fact_of), "merge"),
        ("summarize", summarizing(fact_of), "summarize"),
    ]
    distinct = len(set(fact_of.values()))
    print(
        f"one user on a SQLite file: {len(memories)} memories stating {distinct} facts (repeats, rewordings,"
    )
    print(f"contradictions); batch_chars={args.batch_chars}; a scripted model that answers at once")
    cols = ["memories", "chars", "~tokens", "block chars", "~block tok", "calls", "ms"]
    widths = [9, 7, 8, 12, 11, 6, 8]
    print(" " * 20 + "".join(f" {c:>{w}}" for c, w in zip(cols, widths, strict=True)))
    for name, responder, strategy in rows:
        times = []
        for _ in range(args.runs if responder is not None else 1):
            _, after, calls, seconds = run_once(responder, strategy, args.batch_chars)
            times.append(seconds)
        chars = sum(len(m.memory) for m in after)
        block = block_chars(after)
        ms = statistics.median(times) * 1000
        cells = [len(after), chars, tokens(chars), block, tokens(block), calls]
        print(
            f"{name:20}" + "".join(f" {c:>{w}}" for c, w in zip(cells, widths, strict=False)) + f" {ms:>8.1f}"
        )

    duplicate_check_cost((1_000, 10_000), args.adds)


if __name__ == "__main__":
    main()
