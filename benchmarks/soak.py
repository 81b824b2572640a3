"""Soak: simulated traffic through the whole pipeline for M minutes.

``python -m benchmarks.soak --minutes M [--rate 20] [--rounds N>=5]`` starts
``python -m simulation.pipeline`` (private Redis, local mosquitto, the kiosk with its uplink,
the analysts' receiver) without its own generator, and drives it from here with the session
generator at about 20 interactions (recorded events) per second, adjusting how fast shoppers
touch to hold it. While it runs it samples the kiosk's memory (RSS) and measures UI frame
times with the kiosk's frame probe. At the end it stops the generator, waits for the kiosk
to store and uplink everything, stops the kiosk and counts:

- ``generated``: interactions the kiosk recorded (handed to its event log),
- ``stored``: rows in the kiosk's SQLite database,
- ``received``: distinct events in the analysts' receiver database,
- ``lost`` = generated - received.

Rounds (``--rounds``, at least five): the run is cut into that many equal slices and the UI
frame times of each slice are a round; the JSON line's value is the median of the slices'
p99 frame times, with their spread and the worst slice. Losses and RSS growth are counted over
the whole run (``whole_run`` in the JSON line says so).

Goal: lost = 0, RSS growth under 5% per hour, UI frame p99 under 16.7 ms (the baseline: one
frame of a 60 Hz screen; ratio = median p99 / 16.7).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.harness import Rounds, add_rounds_argument, begin, report_rounds
from simulation.pipeline import CONTROL_SOCKET, RECEIVED_DB, count_rows
from simulation.shoppers import Generator, KioskClient, Report

FRAME_BUDGET_MS = 1000 / 60
#: RSS samples in the first minute (pages rendered and cached for the first time, connection
#: buffers sized) are left out of the growth figure.
WARMUP_S = 60.0
#: Seconds without touch or presence before a session ends (kept short for the soak).
IDLE_TIMEOUT_S = 30
#: What the JSON line measures over the whole run rather than per round.
WHOLE_RUN = (
    "lost, stored, received and the RSS growth are counted over the whole run (a slice of a "
    "run has events still in flight and too few RSS samples for a slope)"
)


class Pacer:
    """Holds the traffic at ``target`` interactions per second: every few seconds it compares
    the events the kiosk wrote with the target and adjusts how fast shoppers touch."""

    def __init__(self, target: float, every_s: float = 5.0) -> None:
        self.target = target
        self.every_s = every_s
        self.generator: Generator | None = None
        self._mark: tuple[float, int] | None = None
        self._printed = 0.0

    def follow(self, report: Report) -> None:
        """The generator's progress callback (about once a second)."""
        now = time.monotonic()
        if now - self._printed >= 10.0:
            print(report.line(), flush=True)
            self._printed = now
        if self._mark is None:
            self._mark = (now, report.events_written or 0)
            return
        since, written = self._mark
        if now - since < self.every_s or self.generator is None:
            return
        rate = ((report.events_written or 0) - written) / (now - since)
        generator = self.generator
        # gently towards the target: faster touches, and shoppers who stay for more of them
        # (walking up and away takes a while however fast they touch)
        step = min(2.0, max(0.5, self.target / max(rate, 0.1))) ** 0.5
        generator.pace_per_s = min(200.0, max(0.5, (generator.pace_per_s or self.target) * step))
        generator.taps_scale = min(20.0, max(1.0, generator.taps_scale * step))
        self._mark = (now, report.events_written or 0)


def growth_pct_per_hour(samples: list[tuple[float, int]]) -> float:
    """The least-squares slope of (monotonic s, RSS bytes) samples, as % of the first
    sample per hour (0.0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    slope = sum((t - mean_t) * (m - mean_m) for t, m in samples) / var  # bytes per second
    return slope * 3600 / samples[0][1] * 100


def wait_quiet(client: KioskClient, timeout_s: float, still_s: float = 5.0) -> None:
    """Wait until the last simulated shopper has left: the kiosk is back in attract and has
    recorded nothing new for ``still_s`` (the session's end and the presence changes of
    shoppers walking away come after the last touch)."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        stats = client.request("stats")
        recorded = int(stats.get("recorded") or 0)
        if recorded != last:
            last, since = recorded, time.monotonic()
        elif stats.get("session") == "attract" and time.monotonic() - since >= still_s:
            return
        time.sleep(0.5)
    print(f"soak: the kiosk was still busy after {timeout_s:.0f} s", flush=True)


def wait_drained(client: KioskClient, timeout_s: float) -> dict[str, Any]:
    """Wait until the kiosk has written and uplinked everything; its last stats."""
    deadline = time.monotonic() + timeout_s
    stats: dict[str, Any] = {}
    while time.monotonic() < deadline:
        stats = client.request("stats")
        storage = stats.get("storage") or {}
        uplink = stats.get("uplink") or {}
        queued = int(storage.get("queue_depth", 0)) if isinstance(storage, dict) else 0
        backlog = int(uplink.get("backlog_events", 0)) if isinstance(uplink, dict) else 0
        if queued == 0 and backlog == 0:
            return stats
        time.sleep(0.5)
    print(f"soak: not drained after {timeout_s:.0f} s: {stats}", flush=True)
    return stats


class FrameRounds:
    """The soak's rounds: its run cut into ``rounds`` equal slices, each slice's UI frame
    times read from the kiosk's frame probe (and the probe reset) on a connection of its own.
    The main thread reads the last slice when the generator has finished."""

    def __init__(self, socket_path: Path, rounds: int, run_s: float) -> None:
        self.slices: list[dict[str, Any]] = []
        self._client = KioskClient(socket_path, timeout_s=30)
        self._rounds = rounds
        self._slice_s = run_s / rounds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-rounds", daemon=True)

    def start(self) -> None:
        """Reset the probe (frames before the run are not a round) and start the slices."""
        self._client.request("probe", action="read", reset=True)
        self._started = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        for index in range(1, self._rounds):
            if self._stop.wait(max(0.0, self._started + index * self._slice_s - time.monotonic())):
                return
            self.slices.append(self._client.request("probe", action="read", reset=True)["frames"])

    def finish(self) -> Rounds:
        """Read the last slice; every slice's p99 frame time in ms."""
        self._stop.set()
        self._thread.join(30)
        self.slices.append(self._client.request("probe", action="read", reset=True)["frames"])
        self._client.close()
        return Rounds(tuple(float(frames["p99_ms"]) for frames in self.slices))


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures and JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument(
        "--rate", type=float, default=20.0, help="interactions (recorded events) per second"
    )
    parser.add_argument("--seed", type=int, default=1)
    add_rounds_argument(parser)
    args = parser.parse_args(argv)
    machine = begin("soak")

    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
    config = run_dir / "kiosk.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{run_dir / "data"}"\n\n[kiosk]\ntransition = "off"\n'
        f'idle_timeout_s = {IDLE_TIMEOUT_S}\n\n[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    pipeline_dir = run_dir / "pipeline"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    kiosk = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation.pipeline",
            "--config",
            str(config),
            "--pipeline-dir",
            str(pipeline_dir),
            "--no-simulate",
            "--windowed",
        ],
        env=env,
        stdout=(run_dir / "kiosk.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    client = KioskClient(pipeline_dir / CONTROL_SOCKET, wait_s=120, timeout_s=30)
    client.request("probe", action="start")
    # The pipeline runs the kiosk as its child process: its memory is the kiosk's.
    proc = next(
        child
        for child in psutil.Process(kiosk.pid).children()
        if "kiosk.cli" in " ".join(child.cmdline())
    )
    rss: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(5.0):
            rss.append((time.monotonic(), proc.memory_info().rss))

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    frame_rounds = FrameRounds(pipeline_dir / CONTROL_SOCKET, args.rounds, args.minutes * 60)
    frame_rounds.start()
    started = time.monotonic()
    pacer = Pacer(args.rate)
    generator = Generator(
        client,
        seed=args.seed,
        rate_per_min=600.0,
        speedup=20.0,
        mix={"browser": 2.0, "buyer": 2.0, "group": 1.0},
        pace_per_s=args.rate / 2,
        on_progress=pacer.follow,
    )
    pacer.generator = generator
    generator.run(duration_s=args.minutes * 60)
    elapsed = time.monotonic() - started
    p99_rounds = frame_rounds.finish()
    slices = frame_rounds.slices
    client.request("probe", action="stop")
    stop.set()
    wait_quiet(client, timeout_s=IDLE_TIMEOUT_S + 90)
    stats = wait_drained(client, timeout_s=180)
    generated = int(stats.get("recorded") or 0)
    client.close()
    kiosk.send_signal(signal.SIGTERM)
    try:
        kiosk.wait(timeout=60)
    except subprocess.TimeoutExpired:
        kiosk.kill()
        kiosk.wait()

    stored = count_rows(pipeline_dir / "events.sqlite", "events") or 0
    received = count_rows(pipeline_dir / RECEIVED_DB, "events") or 0
    steady = [(t, m) for t, m in rss if t - started >= WARMUP_S] or rss
    growth = growth_pct_per_hour(steady)
    touches = generator.report.touches
    print(
        f"soak: {elapsed:.0f} s, {generated} interactions ({generated / elapsed:.1f}/s), "
        f"{touches} touches ({touches / elapsed:.1f}/s)"
    )
    print(f"soak: generated {generated}, stored {stored}, received {received}")
    rss_mb = [m / 1e6 for _, m in steady]
    if rss_mb:
        by_minute = [f"{m / 1e6:.0f}" for i, (_, m) in enumerate(rss) if i % 12 == 11]
        print(f"soak: RSS each minute (MB): {', '.join(by_minute)}")
        print(
            f"soak: RSS {rss_mb[0]:.1f} MB -> {rss_mb[-1]:.1f} MB after the warm-up "
            f"({growth:+.2f}% per hour, least-squares slope)"
        )
    for index, frames in enumerate(slices, 1):
        print(
            f"soak: round {index}: UI frames {frames['count']}, p50 {frames['p50_ms']} ms, "
            f"p99 {frames['p99_ms']} ms, longest {frames['max_ms']} ms"
        )
    print(f"soak: UI frame p99 per round: {p99_rounds.describe('ms')}")
    p50_rounds = Rounds(tuple(float(frames["p50_ms"]) for frames in slices))
    report_rounds(
        "soak",
        machine,
        p99_rounds,
        "ms",
        "one frame of a 60 Hz screen (16.7 ms)",
        FRAME_BUDGET_MS,
        whole_run=WHOLE_RUN,
        generated=generated,
        stored=stored,
        received=received,
        lost=generated - received,
        rss_growth_pct_per_hour=round(growth, 3),
        frame_p99_ms=round(p99_rounds.median, 3),
        frame_p99_worst_round_ms=round(p99_rounds.high, 3),
        frame_p50_ms=round(p50_rounds.median, 3),
        frame_max_ms=max(float(frames["max_ms"]) for frames in slices),
        frames=sum(int(frames["count"]) for frames in slices),
        interactions_per_s=round(generated / elapsed, 2),
        touches_per_s=round(touches / elapsed, 2),
        minutes=args.minutes,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
