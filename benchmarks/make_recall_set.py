"""Build and check benchmarks/recall_set.json from the hand-written data in recall_data_a/b.py.

Usage::

    python benchmarks/make_recall_set.py [--check]

Nothing here is generated: the memories and the labelled questions are written
out by hand in ``recall_data_a.py`` and ``recall_data_b.py``. This script only
turns them into JSON (memory ids ``<user>-<key>``, ISO dates, the date each
date question refers to) and checks the set mechanically:

* sizes: at least 10 users, 50 memories each, 200 questions, 40% paraphrase,
  20 date and 20 multi questions;
* paraphrase questions share no content word with any of their answers (text
  and topics), after lowercasing, stop-word removal and stemming, where two
  words are "shared" when they agree under either of two stemmers: a simple
  suffix stripper and SQLite FTS5's Porter stemmer (the library's tokenizer);
* lexical questions do share a content word with their answer;
* every answer was written before the question is asked;
* date questions name a date (ISO day, "July 2022", "summer 2024", "last
  Tuesday", "two weeks ago"), resolved against ``asked_at``; their answer was
  created in that window and another memory of the same user on the same
  topic lies outside it, so the date is what tells them apart;
* multi questions need at least two memories.

``--check`` rebuilds the set in memory and fails if the JSON on disk differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from recall_data_a import USERS_A
from recall_data_b import USERS_B

HERE = Path(__file__).resolve().parent
OUT = HERE / "recall_set.json"
KINDS = ("paraphrase", "lexical", "date", "multi")

# NLTK's English stop words, plus the modal verbs it lacks and contraction tails ("don't" -> "don", "t").
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just
    don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma mightn mustn needn
    shan shouldn wasn weren won wouldn would could might must shall may also""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+", re.UNICODE)


def simple_stem(word: str) -> str:
    """A small suffix stripper: plurals, -ing, -ed, -ly."""
    for suffix, repl, min_len in (
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ing", "", 6),
        ("ed", "", 5),
        ("ly", "", 5),
        ("es", "", 5),
        ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + repl
    return word


class Porter:
    """Porter stems as the library's FTS5 index makes them (``porter unicode61 remove_diacritics 2``)."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')"
        )
        self.conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")

    def stems(self, words: list[str]) -> set[str]:
        if not words:
            return set()
        self.conn.execute("DELETE FROM t")
        self.conn.execute("INSERT INTO t(x) VALUES (?)", (" ".join(words),))
        return {row[0] for row in self.conn.execute("SELECT term FROM v")}


PORTER = Porter()


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def shared_words(question: str, texts: list[str]) -> set[str]:
    """Content words of ``question`` that also occur (under either stemmer) in ``texts``."""
    q = content_words(question)
    other = [w for t in texts for w in content_words(t)]
    simple = {simple_stem(w) for w in other}
    porter = PORTER.stems(other)
    return {w for w in q if simple_stem(w) in simple or PORTER.stems([w]) & porter}


# ---------------------------------------------------------------- dates
_MONTH_NAMES = "january february march april may june july august september october november december"
MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def resolve_date(question: str, asked_at: datetime) -> tuple[date, date, str]:
    """Return the window (first day, last day) a question's date expression names, and the expression."""
    q = question.lower()
    today = asked_at.date()
    if m := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", q):
        d = date(int(m[1]), int(m[2]), int(m[3]))
        return d - timedelta(days=1), d + timedelta(days=1), m[0]
    if m := re.search(r"\b(" + "|".join(MONTHS) + r") (\d{4})\b", q):
        year, month = int(m[2]), MONTHS[m[1]]
        return date(year, month, 1), month_end(year, month), m[0]
    if m := re.search(r"\b(" + "|".join(SEASONS) + r") (\d{4})\b", q):
        first, last = SEASONS[m[1]]
        return date(int(m[2]), first, 1), month_end(int(m[2]), last), m[0]
    if m := re.search(r"\blast (" + "|".join(WEEKDAYS) + r")\b", q):
        back = (today.weekday() - WEEKDAYS.index(m[1])) % 7 or 7
        d = today - timedelta(days=back)
        return d, d + timedelta(days=1), m[0]
    if m := re.search(r"\b(" + "|".join(NUMBERS) + r") (day|week|month)s? ago\b", q):
        days = NUMBERS[m[1]] * {"day": 1, "week": 7, "month": 30}[m[2]]
        slack = {"day": 1, "week": 3, "month": 10}[m[2]]
        d = today - timedelta(days=days)
        return d - timedelta(days=slack), d + timedelta(days=slack), m[0]
    raise ValueError(f"no date expression in {question!r}")


# ---------------------------------------------------------------- parsing
@dataclass
class Problem:
    where: str
    what: str


def parse_users(raw_users: list[dict[str, str]]) -> tuple[list[dict], list[dict]]:
    users: list[dict] = []
    questions: list[dict] = []
    for raw in raw_users:
        uid = raw["user_id"]
        memories = []
        for line in raw["memories"].strip().splitlines():
            key, created, topics, text = (part.strip() for part in line.split("|"))
            date.fromisoformat(created)
            memories.append(
                {
                    "id": f"{uid}-{key}",
                    "memory": text,
                    "topics": [t.strip() for t in topics.split(",") if t.strip()],
                    "created_at": created,
                }
            )
        users.append({"user_id": uid, "memories": memories})
        for line in raw["questions"].strip().splitlines():
            parts = [part.strip() for part in line.split("|")]
            kind, answers, question = parts[:3]
            asked_at = parts[3] if len(parts) > 3 else raw["asked_at"]
            entry: dict = {
                "user_id": uid,
                "question": question,
                "answers": [f"{uid}-{a.strip()}" for a in answers.split(",")],
                "kind": kind,
                "asked_at": asked_at,
            }
            if kind == "date":
                first, last, expression = resolve_date(question, datetime.fromisoformat(asked_at))
                entry["date"] = first.isoformat()
                entry["date_end"] = last.isoformat()
                entry["date_expression"] = expression
            questions.append(entry)
    return users, questions


def check(users: list[dict], questions: list[dict]) -> tuple[list[Problem], dict[str, int]]:
    problems: list[Problem] = []
    by_id = {m["id"]: (u["user_id"], m) for u in users for m in u["memories"]}
    ids = [m["id"] for u in users for m in u["memories"]]
    if len(ids) != len(set(ids)):
        problems.append(Problem("memories", "duplicate ids"))
    counts = {k: sum(q["kind"] == k for q in questions) for k in KINDS}
    stats = {
        "users": len(users),
        "memories": len(ids),
        "min_memories_per_user": min(len(u["memories"]) for u in users),
        "questions": len(questions),
        **counts,
        "paraphrase_no_shared_word": 0,
    }
    for q in questions:
        where = f"{q['user_id']}: {q['question']}"
        if q["kind"] not in KINDS:
            problems.append(Problem(where, f"unknown kind {q['kind']}"))
        answers = []
        for a in q["answers"]:
            if a not in by_id or by_id[a][0] != q["user_id"]:
                problems.append(Problem(where, f"answer {a} is not a memory of this user"))
            else:
                answers.append(by_id[a][1])
        if len(set(q["answers"])) != len(q["answers"]):
            problems.append(Problem(where, "repeated answer"))
        asked = datetime.fromisoformat(q["asked_at"]).date()
        for m in answers:
            if date.fromisoformat(m["created_at"]) > asked:
                problems.append(Problem(where, f"{m['id']} is created after the question is asked"))
        texts = [m["memory"] for m in answers] + [t for m in answers for t in m["topics"]]
        shared = shared_words(q["question"], texts)
        if q["kind"] == "paraphrase":
            if shared:
                problems.append(Problem(where, f"paraphrase shares {sorted(shared)}"))
            else:
                stats["paraphrase_no_shared_word"] += 1
            if len(answers) != 1:
                problems.append(Problem(where, "a paraphrase question has one answer"))
        if q["kind"] == "lexical" and not shared_words(q["question"], [m["memory"] for m in answers]):
            problems.append(Problem(where, "lexical question shares no word with its answer"))
        if q["kind"] == "multi" and len(answers) < 2:
            problems.append(Problem(where, "multi question with fewer than two answers"))
        if q["kind"] == "date" and answers:
            first, last = date.fromisoformat(q["date"]), date.fromisoformat(q["date_end"])
            answer = answers[0]
            if not first <= date.fromisoformat(answer["created_at"]) <= last:
                problems.append(
                    Problem(where, f"{answer['id']} ({answer['created_at']}) not in {first}..{last}")
                )
            user = next(u for u in users if u["user_id"] == q["user_id"])
            rivals = [
                m
                for m in user["memories"]
                if m["id"] != answer["id"]
                and set(m["topics"]) & set(answer["topics"])
                and not first <= date.fromisoformat(m["created_at"]) <= last
            ]
            if not rivals:
                problems.append(Problem(where, "no same-topic memory outside the date window"))
    need = {
        "users": 10,
        "min_memories_per_user": 50,
        "memories": 500,
        "questions": 200,
        "date": 20,
        "multi": 20,
    }
    for key, minimum in need.items():
        if stats[key] < minimum:
            problems.append(Problem("sizes", f"{key} = {stats[key]} < {minimum}"))
    if stats["paraphrase"] < 0.4 * stats["questions"]:
        problems.append(Problem("sizes", "fewer than 40% paraphrase questions"))
    return problems, stats


def build() -> tuple[dict, list[Problem], dict[str, int]]:
    users, questions = parse_users([*USERS_A, *USERS_B])
    problems, stats = check(users, questions)
    data = {
        "description": (
            "Hand-written recall benchmark for langmem-agno: Agno-style third-person memories of "
            "several users and labelled first-person questions. kind: paraphrase (shares no content "
            "word with its answer), lexical, date (names a date; answer created in [date, date_end]), "
            "multi (needs every answer). Built and checked by benchmarks/make_recall_set.py."
        ),
        "stats": stats,
        "users": users,
        "questions": questions,
    }
    return data, problems, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if recall_set.json is not up to date")
    args = parser.parse_args()
    data, problems, stats = build()
    for p in problems:
        print(f"PROBLEM {p.where}: {p.what}")
    print(json.dumps(stats))
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.name} is out of date: run python benchmarks/make_recall_set.py")
            return 1
    elif not problems:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
