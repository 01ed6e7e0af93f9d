"""An AgentOS-compatible memory server: the REST API AgentOS's Memories page uses, and a page of our own.

Needs the ``server`` extra (FastAPI and uvicorn)::

    from langmem_agno.server import create_app, serve

    serve(SQLiteMemoryStore("agno.db"))             # http://127.0.0.1:7777/ and /docs
"""

from langmem_agno.server.app import create_app
from langmem_agno.server.run import BackgroundServer, serve

__all__ = ["BackgroundServer", "create_app", "serve"]
