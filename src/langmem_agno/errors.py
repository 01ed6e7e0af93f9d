"""Exceptions raised by langmem-agno.

Every error names the value that caused it, so a log line or a tool message is
enough to see what went wrong without a debugger. The hierarchy::

    LangmemAgnoError                        base of every error below
    ├── ConfigurationError    (ValueError)       an option given when building an object is not valid:
    │   │                                        fix the code, not the data
    │   ├── ClientTypeError   (TypeError)        a database client of the wrong kind, or a sync call on
    │   │                                        a store given only an async client (or the reverse)
    │   └── NoEventLoopError  (RuntimeError)     an async-only resource asked for outside a running loop
    ├── InvalidMemoryError    (ValueError)       a value of one operation is not valid (text, topics, ids,
    │                                            query, batch); the memory tools turn it into a message the
    │                                            model can act on
    ├── MissingUserIdError    (ValueError)       no user id for an operation; the message says how to pass one
    ├── MemoryNotFoundError   (KeyError)         no memory with this id in the caller's scope (another
    │                                            user's id looks exactly the same)
    ├── StoreUnavailableError (ConnectionError)  the database cannot be reached or failed
    ├── ExtractionError       (RuntimeError)     the extraction model failed, timed out or gave no message
    ├── ClosedError           (RuntimeError)     an object used after its close() / aclose()
    └── EmbeddingError        (ValueError)       an embeddings model returned unusable vectors

The command line's ``CliError`` is a ``LangmemAgnoError`` too and carries its exit code.
A failed background extraction is recorded as a
:class:`~langmem_agno.extraction.background.BackgroundFailure`: a record, not an exception.
"""

from __future__ import annotations


class LangmemAgnoError(Exception):
    """Base class of every langmem-agno error."""


class ConfigurationError(LangmemAgnoError, ValueError):
    """An option or argument given when building an object is not valid (it names the value)."""


class InvalidMemoryError(LangmemAgnoError, ValueError):
    """A memory's text, topics or ids, or another argument of one operation, failed validation."""


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


class StoreUnavailableError(LangmemAgnoError, ConnectionError):
    """The database could not be reached or answered with an error."""


class ExtractionError(LangmemAgnoError, RuntimeError):
    """The extraction model failed, timed out or answered with something other than a message."""


class ClosedError(LangmemAgnoError, RuntimeError):
    """An object (a background extractor, the node or middleware owning one) was used after it was closed."""


class EmbeddingError(LangmemAgnoError, ValueError):
    """An embeddings model returned something that is not one vector per text."""


class ClientTypeError(ConfigurationError, TypeError):
    """A client of the wrong type was given, or the store lacks the client (sync or async) a call needs.

    Also a ``TypeError``: what these raise sites raised before they became configuration errors.
    """


class NoEventLoopError(ConfigurationError, RuntimeError):
    """Something that lives on an event loop (a store's own async client) was asked for outside one.

    Also a ``RuntimeError``: what asyncio raises for the same mistake, and what callers caught before.
    """
