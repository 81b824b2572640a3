"""``kiosk-uplink``: Run the uplink alone: drain the outbox to AWS IoT Core or an MQTT broker.

It opens the kiosk's SQLite file (``[storage] database``) as an outbox and keeps sending
until SIGTERM/Ctrl+C, so batches keep leaving while the kiosk app restarts. Safe to kill at
any moment: a batch is marked sent only after the broker's PUBACK, and a claim held by a
killed process comes back to the outbox.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from settings.cli_support import add_config_arguments, load_config_or_exit
from settings.logsetup import configure_logging

PROG = "kiosk-uplink"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-uplink`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the uplink alone: drain the outbox to AWS IoT Core or an MQTT broker.",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--status-s",
        type=float,
        default=0.0,
        help="print the uplink status to stderr every this many seconds (0: never)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-uplink``."""
    args = build_parser().parse_args(argv)
    config = load_config_or_exit(args.config, PROG)
    configure_logging(config, level=args.log_level, log_name="uplink.log")

    from storage import Outbox
    from uplink.credentials import CredentialError
    from uplink.service import UplinkService

    database = config.storage.database or config.data_path("events.sqlite")
    if not database.exists():
        print(f"{PROG}: {database}: no event database yet (start the kiosk once)", file=sys.stderr)
        return EXIT_FAILED
    try:
        outbox = Outbox(database)
        service = UplinkService(config, outbox)
    except CredentialError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        print(f"{PROG}: cannot open the outbox in {database}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if config.uplink.enabled:
        # Both would share the outbox safely, but one client id on two connections makes
        # the broker drop each in turn.
        log.warning(
            "[uplink] enabled = true: if the kiosk app runs with this config it uplinks too, "
            "with the same client id; set enabled = false for the kiosk when using %s",
            PROG,
        )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    service.start()
    interval = args.status_s if args.status_s > 0 else 3600.0
    while not stop.wait(interval):
        status = service.status()
        print(
            f"{PROG}: {'connected' if status.connected else 'offline'}, sent "
            f"{status.sent_events} events in {status.sent_batches} batches, backlog "
            f"{status.backlog_events} events"
            + (f", last error: {status.last_error}" if status.last_error else ""),
            file=sys.stderr,
            flush=True,
        )
    service.stop(timeout=5.0)
    outbox.close()
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
