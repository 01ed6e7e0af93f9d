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

The rules live by kind: ``tokens`` (vendor formats, keyed tokens, URL passwords),
``cards`` (card numbers and security codes) and ``prose`` (passwords said in sentences);
``filter`` runs them all.
"""

from langmem_agno.secrets_filter.filter import SecretFilter, find_secrets
from langmem_agno.secrets_filter.finding import SecretFinding

__all__ = ["SecretFilter", "SecretFinding", "find_secrets"]
