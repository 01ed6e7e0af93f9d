"""Related words in recall: WordNet through NLTK (real data, Debian's), custom thesauri, failures."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from langmem_agno import (
    ConfigurationError,
    InvalidMemoryError,
    LangGraphStore,
    MemoryRetriever,
    SQLiteMemoryStore,
    Thesaurus,
    WordNetThesaurus,
)
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


def test_each_question_word_gives_one_group_of_related_terms(wordnet: WordNetThesaurus) -> None:
    groups = expansion_terms("What is my spouse's job?", wordnet, stems)
    spouse = [terms for weight, terms in groups if "wife" in terms]
    assert len(spouse) == 1 and {"husband", "wife"} <= set(spouse[0])
    assert all(weight == EXPANSION_WEIGHT for weight, _ in groups)
    assert not any({"job", "spous"} & set(terms) for _, terms in groups)  # own words count in full
    assert {w for w, _ in expansion_terms("What is my spouse's job?", wordnet, stems, weight=0.5)} == {0.5}
    # Function words alone ("have" is also a noun in WordNet) are not expanded.
    assert expansion_terms("what do I have", wordnet, stems) == []
    assert expansion_terms("who is he", wordnet, stems) == []


def test_many_related_words_count_no_more_than_one(wordnet: WordNetThesaurus) -> None:
    store = SQLiteMemoryStore(":memory:")
    skoda = "Ahmed's car is a grey Skoda estate"
    store.add(skoda, user_id="ahmed")
    store.add("Ahmed rode a cab, a bus, then a coach and a minivan to get home", user_id="ahmed")
    hits = MemoryRetriever(store=store, k=2, thesaurus=wordnet).invoke(
        "Which car does Ahmed have?", user_id="ahmed"
    )
    assert hits[0].page_content == skoda


def test_the_thesaurus_is_safe_across_threads(wordnet: WordNetThesaurus) -> None:
    # Words from the lemma index (held in memory), so their synsets are still unread: each
    # lookup below seeks and reads NLTK's shared data files, which is what must not interleave.
    words = [w for w in wordnet._wordnet.all_lemma_names("n") if "_" not in w][5000:8000]
    fresh = WordNetThesaurus()  # nothing cached in it either

    def look(chunk: list[str]) -> dict[str, tuple[str, ...]]:
        return {w: tuple(fresh.related(w)) for w in chunk}

    found: dict[str, tuple[str, ...]] = {}
    with ThreadPoolExecutor(8) as pool:
        for part in pool.map(look, [words[i::8] for i in range(8)]):
            found.update(part)
    again = WordNetThesaurus()  # one thread, now that the synsets are read
    assert found == {w: tuple(again.related(w)) for w in words}
    assert sum(bool(v) for v in found.values()) > len(words) // 2


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
    with caplog.at_level(logging.WARNING, logger="langmem_agno.recall.thesaurus"):
        for _ in range(3):
            if mode == "sync":
                hits = retriever.invoke("Ahmed's kitchen extension?", user_id="ahmed")
            else:
                hits = await retriever.ainvoke("Ahmed's kitchen extension?", user_id="ahmed")
            assert [d.page_content for d in hits] == [OTHERS[0]]
    warnings = [r for r in caplog.records if "thesaurus" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per question


class Flaky:
    """Fails its first calls, then answers: a thesaurus that comes back."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def related(self, word: str) -> Sequence[str]:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("thesaurus slow")
        return ("wife",) if word == "spouse" else ()


def test_a_thesaurus_that_comes_back_is_used_again(caplog: pytest.LogCaptureFixture) -> None:
    retriever = MemoryRetriever(store=ahmed(), k=1, thesaurus=Flaky(failures=2))
    question = "Anything about my spouse?"
    with caplog.at_level(logging.INFO, logger="langmem_agno.recall.thesaurus"):
        assert retriever.invoke(question, user_id="ahmed") == []
        assert retriever.invoke(question, user_id="ahmed") == []
        assert [d.page_content for d in retriever.invoke(question, user_id="ahmed")] == [WIFE]
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failed" in m for m in messages) == 1
    assert sum("answers again" in m for m in messages) == 1


class Answers:
    def __init__(self, answer: object) -> None:
        self.answer = answer

    def related(self, word: str) -> object:
        return self.answer


@pytest.mark.parametrize("answer", ["wife", 3, [None, "wife"], [b"wife"]])
def test_an_answer_that_is_not_words_is_named_and_ignored(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidMemoryError, match="expected a list of words"):
        expansion_terms("my spouse", Answers(answer), stems)  # type: ignore[arg-type]
    retriever = MemoryRetriever(store=ahmed(), k=1, thesaurus=Answers(answer))
    with caplog.at_level(logging.WARNING, logger="langmem_agno.recall.thesaurus"):
        assert retriever.invoke("Anything about my spouse?", user_id="ahmed") == []
    assert any("thesaurus" in r.getMessage() for r in caplog.records)


def test_the_langgraph_store_searches_with_its_thesaurus(wordnet: WordNetThesaurus) -> None:
    lg = LangGraphStore(ahmed(), thesaurus=wordnet)
    hits = lg.search(("memories", "ahmed"), query="Anything about my spouse?", limit=1)
    assert [h.value["content"] for h in hits] == [WIFE]
    assert (
        LangGraphStore(ahmed()).search(("memories", "ahmed"), query="Anything about my spouse?", limit=1)
        == []
    )


@pytest.mark.parametrize("value", ["wordnet", WordNetThesaurus, 3, object()])
def test_a_thesaurus_that_is_not_one_is_refused(value: object) -> None:
    with pytest.raises(ConfigurationError, match="thesaurus must be an object with a related") as caught:
        MemoryRetriever(store=SQLiteMemoryStore(":memory:"), thesaurus=value)
    assert type(value).__name__ in str(caught.value)


def test_a_bad_data_dir_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="data_dir must be a path, got int 5"):
        WordNetThesaurus(data_dir=5)  # type: ignore[arg-type]


def test_bad_senses_are_refused() -> None:
    for senses in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError, match="senses"):
            WordNetThesaurus(senses=senses)  # type: ignore[arg-type]


def test_without_nltk_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nltk", None)
    monkeypatch.setitem(sys.modules, "nltk.corpus", None)
    with pytest.raises(ConfigurationError, match=r"langmem-agno\[wordnet\]"):
        WordNetThesaurus()


def _fresh_interpreter(search: Path) -> str:
    """What ``WordNetThesaurus()`` says in a new interpreter whose NLTK searches only ``search``.

    A fresh interpreter because NLTK keeps a loaded corpus for the life of the process.
    """
    code = (
        "import nltk\n"
        f"nltk.data.path[:] = [{str(search)!r}]\n"
        "from langmem_agno import WordNetThesaurus, ConfigurationError\n"
        "try:\n    WordNetThesaurus()\nexcept ConfigurationError as exc:\n    print(exc)\n"
        "print(nltk.data.path)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_without_the_data_the_error_names_the_download(tmp_path: Path) -> None:
    out = _fresh_interpreter(tmp_path)
    assert "python -m nltk.downloader wordnet" in out
    assert str(tmp_path) in out


def test_incomplete_data_is_a_configuration_error(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = nltk_data(tmp_path_factory)
    (root / "corpora" / "wordnet" / "lexnames").unlink()  # the file Debian does not ship
    out = _fresh_interpreter(root)
    assert "incomplete" in out and "lexnames" in out
