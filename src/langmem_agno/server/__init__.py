"""An AgentOS-compatible memory server: the REST API AgentOS's Memories page uses, and a page of our own.

Needs the ``server`` extra (FastAPI and uvicorn)::

    from langmem_agno import server

    server.serve(SQLiteMemoryStore("agno.db"))      # http://127.0.0.1:7777/ and /docs

The names are imported on first use (PEP 562), so ``from langmem_agno import server`` works, and the
command line starts, without the extra; using a name without it is a ``ConfigurationError`` saying
what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from langmem_agno.errors import ConfigurationError

if TYPE_CHECKING:
    from langmem_agno.server.app import create_app
    from langmem_agno.server.run import BackgroundServer, serve

_EXPORTS = {
    "create_app": "langmem_agno.server.app",
    "BackgroundServer": "langmem_agno.server.run",
    "serve": "langmem_agno.server.run",
}
#: The packages of the ``server`` extra.
EXTRA_PACKAGES = ("fastapi", "uvicorn", "starlette")


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langmem_agno.server' has no attribute {name!r}")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in EXTRA_PACKAGES:
            raise
        raise ConfigurationError(
            f"the memory server needs {missing.name!r}: pip install 'langmem-agno[server]'"
        ) from missing
    value = getattr(loaded, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["BackgroundServer", "create_app", "serve"]
