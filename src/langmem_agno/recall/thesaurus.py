"""Words related to a question's words, for the lexical side of recall: "my spouse" finds "wife".

Memories name people and things the way they were said ("Ahmed's wife Fatima
teaches Arabic"); questions often name them by their relation or category ("What is
my spouse's job?"). BM25 sees no shared word there. A :class:`Thesaurus` maps a word
to related words; :func:`expansion_terms` turns each content word of a question into
one group of stemmed terms, and the lexicon counts, per memory, the best match of each
group at :data:`EXPANSION_WEIGHT` of a word the question itself holds.

:class:`WordNetThesaurus` reads Princeton WordNet through NLTK (``pip install
"langmem-agno[wordnet]"``, then ``python -m nltk.downloader wordnet``): a noun's
synonyms, its narrower terms (hyponyms: spouse → wife, husband) and its broader ones
(hypernyms: wife → spouse). Any object with a ``related(word)`` method works in its
place, such as a domain's own vocabulary; it is called in the ranking itself (the
async retriever hands it to a worker thread), so it should answer from memory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.recall.guard import Outage
from langmem_agno.recall.text import STOP_WORDS, content_terms
from langmem_agno.recall.view import related_stems

__all__ = [
    "EXPANSION_WEIGHT",
    "Expansion",
    "Thesaurus",
    "ThesaurusGuard",
    "WordNetThesaurus",
    "check_thesaurus",
    "expansion_terms",
]

logger = logging.getLogger(__name__)

#: What a related word's BM25 counts against a word of the question itself. Chosen on the tune
#: halves of the labelled set and LoCoMo (benchmarks/RECALL_BASELINE.md, fifth round): 0.3 gains
#: on both halves of the labelled set and moves no LoCoMo half by more than 0.4 points of
#: recall@5; 0.5 gains the stand-in a point and costs LoCoMo's MiniLM hybrid more.
EXPANSION_WEIGHT = 0.3
#: How many distinct words keep their related words (a plain dict, emptied when full).
_CACHE_SIZE = 4096
#: NLTK's WordNet reader is one per process and reads its data files by seek-then-readline on
#: shared handles: concurrent lookups read each other's lines. Every lookup takes this lock.
_WORDNET_LOCK = threading.Lock()

#: One question word's related terms: (weight, stemmed terms); a memory counts its best one.
Expansion = tuple[float, tuple[str, ...]]


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
        data_dir: A directory holding NLTK data (``corpora/wordnet``), added to the front of
            NLTK's search path (``NLTK_DATA``, ``~/nltk_data``) for the process. NLTK loads
            WordNet once per process: when another directory's copy is loaded already, that
            copy is used.

    Raises:
        ConfigurationError: NLTK is not installed, or WordNet's data is not found.

    Example (needs WordNet's data; tests/test_recall_thesaurus.py runs the same)::

        thesaurus = WordNetThesaurus()
        assert "wife" in thesaurus.related("spouse")
    """

    def __init__(self, senses: int = 2, data_dir: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(senses, int) or isinstance(senses, bool) or senses < 1:
            raise ConfigurationError(f"senses must be a positive int, got {senses!r}")
        if data_dir is not None and not isinstance(data_dir, str | os.PathLike):
            raise ConfigurationError(
                f"data_dir must be a path, got {type(data_dir).__name__} {data_dir!r:.80}"
            )
        try:
            import nltk
            from nltk.corpus import wordnet
        except ImportError as exc:
            raise ConfigurationError(
                'WordNetThesaurus needs NLTK: pip install "langmem-agno[wordnet]"'
            ) from exc
        added = None
        if data_dir is not None:
            added = os.path.expanduser(os.fspath(data_dir))
            if added in nltk.data.path:
                added = None
            else:
                # NLTK reads data only from the directories on its search path.
                nltk.data.path.insert(0, added)
        try:
            with _WORDNET_LOCK:
                # Loaded here, not on the first question (about 3 s): a missing corpus is a
                # configuration error at start-up, not a slow or failed first turn.
                wordnet.ensure_loaded()
        except (LookupError, OSError) as exc:
            searched = list(nltk.data.path)
            if added is not None:
                nltk.data.path.remove(added)
            raise ConfigurationError(
                f"WordNet's data was not found or is incomplete (NLTK searched {searched!r}: {exc!s:.200}); "
                "python -m nltk.downloader wordnet"
            ) from exc
        self._senses = senses
        self._wordnet: Any = wordnet
        self._noun = wordnet.NOUN
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, ...]] = {}

    @property
    def senses(self) -> int:
        """How many of a word's noun senses count (fixed: the related words are kept per word)."""
        return self._senses

    def __repr__(self) -> str:
        return f"WordNetThesaurus(senses={self._senses})"

    def related(self, word: str) -> Sequence[str]:
        """The single-word lemmas of ``word``'s first noun senses and of their hyponyms and hypernyms."""
        with self._lock:
            known = self._seen.get(word)
        if known is not None:
            return known
        found: set[str] = set()
        with _WORDNET_LOCK:
            for synset in self._wordnet.synsets(word, self._noun)[: self._senses]:
                for near in (synset, *synset.hyponyms(), *synset.hypernyms()):
                    found.update(name.lower() for name in near.lemma_names() if "_" not in name)
        found.discard(word)
        result = tuple(sorted(found))
        with self._lock:
            if len(self._seen) >= _CACHE_SIZE:
                self._seen.clear()
            self._seen[word] = result
        return result


def check_thesaurus(value: object) -> Thesaurus | None:
    """``value`` if it is a thesaurus instance (or ``None``); else a :class:`ConfigurationError` naming it."""
    if value is None:
        return None
    if isinstance(value, type) or not callable(getattr(value, "related", None)):
        raise ConfigurationError(
            "thesaurus must be an object with a related(word) method, such as WordNetThesaurus(), "
            f"got {type(value).__name__} {value!r:.80}"
        )
    return value  # type: ignore[return-value]  # callable .related is what the protocol asks


def expansion_terms(
    query: str,
    thesaurus: Thesaurus,
    stems: Callable[[str], Sequence[str]],
    weight: float = EXPANSION_WEIGHT,
) -> list[Expansion]:
    """For each content word of ``query``, the stemmed terms of its related words, at ``weight``.

    A related word that is a function word or a number, or that stems to a term of the
    question itself or to several terms, is left out. A question made only of function
    words ("what do I have") is not expanded: their senses ("have" as a noun) are noise.

    Args:
        query: The question.
        thesaurus: Where the related words come from.
        stems: The lexicon's tokenizer (text to stemmed terms).
        weight: What the best related term of each group counts.

    Returns:
        One group per question word that has related terms.

    Raises:
        InvalidMemoryError: The thesaurus answered something other than a sequence of
            strings (what it raises itself is raised too; the retriever then ranks with the
            question's own words).
    """
    words = [w for w in content_terms(query) if w not in STOP_WORDS]
    own = set(stems(" ".join(words)))
    groups: list[Expansion] = []
    for word in words:
        answer: object = thesaurus.related(word)
        related = (
            list(answer) if isinstance(answer, Iterable) and not isinstance(answer, str | bytes) else None
        )
        if related is None or not all(isinstance(r, str) for r in related):
            raise InvalidMemoryError(
                f"thesaurus {thesaurus!r:.80} answered {answer!r:.80} for {word!r}; expected a list of words"
            )
        terms: set[str] = set()
        for other in related:
            if other.lower() in STOP_WORDS or other.isdigit():
                continue
            found = stems(other)
            if len(found) == 1 and found[0] not in own:
                terms.add(found[0])
        if terms:
            groups.append((weight, tuple(sorted(terms))))
    return groups


class ThesaurusGuard:
    """A question's expansion that cannot fail recall: a thesaurus that raises expands nothing.

    Like the embeddings guard, it logs one warning when the thesaurus starts failing and one
    line when it answers again, not one per question.

    Args:
        thesaurus: The thesaurus to ask.
    """

    def __init__(self, thesaurus: Thesaurus) -> None:
        self.thesaurus = thesaurus
        self._outage = Outage()

    def expand(self, query: str) -> list[Expansion]:
        """:func:`expansion_terms` of ``query``; none when it is blank or the thesaurus fails."""
        if not query.strip():
            return []
        try:
            groups = expansion_terms(query, self.thesaurus, related_stems)
        except Exception:
            if self._outage.failed():
                logger.warning(
                    "thesaurus %r failed; ranking with the question's own words",
                    self.thesaurus,
                    exc_info=True,
                )
            return []
        if self._outage.answered():
            logger.info("thesaurus %r answers again", self.thesaurus)
        return groups

    async def aexpand(self, query: str) -> list[Expansion]:
        """Async twin of :meth:`expand`, in a worker thread: a word seen first reads WordNet's files."""
        return await asyncio.to_thread(self.expand, query)
