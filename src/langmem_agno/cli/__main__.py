"""``python -m langmem_agno.cli``: the ``langmem-agno`` command."""

from __future__ import annotations

from langmem_agno.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
