"""Shared pieces of the recall tests: a meaningful embeddings stand-in and a labelled memory set."""

from __future__ import annotations

import re

from langchain_core.embeddings import Embeddings

# Each axis is a concept; a text's vector counts the words it has of each.
# A deterministic, hand-made stand-in for a semantic model: paraphrases that
# share no word still land on the same axis.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "contact": ("email", "emails", "phone", "call", "calls", "reach", "contact", "touch", "message", "inbox"),
    "food": ("vegetarian", "meat", "eat", "eats", "food", "dinner", "restaurant", "vegan", "cook", "meal"),
    "place": ("lives", "live", "city", "lisbon", "move", "moved", "home", "based", "where", "located"),
    "work": ("engineer", "job", "work", "works", "company", "career", "profession", "employer", "office"),
    "pets": ("dog", "cat", "pet", "pets", "puppy", "animal", "labrador"),
    "sport": ("running", "marathon", "run", "exercise", "sport", "training", "fitness", "gym"),
    "music": ("guitar", "music", "jazz", "instrument", "play", "plays", "concert", "song"),
    "health": ("allergic", "allergy", "peanuts", "medical", "health", "doctor", "medicine"),
}
_AXES = list(CONCEPTS)
_WORD = re.compile(r"\w+")


class ConceptEmbeddings(Embeddings):
    """Counts concept words per axis, plus a small constant so no vector is zero."""

    def __init__(self) -> None:
        self.documents_embedded: list[str] = []
        self.queries_embedded: list[str] = []

    def _vector(self, text: str) -> list[float]:
        words = _WORD.findall(text.lower())
        return [sum(w in CONCEPTS[axis] for w in words) + 0.01 for axis in _AXES]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents_embedded.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries_embedded.append(text)
        return self._vector(text)


# (memory, paraphrased question that shares no content word with it, a lexical question)
LABELLED: list[tuple[str, str, str]] = [
    (
        "Sarah prefers email over phone calls",
        "How do I get in touch with her?",
        "which emails does she prefer",
    ),
    ("Sarah is a vegetarian", "Should I book a steak restaurant for dinner?", "is she vegetarian"),
    ("Sarah lives in Lisbon", "Which city is she based in?", "where does she live in Lisbon"),
    ("Sarah works as a software engineer", "What is her profession?", "engineering work"),
    ("Sarah has a labrador called Max", "Does she have a pet?", "labrador"),
    ("Sarah is training for a marathon", "What exercise does she do?", "marathons"),
    ("Sarah plays jazz guitar", "Which instrument is her hobby?", "guitars"),
    ("Sarah is allergic to peanuts", "Any medical issues to know about?", "allergies peanuts"),
]
