"""The secret filter against labelled sets shipped in tests/data: what it catches, what it wrongly refuses.

``secrets_labelled.jsonl``: texts holding one secret each (``secret`` is its exact span), of many kinds.
``ordinary_labelled.jsonl``: ordinary facts that look like secrets (passes, PINs of colours, phone,
order, flight and tracking numbers, IMEIs, ISBNs, hashes). Every secret in them is fake.
The rates are computed per kind, logged, and held to the thresholds: at least 98 % of the secrets
caught (and wholly redacted, so an extraction's stored ``input`` keeps none of it), at most 2 % of
the ordinary facts refused.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from langmem_agno.secrets_filter import SecretFilter

DATA = Path(__file__).parent / "data"
F = SecretFilter()
logger = logging.getLogger(__name__)


def _rows(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


SECRETS = _rows("secrets_labelled.jsonl")
ORDINARY = _rows("ordinary_labelled.jsonl")


def _per_kind(rows: list[dict[str, Any]], hit: Any) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        counts[row["kind"]][0] += bool(hit(row))
        counts[row["kind"]][1] += 1
    return {kind: (n, total) for kind, (n, total) in sorted(counts.items())}


def test_the_shipped_sets_are_large_enough_and_distinct() -> None:
    assert len(SECRETS) >= 60 and len(ORDINARY) >= 60
    assert len({r["text"] for r in SECRETS}) == len(SECRETS)
    assert all(r["secret"] in r["text"] for r in SECRETS)
    assert {"aws_secret_key", "slack_webhook", "pgp_private_key", "password_prose", "card_number"} <= {
        r["kind"] for r in SECRETS
    }
    assert {"pass_word", "pin_talk", "imei", "isbn", "phone_number"} <= {r["kind"] for r in ORDINARY}


def test_secrets_are_caught_and_redacted() -> None:
    caught = _per_kind(SECRETS, lambda r: F.find(r["text"]))
    redacted = _per_kind(SECRETS, lambda r: r["secret"] not in F.redact(r["text"]))
    for kind, (n, total) in caught.items():
        logger.info("secrets caught, %s: %d/%d (redacted %d)", kind, n, total, redacted[kind][0])
    missed = [r["text"] for r in SECRETS if not F.find(r["text"])]
    total_caught = sum(n for n, _ in caught.values())
    assert total_caught / len(SECRETS) >= 0.98, missed
    total_redacted = sum(n for n, _ in redacted.values())
    assert total_redacted / len(SECRETS) >= 0.98


def test_ordinary_facts_are_rarely_refused() -> None:
    refused = _per_kind(ORDINARY, lambda r: F.find(r["text"]))
    for kind, (n, total) in refused.items():
        logger.info("ordinary refused, %s: %d/%d", kind, n, total)
    wrong = [r["text"] for r in ORDINARY if F.find(r["text"])]
    assert len(wrong) / len(ORDINARY) <= 0.02, wrong


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("my password for the bank is Blue!Fish42", "my password for the bank is [redacted: password]"),
        ("card 4111.1111.1111.1111 expires", "card [redacted: card number] expires"),
        ("the mountain pass is closed", "the mountain pass is closed"),
    ],
)
def test_redaction_names_the_kind(text: str, redacted: str) -> None:
    assert F.redact(text, "[redacted: {kind}]") == redacted


def test_long_hostile_text_is_scanned_to_the_end() -> None:
    # What these shapes cost is measured by benchmarks/bench_secrets.py; here, what the filter finds.
    assert [F.find(t) for t in ("4" * 20_000, "1 " * 10_000)] == [[], []]  # no card in a digit run
    assert F.redact("sk-" + "a-" * 5_000) == "[redacted]"  # a key is redacted whole, however long
    repeated = F.redact("password is " * 2_000)
    # Every other "password" is the value of the one before it, to the very end of the text.
    assert repeated.count("[redacted]") == 1_000 and repeated.endswith("is [redacted] is ")
