"""What a secret rule reports: one finding, and the callback the rules report it through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Add", "SecretFinding", "trim_value"]


@dataclass(frozen=True)
class SecretFinding:
    """One secret found in a text.

    Attributes:
        kind: What was found ("password", "card number", "GitHub token", ...).
        start: Where it starts in the text.
        end: Where it ends.
    """

    kind: str
    start: int
    end: int


Add = Callable[[SecretFinding], None]


def trim_value(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop sentence punctuation glued to the end of a value ('hunter2.' -> 'hunter2')."""
    while (
        end > start
        and text[end - 1] in ".,;:)]}"
        and (end == len(text) or text[end].isspace() or end == len(text))
    ):
        end -= 1
    return start, end
