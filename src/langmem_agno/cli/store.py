"""The store ``--db`` names (a SQLite path or a MongoDB URI): opening it, and naming it in messages."""

from __future__ import annotations

import importlib
import os
import sqlite3
from urllib.parse import parse_qsl, urlsplit

from pymongo.errors import PyMongoError

from langmem_agno.cli.output import CliError
from langmem_agno.errors import StoreUnavailableError
from langmem_agno.stores import MemoryStore, MongoMemoryStore, SQLiteMemoryStore

#: The store used when neither ``--db`` nor ``LANGMEM_AGNO_DB`` says otherwise.
DEFAULT_DB = "agno.db"
DB_ENV = "LANGMEM_AGNO_DB"
DEFAULT_COLLECTION = "agno_memories"
DEFAULT_DATABASE = "agno"
#: Server selection timeout for MongoDB unless the URI sets one: a command line
#: user waiting on a dead server wants to know in seconds, not the driver's 30.
DEFAULT_MONGO_TIMEOUT_MS = 3_000
_MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")
#: The commands that only read: on a SQLite path with no database they fail instead of creating one.
#: optimize and prune change memories, but on a database that is not there they have none to change.
READ_ONLY_COMMANDS = frozenset(
    {"list", "show", "search", "topics", "stats", "export", "doctor"}
    | {"history", "failed", "optimize", "prune"}
)


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_uri(db: str) -> bool:
    """Whether ``db`` is a ``postgresql://`` URI (Agno's PostgresDb layout)."""
    return db.startswith(_POSTGRES_SCHEMES)


def is_mongo_uri(db: str) -> bool:
    """Whether ``db`` is a ``mongodb://`` or ``mongodb+srv://`` URI rather than a SQLite path."""
    return db.startswith(_MONGO_SCHEMES)


def redact_uri(uri: str) -> str:
    """Hide the password of a MongoDB URI, for messages."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hosts}").geturl()


def _uri_timeout_ms(uri: str) -> int:
    for key, value in parse_qsl(urlsplit(uri).query):
        if key.lower() == "serverselectiontimeoutms" and value.isdigit():
            return int(value)
    return DEFAULT_MONGO_TIMEOUT_MS


def open_store(db: str, *, collection: str | None = None, database: str = DEFAULT_DATABASE) -> MemoryStore:
    """Open the store ``--db`` names: a PostgreSQL or MongoDB URI, or else a SQLite file path.

    Args:
        db: ``postgresql://...``, ``mongodb://...`` / ``mongodb+srv://...``, or a SQLite path
            (``:memory:`` works, uselessly).
        collection: The MongoDB collection or SQLite table; ``agno_memories`` by default.
        database: The MongoDB database; ignored for SQLite.

    Returns:
        The store.

    Raises:
        StoreUnavailableError: If the database cannot be opened.
    """
    name = collection or DEFAULT_COLLECTION
    if is_postgres_uri(db):
        # Loaded by name: psycopg comes with the postgres extra, which a SQLite user need not install.
        try:
            postgres = importlib.import_module("langmem_agno.stores.postgres")
        except ModuleNotFoundError as exc:
            raise CliError(
                f"--db {redact_uri(db)} needs psycopg: pip install 'langmem-agno[postgres]'"
            ) from exc
        store: MemoryStore = postgres.PostgresMemoryStore(db, table=name)
        return store
    if is_mongo_uri(db):
        try:
            return MongoMemoryStore(db, database=database, collection=name, timeout_ms=_uri_timeout_ms(db))
        except PyMongoError as exc:
            raise StoreUnavailableError(f"cannot open MongoDB at {redact_uri(db)}: {exc}") from exc
    try:
        return SQLiteMemoryStore(db, table=name)
    except sqlite3.Error as exc:
        raise StoreUnavailableError(f"cannot open SQLite database {db!r}: {exc}") from exc


def check_database_exists(db: str, command: str) -> None:
    """Refuse a command that only reads when ``db`` is a SQLite path with no database there.

    Opening a SQLite path creates the file (and its folders); a command that only
    reads would leave an empty database behind a typo and report no memories.

    Args:
        db: The ``--db`` value.
        command: The command name.

    Raises:
        CliError: If ``command`` only reads and ``db`` is a SQLite path that does not exist.
    """
    if command not in READ_ONLY_COMMANDS or db == ":memory:" or is_mongo_uri(db) or is_postgres_uri(db):
        return
    if not os.path.exists(os.path.expanduser(db)):
        raise CliError(
            f"no database at {db} ({command} only reads; a command that writes, such as add or import, "
            "creates it)"
        )
