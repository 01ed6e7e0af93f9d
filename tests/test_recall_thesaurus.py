"""Related words in recall: WordNet through NLTK (real data, Debian's), custom thesauri, failures."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from langmem_agno import ConfigurationError, MemoryRetriever, SQLiteMemoryStore, Thesaurus, WordNetThesaurus
from langmem_agno.agents.injection import MemoryInjector
from langmem_agno.agents.middleware import MemoryMiddleware
from langmem_agno.recall.thesaurus import EXPANSION_WEIGHT, expansion_terms
from langmem_agno.recall.view import stems
from recall_helpers import ConceptEmbeddings
from wordnet_data import nltk_data

WIFE = "Ahmed's wife Fatima teaches Arabic at a community school"
SISTER = "Kwame's sister Ama is a doctor in Kumasi"
OTHERS = [
    "Ahmed is building a kitchen extension at the back of his house",
    "Ahmed's son Yusuf started a mechanical engineering degree at Sheffield",
    "Ahmed fasts during Ramadan and avoids lunch meetings that month",
    "Ahmed leased a hybrid Toyota RAV4 to cut his fuel costs",
    "Ahmed supports Liverpool and watches every match at the pub",
    "Ahmed's job is project manager at a construction firm",
]


@pytest.fixture(scope="session")
def wordnet(tmp_path_factory: pytest.TempPathFactory) -> WordNetThesaurus:
    """WordNet 3.0 from Debian's packages, laid out as NLTK data."""
    return WordNetThesaurus(data_dir=str(nltk_data(tmp_path_factory)))


def ahmed() -> SQLiteMemoryStore:
    store = SQLiteMemoryStore(":memory:")
    for text in [WIFE, *OTHERS]:
        store.add(text, user_id="ahmed")
    store.add("Tom's wife Jane is a teacher", user_id="tom")
    return store


def test_wordnet_knows_narrower_and_broader_nouns(wordnet: WordNetThesaurus) -> None:
    assert {"wife", "husband"} <= set(wordnet.related("spouse"))
    assert "spouse" in wordnet.related("wife")
    assert "car" in wordnet.related("automobile")  # a synonym
    assert {"granddaughter", "grandson"} <= set(wordnet.related("grandchildren"))  # a plural, through morphy
    assert wordnet.related("zxqv") == ()
    assert all("_" not in w and " " not in w for w in wordnet.related("spouse"))
    assert "spouse" not in wordnet.related("spouse")


def test_the_lexicon_adds_related_terms_at_their_weight(wordnet: WordNetThesaurus) -> None:
    terms = expansion_terms("What is my spouse's job?", wordnet, stems)
    assert terms["wife"] == EXPANSION_WEIGHT
    assert "job" not in terms and "spous" not in terms  # the question's own words count in full
    assert expansion_terms("What is my spouse's job?", wordnet, stems, weight=0.5)["wife"] == 0.5


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_renamed_relation_is_found_lexically(wordnet: WordNetThesaurus, mode: str) -> None:
    question = "Anything I should know about my spouse?"
    store = ahmed()
    plain = MemoryRetriever(store=store, k=2)
    expanded = MemoryRetriever(store=store, k=2, thesaurus=wordnet)
    if mode == "sync":
        before, after = plain.invoke(question, user_id="ahmed"), expanded.invoke(question, user_id="ahmed")
    else:
        before = await plain.ainvoke(question, user_id="ahmed")
        after = await expanded.ainvoke(question, user_id="ahmed")
    assert before == []  # no memory says "spouse"
    assert [d.page_content for d in after] == [WIFE]  # Tom's wife is another user's


def test_hybrid_blends_the_expanded_bm25(wordnet: WordNetThesaurus) -> None:
    store = ahmed()
    retriever = MemoryRetriever(store=store, k=3, embeddings=ConceptEmbeddings(), thesaurus=wordnet)
    assert retriever.mode == "hybrid"
    assert WIFE in [d.page_content for d in retriever.invoke("What does my spouse do?", user_id="ahmed")]


def test_the_middleware_passes_its_thesaurus_to_recall(wordnet: WordNetThesaurus) -> None:
    store = ahmed()
    middleware = MemoryMiddleware(store, recall=True, extract=False, k=2, thesaurus=wordnet, adaptive=False)
    assert middleware.injector is not None
    block = middleware.injector.block([HumanMessage("Tell me about my spouse")], user_id="ahmed")
    assert WIFE in block
    assert "Jane" not in block


class Siblings:
    """A domain's own vocabulary as a thesaurus."""

    def related(self, word: str) -> Sequence[str]:
        return ("sister", "brother") if word == "sibling" else ()


def test_any_object_with_related_is_a_thesaurus() -> None:
    store = SQLiteMemoryStore(":memory:")
    for text in [SISTER, "Kwame works as an accountant in Accra", "Kwame plays the talking drum"]:
        store.add(text, user_id="kwame")
    assert isinstance(Siblings(), Thesaurus)
    injector = MemoryInjector(MemoryRetriever(store=store, k=1, thesaurus=Siblings()), adaptive=False)
    assert SISTER in injector.block([HumanMessage("What does my sibling do?")], user_id="kwame")


class Broken:
    def related(self, word: str) -> Sequence[str]:
        raise RuntimeError("thesaurus service down")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failing_thesaurus_leaves_the_question_unexpanded(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ahmed()
    retriever = MemoryRetriever(store=store, k=1, thesaurus=Broken())
    with caplog.at_level(logging.WARNING, logger="langmem_agno.recall.retriever"):
        for _ in range(3):
            if mode == "sync":
                hits = retriever.invoke("Ahmed's kitchen extension?", user_id="ahmed")
            else:
                hits = await retriever.ainvoke("Ahmed's kitchen extension?", user_id="ahmed")
            assert [d.page_content for d in hits] == [OTHERS[0]]
    warnings = [r for r in caplog.records if "thesaurus" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per question


def test_a_thesaurus_that_is_not_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="thesaurus"):
        MemoryRetriever(store=SQLiteMemoryStore(":memory:"), thesaurus="wordnet")


def test_bad_senses_are_refused() -> None:
    for senses in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError, match="senses"):
            WordNetThesaurus(senses=senses)  # type: ignore[arg-type]


def test_without_nltk_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nltk", None)
    monkeypatch.setitem(sys.modules, "nltk.corpus", None)
    with pytest.raises(ConfigurationError, match=r"langmem-agno\[wordnet\]"):
        WordNetThesaurus()


def test_without_the_data_the_error_names_the_download(tmp_path: Path) -> None:
    # A fresh interpreter: NLTK keeps a loaded corpus for the life of the process.
    env = {**os.environ, "NLTK_DATA": str(tmp_path), "HOME": str(tmp_path)}
    code = (
        "from langmem_agno import WordNetThesaurus, ConfigurationError\n"
        "try:\n    WordNetThesaurus()\nexcept ConfigurationError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "python -m nltk.downloader wordnet" in out.stdout
    assert str(tmp_path) in out.stdout
