"""``kiosk``: run the kiosk, print its config, preview pages, set staff PINs."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from settings import KioskConfig, render_config
from settings.cli_support import add_config_arguments, load_config_or_exit
from settings.loader import missing_paths, set_path
from settings.logsetup import configure_logging

PROG = "kiosk"


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Retail Edge Kiosk: the fullscreen touch app shoppers use.",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--windowed", action="store_true", help="a normal window instead of fullscreen (desks)"
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the effective config and exit"
    )
    parser.add_argument(
        "--watch", action="store_true", help="reload the experience when its file changes"
    )
    parser.add_argument(
        "--experience", type=Path, default=None, metavar="FILE",
        help="show this .drawio file or bundle folder instead of [kiosk] experience",
    )  # fmt: skip
    parser.add_argument(
        "--screenshot", type=Path, default=None, metavar="PNG",
        help="save a screenshot of the screen to PNG after --screenshot-delay seconds",
    )  # fmt: skip
    parser.add_argument(
        "--screenshot-delay", type=float, default=3.0, metavar="S", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--control", type=Path, default=None, metavar="SOCKET",
        help="listen for the shopper simulator on this Unix socket (off unless given)",
    )  # fmt: skip
    parser.add_argument(
        "--start-page", default=None, metavar="PAGE",
        help="open on this page (id or name) instead of attract, e.g. to check or capture it",
    )  # fmt: skip
    add_commands(parser)
    return parser


def add_commands(parser: argparse.ArgumentParser) -> None:
    """``kiosk preview``, ``kiosk provision``, ``kiosk set-pin`` and ``kiosk record-stop``."""
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    preview = commands.add_parser(
        "preview",
        help="write one PNG per page of a drawing, drawn by the kiosk's renderer",
        description="Write one PNG per page of FILE into DIR, drawn exactly as the kiosk "
        "draws it (letterboxed to --size).",
    )
    preview.add_argument("file", type=Path, metavar="FILE", help=".drawio file or bundle folder")
    preview.add_argument(
        "-o", "--out", type=Path, required=True, metavar="DIR", help="folder for the PNGs"
    )
    preview.add_argument(
        "--size", default="1920x1080", metavar="WxH", help="screen size (default 1920x1080)"
    )
    preview.add_argument(
        "--fit", choices=("page", "drawing"), default="page",
        help="frame the page as the kiosk does (default) or the drawing's bounds as "
        "draw.io's viewer does",
    )  # fmt: skip
    commands.add_parser(
        "record-stop",
        help="note why the kiosk stopped (systemd's ExecStopPost= runs it after every stop)",
        description="Append systemd's SERVICE_RESULT, EXIT_CODE and EXIT_STATUS to the data "
        "folder's restarts.jsonl: the status page shows today's restarts and their reasons, "
        "and a crash loop starts the kiosk on its last good experience.",
    )
    # listed for --help; `kiosk provision ...` is parsed by its own parser (see main)
    commands.add_parser(
        "provision",
        add_help=False,
        help="give a new kiosk its own certificate and thing from a claim certificate "
        "(kiosk provision --help)",
    )
    # listed for --help; `kiosk set-pin ...` is parsed by its own parser (see main)
    commands.add_parser(
        "set-pin",
        add_help=False,
        help="set the admin panel's staff or manager PIN (kiosk set-pin --help)",
    )


def run_preview(args: argparse.Namespace) -> int:
    """``kiosk preview``: PNGs of every page; one clear line on bad input."""
    from designer_import import DrawioError
    from kiosk.screen.preview import PreviewError, parse_size, preview

    # a preview needs no screen: render offscreen unless the caller chose a platform
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        size = parse_size(args.size)
        written = preview(args.file, args.out, size, args.fit)
    except (DrawioError, PreviewError) as exc:
        print(f"{PROG} preview: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG} preview: {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kiosk`` command."""
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["set-pin"]:
        from kiosk.admin.pins import set_pin_main

        return set_pin_main(words[1:])
    if words[:1] == ["provision"]:  # the installer's; Qt-free, no config needed
        from fleet.provision import provision_main

        return provision_main(words[1:], prog=f"{PROG} provision")
    args = build_parser().parse_args(argv)
    if args.command == "preview":
        logging.basicConfig(level=args.log_level or "WARNING", format="%(message)s")
        return run_preview(args)
    config = load_config_or_exit(args.config, PROG)
    if args.command == "record-stop":
        return record_stop(config)
    if args.windowed:
        config.kiosk.fullscreen = False
    if args.watch:
        config.kiosk.watch = True
    if args.experience is not None:
        set_path(config, "kiosk", "experience", args.experience.resolve(), "--experience")
    if args.print_config:
        sys.stdout.write(render_config(config))
        # a file the config needs and cannot find makes the check fail (the kiosk itself would
        # start and show "back soon")
        for entry in missing_paths(config):
            print(
                f"{PROG}: [{entry.section}] {entry.key}: {entry.path}: no such file",
                file=sys.stderr,
            )
        return 1 if missing_paths(config) else 0
    log_file = configure_logging(config, level=args.log_level)
    if not _has_display():
        print(
            f"{PROG}: no display: set DISPLAY (X11) or WAYLAND_DISPLAY, or run under "
            "xvfb-run; QT_QPA_PLATFORM=offscreen renders without a screen",
            file=sys.stderr,
        )
        return 3
    from kiosk.app import run

    return run(
        config,
        log_file=log_file,
        screenshot=args.screenshot,
        screenshot_delay_s=args.screenshot_delay,
        control=args.control,
        start_page=args.start_page,
    )


def record_stop(config: KioskConfig) -> int:
    """``kiosk record-stop``: one line in the restart log, and in the journal."""
    from kiosk.models.restarts import record_stop as append_stop

    assert config.paths.data_dir is not None, "load_config resolves paths.data_dir"
    try:
        stop = append_stop(config.paths.data_dir, os.environ)
    except OSError as exc:
        print(
            f"{PROG} record-stop: {config.paths.data_dir}: {exc.strerror or exc}", file=sys.stderr
        )
        return 1
    print(f"{PROG} record-stop: {stop.reason} ({stop.result or 'no SERVICE_RESULT'})")
    return 0


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if __name__ == "__main__":
    raise SystemExit(main())
