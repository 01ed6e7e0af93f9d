"""WordNet for the tests: Debian's WordNet 3.0 laid out as NLTK data (CI cannot reach NLTK's downloads)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import wordnet_from_debian


def nltk_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh NLTK data directory holding WordNet; skips without Debian's packages (fails on CI)."""
    absent = wordnet_from_debian.missing()
    if absent:
        reason = f"Debian's wordnet-base and wordnet-sense-index are not installed: {absent}"
        if os.environ.get("LANGMEM_AGNO_REQUIRE_WORDNET") == "1":
            pytest.fail(f"LANGMEM_AGNO_REQUIRE_WORDNET=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("nltk_data")
    wordnet_from_debian.lay_out(root)
    return root
