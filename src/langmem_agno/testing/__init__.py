"""Test doubles and the demo: scripted chat models that emit real tool calls, and their rules.

Nothing here is imported by the rest of the library; ``ScriptedChatModel`` is re-exported
from :mod:`langmem_agno` because the README, the notebooks and users' own tests use it.
"""
