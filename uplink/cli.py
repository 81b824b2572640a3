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
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from settings.cli_support import add_config_arguments, load_config_or_exit
from settings.logsetup import configure_logging
from settings.service_manager import ServiceManager

if TYPE_CHECKING:
    from uplink.service import UplinkService

PROG = "kiosk-uplink"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: The uplink thread goes round a loop at least every connect timeout (10 s) or backlog
#: refresh; older than this, it is stuck and systemd's watchdog (WatchdogSec=60) restarts it.
HEARTBEAT_LIMIT_S = 30.0
#: How often a kiosk-uplink started before the kiosk looks for the event database.
DATABASE_POLL_S = 2.0

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
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if not wait_for_database(database, stop):
        return EXIT_OK
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

    service.start()
    run_until_stopped(service, stop, args.status_s)
    service.stop(timeout=5.0)
    outbox.close()
    return EXIT_OK


def wait_for_database(database: Path, stop: threading.Event) -> bool:
    """Wait until the kiosk has made its event database (at a first boot the uplink service
    may start first); False when told to stop before. Under systemd the wait is READY with
    its reason in STATUS, and the watchdog is petted: waiting is not hanging."""
    if database.exists():
        return True
    print(f"{PROG}: {database}: no event database yet: waiting for the kiosk to make it",
          file=sys.stderr, flush=True)  # fmt: skip
    manager = ServiceManager()
    manager.ready(f"waiting for {database}")
    tick = min(DATABASE_POLL_S, manager.ping_interval_s or DATABASE_POLL_S)
    while not stop.wait(tick):
        manager.watchdog()
        if database.exists():
            return True
    manager.stopping()
    return False


def run_until_stopped(service: UplinkService, stop: threading.Event, status_s: float) -> None:
    """Print the status every ``status_s`` seconds until ``stop``; under systemd
    (``Type=notify``) say READY=1, then pet the watchdog while the uplink thread goes round
    its loops (a stuck uplink is restarted), and STOPPING=1 at the end."""
    manager = ServiceManager()
    manager.ready(f"uplink to {service.status().broker}")
    status_every = status_s if status_s > 0 else 3600.0
    tick = min(status_every, manager.ping_interval_s or status_every)
    next_status = time.monotonic() + status_every
    while not stop.wait(tick):
        if service.heartbeat_age() < HEARTBEAT_LIMIT_S:
            manager.watchdog()
        if time.monotonic() < next_status:
            continue
        next_status = time.monotonic() + status_every
        status = service.status()
        line = (
            f"{'connected' if status.connected else 'offline'}, sent {status.sent_events} "
            f"events in {status.sent_batches} batches, backlog {status.backlog_events} events"
            + (f", last error: {status.last_error}" if status.last_error else "")
        )
        print(f"{PROG}: {line}", file=sys.stderr, flush=True)
        manager.status(line)
    manager.stopping()


if __name__ == "__main__":
    raise SystemExit(main())
