"""Passwords, passcodes, PINs and door codes said in everyday sentences, in several languages."""

from __future__ import annotations

import re

from langmem_agno.secrets_filter.finding import Add, SecretFinding, trim_value

__all__ = ["find_prose"]

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

# Values that are ordinary words, never a chosen password ("my password is the one ...").
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


def find_prose(text: str, add: Add) -> None:
    """Report each password, PIN or access code said in a sentence of ``text``."""
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
                    (m.start(grp), m.end(grp))
                    if grp == "qvalue"
                    else trim_value(text, m.start(grp), m.end(grp))
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
            s, e = trim_value(text, m.start("value"), m.end("value"))
            add(SecretFinding("password", s, e))
    for m in _ACCESS_CODE.finditer(text):
        add(SecretFinding("access code", m.start("value"), m.end("value")))
