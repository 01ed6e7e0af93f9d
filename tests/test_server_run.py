"""``serve()`` as the command line will run it, in its own interpreter; the server extra missing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from langmem_agno import SQLiteMemoryStore
from langmem_agno.server.security import TOKEN_ENV

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_listens_and_takes_the_token_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "agno.db"
    with SQLiteMemoryStore(db) as store:
        store.add("Sarah prefers email", user_id="sarah")
    port = _free_port()
    script = textwrap.dedent(
        f"""
        from langmem_agno import SQLiteMemoryStore, server
        server.serve(SQLiteMemoryStore({str(db)!r}), port={port}, log_level="warning")
        """
    )
    env = {**os.environ, TOKEN_ENV: "env-token"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                refused = httpx.get(url + "/user_memory_stats", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert refused.status_code == 401
        auth = {"Authorization": "Bearer env-token"}
        stats = httpx.get(url + "/user_memory_stats", headers=auth, timeout=5)
        assert stats.json()["data"][0]["user_id"] == "sarah"
        assert httpx.get(url + "/", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_without_the_extra_the_error_says_what_to_install() -> None:
    script = textwrap.dedent(
        """
        import sys

        class NoFastAPI:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("fastapi", "uvicorn"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoFastAPI())
        from langmem_agno import ConfigurationError, server  # importing the package needs no extra
        try:
            server.serve
        except ConfigurationError as error:
            print(error)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'langmem-agno[server]'" in done.stdout
