"""``kiosk-import``: Tools for artists: validate, build and watch draw.io experiences."""

from __future__ import annotations

import argparse
import sys

from settings.cli_support import add_config_arguments

PROG = "kiosk-import"


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-import`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Tools for artists: validate, build and watch draw.io experiences."
    )
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-import``."""
    build_parser().parse_args(argv)
    print(f"{PROG}: not built yet in this version", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
