"""What agents use: the memory tools, prompt injection and the ``create_agent`` middleware.

Import the modules themselves (``langmem_agno.agents.tools``, ...): this package imports
nothing, so the memory tools never load ``langchain.agents``, which only the
middleware needs.
"""
