"""The filter stores use: every rule run over a text, plus the caller's own patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.secrets_filter.cards import find_cards
from langmem_agno.secrets_filter.finding import SecretFinding
from langmem_agno.secrets_filter.prose import find_prose
from langmem_agno.secrets_filter.tokens import find_assigned_keys, find_tokens

__all__ = ["SecretFilter", "find_secrets"]


def find_secrets(text: str) -> list[SecretFinding]:
    """Every secret the built-in patterns find in ``text``, sorted by position (longest first on a tie)."""
    found: list[SecretFinding] = []
    find_tokens(text, found.append)
    find_cards(text, found.append)
    find_prose(text, found.append)
    find_assigned_keys(text, found.append)
    return sorted(set(found), key=lambda f: (f.start, -f.end))


@dataclass(frozen=True)
class SecretFilter:
    """Finds secrets in memory text.

    Args:
        enabled: Whether the filter checks anything at all.
        extra_patterns: More ``(kind, compiled regex)`` pairs to flag, for secrets of your own.

    Example:
        >>> SecretFilter().find("my password is hunter2!")[0].kind
        'password'
        >>> SecretFilter().find("Sarah prefers email")
        []
        >>> SecretFilter().redact("my pw: s3cr3tP@ss", "[redacted: {kind}]")
        'my pw: [redacted: password]'
    """

    enabled: bool = True
    extra_patterns: tuple[tuple[str, re.Pattern[str]], ...] = field(default=())

    def find(self, text: str) -> list[SecretFinding]:
        """Return every secret found in ``text``, in order of position."""
        if not self.enabled:
            return []
        found = find_secrets(text)
        for kind, pattern in self.extra_patterns:
            found += [SecretFinding(kind, m.start(), m.end()) for m in pattern.finditer(text)]
        return sorted(found, key=lambda f: (f.start, -f.end))

    def check(self, text: str, *, what: str = "memory text") -> None:
        """Raise if ``text`` holds a secret.

        Args:
            text: The text to check.
            what: What the text is ("memory text", "input", "feedback"), for the message.

        Raises:
            InvalidMemoryError: Naming ``what`` and the kinds of secret found (not the secret itself).
        """
        findings = self.find(text)
        if findings:
            kinds = ", ".join(_unique(f.kind for f in findings))
            raise InvalidMemoryError(
                f"{what} looks like it holds a secret ({kinds}); secrets are not stored in memory. "
                "Rephrase without it, or build the store with secret_filter=False."
            )

    def redact(self, text: str, placeholder: str = "[redacted]") -> str:
        """Return ``text`` with every secret found replaced by ``placeholder``.

        Args:
            text: The text.
            placeholder: What replaces each secret; ``{kind}`` in it is replaced by the
                secret's kind (``"[redacted: {kind}]"`` gives ``[redacted: password]``).
        """
        out: list[str] = []
        last = 0
        for finding in self.find(text):
            if finding.start < last:
                # Overlapping findings (a token inside a keyed value) are merged into one span.
                last = max(last, finding.end)
                continue
            out += [text[last : finding.start], placeholder.replace("{kind}", finding.kind)]
            last = finding.end
        out.append(text[last:])
        return "".join(out)


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
