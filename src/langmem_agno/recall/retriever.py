"""Recall: the memories that matter for this turn, as a LangChain retriever.

:class:`MemoryRetriever` ranks one user's memories for a query and returns
them as ``Document`` objects. Without an embeddings model it ranks lexically (BM25
with stemming); with one it blends normalised vector and BM25 scores over the
scope's memories (kept as a :class:`~langmem_agno.recall.view.ScopeView` until the
scope changes). A date the question names boosts memories created near it;
recency, when asked for, is blended onto the normalised scores.

The ranking is written once, as a *plan*: a generator that yields typed calls
(:func:`~langmem_agno.twins.twin`: a method of the recall index or of the
embeddings model, paired with its async twin) and receives their results.
:meth:`MemoryRetriever.rank` runs it with the sync methods and
:meth:`MemoryRetriever.arank` with their async twins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, ensure_config
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from langmem_agno.checks import check_ids, check_int, options_error
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.models import embeddings_model
from langmem_agno.recall.dense import StoredVector, Vector, as_vectors, model_key
from langmem_agno.recall.guard import EmbeddingsGuard
from langmem_agno.recall.index import RecallIndex
from langmem_agno.recall.registry import recall_index
from langmem_agno.recall.scoring import DATE_WEIGHT, DENSE_WEIGHT, adjusted, blend, top
from langmem_agno.recall.server_rank import ServerRanking, server_ranked
from langmem_agno.recall.thesaurus import Expansion, Thesaurus, ThesaurusGuard, check_thesaurus
from langmem_agno.recall.upkeep import Plan, embed_stale
from langmem_agno.recall.view import DenseMatrix, ScopeView, max_normalised, z_normalised
from langmem_agno.record import UserMemory, normalize_topics, now_epoch_s
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores.base import MemoryFilter, MemoryStore, ScoredMemory
from langmem_agno.twins import arun_calls, run_calls, twin

__all__ = [
    "CANDIDATE_FACTOR",
    "DATE_WEIGHT",
    "DENSE_WEIGHT",
    "MIN_CANDIDATES",
    "MemoryRetriever",
    "Ranking",
    "to_documents",
]
Ranking = Literal["auto", "lexical", "dense", "hybrid"]
#: Kept for callers of the old candidate pools; the view path scores every memory of the scope.
CANDIDATE_FACTOR = 4
MIN_CANDIDATES = 20
#: Seconds an embeddings call may take before recall goes on without it.
DEFAULT_EMBEDDINGS_TIMEOUT = 10.0
#: The most memories one call ranks.
MAX_K = 1000


class MemoryRetriever(BaseRetriever):
    """A retriever over one user's memories: query in, best memories out as ``Document`` objects.

    The user comes from the run, never from the query: an explicit ``user_id=``
    keyword of ``invoke``, LangGraph's runtime context, or
    ``config["configurable"]["user_id"]``, else ``default_user_id``. The run's
    ``agent_id``/``team_id`` (same sources) or the fields below narrow the search.

    Attributes:
        store: The memory store.
        k: How many memories to return.
        agent_id: Only memories written by this agent (else the run's agent, if any).
        team_id: Only memories written by this team (else the run's team, if any).
        topics: Only memories with at least one of these topics.
        embeddings: A LangChain embeddings model, or its ``init_embeddings`` id such as
            ``"openai:text-embedding-3-small"``; enables dense and hybrid ranking.
        embeddings_key: Names the model's vectors in storage; derived from the model when unset.
        ranking: ``"lexical"`` (BM25 over the scope's own memories), ``"dense"`` (cosine of
            vectors centred on the scope's mean), ``"hybrid"`` (``DENSE_WEIGHT`` of the dense
            z-score plus the rest of max-normalised BM25 over the scope's own memories), or
            ``"auto"``: hybrid with embeddings, lexical without (see
            ``benchmarks/recall_eval.py`` for the figures behind the choice).
        recency_weight: 0 for relevance only, up to 1 for newest first.
        recency_half_life_days: Age at which recency counts half.
        fill_with_recent: Pad the results up to ``k`` with the newest memories when
            the ranking finds fewer (a greeting shares no words with any memory).
        default_user_id: The user when the run names none.
        embeddings_timeout: Seconds an embeddings call may take (``None``: no limit). A call that
            raises or takes longer makes this query rank lexically; one warning is logged per
            outage, and one line when the model answers again.
        clock: Returns the current epoch seconds, which dates in a query ("two weeks ago")
            and recency are relative to; the system clock when unset (set it to replay).
        thesaurus: Words related to the question's words also count for BM25, at
            ``EXPANSION_WEIGHT`` (0.3) of a word's weight, the best one per question word:
            with :class:`~langmem_agno.recall.thesaurus.WordNetThesaurus`, "my spouse" finds
            "wife". Lexical and hybrid ranking over the scope's view use it; dense ranking and
            the database's own vector search (Atlas, or pgvector when asked for) do not.

    Example:
        >>> from langmem_agno import SQLiteMemoryStore
        >>> store = SQLiteMemoryStore(":memory:")
        >>> _ = store.add("Sarah prefers email over phone calls", user_id="u1")
        >>> retriever = MemoryRetriever(store=store, k=3)
        >>> [d.page_content for d in retriever.invoke("how should I email her?", user_id="u1")]
        ['Sarah prefers email over phone calls']
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: MemoryStore
    k: int = Field(default=5, ge=1, le=MAX_K)
    agent_id: str | None = None
    team_id: str | None = None
    topics: list[str] | None = None
    embeddings: Embeddings | None = None
    embeddings_key: str | None = None
    ranking: Ranking = "auto"
    recency_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    recency_half_life_days: float = Field(default=30.0, gt=0.0)
    fill_with_recent: bool = False
    default_user_id: str | None = None
    embeddings_timeout: float | None = Field(default=DEFAULT_EMBEDDINGS_TIMEOUT, gt=0.0)
    clock: Callable[[], float] | None = None
    thesaurus: Thesaurus | None = None
    _index: RecallIndex | None = PrivateAttr(default=None)
    _guard: EmbeddingsGuard | None = PrivateAttr(default=None)
    _expander: ThesaurusGuard | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        # An init_embeddings id ("openai:text-embedding-3-small") names the model, as elsewhere.
        # Resolved before validation: pydantic would wrap the ConfigurationError of a missing
        # provider package in a ValidationError.
        if isinstance(data.get("embeddings"), str):
            data["embeddings"] = embeddings_model(data["embeddings"])
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(type(self).__name__, exc) from exc

    @field_validator("thesaurus", mode="before")
    @classmethod
    def _thesaurus(cls, value: object) -> Thesaurus | None:
        return check_thesaurus(value)

    def model_post_init(self, __context: Any) -> None:
        """Check the filters and the ranking choice once, at construction."""
        check_ids(agent_id=self.agent_id, team_id=self.team_id)
        self.topics = normalize_topics(self.topics)
        if self.ranking in ("dense", "hybrid") and self.embeddings is None:
            raise ConfigurationError(f"ranking={self.ranking!r} needs embeddings=...; use 'lexical' without")

    @property
    def index(self) -> RecallIndex:
        """The store's recall index (full-text index and vectors)."""
        if self._index is None:
            self._index = recall_index(self.store)
        return self._index

    @property
    def mode(self) -> Literal["lexical", "dense", "hybrid"]:
        """The ranking actually used."""
        if self.ranking == "auto":
            return "hybrid" if self.embeddings is not None else "lexical"
        return self.ranking

    # ------------------------------------------------------------ scope
    def scope(self, config: RunnableConfig | None = None, **explicit: str | None) -> MemoryScope:
        """Resolve whose memories a call reads (explicit keywords, runtime context, configurable)."""
        return resolve_scope(
            config,
            user_id=explicit.get("user_id"),
            agent_id=explicit.get("agent_id") or self.agent_id,
            team_id=explicit.get("team_id") or self.team_id,
            default_user_id=self.default_user_id,
            where="MemoryRetriever",
        )

    def _filter(self, scope: MemoryScope) -> MemoryFilter:
        topics = None if self.topics is None else tuple(self.topics)
        return MemoryFilter(scope.user_id, scope.agent_id, scope.team_id, topics)

    # ------------------------------------------------------------ the plan
    def _plan(self, query: str, flt: MemoryFilter, k: int) -> Plan[list[ScoredMemory]]:
        if not isinstance(query, str):
            raise InvalidMemoryError(f"query must be a string, got {type(query).__name__} {query!r:.80}")
        now = now_epoch_s() if self.clock is None else int(self.clock())
        index = self.index
        # Memories whose time to live ended go first (no I/O while the store knows of none).
        yield twin(self.store.expire_due, self.store.aexpire_due)()
        wants_dense = bool(query.strip()) and self.mode != "lexical"
        query_vector: Vector | None = None
        if wants_dense and (yield twin(index.server_search, index.aserver_search)()):
            # The database ranks by vectors (Atlas): no read of the scope's memories per query.
            query_vector = yield from self._query_vector(query)
            wants_dense = query_vector is not None
            if query_vector is not None:
                how = ServerRanking(self.mode == "hybrid", self.recency_weight, self.recency_half_life_days)
                served, answered = yield from server_ranked(
                    self.guard, index, flt, query, query_vector, k, now, how
                )
                if served is not None:
                    return (yield from self._filled(served, flt, k))
                wants_dense = answered
        # One indexed read says whether the scope changed; only then are its memories read again.
        stamp = yield twin(index.stamp, index.astamp)(flt)
        view = index.cached_view(flt, stamp)
        if view is None:
            view = yield twin(index.build_view, index.abuild_view)(flt, stamp)
        if not view.memories:
            return []
        dense = (yield from self._dense_scores(query, flt, view, query_vector)) if wants_dense else None
        related: list[Expansion] = []
        if self.thesaurus is not None and (dense is None or self.mode != "dense"):
            if self._expander is None or self._expander.thesaurus is not self.thesaurus:
                self._expander = ThesaurusGuard(self.thesaurus)
            related = yield twin(self._expander.expand, self._expander.aexpand)(query)
        if dense is None:
            # No query, or an embeddings outage: rank lexically, over the same memories.
            lexical = view.lexicon.scores(query, related)
            relevance, usable = max_normalised(lexical), lexical > 0
        elif self.mode == "dense":
            relevance, usable = z_normalised(dense), np.isfinite(dense)
        else:
            lexical = view.lexicon.scores(query, related)
            relevance = blend(dense, lexical)
            usable = np.isfinite(dense) | (lexical > 0)
        scores, dated = adjusted(
            relevance,
            view.created,
            view.updated,
            query,
            now,
            self.recency_weight,
            self.recency_half_life_days,
        )
        # A memory from the date the question names is a candidate even when it shares no word.
        order = top(np.where(usable | dated, scores, -np.inf), k)
        hits = [ScoredMemory(view.memories[i], float(scores[i])) for i in order]
        if self.fill_with_recent and len(hits) < k:
            taken = {h.memory.memory_id for h in hits}
            hits += [ScoredMemory(m, 0.0) for m in view.memories if m.memory_id not in taken][: k - len(hits)]
        return hits

    def _filled(self, hits: list[ScoredMemory], flt: MemoryFilter, k: int) -> Plan[list[ScoredMemory]]:
        """``hits``, padded with the newest memories (score 0) when ``fill_with_recent`` asks for it."""
        if not self.fill_with_recent or len(hits) >= k:
            return hits
        newest: list[UserMemory] = yield twin(self.index.newest, self.index.anewest)(flt, k + len(hits))
        taken = {h.memory.memory_id for h in hits}
        return [*hits, *(ScoredMemory(m, 0.0) for m in newest if m.memory_id not in taken)][:k]

    def _block_plan(self, query: str, flt: MemoryFilter, limit: int) -> Plan[list[ScoredMemory]]:
        # One bounded read of the newest-first index tells whether everything fits: when the
        # scope has at most `limit` memories they all come back, so none is ever left out.
        newest: list[UserMemory] = yield twin(self.index.newest, self.index.anewest)(flt, limit + 1)
        if not newest:
            return []
        hits = (yield from self._plan(query, flt, limit)) if query.strip() else []
        taken = {h.memory.memory_id for h in hits}
        fill = [ScoredMemory(m, 0.0) for m in newest if m.memory_id not in taken]
        return [*hits, *fill][:limit]

    @property
    def guard(self) -> EmbeddingsGuard:
        """The embeddings model behind its time limit and outage log (needs ``embeddings``)."""
        if self._guard is None:
            if self.embeddings is None:
                raise ConfigurationError("this MemoryRetriever has no embeddings model")
            self._guard = EmbeddingsGuard(
                self.embeddings, self.embeddings_key or model_key(self.embeddings), self.embeddings_timeout
            )
        return self._guard

    def _query_vector(self, query: str) -> Plan[Vector | None]:
        """The query's vector; ``None`` when the embeddings model failed (the guard has logged it)."""
        guard = self.guard
        raw = yield twin(guard.embed_query, guard.aembed_query)(query)
        return None if raw is None else as_vectors([raw], 1)[0]

    def _dense_scores(
        self, query: str, flt: MemoryFilter, view: ScopeView, query_vector: Vector | None
    ) -> Plan[npt.NDArray[np.float64] | None]:
        """Centred cosine of every memory of ``view``; ``None`` when the embeddings model failed."""
        matrix = view.dense.get(self.guard.name)
        if matrix is None:
            matrix = yield from self._dense_matrix(flt, view)
            if matrix is None:
                return None
        if query_vector is None:
            query_vector = yield from self._query_vector(query)
            if query_vector is None:
                return None
        return matrix.scores(query_vector, len(view.memories))

    def _dense_matrix(self, flt: MemoryFilter, view: ScopeView) -> Plan[DenseMatrix | None]:
        """Load (or embed) the vectors of a view's memories, once per change of the scope."""
        guard, index = self.guard, self.index
        key = guard.name
        ids = [m.memory_id for m in view.memories]
        # "Every memory the user has" only when the view is not one agent's, team's or topic's:
        # else the other memories' vectors would be taken for orphans and dropped.
        whole_user = flt.agent_id is None and flt.team_id is None and flt.topics is None
        stored: dict[str, StoredVector] = yield twin(index.load_vectors, index.aload_vectors)(
            flt.user_id, key, ids, view.complete and whole_user
        )
        if not (yield from embed_stale(guard, index, flt.user_id, view.memories, stored)):
            return None
        vectors = [stored[m.memory_id].vector for m in view.memories]
        # Vectors of another width (a model that changed under the same key) are left out.
        width = Counter(v.shape for v in vectors).most_common(1)[0][0]
        rows = [i for i, v in enumerate(vectors) if v.shape == width]
        matrix = DenseMatrix.build(rows, [vectors[i] for i in rows])
        view.dense[key] = matrix
        return matrix

    def _k(self, k: int | None) -> int:
        """A call's ``k``: the retriever's own when not given, else checked against the same bounds."""
        if k is None:
            return self.k
        check_int("k", k, error=InvalidMemoryError)
        if k > MAX_K:
            raise InvalidMemoryError(f"k must be at most {MAX_K}, got {k!r}")
        return k

    # ------------------------------------------------------------ public API
    def rank(
        self,
        query: str,
        *,
        config: RunnableConfig | None = None,
        k: int | None = None,
        **scope: str | None,
    ) -> list[ScoredMemory]:
        """Return the best memories for ``query`` with their scores, best first.

        Args:
            query: Free text (the user's message, a question).
            config: The run's config, for the scope.
            k: How many; the retriever's ``k`` by default.
            **scope: Explicit ``user_id``/``agent_id``/``team_id``.

        Returns:
            Up to ``k`` hits.

        Raises:
            MissingUserIdError: If no user id is found.
            InvalidMemoryError: If ``k`` is not an integer from 1 to 1,000.
        """
        flt = self._filter(self.scope(config, **scope))
        return run_calls(self._plan(query, flt, self._k(k)))

    async def arank(
        self,
        query: str,
        *,
        config: RunnableConfig | None = None,
        k: int | None = None,
        **scope: str | None,
    ) -> list[ScoredMemory]:
        """Async twin of :meth:`rank`."""
        flt = self._filter(self.scope(config, **scope))
        return await arun_calls(self._plan(query, flt, self._k(k)))

    def rank_for_block(
        self, query: str, *, limit: int, config: RunnableConfig | None = None, **scope: str | None
    ) -> list[ScoredMemory]:
        """The memories of a prompt block of ``limit`` entries: never fewer than the scope has.

        When the scope holds at most ``limit`` memories, all of them, the relevant ones first;
        otherwise the ``limit`` best, and when the ranking finds fewer, the rest filled with
        the newest (score 0). So a small memory never drops out of the prompt because the
        question shares no word with it. Costs one bounded read beyond :meth:`rank`.

        Args:
            query: The turn's text ("" gives the newest memories).
            limit: The block's entry budget.
            config: The run's config, for the scope.
            **scope: Explicit ``user_id``/``agent_id``/``team_id``.

        Returns:
            At most ``limit`` hits, best first.
        """
        flt = self._filter(self.scope(config, **scope))
        return run_calls(self._block_plan(query, flt, check_int("limit", limit, error=InvalidMemoryError)))

    async def arank_for_block(
        self, query: str, *, limit: int, config: RunnableConfig | None = None, **scope: str | None
    ) -> list[ScoredMemory]:
        """Async twin of :meth:`rank_for_block`."""
        flt = self._filter(self.scope(config, **scope))
        return await arun_calls(
            self._block_plan(query, flt, check_int("limit", limit, error=InvalidMemoryError))
        )

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        """Return the best memories for ``input`` as documents; scope from ``config`` or keywords."""
        # BaseRetriever does not put the config where _get_relevant_documents can
        # read it, so pass it along (merged with the enclosing run's config).
        return super().invoke(input, config, lma_config=ensure_config(config), **kwargs)

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """Async twin of :meth:`invoke`."""
        return await super().ainvoke(input, config, lma_config=ensure_config(config), **kwargs)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        lma_config: RunnableConfig | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        k: int | None = None,
    ) -> list[Document]:
        hits = self.rank(
            query,
            config=lma_config or ensure_config(),
            k=k,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
        )
        return to_documents(hits)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        lma_config: RunnableConfig | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        team_id: str | None = None,
        k: int | None = None,
    ) -> list[Document]:
        hits = await self.arank(
            query,
            config=lma_config or ensure_config(),
            k=k,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
        )
        return to_documents(hits)


def to_documents(hits: Sequence[ScoredMemory]) -> list[Document]:
    """Turn hits into documents: the text as ``page_content``, every field and the score as metadata."""
    return [
        Document(
            page_content=h.memory.memory,
            id=h.memory.memory_id,
            metadata={**h.memory.to_document(), "score": h.score},
        )
        for h in hits
    ]
