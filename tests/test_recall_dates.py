"""Dates named in a question: resolved relative to now, and boosting memories created near them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from langmem_agno import MemoryRetriever, SQLiteMemoryStore, UserMemory
from langmem_agno.recall.dates import date_windows
from recall_helpers import ConceptEmbeddings

NOW = int(datetime(2024, 12, 3, 19, 0, tzinfo=UTC).timestamp())  # a Tuesday


def day(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


@pytest.mark.parametrize(
    ("question", "inside", "outside"),
    [
        ("What happened on 2023-07-30?", date(2023, 7, 30), date(2023, 8, 10)),
        ("How was my trip in July 2022?", date(2022, 7, 20), date(2022, 9, 1)),
        ("What did I cook last Tuesday?", date(2024, 11, 26), date(2024, 11, 10)),
        ("What did the vet find two weeks ago?", date(2024, 11, 19), date(2024, 10, 1)),
        ("Where did we go camping in summer 2024?", date(2024, 7, 15), date(2024, 10, 1)),
    ],
)
def test_a_named_date_becomes_a_window(question: str, inside: date, outside: date) -> None:
    (window,) = date_windows(question, NOW)
    assert day(window.start) <= inside < day(window.end)
    assert not day(window.start) <= outside < day(window.end)


@pytest.mark.parametrize(
    "question",
    [
        "What do I do for fun?",
        "May I ask what I like to eat?",
        "Do we have plans?",
        "Who is my second cousin?",
    ],
)
def test_most_questions_name_no_date(question: str) -> None:
    assert date_windows(question, NOW) == []


def _at(text: str, when: date) -> UserMemory:
    epoch = int(datetime(when.year, when.month, when.day, 12, tzinfo=UTC).timestamp())
    return UserMemory(memory=text, created_at=epoch, updated_at=epoch)


@pytest.mark.parametrize("ranking", ["lexical", "hybrid"])
def test_the_memory_from_the_named_date_comes_first(ranking: str) -> None:
    store = SQLiteMemoryStore(":memory:")
    store.add_many(
        [
            _at("The vet said Max needs a new diet", date(2024, 3, 2)),
            _at("The vet found an ear infection in Max", date(2024, 11, 19)),
            _at("The vet gave Max a vaccine", date(2024, 6, 10)),
        ],
        user_id="u1",
    )
    embeddings = ConceptEmbeddings() if ranking == "hybrid" else None
    retriever = MemoryRetriever(store=store, k=3, embeddings=embeddings, ranking=ranking, clock=lambda: NOW)
    docs = retriever.invoke("What did the vet say two weeks ago?", user_id="u1")
    assert docs[0].page_content == "The vet found an ear infection in Max"
    docs = retriever.invoke("What did the vet say in March 2024?", user_id="u1")
    assert docs[0].page_content == "The vet said Max needs a new diet"
