"""The PostgreSQL store's statements and plans: pure functions, run by the sync and the async driver alike.

Every primitive of :class:`~langmem_agno.stores.postgres.PostgresMemoryStore` is one
generator *plan* (see ``twins.py``) that yields :class:`Statement` requests and
receives each one's rows and row count, so the two drivers only execute SQL and
every line of logic is written once. Identifiers are always composed with
:class:`psycopg.sql.Identifier` and values always bound, never spliced.

The layout is Agno's ``PostgresDb`` (agno 3.1): schema ``ai``, table
``agno_memories``, ``memory`` and ``topics`` as ``JSONB``, ids as ``VARCHAR``, times
as ``BIGINT`` epoch seconds, and its indexes ``idx_<table>_user_id``,
``idx_<table>_created_at`` and ``idx_<table>_updated_at``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from psycopg import sql
from psycopg.types.json import Jsonb

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.record import MEMORY_FIELDS, UserMemory, read_all, unreadable_reason
from langmem_agno.stores.search import SEARCH_SCAN_LIMIT, rank_by_terms
from langmem_agno.stores.types import (
    ChangeRequest,
    ChangeSet,
    MemoryFilter,
    ScoredMemory,
    SortOrder,
    UserStats,
)
from langmem_agno.stores.validation import stored_or_unreadable

__all__ = [
    "Names",
    "Plan",
    "Result",
    "Statement",
    "apply_plan",
    "ddl_plan",
    "delete_plan",
    "find_plan",
    "insert_plan",
    "raw_plan",
    "search_plan",
    "stats_plan",
    "topics_plan",
    "update_plan",
    "where",
]

# What a statement gave back: its rows (as dicts) and its row count.
Result = tuple[list[dict[str, Any]], int]


@dataclass(frozen=True)
class Statement:
    """One SQL statement and the values bound to it."""

    query: sql.Composed | sql.SQL
    params: Sequence[Any] = field(default=())


T = TypeVar("T")
#: A plan: yields statements, receives each one's result, returns ``T``.
Plan = Generator[Statement, Result, T]

_COLS = sql.SQL(", ").join(sql.Identifier(c) for c in MEMORY_FIELDS)
# The Postgres type of each field, for unnest() of a batch (one array per column).
_TYPES = {
    "memory_id": "varchar",
    "memory": "jsonb",
    "input": "text",
    "agent_id": "varchar",
    "team_id": "varchar",
    "user_id": "varchar",
    "topics": "jsonb",
    "feedback": "text",
    "created_at": "bigint",
    "updated_at": "bigint",
}


@dataclass(frozen=True)
class Names:
    """The schema and table names of one store, and the identifiers built from them."""

    schema: str
    table: str

    @property
    def memories(self) -> sql.Identifier:
        """The memory table, schema-qualified."""
        return sql.Identifier(self.schema, self.table)

    @property
    def words(self) -> sql.Identifier:
        """The word index companion table, ``<table>_fts``, kept in step by a trigger."""
        return sql.Identifier(self.schema, f"{self.table}_fts")

    @property
    def words_function(self) -> sql.Identifier:
        """The trigger function that keeps :attr:`words` in step with the memory table."""
        return sql.Identifier(self.schema, f"lma_{self.table}_fts_sync")

    def index(self, suffix: str, *, ours: bool = False) -> sql.Identifier:
        """An index name: Agno's ``idx_<table>_<column>``, or ours, ``lma_<table>_<suffix>``."""
        return sql.Identifier(f"{'lma' if ours else 'idx'}_{self.table}_{suffix}")


def ddl_plan(names: Names) -> Plan[None]:
    """Create the schema, table and indexes when absent, as Agno's ``PostgresDb`` creates them."""
    t = names.memories
    # Concurrent first uses (several processes, or Agno and us) would race on the
    # catalog's unique keys; a transaction-scoped advisory lock makes them queue.
    lock_key = f"langmem_agno:{names.schema}.{names.table}"
    yield Statement(sql.SQL("SELECT pg_advisory_xact_lock(hashtext(%s))"), (lock_key,))
    yield Statement(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(names.schema)))
    # Agno's column order and types (agno/db/postgres/schemas.py MEMORY_TABLE_SCHEMA).
    yield Statement(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ("
            "memory_id VARCHAR NOT NULL, memory JSONB NOT NULL, feedback TEXT, input TEXT, "
            "agent_id VARCHAR, team_id VARCHAR, user_id VARCHAR, topics JSONB, "
            "created_at BIGINT NOT NULL, updated_at BIGINT, PRIMARY KEY (memory_id))"
        ).format(t)
    )
    for column in ("user_id", "created_at", "updated_at"):
        yield Statement(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                names.index(column), t, sql.Identifier(column)
            )
        )
    # Ours: "this user's memories, newest first" served by the index, without a sort step.
    yield Statement(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id, updated_at, created_at)").format(
            names.index("user_updated", ours=True), t
        )
    )
    yield from _words_ddl(names)


def _document(row: str) -> sql.Composable:
    # The words of a row's text and topics. Every run of non-word characters becomes a space
    # first, so that the parser's e-mail, URL and host tokens ("sarah@example.com") still give
    # their words one by one: the index must find every row the shared ranking would keep.
    return sql.SQL(
        "to_tsvector('simple', regexp_replace(coalesce({r}.memory #>> '{{}}', '') || ' ' || "
        "coalesce({r}.topics::text, ''), '\\W+', ' ', 'g'))"
    ).format(r=sql.Identifier(row))


def _words_ddl(names: Names) -> Plan[None]:
    """The word index companion: a tsvector per memory, GIN-indexed, kept in step by a trigger.

    A trigger, not our writes, keeps it, so rows Agno writes are indexed too; rows already in the
    table when the companion is first made (or written while it was absent) are indexed here.
    """
    w, t = names.words, names.memories
    yield Statement(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} "
            "(memory_id VARCHAR PRIMARY KEY, user_id VARCHAR, doc TSVECTOR NOT NULL)"
        ).format(w)
    )
    yield Statement(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING GIN (doc)").format(
            names.index("fts_doc", ours=True), w
        )
    )
    yield Statement(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (user_id)").format(names.index("fts_user", ours=True), w)
    )
    yield Statement(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $lma$ BEGIN "
            "IF TG_OP <> 'INSERT' THEN DELETE FROM {w} WHERE memory_id = OLD.memory_id; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
            "INSERT INTO {w} (memory_id, user_id, doc) VALUES (NEW.memory_id, NEW.user_id, {doc}) "
            "ON CONFLICT (memory_id) DO UPDATE SET user_id = EXCLUDED.user_id, doc = EXCLUDED.doc; "
            "RETURN NEW; END $lma$"
        ).format(fn=names.words_function, w=w, doc=_document("new"))
    )
    yield Statement(
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} "
            "FOR EACH ROW EXECUTE FUNCTION {}()"
        ).format(sql.Identifier(f"lma_{names.table}_fts"), t, names.words_function)
    )
    yield Statement(
        sql.SQL(
            "INSERT INTO {w} (memory_id, user_id, doc) SELECT m.memory_id, m.user_id, {doc} FROM {t} AS m "
            "WHERE NOT EXISTS (SELECT 1 FROM {w} AS f WHERE f.memory_id = m.memory_id)"
        ).format(w=w, t=t, doc=_document("m"))
    )


def where(flt: MemoryFilter, ids: Sequence[str] | None = None) -> tuple[sql.Composable, list[Any]]:
    """The ``WHERE`` clause (without the keyword) and its values for a filter, and only ``ids`` when given."""
    clauses: list[sql.Composable] = [sql.SQL("user_id = %s")]
    params: list[Any] = [flt.user_id]
    for column, value in (("agent_id", flt.agent_id), ("team_id", flt.team_id)):
        if value is not None:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if flt.topics is not None:
        # jsonb ?| text[]: the array holds at least one of these strings.
        clauses.append(sql.SQL("topics ?| %s::text[]"))
        params.append(list(flt.topics))
    if ids is not None:
        clauses.append(sql.SQL("memory_id = ANY(%s::varchar[])"))
        params.append(list(ids))
    return sql.SQL(" AND ").join(clauses), params


def encode(field_name: str, value: Any) -> Any:
    """A field's value as bound to its column: ``memory`` and ``topics`` are JSONB, as Agno writes them."""
    if field_name == "memory" or (field_name == "topics" and value is not None):
        return Jsonb(value)
    return value


def read(rows: Sequence[dict[str, Any]]) -> list[UserMemory]:
    """The readable memories of ``rows`` (JSONB arrives decoded: a row has a document's shape)."""
    return read_all(rows, UserMemory.from_document)


def _insert_statement(names: Names, records: Sequence[UserMemory]) -> Statement:
    # One statement, whatever the batch size: one array per column, unnest()ed into rows.
    # The insert happens only when no id of the batch is another user's; the final SELECT
    # sees the snapshot from before the insert, so it returns the rows that were there.
    arrays = [[encode(c, getattr(r, c)) for r in records] for c in MEMORY_FIELDS]
    unnest = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(_TYPES[c])) for c in MEMORY_FIELDS)
    t = names.memories
    query = sql.SQL(
        "WITH new ({cols}) AS (SELECT * FROM unnest({unnest})), "
        "ins AS (INSERT INTO {t} ({cols}) SELECT {cols} FROM new WHERE NOT EXISTS ("
        "SELECT 1 FROM {t} AS old JOIN new USING (memory_id) WHERE old.user_id IS DISTINCT FROM new.user_id) "
        "ON CONFLICT (memory_id) DO NOTHING RETURNING {cols}) "
        "SELECT {cols} FROM ins UNION ALL SELECT {cols} FROM {t} WHERE memory_id = ANY(%s::varchar[])"
    ).format(cols=_COLS, unnest=unnest, t=t)
    return Statement(query, [*arrays, [r.memory_id for r in records]])


def insert_plan(names: Names, records: Sequence[UserMemory]) -> Plan[list[UserMemory]]:
    """Insert the records that are absent; refuse the whole batch when an id is another user's."""
    stored = yield from _insert_absent(names, records)
    return [stored_or_unreadable(stored, r.memory_id) for r in records]


def _insert_absent(names: Names, records: Sequence[UserMemory]) -> Plan[dict[str, UserMemory]]:
    if not records:
        return {}
    rows, _ = yield _insert_statement(names, records)
    owners = {r.memory_id: r.user_id for r in records}
    for row in rows:
        if row["user_id"] != owners[row["memory_id"]]:
            raise InvalidMemoryError(f"memory_id {row['memory_id']!r} is already in use")
    return {m.memory_id: m for m in read(rows)}


def _set_statement(names: Names, memory_id: str, user_id: str, changes: dict[str, Any]) -> Statement:
    sets = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes)
    query = sql.SQL("UPDATE {} SET {} WHERE memory_id = %s AND user_id = %s RETURNING {}").format(
        names.memories, sets, _COLS
    )
    return Statement(query, [*(encode(k, v) for k, v in changes.items()), memory_id, user_id])


def apply_plan(names: Names, request: ChangeRequest) -> Plan[ChangeSet]:
    """A change set's statements, for one transaction: adds, then updates and deletes in the scope."""
    flt = request.flt
    stored = yield from _insert_absent(names, request.adds)
    update_ids = [i for i, _ in request.updates]
    targets = [*update_ids, *request.deletes]
    present: set[str] = set()
    if targets:
        clause, params = where(flt, targets)
        # FOR UPDATE: the scope checked here stays true until the transaction ends.
        rows, _ = yield Statement(
            sql.SQL("SELECT memory_id FROM {} WHERE {} FOR UPDATE").format(names.memories, clause), params
        )
        present = {r["memory_id"] for r in rows}
    updated: dict[str, UserMemory] = {}
    for memory_id, changes in request.updates:
        if memory_id in present:
            rows, _ = yield _set_statement(names, memory_id, flt.user_id, changes)
            updated.update((m.memory_id, m) for m in read(rows))
    deleted = [i for i in request.deletes if i in present]
    if deleted:
        clause, params = where(flt, deleted)
        yield Statement(sql.SQL("DELETE FROM {} WHERE {}").format(names.memories, clause), params)
    return ChangeSet(
        added=[stored_or_unreadable(stored, r.memory_id) for r in request.adds],
        updated=[updated[i] for i in update_ids if i in updated],
        deleted=deleted,
        missing_updates=[i for i in update_ids if i not in updated],
        missing_deletes=[i for i in request.deletes if i not in present],
    )


def _order(sort: SortOrder) -> sql.Composable:
    # Timestamps are whole seconds, so ties are common: created_at, then the row's physical
    # position (insertion order for rows never moved) break them. Our index on (user_id,
    # updated_at, created_at) serves all but that last key, so only rows tied to the second
    # are sorted; NULLs sort as that index holds them (a NULLS clause would defeat it).
    direction = sql.SQL("DESC" if sort == "desc" else "ASC")
    return sql.SQL("updated_at {d}, created_at {d}, ctid {d}").format(d=direction)


def find_plan(
    names: Names,
    flt: MemoryFilter,
    *,
    ids: Sequence[str] | None,
    sort: SortOrder,
    limit: int | None,
    offset: int,
    count: bool,
) -> Plan[tuple[list[UserMemory], int]]:
    """One page of a filter's memories and, when ``count``, their total: one statement in most cases.

    The total is an uncorrelated subquery, counted once from the index (a window count would
    read every matching row whole); a page past the end has no row to carry it, so only then
    is it asked for again.
    """
    clause, params = where(flt, ids)
    count_sql = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(names.memories, clause)
    total_col = sql.SQL(", ({}) AS lma_total").format(count_sql) if count else sql.SQL("")
    query = sql.SQL("SELECT {}{} FROM {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
        _COLS, total_col, names.memories, clause, _order(sort)
    )
    rows, _ = yield Statement(query, [*(params if count else []), *params, limit, offset])
    total = 0
    if count:
        if rows:
            total = int(rows[0]["lma_total"])
        elif offset:
            counted, _ = yield Statement(count_sql, params)
            total = int(counted[0]["count"])
    return read(rows), total


def update_plan(
    names: Names, memory_id: str, user_id: str, changes: dict[str, Any]
) -> Plan[UserMemory | None]:
    """Set ``changes`` on one memory of this user, and return it after (``None`` when absent)."""
    rows, _ = yield _set_statement(names, memory_id, user_id, changes)
    found = read(rows)
    return found[0] if found else None


def delete_plan(names: Names, flt: MemoryFilter, ids: Sequence[str] | None) -> Plan[int]:
    """Delete a filter's memories (only ``ids`` when given); return how many."""
    clause, params = where(flt, ids)
    _, count = yield Statement(sql.SQL("DELETE FROM {} WHERE {}").format(names.memories, clause), params)
    return count


def topics_plan(names: Names, flt: MemoryFilter) -> Plan[list[str]]:
    """The distinct string topics of a filter's memories (rows whose topics are not an array give none)."""
    clause, params = where(flt)
    query = sql.SQL(
        "SELECT DISTINCT e #>> '{{}}' AS topic FROM {} CROSS JOIN LATERAL jsonb_array_elements("
        "CASE WHEN jsonb_typeof(topics) = 'array' THEN topics ELSE '[]'::jsonb END) AS e "
        "WHERE {} AND jsonb_typeof(e) = 'string'"
    ).format(names.memories, clause)
    rows, _ = yield Statement(query, params)
    return [r["topic"] for r in rows if r["topic"]]


def raw_plan(names: Names, user_id: str | None, ids: Sequence[str] | None) -> Plan[list[dict[str, Any]]]:
    """The stored rows of a user (``None``: the rows with no user) as ten-field dicts, unchecked."""
    clauses: list[sql.Composable] = [
        sql.SQL("user_id = %s") if user_id is not None else sql.SQL("user_id IS NULL")
    ]
    params: list[Any] = [user_id] if user_id is not None else []
    if ids is not None:
        clauses.append(sql.SQL("memory_id = ANY(%s::varchar[])"))
        params.append(list(ids))
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY created_at, ctid").format(
        _COLS, names.memories, sql.SQL(" AND ").join(clauses)
    )
    rows, _ = yield Statement(query, params)
    return [{c: r[c] for c in MEMORY_FIELDS} for r in rows]


def stats_plan(
    names: Names, user_id: str | None, limit: int | None, offset: int
) -> Plan[tuple[list[UserStats], int]]:
    """Per-user counts, most recently active first, the number of users, and unreadable rows per user."""
    clause = sql.SQL("user_id = %s") if user_id is not None else sql.SQL("user_id IS NOT NULL")
    params: list[Any] = [user_id] if user_id is not None else []
    t = names.memories
    rows, _ = yield Statement(
        sql.SQL(
            "SELECT user_id, count(*) AS n, max(updated_at) AS last FROM {} WHERE {} "
            "GROUP BY user_id ORDER BY max(updated_at) DESC NULLS LAST, user_id LIMIT %s OFFSET %s"
        ).format(t, clause),
        [*params, limit, offset],
    )
    counted, _ = yield Statement(
        sql.SQL("SELECT count(DISTINCT user_id) AS n FROM {} WHERE {}").format(t, clause), params
    )
    unreadable: dict[str, int] = {}
    if rows:
        # Whether a row reads is the Python reader's decision, so the page's users' rows are
        # read to count them: an administrator's view, not a hot path.
        docs, _ = yield Statement(
            sql.SQL("SELECT {} FROM {} WHERE user_id = ANY(%s::varchar[])").format(_COLS, t),
            [[r["user_id"] for r in rows]],
        )
        for doc in docs:
            if unreadable_reason(doc, UserMemory.from_document) is not None:
                unreadable[doc["user_id"]] = unreadable.get(doc["user_id"], 0) + 1
    stats = [UserStats(r["user_id"], int(r["n"]), r["last"], unreadable.get(r["user_id"], 0)) for r in rows]
    return stats, int(counted[0]["n"])


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _substring_search(
    names: Names, flt: MemoryFilter, terms: Sequence[str], limit: int
) -> Plan[list[ScoredMemory]]:
    # The server counts the terms each memory contains (case-insensitively, text and topics)
    # and hands over at most the shared scan limit, best first, for the shared ranking.
    clause, params = where(flt)
    matches: list[sql.Composable] = []
    match_params: list[Any] = []
    for term in terms:
        matches.append(
            sql.SQL(r"((memory #>> '{}') ILIKE %s ESCAPE '\' OR topics::text ILIKE %s ESCAPE '\')")
        )
        match_params += [_like(term), _like(term)]
    score = sql.SQL(" + ").join(sql.SQL("{}::int").format(m) for m in matches)
    query = sql.SQL(
        "SELECT {cols}, {score} AS lma_score FROM {t} WHERE {where} AND ({any}) "
        "ORDER BY lma_score DESC, updated_at DESC, ctid DESC LIMIT %s"
    ).format(cols=_COLS, score=score, t=names.memories, where=clause, any=sql.SQL(" OR ").join(matches))
    rows, _ = yield Statement(query, [*match_params, *params, *match_params, SEARCH_SCAN_LIMIT])
    return rank_by_terms(read(rows), terms, limit)


#: Hits beyond the limit the indexed search hands back. The server orders them as the shared
#: ranking does (terms matched, then newest), so only rows the reader skips (unreadable ones
#: Agno or a script wrote) and the rare word PostgreSQL and Python split differently need room.
_SEARCH_SLACK = 10


def _prefix(term: str) -> str:
    # Terms are words (query_terms keeps \w+ runs only, and those with "_" go the substring
    # way), so quoting one is enough; ":*" makes it a prefix, as the shared ranking matches.
    return f"'{term}':*"


def search_plan(
    names: Names, flt: MemoryFilter, terms: Sequence[str], limit: int
) -> Plan[list[ScoredMemory]]:
    """The best ``limit`` memories for ``terms``: the word index finds them, the shared ranking orders them.

    The server looks the terms up in the GIN index of the ``<table>_fts`` companion (a word
    prefix match, case-insensitive, in the text and the topics), within the filter, scores
    each memory by how many terms it holds, as the shared ranking does, and hands over only
    ``limit`` and a few more, newest first among equals; the shared ranking then orders them
    exactly as every backend does.
    """
    if any("_" in term for term in terms):
        # The text-search parser splits words at "_" (and drops a lone one), so the index
        # cannot find such a term: a bounded substring match finds it instead.
        return (yield from _substring_search(names, flt, terms, limit))
    clause, params = where(flt)
    # The queries are parsed once, in a materialised CTE: written inline, to_tsquery ran again for
    # every row (a plan without statistics on a new table), five times slower at 2,000 hits.
    each = sql.SQL(", ").join(sql.SQL("to_tsquery('simple', %s)") for _ in terms)
    score = sql.SQL(" + ").join(
        sql.SQL("(f.doc @@ q.lma_each[{}])::int").format(i + 1) for i in range(len(terms))
    )
    query = sql.SQL(
        "WITH q AS MATERIALIZED (SELECT to_tsquery('simple', %s) AS lma_any, ARRAY[{each}] AS lma_each), "
        "hits AS (SELECT f.memory_id, {score} AS lma_score "
        "FROM q, {w} AS f WHERE f.user_id = %s AND f.doc @@ q.lma_any) "
        "SELECT {cols} FROM {t} JOIN hits USING (memory_id) WHERE {where} "
        "ORDER BY hits.lma_score DESC, updated_at DESC, {t}.ctid DESC LIMIT %s"
    ).format(each=each, score=score, w=names.words, cols=_COLS, t=names.memories, where=clause)
    any_term = " | ".join(_prefix(t) for t in terms)
    bound = min(SEARCH_SCAN_LIMIT, limit + _SEARCH_SLACK)
    rows, _ = yield Statement(query, [any_term, *(_prefix(t) for t in terms), flt.user_id, *params, bound])
    return rank_by_terms(read(rows), terms, limit)
