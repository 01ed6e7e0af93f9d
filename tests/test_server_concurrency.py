"""The server and an agent writing the same SQLite file at once lose nothing."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from agno.client.os import AgentOSClient

from langmem_agno import SQLiteMemoryStore
from langmem_agno.server import BackgroundServer, create_app

N = 40


async def test_server_and_agent_write_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    served = SQLiteMemoryStore(path)
    agent = SQLiteMemoryStore(path)  # its own connection, as an agent in another process would have
    try:
        seed = [agent.add(f"Seed {i}", user_id="u1").memory_id for i in range(N)]
        with BackgroundServer(create_app(served)) as server:
            client = AgentOSClient(server.url, timeout=30)
            start = threading.Barrier(2)

            def agent_writes() -> None:
                start.wait()
                for i in range(N):
                    agent.add(f"Agent fact {i}", user_id="u1", agent_id="agent")
                    agent.update(seed[i], user_id="u1", memory=f"Seed {i} updated by the agent")

            writer = threading.Thread(target=agent_writes)
            writer.start()
            start.wait()
            made = await asyncio.gather(
                *(client.create_memory(f"Server fact {i}", "u1", topics=["api"]) for i in range(N))
            )
            writer.join()
            listed = await client.list_memories(user_id="u1", limit=500)
        texts = {m.memory for m in listed.data}
        assert listed.meta.total_count == 3 * N
        assert {f"Server fact {i}" for i in range(N)} <= texts
        assert {f"Agent fact {i}" for i in range(N)} <= texts
        assert {f"Seed {i} updated by the agent" for i in range(N)} <= texts
        assert len({m.memory_id for m in made}) == N
        assert agent.list_memories(user_id="u1").total == 3 * N
    finally:
        agent.close()
        served.close()
