"""Recall on PostgreSQL: vectors in ``<table>_vectors``, ranked in the server when pgvector is there.

The word index companion (``<table>_fts``, a tsvector kept by a trigger) belongs to the store;
this module keeps the vectors: one row per (memory, model) with the hash of the text it came
from, in the store's schema, on the store's pools. A trigger on the memory table removes a
memory's vectors when the memory is deleted, by us or by Agno's ``PostgresDb``.

When the ``vector`` extension is installed (or can be: it is created once when the role may),
the ``embedding`` column is a pgvector ``vector`` and dense recall runs in the server: one
statement ranks the scope's memories by the same centred cosine as the in-process view, so
no vector crosses the wire per query. Without it the column is ``real[]`` and ranking stays in
the process (the base path); a ``real[]`` column becomes ``vector`` in one ``ALTER`` once the
extension appears. Vectors are written and read as ``real[]`` whatever the column holds (pgvector
casts between the two), so processes that saw the table before and after that ``ALTER`` agree.
The column has no fixed width: the model name is part of the key and a query only compares
vectors of its own width, so models of different widths share the table.

There is deliberately no ANN index (HNSW, IVFFlat): recall is always one user's memories, which
the ``(user_id, model)`` index finds; an approximate index over every user's vectors, filtered
to one user afterwards, would return fewer than asked and rank differently from the view.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from psycopg import sql

from langmem_agno.errors import LangmemAgnoError
from langmem_agno.recall.dense import StoredVector, Vector
from langmem_agno.recall.index import Owners, RecallIndex
from langmem_agno.recall.view import CENTRE_SHRINK
from langmem_agno.record import MEMORY_FIELDS, now_epoch_s
from langmem_agno.stores.postgres import PostgresMemoryStore
from langmem_agno.stores.postgres_ddl import CompanionTables
from langmem_agno.stores.postgres_sql import Plan, Statement, read, where
from langmem_agno.stores.types import MemoryFilter, ScoredMemory

__all__ = ["VECTORS_SUFFIX", "PgvectorState", "PostgresRecallIndex"]

logger = logging.getLogger(__name__)
VECTORS_SUFFIX = "vectors"
#: Rows per insert statement: PostgreSQL binds at most 65,535 values, and one huge text is slow to build.
SAVE_BATCH = 500
_COLS = sql.SQL(", ").join(sql.Identifier(c) for c in MEMORY_FIELDS)
_SCOPE_COLS = sql.SQL(", ").join(sql.Identifier("scope", c) for c in MEMORY_FIELDS)


@dataclass(frozen=True)
class PgvectorState:
    """What the database said about pgvector and the vectors table.

    Attributes:
        installed: The extension is installed in this database.
        available: The server has the extension's files (``CREATE EXTENSION`` can work).
        column: The ``embedding`` column's type when the table exists (``vector``, ``real[]``), else ``None``.
    """

    installed: bool
    available: bool
    column: str | None


def _literal(vector: Vector, brackets: str = "{}") -> str:
    # Python floats print the float32 value exactly enough that the server reads it back unchanged.
    body = ",".join(map(repr, vector.astype(np.float64).tolist()))
    return f"{brackets[0]}{body}{brackets[1]}"


def _decoded(raw: bytes) -> Vector:
    # array_send's binary format, read without parsing text (thousands of vectors per view):
    # a one-dimensional real[] is a 20-byte header, then each element's 4-byte length and float4.
    if len(raw) < 20:
        return np.zeros(0, dtype=np.float32)
    return np.frombuffer(raw, dtype=">f4", offset=20)[1::2].astype(np.float32)


class PostgresRecallIndex(RecallIndex):
    """Vectors in a companion table; dense ranking in the server where pgvector is installed.

    Args:
        store: The PostgreSQL memory store; its pools, schema and error translation are used.
        use_pgvector: Rank in the server when the extension is there (``False``: always in the process).
        create_extension: Try ``CREATE EXTENSION IF NOT EXISTS vector`` when the server has it
            but the database does not (it needs a role allowed to create extensions).
    """

    def __init__(
        self, store: PostgresMemoryStore, *, use_pgvector: bool = True, create_extension: bool = True
    ) -> None:
        super().__init__(store)
        self.pg = store
        self.use_pgvector = use_pgvector
        self.create_extension = create_extension
        name = f"{store.table}_{VECTORS_SUFFIX}"
        self.vectors = sql.Identifier(store.schema, name)
        self._user_index = sql.Identifier(f"lma_{name}_user_model")
        self._function = sql.Identifier(store.schema, f"lma_{name}_drop")
        self._trigger = sql.Identifier(f"lma_{name}_ad")
        self._tables = CompanionTables(store, VECTORS_SUFFIX, self._ddl)
        #: Whether the extension is installed (``embedding`` is then a ``vector``); ``None`` until asked.
        self._installed: bool | None = None

    # ------------------------------------------------------------ schema
    def _probe_plan(self) -> Plan[PgvectorState]:
        rows, _ = yield Statement(
            sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed, "
                "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available, "
                "(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attname = 'embedding' AND NOT a.attisdropped) "
                "AS column_type"
            ),
            (f'"{self.pg.schema}"."{self.pg.table}_{VECTORS_SUFFIX}"',),
        )
        row = rows[0]
        return PgvectorState(bool(row["installed"]), bool(row["available"]), row["column_type"])

    @staticmethod
    def _create_plan() -> Plan[None]:
        yield Statement(sql.SQL("CREATE EXTENSION IF NOT EXISTS vector"))

    def _decide(self, state: PgvectorState, refused: str | None) -> bool:
        """Whether the extension is installed, from what the database said; logs the one line when not."""
        where = f"{self.pg.schema}.{self.pg.table}_{VECTORS_SUFFIX}"
        if state.installed or not self.use_pgvector:
            return state.installed
        if refused is not None:
            logger.info("cannot create the vector extension (%s): %s ranks in the process", refused, where)
        elif state.available:
            logger.info(
                "the vector extension is not installed in this database: %s ranks in the process", where
            )
        else:
            logger.info("the server has no pgvector extension: %s ranks in the process", where)
        return False

    def _wants_create(self, state: PgvectorState) -> bool:
        return self.use_pgvector and self.create_extension and state.available and not state.installed

    def _ddl(self) -> Plan[None]:
        kind = sql.SQL("vector" if self._installed else "real[]")
        v, t = self.vectors, self.pg.names.memories
        yield Statement(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (memory_id VARCHAR NOT NULL, model VARCHAR NOT NULL, "
                "user_id VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, embedding {} NOT NULL, "
                "updated_at BIGINT NOT NULL, PRIMARY KEY (memory_id, model))"
            ).format(v, kind)
        )
        if self._installed:
            # A table made while the extension was absent: its arrays become vectors in place.
            yield Statement(
                sql.SQL(
                    "DO $lma$ BEGIN IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = {rel}::regclass AND attname = 'embedding') = 'real[]' THEN "
                    "ALTER TABLE {v} ALTER COLUMN embedding TYPE vector USING embedding::vector; "
                    "END IF; END $lma$"
                ).format(rel=sql.Literal(f'"{self.pg.schema}"."{self.pg.table}_{VECTORS_SUFFIX}"'), v=v)
            )
        yield Statement(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id, model)").format(self._user_index, v)
        )
        # A memory deleted by any writer takes its vectors with it (clearing a user included).
        yield Statement(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $lma$ BEGIN "
                "DELETE FROM {v} WHERE memory_id = OLD.memory_id; RETURN OLD; END $lma$"
            ).format(fn=self._function, v=v)
        )
        yield Statement(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {} AFTER DELETE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(self._trigger, t, self._function)
        )

    def ensure(self) -> bool:
        """Find pgvector (creating it if allowed) and create the table, once; whether pgvector ranks."""
        if self._installed is None or not self._tables.ready:
            state = self.pg._run(self._probe_plan())
            refused = None
            if self._wants_create(state):
                try:
                    self.pg._run(self._create_plan(), atomic=True)
                    state = self.pg._run(self._probe_plan())
                except LangmemAgnoError as exc:  # no privilege, or the files are missing after all
                    refused = str(exc.__cause__ or exc).strip().splitlines()[0]
            self._installed = self._decide(state, refused)
            self._tables.ensure()
        return self._installed and self.use_pgvector

    async def aensure(self) -> bool:
        """Async twin of :meth:`ensure`."""
        if self._installed is None or not self._tables.ready:
            state = await self.pg._arun(self._probe_plan())
            refused = None
            if self._wants_create(state):
                try:
                    await self.pg._arun(self._create_plan(), atomic=True)
                    state = await self.pg._arun(self._probe_plan())
                except LangmemAgnoError as exc:
                    refused = str(exc.__cause__ or exc).strip().splitlines()[0]
            self._installed = self._decide(state, refused)
            await self._tables.aensure()
        return self._installed and self.use_pgvector

    # ------------------------------------------------------------ vectors
    def _load_plan(
        self, user_id: str, model: str, memory_ids: Sequence[str]
    ) -> Plan[dict[str, StoredVector]]:
        rows, _ = yield Statement(
            sql.SQL(
                "SELECT memory_id, text_hash, array_send(embedding::real[]) AS raw FROM {} "
                "WHERE user_id = %s AND model = %s AND memory_id = ANY(%s::varchar[])"
            ).format(self.vectors),
            (user_id, model, list(memory_ids)),
        )
        # Orphans cannot pile up: the delete trigger removes a memory's vectors with it.
        return {r["memory_id"]: StoredVector(r["text_hash"], _decoded(r["raw"])) for r in rows}

    def _save_plan(self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]]) -> Plan[None]:
        query = sql.SQL(
            "INSERT INTO {v} (memory_id, model, user_id, text_hash, embedding, updated_at) "
            "SELECT r.memory_id, %s, %s, r.text_hash, r.embedding::real[], %s "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::text[]) AS r(memory_id, text_hash, embedding) "
            "ON CONFLICT (memory_id, model) DO UPDATE SET user_id = EXCLUDED.user_id, "
            "text_hash = EXCLUDED.text_hash, embedding = EXCLUDED.embedding, updated_at = EXCLUDED.updated_at"
        ).format(v=self.vectors)
        # One row per memory: ON CONFLICT refuses to touch the same row twice in a statement.
        latest = list(dict(rows).items())
        now = now_epoch_s()
        for start in range(0, len(latest), SAVE_BATCH):
            batch = latest[start : start + SAVE_BATCH]
            yield Statement(
                query,
                (
                    model,
                    user_id,
                    now,
                    [mid for mid, _ in batch],
                    [v.text_hash for _, v in batch],
                    [_literal(v.vector) for _, v in batch],
                ),
            )

    def load_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Return this user's stored vectors of ``model`` for these memories, in one statement."""
        self.ensure()
        return self.pg._run(self._load_plan(user_id, model, memory_ids))

    async def aload_vectors(
        self, user_id: str, model: str, memory_ids: Sequence[str], complete: bool
    ) -> dict[str, StoredVector]:
        """Async twin of :meth:`load_vectors`."""
        await self.aensure()
        return await self.pg._arun(self._load_plan(user_id, model, memory_ids))

    def save_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Store (or replace) vectors in one transaction (no ``owners``: see :meth:`keep_owners`)."""
        if rows:
            self.ensure()
            self.pg._run(self._save_plan(user_id, model, rows), atomic=True)

    async def asave_vectors(
        self, user_id: str, model: str, rows: Sequence[tuple[str, StoredVector]], owners: Owners | None = None
    ) -> None:
        """Async twin of :meth:`save_vectors`."""
        if rows:
            await self.aensure()
            await self.pg._arun(self._save_plan(user_id, model, rows), atomic=True)

    def keep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Nothing to keep: the server's ranking reads agent and team from the memory row itself."""

    async def akeep_owners(self, user_id: str, model: str, owners: Owners) -> None:
        """Async twin of :meth:`keep_owners`."""

    # ------------------------------------------------------------ ranking in the server
    def server_search(self) -> bool:
        """Whether pgvector serves dense recall (asked of the database once per index)."""
        return self.ensure()

    async def aserver_search(self) -> bool:
        """Async twin of :meth:`server_search`."""
        return await self.aensure()

    def _dense_plan(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> Plan[list[ScoredMemory]]:
        clause, params = where(flt)
        width = int(query.shape[0])
        unit = query.astype(np.float32) / max(float(np.linalg.norm(query)), 1e-12)
        # The view's own score: cosine after centring the scope's unit vectors and the query on
        # their mean, shrunk for small scopes (see recall/view.py), so both paths rank alike.
        # The memory row carries the filter and the answer, so a vector never outlives its scope.
        # Each vector finds its memory by primary key (OFFSET 0 keeps the subquery apart): with the
        # row estimates of a freshly filled table the planner otherwise rescans the user's rows per vector.
        rows, _ = yield Statement(
            sql.SQL(
                "WITH scope AS (SELECT m.*, l2_normalize(v.embedding) AS lma_unit FROM {v} AS v "
                "CROSS JOIN LATERAL (SELECT {cols}, ctid AS lma_ctid FROM {t} "
                "WHERE memory_id = v.memory_id AND {clause} OFFSET 0) AS m "
                "WHERE v.user_id = %s AND v.model = %s AND vector_dims(v.embedding) = %s), "
                "centre AS MATERIALIZED (SELECT avg(lma_unit) * "
                "array_fill((count(*)::float8 / (count(*) + %s))::real, ARRAY[%s])::vector AS lma_mean "
                "FROM scope) "
                "SELECT {out}, coalesce(nullif(1 - ((lma_unit - lma_mean) <=> (%s::vector - lma_mean)), "
                "'NaN'), 0) AS lma_score FROM scope CROSS JOIN centre "
                "ORDER BY lma_score DESC, updated_at DESC, created_at DESC, lma_ctid DESC LIMIT %s"
            ).format(cols=_COLS, out=_SCOPE_COLS, t=self.pg.names.memories, clause=clause, v=self.vectors),
            (*params, flt.user_id, model, width, CENTRE_SHRINK, width, _literal(unit, "[]"), limit),
        )
        # A row another writer stored that we cannot read is skipped (with a warning), not fatal.
        readable = {m.memory_id: m for m in read(rows)}
        return [
            ScoredMemory(readable[r["memory_id"]], float(r["lma_score"]))
            for r in rows
            if r["memory_id"] in readable
        ]

    def server_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Rank the scope by centred cosine in the server; ``None`` without pgvector."""
        if not self.ensure():
            return None
        return self.pg._run(self._dense_plan(flt, query, model, limit))

    async def aserver_dense(
        self, flt: MemoryFilter, query: Vector, model: str, limit: int
    ) -> list[ScoredMemory] | None:
        """Async twin of :meth:`server_dense`."""
        if not await self.aensure():
            return None
        return await self.pg._arun(self._dense_plan(flt, query, model, limit))
