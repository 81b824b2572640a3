"""``kiosk-receive``: The analysts' receiver: subscribe to kiosk uplinks and land them in SQLite."""

from __future__ import annotations

import argparse
import sys

from settings.cli_support import add_config_arguments

PROG = "kiosk-receive"


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-receive`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The analysts' receiver: subscribe to kiosk uplinks and land them in SQLite.",
    )
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-receive``."""
    build_parser().parse_args(argv)
    print(f"{PROG}: not built yet in this version", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
