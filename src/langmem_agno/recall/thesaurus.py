"""Words related to a question's words, for the lexical side of recall: "my spouse" finds "wife".

Memories name people and things the way they were said ("Ahmed's wife Fatima
teaches Arabic"); questions often name them by their relation or category ("What is
my spouse's job?"). BM25 sees no shared word there. A :class:`Thesaurus` maps a word
to related words; :func:`expansion_terms` turns a question's related words into
stemmed BM25 terms that count :data:`EXPANSION_WEIGHT` of a word the question
itself holds.

:class:`WordNetThesaurus` reads Princeton WordNet through NLTK (``pip install
"langmem-agno[wordnet]"``, then ``python -m nltk.downloader wordnet``): a noun's
synonyms, its narrower terms (hyponyms: spouse → wife, husband) and its broader ones
(hypernyms: wife → spouse). Any object with a ``related(word)`` method works in its
place, such as a domain's own vocabulary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from langmem_agno.errors import ConfigurationError
from langmem_agno.recall.text import content_terms

__all__ = ["EXPANSION_WEIGHT", "Thesaurus", "WordNetThesaurus", "expansion_terms"]

#: What a related word's BM25 counts against a word of the question itself. Chosen on the tune
#: halves of the labelled set and LoCoMo (benchmarks/RECALL_BASELINE.md, fifth round): 0.3 gains
#: on both halves of the labelled set and costs nothing on LoCoMo, where 0.6 already costs
#: MiniLM's hybrid a point of recall@5.
EXPANSION_WEIGHT = 0.3
#: How many distinct questions keep their expansion (a plain dict, emptied when full).
_CACHE_SIZE = 4096


@runtime_checkable
class Thesaurus(Protocol):
    """Anything that names the words related to a word (lowercase in, any case out)."""

    def related(self, word: str) -> Sequence[str]:
        """Words that a memory answering a question with ``word`` may use instead of it."""
        ...


class WordNetThesaurus:
    """Princeton WordNet's nouns through NLTK: synonyms, hyponyms and hypernyms of a word's first senses.

    Only single words are returned ("domestic partner" is left out: its parts alone mean
    something else), and only nouns: relations and categories ("spouse", "sibling", "pet",
    "vehicle") are what a question renames; verbs and adjectives bring mostly noise.

    Args:
        senses: How many of a word's noun senses count, most frequent first. A word's rare
            senses ("bar" as a unit of pressure) are where the noise comes from.
        data_dir: A directory holding NLTK data (``corpora/wordnet``), searched before NLTK's
            own path (``NLTK_DATA``, ``~/nltk_data``).

    Raises:
        ConfigurationError: NLTK is not installed, or WordNet's data is not found.

    Example (needs WordNet's data; tests/test_recall_thesaurus.py runs the same)::

        thesaurus = WordNetThesaurus()
        assert "wife" in thesaurus.related("spouse")
    """

    def __init__(self, senses: int = 2, data_dir: str | None = None) -> None:
        if not isinstance(senses, int) or isinstance(senses, bool) or senses < 1:
            raise ConfigurationError(f"senses must be a positive int, got {senses!r}")
        try:
            import nltk
            from nltk.corpus import wordnet
        except ImportError as exc:
            raise ConfigurationError(
                'WordNetThesaurus needs NLTK: pip install "langmem-agno[wordnet]"'
            ) from exc
        if data_dir is not None and data_dir not in nltk.data.path:
            nltk.data.path.insert(0, data_dir)
        try:
            # Loaded here, not on the first question (about 2 s): a missing corpus is a
            # configuration error at start-up, not a slow or failed first turn.
            wordnet.ensure_loaded()
        except LookupError as exc:
            raise ConfigurationError(
                "WordNet's data was not found by NLTK (searched "
                f"{list(nltk.data.path)!r}): python -m nltk.downloader wordnet"
            ) from exc
        self.senses = senses
        self._wordnet: Any = wordnet
        self._noun = wordnet.NOUN
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        return f"WordNetThesaurus(senses={self.senses})"

    def related(self, word: str) -> Sequence[str]:
        """The single-word lemmas of ``word``'s first noun senses and of their hyponyms and hypernyms."""
        with self._lock:
            known = self._seen.get(word)
        if known is not None:
            return known
        found: set[str] = set()
        for synset in self._wordnet.synsets(word, self._noun)[: self.senses]:
            for near in (synset, *synset.hyponyms(), *synset.hypernyms()):
                found.update(name.lower() for name in near.lemma_names() if "_" not in name)
        found.discard(word)
        result = tuple(sorted(found))
        with self._lock:
            if len(self._seen) >= _CACHE_SIZE:
                self._seen.clear()
            self._seen[word] = result
        return result


def expansion_terms(
    query: str,
    thesaurus: Thesaurus,
    stems: Callable[[str], Sequence[str]],
    weight: float = EXPANSION_WEIGHT,
) -> Mapping[str, float]:
    """Stemmed terms of the words related to ``query``'s content words, each with its BM25 weight.

    A related word that stems to a term of the question itself, or to several terms, is
    left out. What the thesaurus raises is raised (the retriever then ranks with the
    question's own words).

    Args:
        query: The question.
        thesaurus: Where the related words come from.
        stems: The lexicon's tokenizer (text to stemmed terms).
        weight: What each related term's BM25 counts.

    Returns:
        Stemmed term to weight; empty when nothing is related.
    """
    words = content_terms(query)
    own = set(stems(" ".join(words)))
    terms: dict[str, float] = {}
    for word in words:
        for other in thesaurus.related(word):
            found = stems(other)
            if len(found) == 1 and found[0] not in own:
                terms[found[0]] = weight
    return terms
