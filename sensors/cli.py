"""``kiosk-sensor``: Sensor tools: record synthetic scenes, replay recordings, watch a camera."""

from __future__ import annotations

import argparse
import sys

from settings.cli_support import add_config_arguments

PROG = "kiosk-sensor"


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-sensor`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sensor tools: record synthetic scenes, replay recordings, watch a camera.",
    )
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-sensor``."""
    build_parser().parse_args(argv)
    print(f"{PROG}: not built yet in this version", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
