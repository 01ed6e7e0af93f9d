"""Recall: the memories that matter for a turn, ranked, budgeted and rendered for a prompt.

``retriever`` (the LangChain retriever), ``text`` (the stop-word list and message
text), ``lexical`` (BM25), ``dense`` (vectors), ``view`` (one scope's memories, BM25
lexicon and vector matrix, kept until the scope changes), ``scoring`` (the hybrid
blend, a named date's boost, recency, the top k), ``dates`` (dates a question names),
``guard`` (embeddings calls that may fail), ``upkeep`` (embedding what has no current
vector), ``server_rank`` (ranking by the database's own vector search), ``index`` with
one subclass per backend (``index_sqlite``, ``index_mongo``) and the ``registry`` that
picks one, and ``render`` (the prompt block).
"""

from langmem_agno.recall.retriever import (
    CANDIDATE_FACTOR,
    MIN_CANDIDATES,
    MemoryRetriever,
    Ranking,
    to_documents,
)

__all__ = ["CANDIDATE_FACTOR", "MIN_CANDIDATES", "MemoryRetriever", "Ranking", "to_documents"]
