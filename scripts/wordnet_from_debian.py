"""Lay Debian's WordNet 3.0 out as NLTK data, for machines that cannot run ``nltk.downloader``.

Usage::

    apt-get install wordnet-base wordnet-sense-index
    python scripts/wordnet_from_debian.py --out ~/nltk_data

NLTK's WordNet reader wants the database files (Debian's ``wordnet-base``), the sense
index (``wordnet-sense-index``, read when the reader loads) and a ``lexnames`` file,
WordNet 3.0's fixed table of its 45 lexicographer files, which Debian leaves out (it
documents it in lexnames(5WN), and minimal images drop manual pages); this script writes
it. The tests and benchmarks use it because this project's CI cannot reach NLTK's
download server.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

DEBIAN_DICT = Path("/usr/share/wordnet")
_DATABASE = tuple(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv"))
#: The files NLTK's reader opens (``lexnames`` is written here).
FILES = (*_DATABASE, "adj.exc", "adv.exc", "noun.exc", "verb.exc", "index.sense")
#: WordNet 3.0's lexicographer files in number order (lexnames(5WN)); a synset's entry in a
#: data file names its file by that number.
LEXICOGRAPHER_FILES = [
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
]
_SYNTACTIC = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}

logger = logging.getLogger("wordnet_from_debian")


def missing() -> list[str]:
    """What this machine lacks for :func:`lay_out` (empty when it has everything)."""
    return [str(DEBIAN_DICT / name) for name in FILES if not (DEBIAN_DICT / name).is_file()]


def lexnames() -> str:
    """The ``lexnames`` file: one ``number<TAB>name<TAB>syntactic category`` line per lexicographer file."""
    return "".join(
        f"{number:02d}\t{name}\t{_SYNTACTIC[name.split('.')[0]]}\n"
        for number, name in enumerate(LEXICOGRAPHER_FILES)
    )


def lay_out(out: Path) -> Path:
    """Write ``out/corpora/wordnet`` from Debian's files; returns that directory.

    Raises:
        FileNotFoundError: A Debian package is not installed (the message names the files).
    """
    absent = missing()
    if absent:
        raise FileNotFoundError(f"install wordnet-base and wordnet-sense-index: missing {absent}")
    target = out / "corpora" / "wordnet"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(DEBIAN_DICT / name, target / name)
    (target / "lexnames").write_text(lexnames(), encoding="utf-8")
    return target


def main() -> int:
    """Lay the data out under ``--out``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="an NLTK data directory, such as ~/nltk_data")
    args = parser.parse_args()
    try:
        target = lay_out(args.out.expanduser())
    except FileNotFoundError as exc:
        logger.error("%s", exc)
        return 1
    logger.info("WordNet laid out in %s", target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
