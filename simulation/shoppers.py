"""``python -m simulation``: drive a running kiosk with simulated shoppers.

The generator talks to the kiosk's control socket (``kiosk --control PATH``, see
``kiosk.control``): shoppers walk up through the driven simulated sensor and touch the real
window with real Qt touch events, so everything they cause is recorded exactly like real
traffic, marked ``simulated`` for analysts to filter. Shoppers follow behaviour profiles
(passer-by, browser, focused buyer, group) and arrive at random at a given rate; a seed
makes a run reproducible. No Qt here: this is a plain socket client.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settings.cli_support import add_config_arguments, load_config_or_exit

log = logging.getLogger(__name__)

PROG = "python -m simulation"
#: Default socket file name inside the kiosk's data folder.
SOCKET_NAME = "control.sock"


class SimulateError(RuntimeError):
    """The kiosk could not be reached or refused a request (one clear line)."""


@dataclass(frozen=True)
class Profile:
    """How one kind of shopper behaves."""

    name: str
    #: Walks up to the screen (False: passes by at a distance).
    engages: bool
    taps: tuple[int, int] = (0, 0)
    think_s: tuple[float, float] = (2.0, 6.0)
    #: Prefers product actions (sku) over browsing links.
    buys: bool = False
    people: tuple[int, int] = (1, 1)
    #: Chance of going back instead of onwards.
    back_share: float = 0.1


PROFILES: dict[str, Profile] = {
    "passer-by": Profile("passer-by", engages=False),
    "browser": Profile("browser", engages=True, taps=(3, 8), think_s=(2.0, 6.0)),
    "buyer": Profile("buyer", engages=True, taps=(4, 7), think_s=(1.0, 3.0), buys=True),
    "group": Profile(
        "group", engages=True, taps=(6, 12), think_s=(1.0, 4.0), people=(2, 4), back_share=0.2
    ),
}
DEFAULT_MIX = "passer-by=3,browser=4,buyer=2,group=1"


def parse_mix(text: str) -> dict[str, float]:
    """``"browser=4,buyer=1"`` -> weights by profile; names and numbers are checked."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        if name not in PROFILES:
            raise SimulateError(f"--mix: unknown profile {name!r}; known: {', '.join(PROFILES)}")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise SimulateError(f"--mix: weight of {name!r} is not a number: {weight!r}") from None
        if value < 0:
            raise SimulateError(f"--mix: weight of {name!r} must not be negative")
        mix[name] = value
    if not mix or sum(mix.values()) <= 0:
        raise SimulateError("--mix: give at least one profile a positive weight")
    return mix


class KioskClient:
    """A connection to a kiosk's control socket (one JSON line per request and answer)."""

    def __init__(self, path: Path, *, timeout_s: float = 10.0, wait_s: float = 0.0) -> None:
        self.path = path
        deadline = time.monotonic() + wait_s
        while True:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(timeout_s)
            try:
                self._sock.connect(str(path))
                break
            except OSError as exc:
                self._sock.close()
                if time.monotonic() >= deadline:
                    raise SimulateError(
                        f"no kiosk is listening on {path} ({exc.strerror or exc}): start one "
                        f"with `kiosk --control {path}` or `python -m simulation.pipeline`"
                    ) from None
                time.sleep(0.2)
        self._file = self._sock.makefile("rwb")

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send one command; its answer, or :class:`SimulateError` when the kiosk refuses."""
        try:
            self._file.write(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            self._file.flush()
            line = self._file.readline()
        except OSError as exc:
            raise SimulateError(f"kiosk at {self.path}: {exc.strerror or exc}") from None
        if not line:
            raise SimulateError(f"kiosk at {self.path} closed the connection")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise SimulateError(f"kiosk refused {cmd!r}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        """Hang up (the kiosk stops marking events as simulated)."""
        self._file.close()
        self._sock.close()


@dataclass
class Report:
    """What a run did."""

    shoppers: Counter[str] = field(default_factory=Counter)
    touches: int = 0
    actions: int = 0
    swipes: int = 0
    refused: int = 0
    started: float = field(default_factory=time.monotonic)
    events_written: int | None = None
    uplinked: int | None = None

    def line(self) -> str:
        """The live summary line."""
        total = sum(self.shoppers.values())
        written = "?" if self.events_written is None else str(self.events_written)
        uplinked = "off" if self.uplinked is None else str(self.uplinked)
        return (
            f"{time.monotonic() - self.started:7.1f} s  shoppers {total} "
            f"({self.shoppers['passer-by']} passing by)  touches {self.touches}  "
            f"events written {written}  uplinked {uplinked}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The final report as JSON-ready data."""
        return {
            "seconds": round(time.monotonic() - self.started, 1),
            "shoppers": dict(self.shoppers),
            "touches": self.touches,
            "actions": self.actions,
            "swipes": self.swipes,
            "refused": self.refused,
            "events_written": self.events_written,
            "uplinked": self.uplinked,
        }


class Generator:
    """Sends shoppers to a kiosk one visit at a time (a kiosk has one screen)."""

    def __init__(
        self,
        client: KioskClient,
        *,
        seed: int = 1,
        rate_per_min: float = 4.0,
        speedup: float = 1.0,
        mix: dict[str, float] | None = None,
        pace_per_s: float | None = None,
        taps_scale: float = 1.0,
        on_progress: Callable[[Report], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_min <= 0 or speedup <= 0 or (pace_per_s is not None and pace_per_s <= 0):
            raise SimulateError("rate, speed-up and pace must be positive")
        self.client = client
        self.rng = random.Random(seed)
        self.rate_per_min = rate_per_min
        self.speedup = speedup
        self.mix = mix or parse_mix(DEFAULT_MIX)
        self.pace_per_s = pace_per_s
        #: Shoppers stay for this many times their profile's touches (load tests).
        self.taps_scale = taps_scale
        self.report = Report()
        self._on_progress = on_progress
        self._sleep = sleep
        self._last_progress = 0.0

    def run(self, *, duration_s: float | None = None, shoppers: int | None = None) -> Report:
        """Send shoppers until ``duration_s`` has passed or ``shoppers`` have visited."""
        self.client.request("simulate", on=True)
        end = None if duration_s is None else time.monotonic() + duration_s
        sent = 0
        while (shoppers is None or sent < shoppers) and (end is None or time.monotonic() < end):
            name = self.rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
            self.visit(PROFILES[name], end)
            sent += 1
            gap = self.rng.expovariate(self.rate_per_min / 60.0) / self.speedup
            self.wait(gap if end is None else min(gap, max(0.0, end - time.monotonic())))
        self.refresh()
        return self.report

    def visit(self, profile: Profile, end: float | None = None) -> None:
        """One shopper (or group) of ``profile`` comes, maybe touches, and goes."""
        rng = self.rng
        self.report.shoppers[profile.name] += 1
        speed = rng.uniform(0.9, 1.4) * min(self.speedup, 4.0)
        if not profile.engages:
            self.client.request(
                "shopper", stop_m=None, dwell_s=rng.uniform(2, 5) / self.speedup, speed_m_s=speed
            )
            self.wait(rng.uniform(2, 5) / self.speedup)
            return
        taps = max(1, round(rng.randint(*profile.taps) * self.taps_scale))
        thinks = [self.think(profile) for _ in range(taps)]
        dwell = sum(thinks) + 2.0 / self.speedup
        walk = 0.0
        for _ in range(rng.randint(*profile.people)):
            answer = self.client.request(
                "shopper",
                stop_m=round(rng.uniform(0.5, 0.9), 2),
                dwell_s=dwell,
                speed_m_s=speed,
            )
            walk = max(walk, float(answer.get("walk_s", 0.0)))
        self.wait(walk + 0.3)
        if self.client.request("state")["session"] == "attract":
            self.tap_anywhere()  # a touch-only kiosk (or a sensor that missed them)
        for think in thinks:
            if end is not None and time.monotonic() >= end:
                break
            self.touch(profile)
            self.wait(think)

    def think(self, profile: Profile) -> float:
        """How long the shopper looks before the next touch."""
        if self.pace_per_s is not None:
            return self.rng.expovariate(self.pace_per_s)
        return self.rng.uniform(*profile.think_s) / self.speedup

    def touch(self, profile: Profile) -> None:
        """Pick something on the page as this kind of shopper would, and touch it."""
        state = self.client.request("state")
        targets: list[dict[str, Any]] = state.get("targets") or []
        if not targets:
            self.tap_anywhere(state)
            return
        actions = [t for t in targets if t.get("kind") == "action"]
        links = [t for t in targets if t.get("kind") == "link"]
        backs = [t for t in targets if str(t.get("target", "")).lower() in {"back", "home"}]
        pool = targets
        if backs and self.rng.random() < profile.back_share:
            pool = backs
        elif profile.buys and actions and self.rng.random() < 0.6:
            pool = actions
        elif links:
            pool = [t for t in links if t not in backs] or links
        target = self.rng.choice(pool)
        self.tap(float(target["x"]), float(target["y"]))
        if target.get("kind") == "action":
            self.report.actions += 1

    def tap_anywhere(self, state: dict[str, Any] | None = None) -> None:
        """A touch in the middle of the screen (wakes a kiosk in attract)."""
        state = state or self.client.request("state")
        self.tap(state["width"] / 2, state["height"] / 2)

    def tap(self, x: float, y: float) -> None:
        """One real touch on the kiosk's window."""
        try:
            self.client.request("tap", x=x, y=y)
            self.report.touches += 1
        except SimulateError as exc:
            self.report.refused += 1
            log.warning("%s", exc)

    def wait(self, seconds: float) -> None:
        """Sleep, reporting progress about once a second."""
        end = time.monotonic() + max(0.0, seconds)
        while True:
            now = time.monotonic()
            if now - self._last_progress >= 1.0 and self._on_progress is not None:
                self.refresh()
                self._on_progress(self.report)
                self._last_progress = now
            left = end - now
            if left <= 0:
                return
            self._sleep(min(left, 0.25))

    def refresh(self) -> None:
        """Fetch events written and uplinked from the kiosk."""
        stats = self.client.request("stats")
        storage = stats.get("storage") or {}
        uplink = stats.get("uplink") or {}
        self.report.events_written = storage.get("events_written", storage.get("events_today"))
        self.report.uplinked = uplink.get("sent_events") if stats.get("uplink") else None


def default_socket(argv_config: Path | None) -> Path:
    """The control socket of the kiosk that the config describes."""
    config = load_config_or_exit(argv_config, PROG)
    return config.data_path(SOCKET_NAME)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m simulation`` command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Drive a running kiosk with simulated shoppers (presence and real touches).",
    )
    add_config_arguments(parser)
    parser.add_argument("--socket", type=Path, help="the kiosk's control socket")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same shoppers")
    parser.add_argument("--rate", type=float, default=4.0, help="shoppers arriving per minute")
    parser.add_argument("--speedup", type=float, default=1.0, help="time runs this much faster")
    parser.add_argument(
        "--pace", type=float, help="touches per second while someone is at the screen"
    )
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"profile weights ({DEFAULT_MIX})")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--shoppers", type=int, help="stop after this many shoppers")
    parser.add_argument("--wait", type=float, default=30.0, help="wait this long for the kiosk")
    parser.add_argument("--quiet", action="store_true", help="no live summary")
    parser.add_argument("--json", action="store_true", help="final report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulation``."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level or "WARNING"), format="%(message)s")
    try:
        mix = parse_mix(args.mix)
        path = args.socket or default_socket(args.config)
        client = KioskClient(path, wait_s=args.wait)
    except SimulateError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2

    def progress(report: Report) -> None:
        if not args.quiet:
            print(report.line(), flush=True)

    generator = Generator(
        client,
        seed=args.seed,
        rate_per_min=args.rate,
        speedup=args.speedup,
        mix=mix,
        pace_per_s=args.pace,
        on_progress=progress,
    )
    code = 0
    try:
        generator.run(duration_s=args.duration, shoppers=args.shoppers)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
    except SimulateError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        code = 1
    finally:
        client.close()
    report = generator.report
    if args.json:
        print(json.dumps(report.as_dict()), flush=True)
    else:
        print(f"{PROG}: done: {report.line().strip()}", flush=True)
        print(
            f"{PROG}: profiles {dict(report.shoppers)}, actions {report.actions}, "
            f"refused touches {report.refused}",
            flush=True,
        )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
