"""``kiosk-sensor``: record synthetic scenes, replay recordings, watch a camera.

``record OUT.db3 --scene SCENE`` writes a synthetic shop-floor scene as a RealSense
recording; ``replay FILE`` plays a ``.db3``/``.bag`` through the RealSense backend as fast
as possible; ``live`` watches the configured sensor. ``replay`` and ``live`` print one JSON
line per presence change: ``{"t": ..., "zone": ..., "distance_m": ..., "people": ...}`` with
``t`` in seconds since the first frame, by the frames' own clock. Health changes other than
"ok" go to stderr as one line each. ``live`` with no camera connected says so and exits 1:
it never invents shoppers (``[sensors] type = "simulated"`` asks for them by name).
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from sensors.backends import build_sensor
from sensors.protocol import PresenceSensor
from sensors.realsense import RealSenseSensor
from sensors.recording import RecordingError, record_scene
from sensors.scenes import SCENE_NAMES
from sensors.service import PresenceService
from sensors.state import HealthStatus, PresenceState, SensorHealth
from settings.cli_support import add_config_arguments, load_config_or_exit
from settings.model import SensorsSection

PROG = "kiosk-sensor"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk-sensor`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sensor tools: record synthetic scenes, replay recordings, watch a camera.",
    )
    add_config_arguments(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    record = commands.add_parser(
        "record", help="write a synthetic scene as a RealSense recording (.db3 or .bag)"
    )
    record.add_argument("out", type=Path, metavar="OUT.db3")
    record.add_argument("--scene", required=True, choices=SCENE_NAMES)
    record.add_argument("--width", type=int, default=424, help="depth width (default 424)")
    record.add_argument("--height", type=int, default=240, help="depth height (default 240)")
    record.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
    record.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")

    replay = commands.add_parser(
        "replay", help="play a recording through the RealSense backend as fast as possible"
    )
    replay.add_argument("file", type=Path, metavar="FILE")
    replay.add_argument(
        "--realtime", action="store_true", help="pace frames by their timestamps instead"
    )

    live = commands.add_parser("live", help="print presence changes from the configured sensor")
    for sub in (record, replay, live):
        _add_config_arguments_after(sub)
    return parser


def _add_config_arguments_after(parser: argparse.ArgumentParser) -> None:
    """``--config`` and ``--log-level`` after the command too (``kiosk-sensor replay FILE
    --config PATH``, as the docs write it). Unset here, they leave the values given before
    the command alone."""
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="TOML config file (default: $KIOSK_CONFIG, else resources/kiosk.toml)",
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=argparse.SUPPRESS,
        help="override [logging] level",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``kiosk-sensor``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level or "WARNING",
        stream=sys.stderr,
        format=f"{PROG}: %(levelname)s %(name)s: %(message)s",
    )
    if args.log_level is None:
        # Health changes are printed as one line below; the service's log would repeat them.
        logging.getLogger("sensors.service").setLevel(logging.ERROR)
    if args.command == "record":
        return _record(args)
    config = load_config_or_exit(args.config, PROG)
    settings = config.sensors
    if args.command == "replay":
        path: Path = args.file.expanduser().resolve()
        if not path.is_file():
            print(f"{PROG}: {args.file}: no such file", file=sys.stderr)
            return EXIT_USAGE
        settings = settings.model_copy(update={"type": "realsense", "source": f"file:{path}"})
        sensor: PresenceSensor = RealSenseSensor(settings, realtime=args.realtime)
        return _watch(sensor, settings, until_end=True)
    return _watch(build_sensor(settings), settings, until_end=False)


def _record(args: argparse.Namespace) -> int:
    if not (16 <= args.width <= 1280 and 16 <= args.height <= 720 and 1 <= args.fps <= 90):
        print(f"{PROG}: record: size must be 16..1280 x 16..720 at 1..90 fps", file=sys.stderr)
        return EXIT_USAGE
    try:
        count = record_scene(
            args.out,
            args.scene,
            width=args.width,
            height=args.height,
            fps=args.fps,
            seed=args.seed,
        )
    except (RecordingError, ValueError) as exc:
        print(f"{PROG}: record: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.out}: scene {args.scene}, {count} frames", file=sys.stderr)
    return EXIT_OK


def _watch(sensor: PresenceSensor, settings: SensorsSection, *, until_end: bool) -> int:
    """Run the service, print changes; return when the source ends or fails (or Ctrl+C)."""
    events: queue.Queue[PresenceState | SensorHealth] = queue.Queue()
    stop = threading.Event()
    service = PresenceService(
        sensor,
        on_state=events.put,
        on_health=events.put,
        settings=settings,
        stop_event=stop,
        name="kiosk-sensor",
    )
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    origin: float | None = None
    last: PresenceState | None = None
    final: SensorHealth | None = None
    service.start()
    try:
        while True:
            try:
                item = events.get(timeout=0.2)
            except queue.Empty:
                if not service.running and events.empty():
                    break
                continue
            if isinstance(item, SensorHealth):
                final = item
                if item.status is not HealthStatus.OK:
                    print(f"{PROG}: sensor {item.status}: {item.message}", file=sys.stderr)
                if item.status is HealthStatus.NO_DEVICE and not until_end:
                    break  # nothing to watch: say so rather than wait without a word
                continue
            if origin is None:
                origin = item.timestamp
            if item.same_presence(last):
                continue
            last = item
            line = {
                "t": round(item.timestamp - origin, 3),
                "zone": item.zone.value,
                "distance_m": item.distance_m,
                "people": item.people,
            }
            print(json.dumps(line), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        signal.signal(signal.SIGTERM, previous_handler)
    if final is None or final.status in (HealthStatus.OK, HealthStatus.FILE_ENDED):
        return EXIT_OK
    if until_end or final.status in (HealthStatus.ERROR, HealthStatus.OFF, HealthStatus.NO_DEVICE):
        return EXIT_FAILED
    return EXIT_OK


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
