"""Text helpers shared by recall, extraction and the scripted models: one stop-word list, message text.

Recall and extraction both look memories up by the content words of a message;
they use the same list of function words to drop, so the two never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage, HumanMessage

from langmem_agno.stores.search import query_terms

__all__ = ["STOP_WORDS", "content_terms", "message_text", "stem_prefix", "topics_text", "turn_query"]

#: Function words of English questions and chat filler ("thanks", "please"). They match
#: nearly every memory, and in a fused ranking such matches would outvote a true semantic
#: hit; BM25's IDF only discounts them within one user's small corpus.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further get got
    had has have having he hello her here hers herself hi him himself his how i id if ill im in into is
    it its itself ive just know let lets like may me might mine more most must my myself no nor not now
    of off ok okay on once one only or other our ours ourselves out over own please same shall she
    should so some such than thank thanks that the their theirs them themselves then there these they
    think this those through to too under until up very want was we were what when where which while
    who whom why will with would yes you your yours yourself yourselves""".split()  # noqa: SIM905 - reads better than 150 quoted words
)


def content_terms(query: str) -> list[str]:
    """Return the distinct lowercase words of ``query`` less function words (all of them if that is all)."""
    terms = query_terms(query)
    return [t for t in terms if t not in STOP_WORDS] or terms


def stem_prefix(term: str) -> str:
    """Return a prefix of ``term`` that every word form sharing its Porter stem starts with.

    Porter stemming strips or rewrites endings, and can cut a word back to its
    first three letters ("running", "runs": "run"), so three letters is the
    longest prefix all forms are sure to share. Used to pre-filter candidates in
    a database; BM25 then decides what really matches.
    """
    return term[:3]


def topics_text(topics: Sequence[str] | None) -> str:
    """Return topics as one space-separated string for indexing."""
    return " ".join(topics or ())


def message_text(message: BaseMessage) -> str:
    """Return the plain text of a message, joining the text blocks of multi-part content with spaces.

    Blocks are joined with a space (``message.text`` glues them together, so
    "I prefer email" + "over phone calls" would read "emailover").
    """
    content = message.content
    if isinstance(content, str):
        return content.strip()
    pieces: list[str] = []
    for block in content:
        if isinstance(block, str):
            pieces.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            pieces.append(str(block.get("text", "")))
    return " ".join(p.strip() for p in pieces if p.strip())


def turn_query(messages: Sequence[BaseMessage]) -> str:
    """Return what to search memories for this turn: the text of the last human message."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""
