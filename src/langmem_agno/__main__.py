"""``python -m langmem_agno``: run the two-session memory demo."""

from __future__ import annotations

import argparse

from langmem_agno.testing.demo import main as demo_main


def main(argv: list[str] | None = None) -> int:
    """Parse ``--model`` and ``--db`` and run the demo.

    Args:
        argv: The arguments; ``sys.argv[1:]`` by default.

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m langmem_agno", description=__doc__)
    parser.add_argument("--model", help="provider:model for init_chat_model, e.g. openai:gpt-4o-mini")
    parser.add_argument("--db", help="SQLite file for the memories (a temporary one by default)")
    args = parser.parse_args(argv)
    return demo_main(args.model, db=args.db)


if __name__ == "__main__":
    raise SystemExit(main())
