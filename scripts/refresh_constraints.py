"""Refresh ``constraints.txt``: resolve every dependency of the project afresh and pin what resolved.

CI and every tox environment install through ``constraints.txt`` (``PIP_CONSTRAINT``), so a
dependency released upstream never changes what the tests run on until this script is run on
purpose (``tox -e lock``) and its diff committed. One resolution covers the package, its extras
and every dependency group together, so all environments agree on each version.

The resolution is pip's own (``pip install --dry-run --report``): nothing is installed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "constraints.txt"
EXTRAS = "motor,notebooks,postgres,server,wordnet"
GROUPS = ("test", "lint", "embeddings", "bench")
#: Build back-ends are resolved in their own isolated environment: pin them too.
BUILD_REQUIREMENTS = ("hatchling",)
PROJECT = "langmem-agno"

logger = logging.getLogger("refresh_constraints")


def resolve() -> dict[str, str]:
    """Ask pip which versions it would install today, without installing anything."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
            "--report", str(report), f"{ROOT}[{EXTRAS}]", *BUILD_REQUIREMENTS,
        ]  # fmt: skip
        for group in GROUPS:
            command += ["--group", f"{ROOT / 'pyproject.toml'}:{group}"]
        subprocess.run(command, check=True)
        installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    pins = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in installs}
    pins.pop(PROJECT, None)
    return dict(sorted(pins.items()))


def main() -> int:
    """Write ``constraints.txt`` and report how many packages it pins."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pins = resolve()
    python = ".".join(map(str, sys.version_info[:2]))
    header = [
        "# Every package the tests, lint, notebooks and benchmarks install, pinned.",
        f"# Resolved for Python {python} by `tox -e lock` (scripts/refresh_constraints.py).",
        "# Never edit by hand: rerun that command and commit the diff.",
    ]
    OUT.write_text("\n".join([*header, *(f"{name}=={version}" for name, version in pins.items())]) + "\n")
    logger.info("wrote %d pins to %s", len(pins), OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
