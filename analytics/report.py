"""``kiosk-report``: one store's day as a report a store manager reads in two minutes.

``kiosk-report --date 2026-11-23 --store store-042 --lake /srv/lake -o report.html`` (or
``--sqlite landed.sqlite``, ``--format pdf``): the day against the previous four same
weekdays, the funnel, the top and rising products, the products looked at together and each
kiosk's health, each with a plot and one line saying what it means
(:mod:`analytics.report_figures`, :mod:`analytics.report_render`). A day without events says
so plainly. The PDF is Chromium's print of the same page (``chromium --headless
--print-to-pdf``; Debian's ``chromium`` package).

A request that cannot be met (a bad date or store id, a lake or file that is not there, no
Chromium for a PDF) is one line on stderr, ``kiosk-report: ...``, and exit status 2; data that
cannot be read is one line and status 1. No traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from analytics.lake_target import LocalLake, open_lake
from analytics.queries import EventSource, LakeSource, SQLiteSource
from analytics.report_figures import ReportError, check_store, day_report, parse_date
from analytics.report_render import report_html
from analytics.stored_status import StoredStatus, day_statuses

log = logging.getLogger(__name__)

#: Seconds Chromium may take to print the page.
PRINT_TIMEOUT_S = 60.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-report", description="A store's day as an HTML or PDF report."
    )
    parser.add_argument("--date", required=True, help="the UTC day, YYYY-MM-DD")
    parser.add_argument("--store", required=True, help="the store id")
    parser.add_argument("--format", choices=("html", "pdf"), default="html")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--lake", help="the Parquet lake: a local folder or s3://BUCKET/PREFIX")
    source.add_argument("--sqlite", type=Path, help="the receiver's SQLite file (kiosk-receive)")
    parser.add_argument(
        "--status-db",
        type=Path,
        help="the receiver's SQLite file to read the kiosks' status from (with --lake;"
        " --sqlite reads it from its file)",
    )
    parser.add_argument("--lake-endpoint", help="an S3 endpoint URL (MinIO, a test server)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the report file")
    return parser


def event_source(args: argparse.Namespace) -> EventSource:
    """The lake or SQLite file asked for, if it is there."""
    if args.sqlite is not None:
        if not args.sqlite.is_file():
            raise ReportError(f"--sqlite {args.sqlite}: no such file")
        return SQLiteSource(args.sqlite)
    try:
        lake = open_lake(args.lake, endpoint=args.lake_endpoint)
    except ValueError as exc:
        raise ReportError(f"--lake: {exc}") from None
    if isinstance(lake, LocalLake) and not lake.root.is_dir():
        raise ReportError(f"--lake {args.lake}: no such folder")
    return LakeSource(lake)


def statuses(args: argparse.Namespace, day: dt.date, store: str) -> dict[str, StoredStatus] | None:
    """The kiosks' last status messages of the day from the receiver's file (--sqlite or
    --status-db); None when neither names one."""
    database = args.sqlite if args.sqlite is not None else args.status_db
    if database is None:
        return None
    if not database.is_file():
        raise ReportError(f"--status-db {database}: no such file")
    return day_statuses(database, store, day.isoformat())


def print_pdf(html: str, out: Path) -> None:
    """Chromium's print of ``html`` into ``out`` (written whole or not at all)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise ReportError("--format pdf needs Chromium (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="kiosk-report-") as folder:
        page, pdf = Path(folder, "report.html"), Path(folder, "report.pdf")
        page.write_text(html, encoding="utf-8")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu"]
        command += [f"--user-data-dir={folder}/profile", "--no-pdf-header-footer"]
        command += [f"--print-to-pdf={pdf}", page.as_uri()]
        done = subprocess.run(command, capture_output=True, timeout=PRINT_TIMEOUT_S, check=False)
        if done.returncode != 0 or not pdf.is_file():
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise OSError(
                f"chromium could not print the report (status {done.returncode}): {last[0]}"
            )
        _replace(pdf.read_bytes(), out)


def _replace(content: bytes, out: Path) -> None:
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_bytes(content)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the report; 0 when written, 2 for a request that cannot be met, 1 for data that
    cannot be read or a report that cannot be written."""
    args = _parser().parse_args(argv)
    try:
        day, store = parse_date(args.date), check_store(args.store)
        if not args.output.parent.is_dir():
            raise ReportError(f"-o {args.output}: no folder {args.output.parent}")
        report = day_report(event_source(args), day, store, statuses(args, day, store))
        html = report_html(report)
        if args.format == "pdf":
            print_pdf(html, args.output)
        else:
            _replace(html.encode("utf-8"), args.output)
    except ReportError as exc:
        print(f"kiosk-report: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error, duckdb.Error, subprocess.SubprocessError) as exc:
        print(f"kiosk-report: {_one_line(exc)}", file=sys.stderr)
        return 1
    empty = "" if report.has_data else " (no events that day)"
    print(f"kiosk-report: {args.output}{empty}", file=sys.stderr)
    return 0


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
