"""``kiosk-import``: tools for artists: validate, build and watch draw.io experiences; sign
bundles for a fleet (``build --sign KEY``, ``keygen``).

Exit status: 0 no errors, 1 errors found (warnings alone do not fail), 2 the file cannot be
read at all (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from designer_import.bundle import build_bundle
from designer_import.errors import DrawioError, importer_fault
from designer_import.loader import load_experience
from designer_import.model import Experience
from designer_import.signed_bundle import (
    ARCHIVE_SUFFIX,
    check_bundle_id,
    generate_key,
    load_private_key,
    load_public_key,
    public_key_text,
    sign_bundle,
)
from designer_import.validate import Finding, summary, validate

PROG = "kiosk-import"
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2

log = logging.getLogger(__name__)


def _target(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1920x1080, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-import`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tools for artists: validate, build and watch draw.io experiences.",
        epilog="Exit status: 0 no errors, 1 errors found, 2 the file cannot be read.",
    )
    parser.add_argument(
        "--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="WARNING"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("file", type=Path, metavar="FILE", help=".drawio/.xml/.svg/.png")
        sub.add_argument(
            "--target",
            type=_target,
            default=(1920, 1080),
            metavar="WxH",
            help="kiosk screen size for the touch-target check (default 1920x1080)",
        )

    validate_cmd = commands.add_parser("validate", help="report errors and warnings")
    common(validate_cmd)
    validate_cmd.add_argument("--json", action="store_true", help="print findings as JSON")
    build_cmd = commands.add_parser("build", help="write an experience bundle")
    common(build_cmd)
    build_cmd.add_argument("-o", "--out", type=Path, required=True, metavar="DIR")
    build_cmd.add_argument(
        "--allow-errors", action="store_true", help="write the bundle even when there are errors"
    )
    build_cmd.add_argument(
        "--sign",
        type=Path,
        metavar="KEY",
        help="also pack DIR.zip and sign it with this Ed25519 key into DIR.zip.sig",
    )
    build_cmd.add_argument(
        "--bundle-id",
        metavar="ID",
        help="the id kiosks deploy the signed bundle under (default: DIR's name and a hash)",
    )
    keygen_cmd = commands.add_parser("keygen", help="make a bundle signing key pair")
    keygen_cmd.add_argument(
        "--out", type=Path, required=True, metavar="KEY", help="private key; KEY.pub is public"
    )
    watch_cmd = commands.add_parser("watch", help="rebuild the bundle on every save")
    common(watch_cmd)
    watch_cmd.add_argument("-o", "--out", type=Path, required=True, metavar="DIR")
    watch_cmd.add_argument(
        "--interval", type=float, default=0.5, help="seconds between checks (default 0.5)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-import``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format=f"{PROG}: %(levelname)s %(message)s")
    try:
        if args.command == "validate":
            return _validate(args.file, args.target, as_json=args.json)
        if args.command == "build":
            return _build(args, allow_errors=args.allow_errors)
        if args.command == "keygen":
            return _keygen(args.out)
        return _watch(args.file, args.out, args.target, args.interval)
    except KeyboardInterrupt:
        return EXIT_OK
    except DrawioError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except Exception as exc:  # the artist gets one line; the details go to the debug log
        log.debug("unexpected failure", exc_info=True)
        where = getattr(args, "file", None) or args.out
        print(f"{PROG}: {where}: cannot be read ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_UNREADABLE


def _print_findings(findings: list[Finding], file: Path) -> None:
    for finding in findings:
        print(finding.format())
    errors, warnings = summary(findings)
    print(f"{file}: {errors} error(s), {warnings} warning(s)")


def _validate(file: Path, target: tuple[int, int], *, as_json: bool) -> int:
    experience = load_experience(file)
    findings = validate(experience, target)
    errors, warnings = summary(findings)
    if as_json:
        report = {
            "file": str(file),
            "pages": [{"id": p.id, "name": p.name, "role": p.role} for p in experience.pages],
            "errors": errors,
            "warnings": warnings,
            "findings": [f.to_dict() for f in findings],
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_findings(findings, file)
    return EXIT_FINDINGS if errors else EXIT_OK


def _build(args: argparse.Namespace, *, allow_errors: bool) -> int:
    file: Path = args.file
    out: Path = args.out
    # the key and id are checked before anything is built: a typo costs no half-done build
    key = load_private_key(args.sign) if args.sign is not None else None
    if args.bundle_id is not None:
        check_bundle_id(args.bundle_id)
    experience = load_experience(file)
    findings = validate(experience, args.target)
    _print_findings(findings, file)
    errors, _warnings = summary(findings)
    if errors and not allow_errors:
        print(f"{PROG}: {file}: not built because of the errors above (--allow-errors to force)")
        return EXIT_FINDINGS
    build_bundle(file, out, target=args.target, experience=experience, findings=findings)
    print(f"{PROG}: built {out} ({len(experience.pages)} pages)")
    if key is not None:
        signature = sign_bundle(out, key, args.bundle_id)
        print(
            f"{PROG}: signed {out}{ARCHIVE_SUFFIX} as bundle {signature.bundle_id} "
            f"({signature.size} bytes, sha256 {signature.sha256}, key {signature.key_id})"
        )
    return EXIT_FINDINGS if errors else EXIT_OK


def _keygen(out: Path) -> int:
    private, public = generate_key(out)
    text = public_key_text(load_public_key(public.read_text(encoding="ascii"), str(public)))
    print(f"{PROG}: wrote the signing key {private} (keep it secret) and {public}")
    print(f'{PROG}: kiosks trust it with, in their config: [fleet] bundle_keys = ["{text}"]')
    return EXIT_OK


def _watch(file: Path, out: Path, target: tuple[int, int], interval: float) -> int:
    def report(result: Experience | DrawioError, findings: list[Finding]) -> None:
        stamp = time.strftime("%H:%M:%S")
        if isinstance(result, DrawioError):
            print(f"[{stamp}] {PROG}: {result}", flush=True)
            return
        _print_findings(findings, file)
        print(f"[{stamp}] {PROG}: rebuilt {out}", flush=True)

    print(f"{PROG}: watching {file} (Ctrl+C to stop)", flush=True)
    watch(file, out, on_result=report, target=target, interval=interval)
    return EXIT_OK


def watch(
    file: Path,
    out: Path,
    *,
    on_result: Callable[[Experience | DrawioError, list[Finding]], None],
    target: tuple[int, int] = (1920, 1080),
    interval: float = 0.5,
    stop: threading.Event | None = None,
) -> None:
    """Rebuild ``out`` from ``file`` now and after every save until ``stop`` is set.

    Saves are noticed by polling size and modification time (editors that save by rename
    are covered too). A save that cannot be read is reported and the old bundle kept.
    """
    stop = stop or threading.Event()
    last: tuple[int, int] | None = None
    while True:
        try:
            info = file.stat()
            signature: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            signature = None
        if signature is not None and signature != last:
            last = signature
            try:
                experience = load_experience(file)
                findings = validate(experience, target)
                build_bundle(file, out, target=target, experience=experience, findings=findings)
                on_result(experience, findings)
            except DrawioError as exc:
                on_result(exc, [])
            except Exception as exc:  # the watch goes on; the artist gets one line
                on_result(importer_fault(str(file), exc), [])
        if stop.wait(interval):
            return


if __name__ == "__main__":
    raise SystemExit(main())
