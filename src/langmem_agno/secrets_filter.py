"""Keep obvious secrets (API keys, passwords, card numbers) out of stored memories.

Memory is long-lived and shown back to models on later turns, so a secret
that slips into it leaks far beyond the conversation it was said in. The
filter is on by default in every store and can be turned off per store.

Source-code scanners (detect-secrets and the like) look for secrets in
``key = "value"`` assignments and keep global plugin settings; memories are
natural-language sentences written from several threads at once, so the
patterns here are written for sentences ("my password is hunter2") and the
filter is a plain immutable object. Card numbers are confirmed with the Luhn
checksum from ``python-stdnum``, so an ordinary long number is not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from stdnum import luhn

from langmem_agno.errors import InvalidMemoryError

# Each pattern finds one kind of secret; the kind is what the error names
# (never the secret itself, which must not end up in logs either).
_KEY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("OpenAI/Anthropic-style API key", re.compile(r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}")),
    ("Stripe key", re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
    ("bearer token", re.compile(r"\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*")),
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@")),
)
# "password is X", "pwd: X", "passcode = X", "PIN is 1234", "my api key is X".
_PASSWORD = re.compile(
    r"\b(?:pass(?:word|phrase|code)?|pwd|pin(?:\s*code)?|api[\s_-]?key|secret(?:\s+key)?|access[\s_-]?token)"
    r"\s*(?:is|was|=|:|->)\s*[\"'`]?(?P<value>[^\s\"'`]{3,})",
    re.IGNORECASE,
)
# 13 to 19 digits, optionally split by single spaces or dashes.
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# Words that follow "password is" in harmless sentences about passwords.
_NOT_A_VALUE = frozenset(
    [
        "stored",
        "saved",
        "kept",
        "managed",
        "required",
        "needed",
        "forgotten",
        "lost",
        "reset",
        "changed",
        "expired",
        "weak",
        "strong",
        "long",
        "short",
        "secure",
        "insecure",
        "correct",
        "wrong",
        "incorrect",
        "the",
        "a",
        "an",
        "in",
        "on",
        "not",
        "never",
        "always",
        "same",
        "different",
        "set",
        "unknown",
        "private",
        "secret",
        "hidden",
    ]
)


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


@dataclass(frozen=True)
class SecretFilter:
    """Finds obvious secrets in memory text.

    Args:
        enabled: Whether the filter checks anything at all.
        extra_patterns: More ``(kind, compiled regex)`` pairs to flag, for secrets of your own.

    Example:
        >>> SecretFilter().find("my password is hunter2!")[0].kind
        'password'
        >>> SecretFilter().find("Sarah prefers email")
        []
    """

    enabled: bool = True
    extra_patterns: tuple[tuple[str, re.Pattern[str]], ...] = field(default=())

    def find(self, text: str) -> list[SecretFinding]:
        """Return every secret found in ``text``, in order of position."""
        if not self.enabled:
            return []
        found: list[SecretFinding] = []
        for kind, pattern in (*_KEY_PATTERNS, *self.extra_patterns):
            found += [SecretFinding(kind, m.start(), m.end()) for m in pattern.finditer(text)]
        for match in _PASSWORD.finditer(text):
            if match.group("value").lower().rstrip(".,;!?") not in _NOT_A_VALUE:
                found.append(SecretFinding("password", match.start("value"), match.end("value")))
        for match in _CARD.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
                found.append(SecretFinding("card number", match.start(), match.end()))
        return sorted(found, key=lambda f: f.start)

    def check(self, text: str, *, what: str = "memory text") -> None:
        """Raise if ``text`` holds a secret.

        Raises:
            InvalidMemoryError: Naming the kinds of secret found (not the secret itself).
        """
        findings = self.find(text)
        if findings:
            kinds = ", ".join(_unique(f.kind for f in findings))
            raise InvalidMemoryError(
                f"{what} looks like it holds a secret ({kinds}); secrets are not stored in memory. "
                "Rephrase without it, or build the store with secret_filter=False."
            )

    def redact(self, text: str, placeholder: str = "[redacted]") -> str:
        """Return ``text`` with every secret found replaced by ``placeholder``."""
        out, last = [], 0
        for finding in self.find(text):
            if finding.start < last:
                continue
            out += [text[last : finding.start], placeholder]
            last = finding.end
        out.append(text[last:])
        return "".join(out)


def _unique(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
