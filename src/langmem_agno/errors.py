"""Exceptions raised by langmem-agno.

Every error names the value that caused it, so a log line or a tool message is
enough to see what went wrong without a debugger.
"""

from __future__ import annotations


class LangmemAgnoError(Exception):
    """Base class of every langmem-agno error."""


class MemoryNotFoundError(LangmemAgnoError, KeyError):
    """No memory with this id exists in the caller's scope.

    A memory that belongs to another user raises exactly this error too: the
    store never reveals that an id exists outside the caller's scope.
    """

    def __init__(self, memory_id: str, user_id: str) -> None:
        self.memory_id = memory_id
        self.user_id = user_id
        super().__init__(f"no memory with id {memory_id!r} for user {user_id!r}")

    def __str__(self) -> str:
        # KeyError's __str__ would repr() the message and add quotes around it.
        return str(self.args[0])


class MissingUserIdError(LangmemAgnoError, ValueError):
    """No user id could be found for a memory operation."""

    def __init__(self, where: str = "") -> None:
        hint = (
            "no user_id found"
            + (f" for {where}" if where else "")
            + ": pass user_id=... explicitly, run the graph with context={'user_id': ...}, "
            "or set config={'configurable': {'user_id': ...}}; "
            "or build the object with default_user_id=..."
        )
        super().__init__(hint)


class InvalidMemoryError(LangmemAgnoError, ValueError):
    """A memory's text, topics or ids failed validation."""


class StoreUnavailableError(LangmemAgnoError, ConnectionError):
    """The database could not be reached or answered with an error."""


class ConfigurationError(LangmemAgnoError, ValueError):
    """An option or argument given when building an object is not valid (it names the value)."""
