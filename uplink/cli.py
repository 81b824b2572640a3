"""``kiosk-uplink``: Run the uplink alone: drain the outbox to AWS IoT Core or an MQTT broker."""

from __future__ import annotations

import argparse
import sys

from settings.cli_support import add_config_arguments

PROG = "kiosk-uplink"


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-uplink`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the uplink alone: drain the outbox to AWS IoT Core or an MQTT broker.",
    )
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-uplink``."""
    build_parser().parse_args(argv)
    print(f"{PROG}: not built yet in this version", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
