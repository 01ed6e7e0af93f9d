"""Secrets with a shape of their own: vendor token formats, keys named in prose, URL passwords."""

from __future__ import annotations

import itertools
import re

from langmem_agno.secrets_filter.finding import Add, SecretFinding, trim_value

__all__ = ["TOKEN_PATTERNS", "find_assigned_keys", "find_tokens"]

# ---------------------------------------------------------------------------
# 1. Token formats: vendor prefixes / fixed shapes.  The whole match is the span.
# ---------------------------------------------------------------------------
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx, flags))
    for kind, rx, flags in (
        ("AWS access key", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b", 0),
        ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b", 0),
        (
            "GitLab token",
            r"\bgl(?:pat|dt|rt|ptt|cbt|imt|oas|soat|ffct|ft|inct|agent)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*",
            0,
        ),
        ("Slack token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Z0-9]+-\d+-[A-Za-z0-9]+", 0),
        (
            "Slack webhook",
            r"https://hooks\.slack\.com/(?:services|triggers|workflows)/[A-Za-z0-9_/-]{20,}",
            0,
        ),
        ("Stripe key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9+/=]{24,}", 0),
        # OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-api03-...)
        ("OpenAI/Anthropic-style API key", r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}", 0),
        ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0),
        ("Hugging Face token", r"\b(?:hf_|api_org_)[A-Za-z]{30,40}\b", 0),
        ("SendGrid key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b", 0),
        ("npm token", r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        ("PyPI token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}", 0),
        ("Twilio API key", r"\bSK[0-9a-fA-F]{32}\b", 0),
        ("Mailgun key", r"\bkey-[0-9a-f]{32}\b", 0),
        ("Telegram bot token", r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b", 0),
        ("DigitalOcean token", r"\bdo[por]_v1_[a-f0-9]{64}\b", 0),
        ("Shopify token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", 0),
        ("Groq key", r"\bgsk_[A-Za-z0-9]{52}\b", 0),
        ("Databricks token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b", 0),
        ("Replicate token", r"\br8_[A-Za-z0-9]{37}\b", 0),
        ("JSON Web Token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", 0),
        # Whole block, BEGIN to END (or to the end of the text if the paste was cut off),
        # PEM and PGP alike, newlines or flattened onto one line.
        (
            "private key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r".*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
            r"|PuTTY-User-Key-File-\d:.*?(?:Private-MAC: *[0-9a-f]+|\Z)",
            re.DOTALL,
        ),
        ("bearer token", r"\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*", 0),
    )
)

# 40 base64 characters on their own with upper, lower and a digit: an AWS secret
# access key (git SHAs are 40 *lowercase hex*, so they never match).
_AWS_SECRET = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
# Password of a URL: scheme://user:PASSWORD@host  (span = the password only).
_URL_CREDS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<value>[^\s@/]+)@")
# "api key / secret / token / credential ... <random-looking token>" (generic fallback
# for providers without a prefix).  The token must mix letters and digits.
_GENERIC_KEYED = re.compile(
    r"(?i:\b(?:api[\s_-]?key|secret|token|credential|auth[\s_-]?key|access[\s_-]?key|client[\s_-]?secret)s?\b)"
    r"[^\n]{0,30}?(?<![A-Za-z0-9_\-./+=])"
    r"(?P<value>(?=[A-Za-z0-9_\-./+=]*[0-9])(?=[A-Za-z0-9_\-./+=]*[A-Za-z])[A-Za-z0-9_\-./+=]{20,})"
)
_PUBLIC_PREFIX = re.compile(r"^(?:pk_(?:live|test)_|ssh-|ecdsa-|sha\d+:|AAAA[BC]3)")


def _class_changes(v: str) -> int:
    """How often the character class (upper/lower/digit/other) changes: ~25 in 40 random base64 chars."""

    def cls(c: str) -> int:
        return 0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3

    return sum(cls(a) != cls(b) for a, b in itertools.pairwise(v))


_PATH_SEGMENT = re.compile(r"(?:^|/)[A-Za-z][a-z]{2,}(?=/|$)")
_SNAKE_CONST = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_AWS_CONTEXT = re.compile(r"(?i)(?<![a-z])(?:aws|secret|keys?|credentials?|creds)(?![a-z])")
_URL_PLACEHOLDER = re.compile(
    r"(?i)^(?:pass(?:word|wd)?|pwd|secret|x+|\*+|<[^>]*>|\{[^}]*\}|\$\{?\w+\}?|changeme|example)$"
)


def _looks_random(v: str) -> bool:
    """A generated token, not a path, a CamelCase identifier or a CONSTANT_NAME."""
    return (
        _class_changes(v) >= 0.35 * len(v)
        and len(_PATH_SEGMENT.findall(v)) < 2
        and not _SNAKE_CONST.match(v)
        and "//" not in v
        and not v.startswith(("/", "."))
    )


def find_tokens(text: str, add: Add) -> None:
    """Report each vendor token, generated key named in prose and URL password in ``text``."""
    for kind, rx in TOKEN_PATTERNS:
        for m in rx.finditer(text):
            add(SecretFinding(kind, m.start(), m.end()))
    for m in _AWS_SECRET.finditer(text):
        # 40 base64 chars: needs a secret-ish word before it and must look generated
        if _AWS_CONTEXT.search(text, max(0, m.start() - 80), m.start()) and _looks_random(m.group()):
            add(SecretFinding("AWS secret key", m.start(), m.end()))
    for m in _URL_CREDS.finditer(text):
        if not _URL_PLACEHOLDER.match(m.group("value")):  # "http://user:pass@host" in docs
            add(SecretFinding("credentials in a URL", m.start("value"), m.end("value")))
    for m in _GENERIC_KEYED.finditer(text):
        v = m.group("value")
        if not _PUBLIC_PREFIX.match(v) and _looks_random(v):
            s, e = trim_value(text, m.start("value"), m.end("value"))
            add(SecretFinding("API key or token", s, e))


_ASSIGNED_KEY = re.compile(
    r"(?i)\b(?:api[\s_-]?key|secret[\s_-]?key|access[\s_-]?token|auth[\s_-]?token)\s*(?:=|:)\s*"
    r"(?P<value>(?=[A-Za-z0-9_\-./+]*[0-9])(?=[A-Za-z0-9_\-./+]*[A-Za-z])[A-Za-z0-9_\-./+]{8,})"
)


def find_assigned_keys(text: str, add: Add) -> None:
    """Report each short key given by an explicit assignment (``api_key = ...``) in ``text``."""
    for m in _ASSIGNED_KEY.finditer(text):
        add(SecretFinding("password", m.start("value"), m.end("value")))
