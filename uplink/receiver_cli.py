"""``kiosk-receive``: The analysts' receiver: subscribe to kiosk uplinks and land them in SQLite.

``kiosk-receive --broker mqtt://HOST:PORT --topic 'retail/+/+/events' --db PATH`` runs until
Ctrl+C / SIGTERM, printing progress to stderr. ``kiosk-receive export --db PATH --format
csv|parquet [--out FILE]`` writes the events table for notebooks.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from uplink.credentials import CredentialError
from uplink.receiver import Receiver, export_events, parse_broker_url
from uplink.schema import EVENT_SCHEMA_PATH, BatchChecker, load_event_schema
from uplink.transport import BrokerEndpoint

PROG = "kiosk-receive"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-receive`` command line (receiving; ``export`` has its own parser)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The analysts' receiver: subscribe to kiosk uplinks and land them in SQLite. "
        f"'{PROG} export --help' for CSV/Parquet export.",
    )
    parser.add_argument(
        "--broker", required=True, metavar="URL", help="mqtt://HOST[:PORT] or mqtts://..."
    )
    parser.add_argument(
        "--topic", default="retail/+/+/events", help="topic filter (default retail/+/+/events)"
    )
    parser.add_argument(
        "--db", required=True, type=Path, metavar="PATH", help="SQLite file to fill"
    )
    tls = parser.add_argument_group("TLS and credentials")
    tls.add_argument("--tls", action="store_true", help="use TLS (implied by mqtts://)")
    tls.add_argument("--ca", type=Path, metavar="PEM", help="CA certificate of the broker")
    tls.add_argument("--cert", type=Path, metavar="PEM", help="client certificate")
    tls.add_argument("--key", type=Path, metavar="PEM", help="client key (mode 0600)")
    tls.add_argument("--username", default="")
    tls.add_argument("--password-file", type=Path, metavar="PATH")
    parser.add_argument("--mqtt-version", choices=["3.1.1", "5"], default="3.1.1")
    parser.add_argument(
        "--client-id",
        default="",
        help="fixed client id: the broker then keeps a session and queues batches while away",
    )
    parser.add_argument(
        "--schema", type=Path, default=EVENT_SCHEMA_PATH, help="event JSON schema (schema v1)"
    )
    parser.add_argument(
        "--progress-s", type=float, default=5.0, help="seconds between progress lines (0: none)"
    )
    parser.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO"
    )
    return parser


def build_export_parser() -> argparse.ArgumentParser:
    """``kiosk-receive export``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} export", description="Write the received events as CSV or Parquet."
    )
    parser.add_argument("--db", required=True, type=Path, metavar="PATH")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output file (default: the db path with .csv/.parquet)",
    )
    return parser


def _export(argv: list[str]) -> int:
    args = build_export_parser().parse_args(argv)
    out = args.out or args.db.with_suffix(f".{args.format}")
    try:
        rows = export_events(args.db, args.format, out)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"{PROG} export: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{PROG} export: {rows} events -> {out}")
    return EXIT_OK


def _endpoint(args: argparse.Namespace) -> BrokerEndpoint:
    host, port, tls = parse_broker_url(args.broker)
    password = None
    if args.password_file is not None:
        try:
            password = args.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"--password-file {args.password_file}: {exc.strerror}") from None
    return BrokerEndpoint(
        host=host,
        port=port,
        mqtt_version=args.mqtt_version,
        tls=tls or args.tls or args.ca is not None or args.cert is not None,
        ca_file=args.ca,
        cert_file=args.cert,
        key_file=args.key,
        username=args.username,
        password=password,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-receive``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return _export(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    try:
        endpoint = _endpoint(args)
        checker = BatchChecker(load_event_schema(args.schema))
        receiver = Receiver(
            endpoint, args.topic, args.db, client_id=args.client_id, checker=checker
        )
    except (ValueError, CredentialError, OSError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    receiver.start()
    print(f"{PROG}: {endpoint.describe()} {args.topic} -> {args.db}", file=sys.stderr)
    last = ""
    interval = args.progress_s if args.progress_s > 0 else 1.0
    while not stop.wait(interval) and receiver.fatal is None:
        line = receiver.stats().line()
        if args.progress_s > 0 and line != last:
            print(f"{PROG}: {line}", file=sys.stderr, flush=True)
            last = line
    fatal = receiver.fatal
    receiver.stop()
    print(f"{PROG}: {receiver.stats().line()}", file=sys.stderr)
    if fatal is not None:
        print(f"{PROG}: {fatal}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
