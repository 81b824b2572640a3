"""``kiosk-receive``: The analysts' receiver: subscribe to kiosk uplinks and land them in SQLite.

``kiosk-receive --broker mqtt://HOST:PORT --topic 'retail/+/+/events' --db PATH`` runs until
Ctrl+C / SIGTERM, printing progress to stderr. ``kiosk-receive export --db PATH --format
csv|parquet [--out FILE]`` writes the events table for notebooks. ``kiosk-receive quarantine
list|show|replay --db PATH`` shows what was set aside and lands what passes a check again.
With ``--lake DIR|s3://BUCKET/PREFIX`` it also copies every landed event, exactly once, into
a Parquet lake (:mod:`analytics.lake`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from analytics.lake import LakeBounds, LakeError, LakeWriter
from analytics.lake_target import open_lake
from uplink.credentials import CredentialError
from uplink.landing import ReceiverDatabaseError, describe_entries, open_existing
from uplink.receiver import Receiver, export_events, parse_broker_url
from uplink.schema import BatchChecker, load_event_schema
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
        f"'{PROG} export --help' for CSV/Parquet export, '{PROG} quarantine --help' for "
        "the events set aside.",
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
        help="client id of the receiver's broker session, which keeps what was not "
        "acknowledged while it is away (default: one fixed for this host and --db)",
    )
    parser.add_argument(
        "--schema",
        type=Path,
        default=None,
        help="event JSON schema (default: the published resources/schema/event-v1.json)",
    )
    _add_lake_arguments(parser)
    parser.add_argument(
        "--progress-s", type=float, default=5.0, help="seconds between progress lines (0: none)"
    )
    parser.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO"
    )
    return parser


def _add_lake_arguments(parser: argparse.ArgumentParser) -> None:
    lake = parser.add_argument_group(
        "Parquet lake", "also copy every landed event, once, into Hive-style Parquet files"
    )
    lake.add_argument(
        "--lake",
        default=None,
        metavar="DIR|s3://BUCKET/PREFIX",
        help="the lake: a local folder or an S3 prefix (credentials from the AWS environment)",
    )
    lake.add_argument(
        "--lake-endpoint",
        default=None,
        metavar="URL",
        help="S3 endpoint other than AWS's (MinIO, Ceph): http(s)://HOST[:PORT]",
    )
    bounds = LakeBounds()
    lake.add_argument(
        "--lake-file-rows",
        type=int,
        default=bounds.file_rows,
        metavar="N",
        help=f"close files at N events (default {bounds.file_rows})",
    )
    lake.add_argument(
        "--lake-file-age-s",
        type=float,
        default=bounds.file_age_s,
        metavar="S",
        help="close files when their first event has waited S seconds "
        f"(default {bounds.file_age_s:.0f})",
    )


def _lake_writer(args: argparse.Namespace) -> LakeWriter | None:
    """The lake writer the arguments ask for (None: no lake); ValueError, LakeError."""
    if args.lake is None:
        if args.lake_endpoint is not None:
            raise ValueError("--lake-endpoint needs --lake")
        return None
    bounds = LakeBounds(file_rows=args.lake_file_rows, file_age_s=args.lake_file_age_s)
    return LakeWriter(args.db, open_lake(args.lake, endpoint=args.lake_endpoint), bounds)


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


def build_quarantine_parser() -> argparse.ArgumentParser:
    """``kiosk-receive quarantine list|show|replay``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} quarantine",
        description="The events and messages set aside because they failed the schema: "
        "list them, show one's JSON, or check them again and land those that pass.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per entry: id, when, kiosk, reason")
    listing.add_argument("--all", action="store_true", help="include entries already replayed")
    show = commands.add_parser("show", help="the raw JSON of entries, as received")
    show.add_argument("ids", type=int, nargs="+", metavar="ID")
    replay = commands.add_parser(
        "replay", help="check entries again (all waiting, or the IDs given); land what passes"
    )
    replay.add_argument("ids", type=int, nargs="*", metavar="ID")
    replay.add_argument(
        "--schema",
        type=Path,
        default=None,
        help="event JSON schema (default: the published resources/schema/event-v1.json)",
    )
    for sub in (listing, show, replay):
        sub.add_argument("--db", required=True, type=Path, metavar="PATH")
    return parser


def _quarantine(argv: list[str]) -> int:
    args = build_quarantine_parser().parse_args(argv)
    try:
        store = open_existing(args.db)
    except (OSError, ReceiverDatabaseError) as exc:
        print(f"{PROG} quarantine: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.command == "list":
            entries = store.quarantined(include_replayed=args.all)
            for line in describe_entries(entries):
                print(line)
            print(f"{PROG} quarantine: {len(entries)} entries", file=sys.stderr)
            return EXIT_OK
        if args.command == "show":
            found = {e.id: e for e in store.quarantined(include_replayed=True, ids=args.ids)}
            missing = [i for i in args.ids if i not in found]
            for entry in found.values():
                sys.stdout.buffer.write(entry.raw + b"\n")
            if missing:
                print(f"{PROG} quarantine: no entry {missing}", file=sys.stderr)
                return EXIT_FAILED
            return EXIT_OK
        try:
            checker = BatchChecker(load_event_schema(args.schema))
        except (OSError, ValueError) as exc:
            print(f"{PROG} quarantine: {exc}", file=sys.stderr)
            return EXIT_USAGE
        result = store.replay(checker, args.ids)
        for entry_id, problem in result.still_failing:
            print(f"{entry_id}\tstill failing: {problem}")
        print(
            f"{PROG} quarantine: {result.landed} entries replayed ({result.events_new} new "
            f"events), {len(result.still_failing)} still failing",
            file=sys.stderr,
        )
        return EXIT_OK if not result.still_failing else EXIT_FAILED
    except ReceiverDatabaseError as exc:
        print(f"{PROG} quarantine: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        store.close()


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


def _progress(receiver: Receiver, lake: LakeWriter | None) -> str:
    line = receiver.stats().line()
    return line if lake is None else f"{line}; {lake.status().line()}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-receive``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        return _export(argv[1:])
    if argv[:1] == ["quarantine"]:
        return _quarantine(argv[1:])
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
    except (ValueError, CredentialError, OSError, ReceiverDatabaseError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        lake = _lake_writer(args)
    except (ValueError, OSError, LakeError) as exc:
        receiver.stop()
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    receiver.start()
    if lake is not None:
        lake.start()
    print(
        f"{PROG}: {endpoint.describe()} {args.topic} -> {args.db} (session {receiver.client_id})"
        + ("" if lake is None else f" and {lake.lake.uri}"),
        file=sys.stderr,
    )
    last = ""
    interval = args.progress_s if args.progress_s > 0 else 1.0
    while not stop.wait(interval) and receiver.fatal is None:
        line = _progress(receiver, lake)
        if args.progress_s > 0 and line != last:
            print(f"{PROG}: {line}", file=sys.stderr, flush=True)
            last = line
    fatal = receiver.fatal
    receiver.stop()
    if lake is not None:
        lake.stop()  # closes what waits into files first
    print(f"{PROG}: {_progress(receiver, lake)}", file=sys.stderr)
    if fatal is not None:
        print(f"{PROG}: {fatal}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
