"""Keep secrets (API keys, passwords, card numbers, private keys) out of stored memories.

Memory is long-lived and shown back to models on later turns, so a secret that
slips into it leaks far beyond the conversation it was said in. The filter is on
by default in every store, for a memory's text, ``input`` and ``feedback``, and
can be turned off per store; extraction stores its ``input`` with the secrets
redacted (``[redacted: password]``) instead of refusing it.

Why hand-written patterns and no detector library: detect-secrets and its forks are
source-code scanners. Measured on the labelled sets shipped in ``tests/data``
(secrets and ordinary look-alike facts), their fixed-format plugins catch about 40 %
of the secrets and their entropy plugins refuse every ordinary sentence; adding
their plugins to the patterns below caught no secret more. Memories are sentences,
so the patterns here are written for sentences ("my password for the bank is X",
"I use X as my password"), vendor token formats, whole PEM/PGP blocks, and card
numbers with any separator, confirmed by the Luhn checksum (``python-stdnum``), an
issuer prefix and length, and a printed grouping, which keeps IMEIs, ISBNs and order
numbers out. The filter is a plain immutable object: thread-safe, no global settings.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stdnum import luhn

from langmem_agno.errors import InvalidMemoryError

__all__ = ["SecretFilter", "SecretFinding"]


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


_Add = Callable[[SecretFinding], None]

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

# ---------------------------------------------------------------------------
# 2. Card numbers: 13-19 digits with ANY single separator (space, dash, dot,
#    slash, underscore, " - "), Luhn-valid AND with a real issuer prefix for
#    that length.  The prefix check is what keeps IMEIs (always Luhn-valid,
#    15 digits, prefixes 01/35/49/86...), ISBNs (978/979) and order numbers out.
# ---------------------------------------------------------------------------
_CARD = re.compile(r"(?<![\w.\-/])\d(?:(?:[ \u00a0.\-/_]|\s-\s)?\d){11,18}(?!\w)")
_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({13, 16, 19})),  # Visa
    (re.compile(r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)"), frozenset({16})),  # Mastercard
    (re.compile(r"3[47]"), frozenset({15})),  # Amex
    (re.compile(r"3(?:0[0-59]|[689])"), frozenset(range(14, 20))),  # Diners
    (re.compile(r"6(?:011|5|4[4-9]|22)"), frozenset(range(16, 20))),  # Discover
    (re.compile(r"35(?:2[89]|[3-8])"), frozenset(range(16, 20))),  # JCB
    (re.compile(r"62|81"), frozenset(range(16, 20))),  # UnionPay
    (re.compile(r"220[0-4]"), frozenset({16, 17, 18, 19})),  # Mir
    (re.compile(r"5018|5020|5038|5893|6304|6759|676[1-3]"), frozenset(range(12, 20))),  # Maestro
)
_NOT_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:imei|isbn|iban|tracking|order|invoice|waybill|serial)\b[^\n]{0,20}$"
)


def _is_card(digits: str) -> bool:
    if not 12 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return False
    return any(rx.match(digits) and len(digits) in lengths for rx, lengths in _ISSUERS)


# ---------------------------------------------------------------------------
# 3. Passwords, passcodes and PINs in everyday prose.
# ---------------------------------------------------------------------------
_STRONG_KW = (
    r"(?:pass(?:word|wd|phrase|code)|pass\s+phrase|pwd|pw|p/w|pword|pin(?:\s*(?:code|number))?|pincode"
    r"|mot\s+de\s+passe|contrase[ñn]a|passwort|kennwort|senha|wachtwoord|l[öo]senord|has[łl]o)"
)
_VALUE = r"(?:(?P<q>[\"'“‘`])(?P<qvalue>[^\"'“”‘’`\n]{1,80})[\"'”’`]|(?P<value>[^\s\"“”`]+))"
# my password (for the bank) is X / pw: X / passwd=X / password's X / changed my password to X
_FORWARD = re.compile(
    rf"(?i)(?<![-$./\w]){_STRONG_KW}s?\b"
    r"(?P<qual>\s+(?:for|of|on|to)(?:\s+[\w.'’-]+){1,4}?)?"
    r"(?P<conn>\s*(?:[:=]|->|=>)\s*|\s+[-–—]\s+|'s\s+|’s\s+"
    r"|\s+(?:is|was|will\s+be)(?:\s+(?:now|still|just|literally|actually|simply|currently|set\s+to))?\s+"
    r"|,?\s+(?:it'?s|it\s+is)\s+|\s+(?:to|as)\s+)"
    rf"{_VALUE}"
)
# username jdoe password Falcon_2024 / pwd Zebra#1  (no connector: value must look like a password)
_BARE = re.compile(rf"(?i)(?<![-$./\w]){_STRONG_KW}\b(?P<conn>\s+){_VALUE}")
# my password hasn't changed, it's still X
_ITS = re.compile(
    rf"(?i)\b{_STRONG_KW}\b[^.,\n]{{0,30}},\s*(?P<conn>(?:it'?s|it\s+is)\s+(?:still\s+|now\s+|just\s+)?){_VALUE}"
)
# it's hunter22, the password I mean
_ITS_REVERSE = re.compile(
    r"(?i)\b(?:it'?s|it\s+is|that'?s)\s+(?P<value>[^\s,]+),\s+(?:the|my|our|her|his)\s+(?:\w+\s+){0,2}?"
    r"(?:pass(?:word|code|phrase)|pin|pw)\b"
)
# weak keyword "pass": only with a password-looking value and not "boarding pass", "bus pass", ...
_PASS = re.compile(
    r"(?i)(?<!boarding )(?<!bus )(?<!ski )(?<!day )(?<!season )(?<!backstage )(?<!museum )(?<!mountain )"
    r"(?<!hall )(?<!train )(?<!rail )(?<!gym )(?<!free )(?<!press )(?<!guest )(?<!visitor )"
    r"\bpass\b(?:\s+for(?:\s+[\w.'’-]+){1,3}?)?(?P<conn>\s*[:=]\s*|\s+is\s+)" + _VALUE
)
# I use X as my password / X is my Netflix password
_REVERSE = re.compile(
    r"(?i)(?:\b(?:use|used|using|chose|picked|set|made)\s+(?P<v1>\S+)\s+as|(?:^|\s)(?P<v2>\S+)\s+(?:is|was))"
    r"\s+(?:my|the|our|his|her|their|a)\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:pass(?:word|code|phrase)|pin|pw)\b(?![-\w]|\s+(?:manager|hint|reset|policy|field|vault|app|generator))"
)
# creds are admin / X, login: bob / X, user/pass: admin/X
_PAIR = re.compile(
    r"(?i)(?<![-$./\w])(?:creds?|credentials|logins?|user(?:name)?\s*/\s*pass(?:word)?)(?![.\w])[^\n/]{0,40}?"
    r"(?<!\S)[^\s/:]+\s*/\s*(?P<value>[^\s/]+)"
)
# garage door code is 8812, alarm code: 4410#
_ACCESS_CODE = re.compile(
    r"(?i)(?:\b(?:door|gate|garage|alarm|safe|lock|locker|keypad|entry|building|lockbox|padlock)\s+(?:code|combination|combo)\b"
    r"|\bcode\s+(?:to|for)\s+(?:\w+\s+){0,3}?(?:door|gate|garage|alarm|safe|lock|locker|keypad|building|lockbox)\b)"
    r"(?:\s*[:=]\s*|\s+(?:is|was)\s+)(?P<value>[0-9][0-9#*\-]{2,11})"
)

# CVV 123 / security code: 4410
_CVV = re.compile(r"(?i)\b(?:cvv2?|cvc2?|csc|card\s+security\s+code)\b\s*(?:[:=]|is)?\s*(?P<value>\d{3,4})\b")

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "my",
        "your",
        "our",
        "his",
        "her",
        "their",
        "in",
        "on",
        "at",
        "to",
        "of",
        "for",
        "from",
        "with",
        "by",
        "under",
        "behind",
        "inside",
        "near",
        "over",
        "as",
        "is",
        "was",
        "be",
        "been",
        "being",
        "not",
        "never",
        "no",
        "none",
        "always",
        "still",
        "again",
        "also",
        "too",
        "very",
        "just",
        "only",
        "same",
        "different",
        "new",
        "old",
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
        "set",
        "unknown",
        "private",
        "secret",
        "hidden",
        "written",
        "taped",
        "printed",
        "somewhere",
        "something",
        "anything",
        "everything",
        "nothing",
        "there",
        "here",
        "what",
        "which",
        "who",
        "where",
        "when",
        "why",
        "how",
        "probably",
        "maybe",
        "definitely",
        "easy",
        "hard",
        "simple",
        "complicated",
        "alone",
        "enough",
        "fine",
        "ok",
        "okay",
        "good",
        "bad",
        "case-sensitive",
        "valid",
        "invalid",
        "mandatory",
        "optional",
        "required",
        "blank",
        "empty",
        "default",
        "encrypted",
        "hashed",
        "protected",
        "sensitive",
        "shared",
        "generated",
        "random",
        "temporary",
        "expiring",
        "expires",
        "rotated",
        "due",
        "characters",
        "chars",
        "letters",
        "digits",
        "see",
        "check",
        "ask",
        "look",
        "find",
        "try",
        "call",
        "read",
        "refer",
        "contact",
        "but",
        "and",
        "or",
        "so",
        "if",
        "then",
        "because",
        "though",
        "although",
        "unless",
        "while",
        "yet",
        "longer",
        "shorter",
        "stronger",
        "weaker",
        "better",
        "safer",
        "harder",
        "easier",
        "shown",
        "known",
        "unset",
        "one",
    ]
)
_WORDISH_SUFFIX = re.compile(r"^[a-z]+(?:ed|ing|ly|ive|ous|ful|less|able|ible|en|ent|ant|ary|ic|al)$")
_UNIT_AFTER = re.compile(
    r"(?i)^\s*(?:characters?|chars?|letters?|digits?|symbols?|words?|days?|hours?|minutes?|weeks?|months?|years?|times?|dollars?|euros?|%)"
)


def _word_like(v: str) -> bool:
    """A plain English word or hyphenated phrase (lowercase letters only) that is a stopword-ish."""
    parts = v.split("-")
    return all(p.isalpha() and p.islower() for p in parts) and any(
        p in _STOPWORDS or _WORDISH_SUFFIX.match(p) for p in parts
    )


def _passwordy(v: str) -> bool:
    """Looks like a chosen password: letters plus digits or symbols (apostrophes and hyphens don't count)."""
    v = v.rstrip("!?.,;:")  # sentence punctuation is not what makes "empty!" a password
    has_alpha = any(c.isalpha() for c in v)
    has_digit = any(c.isdigit() for c in v)
    has_symbol = any(not c.isalnum() and not c.isspace() and c not in "'’-" for c in v)
    return len(v) >= 5 and has_alpha and (has_digit or has_symbol) and len(set(v.lower())) > 2


_PASS_CONTEXT = re.compile(
    r"(?i)(?:\b(?:my|our|your|his|her|their|login|user(?:name)?|account|admin|e-?mail|wi-?fi|router)\b|[/,;])[^\n]{0,30}$"
)


def _strong_password(v: str) -> bool:
    v = v.rstrip("!?.,;:")
    kinds = sum(
        (
            any(c.isupper() for c in v),
            any(c.islower() for c in v),
            any(not c.isalnum() and c not in "-_." for c in v),
        )
    )
    return len(v) >= 8 and any(c.isdigit() for c in v) and kinds >= 2


def _clean(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop sentence punctuation glued to the end of a value ('hunter2.' -> 'hunter2')."""
    while (
        end > start
        and text[end - 1] in ".,;:)]}"
        and (end == len(text) or text[end].isspace() or end == len(text))
    ):
        end -= 1
    return start, end


_NOT_PASSWORD_SHAPE = re.compile(
    r"^[(\[<{$~/]"  # "(Richard", "<string>", "$HOME", "/Users/x"
    r"|^\.\w"  # ".pypirc"
    r"|\.(?:[a-z]{1,4}|\d\.[a-z]+)$"  # file names: newusers.c, passwd.5.xml, x.exp
    r"|^[\w.-]+(?:/[\w.-]+)+$"  # paths: gdb.base/default.exp
    r"|^https?:|/$"
    r"|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$"  # CONSTANT_NAMES: GNUTLS_E_DECRYPTION_FAILED
)


def _accept(value: str, *, after: str, strict: bool, pin: bool) -> bool:
    v = value.rstrip(".,;:)]}")
    if not v or _NOT_PASSWORD_SHAPE.search(v):
        return False
    if _UNIT_AFTER.match(after):
        return False
    if pin:
        return v.isdigit() and 4 <= len(v) <= 8
    if v.lower() in _STOPWORDS or _word_like(v.lower()):
        return False
    if strict:
        return _passwordy(v)
    if v.isdigit():
        return 4 <= len(v) <= 12
    return len(v) >= 3 and not (v[0].isupper() and v[1:].islower() and len(v) < 4)


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


def _find_tokens(text: str, add: _Add) -> None:
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
            s, e = _clean(text, m.start("value"), m.end("value"))
            add(SecretFinding("API key or token", s, e))


_DIGIT_GROUP = re.compile(r"\d+")
# How card numbers are written: 4-4-4-4(-3), 4-4-4-1, Amex 4-6-5, Diners 4-6-4, or one run.
_LAYOUTS = frozenset(
    {
        (4, 4, 4, 4),
        (4, 4, 4, 4, 3),
        (4, 4, 4, 1),
        (4, 4, 4, 3),
        (4, 4, 4, 2),
        (4, 6, 5),
        (4, 6, 4),
        (4, 4, 5),
        (4, 4, 4, 4, 2),
        (4, 4, 4, 4, 1),
    }
)


def _card_layout(text: str, groups: list[tuple[int, int, str]]) -> bool:
    """One separator throughout and a grouping cards are printed with ('355.006989 158.619003' is not)."""
    if len(groups) == 1:
        return True
    seps = {text[a[1] : b[0]].strip() or " " for a, b in itertools.pairwise(groups)}
    return len(seps) == 1 and tuple(len(g[2]) for g in groups) in _LAYOUTS


def _find_cards(text: str, add: _Add) -> None:
    for m in _CARD.finditer(text):
        if _NOT_CARD_CONTEXT.search(text, max(0, m.start() - 40), m.start()):  # bounded window: linear time
            continue
        # The run may hold more than the card ("4111 1111 1111 1111 12/29"): try the
        # longest run of whole digit groups first, from each group on.
        groups = [
            (g.start() + m.start(), g.end() + m.start(), g.group()) for g in _DIGIT_GROUP.finditer(m.group())
        ]
        i = 0
        while i < len(groups):
            for j in range(len(groups), i, -1):
                digits = "".join(g[2] for g in groups[i:j])
                if _is_card(digits) and _card_layout(text, groups[i:j]):
                    add(SecretFinding("card number", groups[i][0], groups[j - 1][1]))
                    i = j - 1
                    break
            i += 1
    for m in _CVV.finditer(text):
        add(SecretFinding("card security code", m.start("value"), m.end("value")))


def _find_prose(text: str, add: _Add) -> None:
    for rx, group_is_pass in ((_FORWARD, False), (_ITS, False), (_BARE, True), (_PASS, True)):
        for m in rx.finditer(text):
            grp = "qvalue" if m.group("qvalue") is not None else "value"
            value = m.group(grp)
            kw = m.group(0)[: m.start("conn") - m.start()].lower()
            pin = kw.lstrip().startswith("pin")
            conn = m.group("conn").strip().lower()
            # bare "password X" / "password to X" / "as X" and the weak "pass" need a password-looking value
            strict = group_is_pass or conn in ("", "to", "as", "'s", "’s", "-", "–", "—", "->")
            if (
                group_is_pass
                and rx is _PASS
                and not (
                    _PASS_CONTEXT.search(text, max(0, m.start() - 45), m.start()) or _strong_password(value)
                )
            ):
                continue  # "PASS: x86-64 insns" (a test log), not "login: bob / pass: Qwerty!234"
            if (
                pin
                and "code" in kw
                and value.isdigit()
                and len(value) == 6
                and not re.search(r"(?i)\b(?:card|bank|atm|debit|credit|phone|sim|account)\b", text)
            ):
                continue  # Indian postal "PIN code 560001"
            if grp == "qvalue":
                ok = (
                    m.group("q") != "`"
                    and not _NOT_PASSWORD_SHAPE.search(value)
                    and (
                        (value.isdigit() and 4 <= len(value) <= 8)
                        if pin
                        else (
                            _passwordy(value) or len(value.split()) >= 3 or (not strict and " " not in value)
                        )
                    )
                )
            else:
                ok = _accept(value, after=text[m.end(grp) :], strict=strict, pin=pin)
            if ok:
                s, e = (
                    (m.start(grp), m.end(grp)) if grp == "qvalue" else _clean(text, m.start(grp), m.end(grp))
                )
                # A PIN is named a password: the same advice holds, and callers match on "password".
                add(SecretFinding("password", s, e))
    for m in _REVERSE.finditer(text):
        grp = "v1" if m.group("v1") is not None else "v2"
        v = m.group(grp)
        if v.lower() not in _STOPWORDS and (
            _passwordy(v) or (v.isalnum() and len(v) >= 6 and not v.islower())
        ):
            add(SecretFinding("password", m.start(grp), m.end(grp)))
    for m in _ITS_REVERSE.finditer(text):
        v = m.group("value")
        if v.lower() not in _STOPWORDS and (_passwordy(v) or (v.isdigit() and 4 <= len(v) <= 8)):
            add(SecretFinding("password", m.start("value"), m.end("value")))
    for m in _PAIR.finditer(text):
        v = m.group("value")
        if _passwordy(v) and not v.endswith(":") and not _NOT_PASSWORD_SHAPE.search(v.rstrip(".,;:)]}")):
            s, e = _clean(text, m.start("value"), m.end("value"))
            add(SecretFinding("password", s, e))
    for m in _ACCESS_CODE.finditer(text):
        add(SecretFinding("access code", m.start("value"), m.end("value")))


# "my API key = abcd1234efgh": a short key after an explicit assignment (the generic
# keyed rule above wants 20 characters, for keys named in running prose).
_ASSIGNED_KEY = re.compile(
    r"(?i)\b(?:api[\s_-]?key|secret[\s_-]?key|access[\s_-]?token|auth[\s_-]?token)\s*(?:=|:)\s*"
    r"(?P<value>(?=[A-Za-z0-9_\-./+]*[0-9])(?=[A-Za-z0-9_\-./+]*[A-Za-z])[A-Za-z0-9_\-./+]{8,})"
)


def _find_assigned_keys(text: str, add: _Add) -> None:
    for m in _ASSIGNED_KEY.finditer(text):
        add(SecretFinding("password", m.start("value"), m.end("value")))


def find_secrets(text: str) -> list[SecretFinding]:
    """Every secret the built-in patterns find in ``text``, sorted by position (longest first on a tie)."""
    found: list[SecretFinding] = []
    _find_tokens(text, found.append)
    _find_cards(text, found.append)
    _find_prose(text, found.append)
    _find_assigned_keys(text, found.append)
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
