"""Lay Debian's WordNet 3.0 out as NLTK data, for machines that cannot run ``nltk.downloader``.

Usage::

    apt-get install wordnet-base wordnet-sense-index
    python scripts/wordnet_from_debian.py --out ~/nltk_data

NLTK's WordNet reader wants the database files (Debian's ``wordnet-base``), the sense
index (``wordnet-sense-index``) and a ``lexnames`` file that Debian ships only as its
manual page, lexnames(5WN); this script writes it from that page's table. The tests
and benchmarks use it because this project's CI cannot reach NLTK's download server.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import re
import shutil
import sys
from pathlib import Path

DEBIAN_DICT = Path("/usr/share/wordnet")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")
#: The files NLTK's reader opens (``index.sense`` for its sense keys, ``lexnames`` written here).
_DATABASE = tuple(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv"))
FILES = (*_DATABASE, "adj.exc", "adv.exc", "noun.exc", "verb.exc", "index.sense")
#: A row of the manual page's table: number, name (such as noun.person), description.
_ROW = re.compile(r"^(\d\d)\t(\w+\.\w+)\s")
_SYNTACTIC = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}

logger = logging.getLogger("wordnet_from_debian")


def missing() -> list[str]:
    """What this machine lacks for :func:`lay_out` (empty when it has everything)."""
    wanted = [DEBIAN_DICT / name for name in FILES] + [LEXNAMES_MAN]
    return [str(path) for path in wanted if not path.is_file()]


def lexnames() -> str:
    """The ``lexnames`` file: one ``number<TAB>name<TAB>syntactic category`` line per lexicographer file."""
    with gzip.open(LEXNAMES_MAN, "rt", encoding="utf-8") as page:
        rows = [m.groups() for line in page if (m := _ROW.match(line))]
    if len(rows) != 45:
        raise RuntimeError(f"{LEXNAMES_MAN} lists {len(rows)} lexicographer files, expected WordNet 3.0's 45")
    return "".join(f"{number}\t{name}\t{_SYNTACTIC[name.split('.')[0]]}\n" for number, name in rows)


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
