"""Payment card numbers (Luhn, issuer prefix and length, printed grouping) and security codes."""

from __future__ import annotations

import itertools
import re

from stdnum import luhn

from langmem_agno.secrets_filter.finding import Add, SecretFinding

__all__ = ["find_cards"]

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


# CVV 123 / security code: 4410
_CVV = re.compile(r"(?i)\b(?:cvv2?|cvc2?|csc|card\s+security\s+code)\b\s*(?:[:=]|is)?\s*(?P<value>\d{3,4})\b")

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


def find_cards(text: str, add: Add) -> None:
    """Report each card number and card security code in ``text``."""
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
