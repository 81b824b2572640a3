"""What every command-line entry point shares: config loading with a clean exit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from settings.loader import ConfigError, load_config
from settings.model import KioskConfig

EXIT_CONFIG = 2


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config PATH`` and ``--log-level LEVEL``, the same on every command."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="TOML config file (default: $KIOSK_CONFIG, else resources/kiosk.toml)",
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=None,
        help="override [logging] level",
    )


def load_config_or_exit(path: Path | None, prog: str) -> KioskConfig:
    """Load the config; on error print one line per problem, prefixed by ``prog``, and
    exit with status 2 (never a traceback)."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{prog}: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
