"""``python -m simulation.pipeline``: the whole system on one machine, in one command.

Starts, in this order: a private Redis server (the hot path), a local mosquitto standing in
for the cloud, the analysts' receiver (``kiosk-receive``) writing its own database, the kiosk
itself (``kiosk``, its own process, with its uplink and its control socket) and the session
generator (``python -m simulation``) driving it with simulated shoppers. Everything runs on
loopback ports chosen at start and writes under one run folder, the kiosk's config for the
run included (``kiosk.toml``); on exit (the kiosk's window closed, Ctrl+C, SIGTERM) each part
is stopped in reverse order. Where redis-server or mosquitto is not installed it says so and
runs with what exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from localservers import Mosquitto, RedisServer
from settings import KioskConfig
from settings.cli_support import add_config_arguments, load_config_or_exit
from settings.loader import render_config

log = logging.getLogger(__name__)

PROG = "python -m simulation.pipeline"
RECEIVED_DB = "received.sqlite"
CONTROL_SOCKET = "control.sock"
#: The kiosk's config for the run, written into the run folder.
KIOSK_CONFIG = "kiosk.toml"
#: The repository folder: the session generator runs from here (it is not installed).
REPO = Path(__file__).resolve().parents[1]


@dataclass
class PipelineOptions:
    """What the session generator does while the pipeline runs."""

    rate_per_min: float = 6.0
    speedup: float = 3.0
    seed: int = 1
    pace_per_s: float | None = None
    simulate: bool = True


@dataclass
class Pipeline:
    """The processes and servers of one pipeline run (stopped in reverse order)."""

    run_dir: Path
    config: KioskConfig
    notes: list[str] = field(default_factory=list)
    redis: RedisServer | None = None
    broker: Mosquitto | None = None
    receiver: subprocess.Popen[bytes] | None = None
    simulator: subprocess.Popen[bytes] | None = None
    kiosk: subprocess.Popen[bytes] | None = None

    @property
    def control_socket(self) -> Path:
        """Where the kiosk listens for the session generator."""
        return self.run_dir / CONTROL_SOCKET

    @property
    def received_db(self) -> Path:
        """The analysts' receiver database."""
        return self.run_dir / RECEIVED_DB

    def stop(self) -> None:
        """Stop everything that was started, the last started first; never raises."""
        parts = (("session generator", self.simulator), ("kiosk", self.kiosk))
        for name, proc in (*parts, ("receiver", self.receiver)):
            if proc is not None and proc.poll() is None:
                # SIGINT: each prints its final report (the kiosk stops its services) on exit.
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in 10 s: killed", name)
                    proc.kill()
                    proc.wait()
        for server in (self.broker, self.redis):
            if server is not None:
                try:
                    server.stop()
                except Exception:  # stopping must go on with the next part
                    log.exception("could not stop %s", server)


def prepare(base: KioskConfig, run_dir: Path | None = None) -> Pipeline:
    """Start Redis and mosquitto where installed, and derive the kiosk's config for the run."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = run_dir or base.data_path("pipeline") / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    config = base.model_copy(deep=True)
    config.paths.data_dir = run_dir
    config.paths.log_dir = run_dir / "logs"
    config.storage.database = run_dir / "events.sqlite"
    config.sensors.type = "simulated"
    config.sensors.sim_driven = True
    pipeline = Pipeline(run_dir=run_dir, config=config)

    if RedisServer.available():
        pipeline.redis = RedisServer(run_dir / "redis")
        pipeline.redis.start()
        config.redis.enabled = True
        config.redis.url = pipeline.redis.url
        config.redis.password = None
        config.redis.password_file = None
        config.redis.tls = False
    else:
        config.redis.enabled = False
        pipeline.notes.append(
            "redis-server is not installed: no live counters (sudo apt-get install redis-server)"
        )
    if Mosquitto.available():
        pipeline.broker = Mosquitto(run_dir / "mosquitto")
        pipeline.broker.start()
        config.uplink.enabled = True
        config.uplink.transport = "mqtt"
        config.uplink.host = "127.0.0.1"
        config.uplink.port = pipeline.broker.port
        config.uplink.tls = False
        config.uplink.username = ""
        config.uplink.password = None
        config.uplink.password_file = None
    else:
        config.uplink.enabled = False
        pipeline.notes.append(
            "mosquitto is not installed: no uplink and no receiver (sudo apt-get install mosquitto)"
        )
    return pipeline


def start_receiver(pipeline: Pipeline) -> None:
    """The analysts' receiver, subscribed to the local broker (when there is one)."""
    if pipeline.broker is None:
        return
    topic = f"{pipeline.config.uplink.topic_prefix}/+/+/events"
    pipeline.receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uplink.receiver_cli",
            "--broker",
            f"mqtt://127.0.0.1:{pipeline.broker.port}",
            "--topic",
            topic,
            "--db",
            str(pipeline.received_db),
            # A fixed id: the broker keeps its session and queues batches while it is away.
            "--client-id",
            f"receiver-{pipeline.config.kiosk.kiosk_id}",
            "--progress-s",
            "10",
        ],
        stdout=(pipeline.run_dir / "receiver.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def start_simulator(pipeline: Pipeline, options: PipelineOptions) -> None:
    """The session generator; it waits for the kiosk's control socket."""
    if not options.simulate:
        return
    args = [
        sys.executable,
        "-m",
        "simulation",
        "--socket",
        str(pipeline.control_socket),
        "--wait",
        "120",
        "--rate",
        str(options.rate_per_min),
        "--speedup",
        str(options.speedup),
        "--seed",
        str(options.seed),
    ]
    if options.pace_per_s is not None:
        args += ["--pace", str(options.pace_per_s)]
    pipeline.simulator = subprocess.Popen(
        args,
        cwd=REPO,
        stdout=(pipeline.run_dir / "simulate.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def start_kiosk(pipeline: Pipeline, kiosk_args: list[str]) -> subprocess.Popen[bytes]:
    """The kiosk in its own process, with the run's config written to the run folder; its
    output goes to this terminal."""
    config_file = pipeline.run_dir / KIOSK_CONFIG
    config_file.write_text(render_config(pipeline.config), encoding="utf-8")
    args = [sys.executable, "-m", "kiosk.cli", "--config", str(config_file)]
    args += ["--control", str(pipeline.control_socket), *kiosk_args]
    # KIOSK_CONFIG and KIOSK_* overrides were applied to the run's config already.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    pipeline.kiosk = subprocess.Popen(args, env=env)
    return pipeline.kiosk


def wait_for_kiosk(kiosk: subprocess.Popen[bytes]) -> int:
    """Wait for the kiosk to exit; SIGINT and SIGTERM to this process are passed on to it (it
    closes its window and stops its services), so the rest stops after it."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        if kiosk.poll() is None:
            kiosk.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return kiosk.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def count_rows(database: Path, table: str) -> int | None:
    """Rows in ``table`` of a SQLite file, read-only; None when it is not there (yet)."""
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            return int(row[0])
    except sqlite3.Error as exc:
        log.warning("cannot count %s in %s: %s", table, database, exc)
        return None


def run_pipeline(
    base: KioskConfig,
    kiosk_args: list[str],
    options: PipelineOptions | None = None,
    *,
    run_dir: Path | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Run the whole pipeline around a kiosk started with ``kiosk_args`` (e.g.
    ``["--windowed"]``); returns the kiosk's exit code. ``run_dir``: where the run writes
    (default: a new folder under the data folder's ``pipeline/``)."""
    options = options or PipelineOptions()
    pipeline = prepare(base, run_dir)
    code = 1
    try:
        for note in pipeline.notes:
            out(f"demo pipeline: {note}")
        start_receiver(pipeline)
        kiosk = start_kiosk(pipeline, kiosk_args)
        start_simulator(pipeline, options)
        out(f"demo pipeline: run folder {pipeline.run_dir}")
        if pipeline.redis is not None:
            out(f"demo pipeline: redis        {pipeline.redis.url}")
        if pipeline.broker is not None:
            out(f"demo pipeline: mqtt broker  127.0.0.1:{pipeline.broker.port}")
            out(f"demo pipeline: receiver db  {pipeline.received_db}")
        out(f"demo pipeline: simulator log {pipeline.run_dir / 'simulate.log'}")
        started = time.monotonic()
        code = wait_for_kiosk(kiosk)
        out(f"demo pipeline: kiosk stopped after {time.monotonic() - started:.0f} s")
    finally:
        pipeline.stop()
    stored = count_rows(pipeline.config.storage.database or Path(), "events")
    received = count_rows(pipeline.received_db, "events")
    out(f"demo pipeline: events stored {stored}, received by the analysts {received}")
    return code


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m simulation.pipeline`` command line; arguments it does not know go to
    ``kiosk`` (e.g. ``--windowed``, ``--start-page``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The whole system on this machine: Redis, a local MQTT broker, the "
        "analysts' receiver, the kiosk and simulated shoppers.",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--pipeline-dir", type=Path, default=None,
        help="the run folder (default: a new one under the data folder's pipeline/)",
    )  # fmt: skip
    parser.add_argument(
        "--no-simulate", action="store_true", help="do not start the session generator"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m simulation.pipeline``."""
    args, kiosk_args = build_parser().parse_known_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level or "INFO"), format="%(message)s")
    config = load_config_or_exit(args.config, PROG)
    if args.log_level:
        kiosk_args = [*kiosk_args, "--log-level", args.log_level]
    options = PipelineOptions(simulate=not args.no_simulate)
    run_dir = args.pipeline_dir.resolve() if args.pipeline_dir is not None else None
    return run_pipeline(config, kiosk_args, options, run_dir=run_dir)


if __name__ == "__main__":
    raise SystemExit(main())
