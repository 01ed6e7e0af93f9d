"""Argument checks shared by every part of the library; each error names the bad value."""

from __future__ import annotations

from pydantic import ValidationError

from langmem_agno.errors import ConfigurationError, InvalidMemoryError, LangmemAgnoError

#: Longest id accepted for ``memory_id``, ``user_id``, ``agent_id`` and ``team_id``.
MAX_ID_CHARS = 200


def check_id(name: str, value: object) -> str:
    """Check that an id is a non-empty string of sane length.

    Args:
        name: The id's name, for the error message.
        value: The candidate id.

    Returns:
        The id, unchanged.

    Raises:
        InvalidMemoryError: If it is not a non-empty string of at most 200 characters.
    """
    if not isinstance(value, str):
        raise InvalidMemoryError(f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
    if not value.strip():
        raise InvalidMemoryError(f"{name} must not be empty, got {value!r}")
    if len(value) > MAX_ID_CHARS:
        raise InvalidMemoryError(
            f"{name} is {len(value)} characters ({value[:40]!r}...); the limit is {MAX_ID_CHARS}"
        )
    return value


def check_ids(**ids: object) -> None:
    """Check each id given by keyword that is not ``None`` (see :func:`check_id`).

    Raises:
        InvalidMemoryError: Naming the first id that is not valid.
    """
    for name, value in ids.items():
        if value is not None:
            check_id(name, value)


def check_int(
    name: str,
    value: object,
    *,
    minimum: int | None = None,
    error: type[LangmemAgnoError] = ConfigurationError,
) -> int:
    """Check that ``value`` is an integer (not a bool) of at least ``minimum``, 1 by default.

    Args:
        name: The option's name, for the error message.
        value: The candidate.
        minimum: The smallest value allowed; ``None`` for "a positive integer".
        error: The class to raise: options are a :class:`ConfigurationError`, the
            arguments of one operation an :class:`InvalidMemoryError`.

    Returns:
        The value.

    Raises:
        LangmemAgnoError: Of class ``error``, naming the option and the value.
    """
    lowest = 1 if minimum is None else minimum
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        wanted = "a positive integer" if minimum is None else f"an integer >= {minimum}"
        raise error(f"{name} must be {wanted}, got {value!r}")
    return value


def options_error(owner: str, exc: ValidationError) -> ConfigurationError:
    """The :class:`ConfigurationError` for a pydantic model's rejected options, one line naming each.

    Pydantic wraps whatever a validator raises (our own errors included) in a
    ``ValidationError``; callers of a LangChain ``BaseTool`` or ``BaseRetriever``
    built with bad options get this instead, as from every other constructor.
    """
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return ConfigurationError(f"{owner}: " + "; ".join(problems))
