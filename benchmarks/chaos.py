"""Chaos: the whole pipeline under real faults from a seeded schedule, then every event id
compared end to end.

``python -m benchmarks.chaos [--minutes N] [--seed S] [--rate R]`` starts, as a kiosk PC would
run them (each a process of its own, restarted as systemd would, one second after it dies):
redis-server, a mosquitto with persistence standing in for the cloud, the analysts' receiver
(``kiosk-receive``), the kiosk app (offscreen, its control socket on, its database on a small
tmpfs) and ``kiosk-uplink`` draining the same database. Simulated shoppers (the session
generator, about R recorded events per second) drive the kiosk throughout, reconnecting
when it comes back. At random moments of a seeded schedule it injects, for real:

- ``kiosk_kill`` / ``uplink_kill``: ``kill -9`` of the kiosk / of ``kiosk-uplink``, restarted
  after 1 s. Right before a kiosk kill it asks the kiosk how many events it recorded and
  committed, and reads its UI frame probe;
- ``redis_restart``: redis-server killed and started again empty on the same port;
- ``broker_stop``: mosquitto stopped (SIGTERM, it saves its sessions) for a minute;
- ``camera_unplug``: the simulated sensor fails as an unplugged camera does (the control
  socket's ``camera`` command: its reads and reopens raise ``SensorDisconnected``, through the
  presence service's real reconnect path) for 20 s, then is plugged in again. The simulated
  sensor cannot fail in other ways (errors, frozen frames, a USB reset);
- ``disk_full``: the tmpfs holding the database filled to the last byte for 30 s, then freed
  (needs root to mount it; otherwise said and left out);
- ``malformed_message``: a message published on the kiosk's events topic beside the real ones:
  not JSON, not an envelope, or a real envelope whose event breaks the schema.

At the end the generator stops, every fault is undone, the pipeline drains, the kiosk stops
gracefully, and it compares the kiosk's and the analysts' tables id by id. It prints the
findings and ends with the JSON line: faults by kind; events generated (recorded by every
kiosk process), stored, received; per kill, events lost beyond the documented flush window
(one ``flush_interval_ms`` of events, estimated from the rate just before; goal 0);
duplicates in the analysts' table (goal 0); events falsely unmarked simulated (a touch, a
presence change or an event in a shopper's session with ``simulated = false``: here every
shopper is simulated) or falsely marked (a ``system.*``/``admin.*`` event marked simulated)
(goal 0); the longest UI frame the probe saw (how long the UI thread was blocked; goal
< 100 ms); whether Redis's live counters match SQLite at the end. Value = events received,
baseline = events that should have arrived (generated less those lost within a flush window
at a kill), so ratio 1.0 means nothing lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from benchmarks.chaos_audit import Life, check_redis, compare, count
from benchmarks.harness import begin, report_rounds
from localservers import Mosquitto, RedisServer
from simulation.shoppers import Generator, KioskClient, SimulateError

#: Why the JSON line comes from one run.
ONE_ROUND = (
    "one run is one schedule of injected faults whose outcome is counts (events lost, "
    "duplicated, wrongly marked), not a timing; its repeats are the kills within the run"
)

KINDS = (
    "kiosk_kill",
    "uplink_kill",
    "redis_restart",
    "broker_stop",
    "camera_unplug",
    "disk_full",
    "malformed_message",
)
#: Minutes of run per occurrence of each kind (at least one of each).
PERIOD_MIN = {
    "kiosk_kill": 4,
    "uplink_kill": 5,
    "redis_restart": 6,
    "broker_stop": 10,
    "camera_unplug": 6,
    "disk_full": 7,
    "malformed_message": 4,
}
DURATION_S = {"redis_restart": 3.0, "broker_stop": 60.0, "camera_unplug": 20.0, "disk_full": 30.0}
RESTART_S = 1.0  # systemd's RestartSec
FLUSH_INTERVAL_MS = 50
STORE, KIOSK = "chaos-store", "kiosk-01"
UI_GOAL_MS = 100.0
DISK_MB = 96


@dataclass(frozen=True)
class Fault:
    """One fault of the schedule: when (seconds into the run) and what."""

    at_s: float
    kind: str


def make_schedule(minutes: float, seed: int) -> list[Fault]:
    """The seeded schedule: each kind at least once, more in longer runs, at random moments
    between 30 s in and a quiet tail before the end (faults that last end before it)."""
    rng = random.Random(seed)
    total = minutes * 60
    faults = []
    for kind in KINDS:
        for _ in range(max(1, round(minutes / PERIOD_MIN[kind]))):
            latest = max(31.0, total - 30 - DURATION_S.get(kind, 0.0))
            faults.append(Fault(round(rng.uniform(30.0, latest), 1), kind))
    return sorted(faults, key=lambda f: f.at_s)


class PersistentMosquitto(Mosquitto):
    """The stand-in for the cloud keeps sessions and queued messages across a restart, as
    AWS IoT Core does: a stop loses nothing the receiver's session was promised."""

    def prepare(self) -> None:
        super().prepare()
        text = self.conf_path.read_text(encoding="utf-8")
        text = text.replace(
            "persistence false", f"persistence true\npersistence_location {self.workdir}/"
        )
        self.conf_path.write_text(text, encoding="utf-8")


class Supervised:
    """A process restarted as systemd would (``Restart=always``, ``RestartSec=1``)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.expected_exit = False
        self.crashes: list[str] = []
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        with self.log.open("ab") as out:
            proc = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(proc)
        self.proc = proc  # before the flag: a watcher must never see the old one unexpected
        self.expected_exit = False

    def kill9(self) -> None:
        self.expected_exit = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int | None:
        self.expected_exit = True
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.crashes.append(f"did not stop within {timeout:.0f} s of signal {sig}: killed")
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def check(self) -> bool:
        """Restart after an unexpected exit (noted as a crash); True when it had died."""
        if self.proc is None or self.proc.poll() is None or self.expected_exit:
            return False
        self.crashes.append(f"exited on its own with status {self.proc.returncode}")
        time.sleep(RESTART_S)
        self.start()
        return True


class Chaos:
    """One run: the processes, the faults, the bookkeeping."""

    def __init__(self, run_dir: Path, minutes: float, seed: int, rate: float) -> None:
        self.run_dir, self.minutes, self.seed, self.rate = run_dir, minutes, seed, rate
        self.disk = run_dir / "disk"
        self.database = self.disk / "events.sqlite"
        self.socket = run_dir / "control.sock"
        self.received_db = run_dir / "received.sqlite"
        self.config = run_dir / "kiosk.toml"
        self.redis = RedisServer(run_dir / "redis")
        self.broker = PersistentMosquitto(run_dir / "mosquitto")
        self.lock = threading.Lock()  # the monitor's connection, and life bookkeeping
        self.restarting = threading.Lock()  # a kiosk kill and its restart, or a crash's
        self.stop = threading.Event()
        self.lives: list[Life] = []
        self.injected: Counter[str] = Counter()
        self.not_injected: dict[str, str] = {}
        self.notes: list[str] = []
        self.frames_max_ms = 0.0
        self.frames_count = 0
        #: (seconds into the run, longest frame in ms) of each probe reading over 50 ms
        self.slow_frames: list[tuple[float, float]] = []
        self.active: set[str] = set()
        self.started = time.monotonic()
        self.camera_seen: list[str] = []
        self.monitor: KioskClient | None = None
        self.injected_ids: list[str] = []
        self.last_message: bytes | None = None
        self.mounted = False
        self.generators: list[Generator] = []

    # -- setting up ------------------------------------------------------------------------

    def prepare(self) -> None:
        self.disk.mkdir(parents=True)
        if os.geteuid() == 0:
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(self.disk)],
                capture_output=True,
                text=True,
            )
            self.mounted = done.returncode == 0
            if not self.mounted:
                self.not_injected["disk_full"] = f"mount failed: {done.stderr.strip()}"
        else:
            self.not_injected["disk_full"] = "not root: cannot mount a small tmpfs"
        self.redis.start()
        self.broker.start()
        self.config.write_text(
            f'[kiosk]\nstore_id = "{STORE}"\nkiosk_id = "{KIOSK}"\ntransition = "off"\n'
            "idle_timeout_s = 30\n\n"
            f'[paths]\ndata_dir = "{self.run_dir / "data"}"\n\n'
            '[logging]\nlevel = "WARNING"\n\n'
            f'[storage]\ndatabase = "{self.database}"\nflush_interval_ms = {FLUSH_INTERVAL_MS}\n'
            "disk_budget_mb = 0\n\n"
            f'[redis]\nurl = "{self.redis.url}"\n\n'
            '[sensors]\ntype = "simulated"\nsim_driven = true\n\n'
            f'[uplink]\nenabled = true\nhost = "127.0.0.1"\nport = {self.broker.port}\n'
            "backoff_min_s = 1.0\nbackoff_max_s = 10.0\n",
            encoding="utf-8",
        )
        base = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        base = {k: v for k, v in base.items() if not k.startswith("KIOSK_")}
        py = sys.executable
        self.receiver = Supervised(
            "receiver",
            [py, "-m", "uplink.receiver_cli", "--broker", f"mqtt://127.0.0.1:{self.broker.port}",
             "--topic", "retail/+/+/events", "--db", str(self.received_db),
             "--client-id", "chaos-receiver", "--progress-s", "30"],
            base, self.run_dir / "receiver.log",
        )  # fmt: skip
        self.kiosk = Supervised(
            "kiosk",
            [py, "-m", "kiosk.cli", "--config", str(self.config), "--windowed",
             "--control", str(self.socket)],
            {**base, "KIOSK_UPLINK__ENABLED": "false"}, self.run_dir / "kiosk.log",
        )  # fmt: skip
        self.uplink = Supervised(
            "uplink",
            [py, "-m", "uplink.cli", "--config", str(self.config), "--status-s", "30"],
            base, self.run_dir / "uplink.log",
        )  # fmt: skip
        self.receiver.start()
        self.start_kiosk()
        deadline = time.monotonic() + 120
        while not self.database.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.uplink.start()
        self.tap = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="chaos-tap")
        self.tap.on_connect = lambda c, *_: c.subscribe(f"retail/{STORE}/{KIOSK}/events", 1)
        self.tap.on_message = lambda _c, _u, m: setattr(self, "last_message", m.payload)
        self.tap.connect_async("127.0.0.1", self.broker.port)
        self.tap.loop_start()

    def start_kiosk(self) -> None:
        rows = count(self.database, "SELECT count(*) FROM events") or 0
        if self.socket.exists():
            self.socket.unlink()  # a killed kiosk leaves its socket file behind
        self.kiosk.start()
        assert self.kiosk.proc is not None
        with self.lock:
            self.lives.append(Life(pid=self.kiosk.proc.pid, rows_at_start=rows))
            self.monitor = None

    # -- threads ---------------------------------------------------------------------------

    def ask(self, cmd: str, **args: Any) -> dict[str, Any] | None:
        """A request on the monitor's connection (reconnecting); None while the kiosk is away.
        Call with ``self.lock`` held."""
        for _ in range(2):
            try:
                if self.monitor is None:
                    self.monitor = KioskClient(self.socket, timeout_s=10)
                    self.monitor.request("probe", action="start")
                return self.monitor.request(cmd, **args)
            except (SimulateError, OSError, ValueError):
                self.monitor = None
        return None

    def note_stats(self, stats: dict[str, Any]) -> None:
        life = self.lives[-1]
        if stats.get("pid") != life.pid:
            return
        storage = stats.get("storage") or {}
        life.recorded = int(stats.get("recorded") or 0)
        life.written = int(storage.get("events_written") or 0)
        flushed = storage.get("last_flush_at")
        life.flush_age_s = None if flushed is None else time.time() - float(flushed)
        life.writer_ok = (
            bool(storage.get("sqlite_ok"))
            and storage.get("writer_alive", True) is not False
            and not storage.get("memory_held_events")
        )
        life.samples.append((time.monotonic(), life.recorded))
        del life.samples[:-20]

    def read_frames(self) -> None:
        frames = self.ask("probe", action="read", reset=True)
        if frames is not None:
            summary = frames["frames"]
            longest = float(summary["max_ms"])
            self.frames_max_ms = max(self.frames_max_ms, longest)
            self.frames_count += int(summary["count"])
            if longest > 50:
                at = time.monotonic() - self.started
                self.slow_frames.append((round(at, 1), longest))
                during = ", ".join(sorted(self.active)) or "no fault"
                age = time.monotonic() - self.lives[-1].started
                print(
                    f"chaos: {at:6.1f} s UI frame {longest:.0f} ms ({during}; this kiosk "
                    f"started {age:.0f} s before)",
                    flush=True,
                )

    def watch(self) -> None:
        """Every half second: the kiosk's counts, and restarts of processes that died."""
        ticks = 0
        while not self.stop.wait(0.5):
            ticks += 1
            with self.lock:
                stats = self.ask("stats")
                if stats is not None:
                    self.note_stats(stats)
                if ticks % 10 == 0:  # the probe every 5 s: when a slow frame happened
                    self.read_frames()
            for proc in (self.receiver, self.uplink):
                if proc.check():
                    self.notes.append(f"{proc.name} died on its own: {proc.crashes[-1]}")
            if not self.restarting.acquire(blocking=False):
                continue  # a kill is under way: that death is expected
            try:
                died = self.kiosk.proc
                if died is not None and died.poll() is not None and not self.kiosk.expected_exit:
                    self.kiosk.crashes.append(f"exited with status {died.returncode}")
                    self.notes.append(f"kiosk died on its own: {self.kiosk.crashes[-1]}")
                    self.end_life("crashed")
                    time.sleep(RESTART_S)
                    self.start_kiosk()
            finally:
                self.restarting.release()

    def drive(self, until: float) -> None:
        """Simulated shoppers, reconnecting to each new kiosk process."""
        round_ = 0
        while time.monotonic() < until and not self.stop.is_set():
            try:
                client = KioskClient(self.socket, wait_s=120, timeout_s=30)
            except SimulateError:
                continue
            generator = Generator(
                client,
                seed=self.seed * 1000 + round_,
                rate_per_min=600.0,
                speedup=20.0,
                mix={"browser": 2.0, "buyer": 2.0, "group": 1.0},
                pace_per_s=self.rate / 2,
            )
            self.generators.append(generator)
            try:
                generator.run(duration_s=max(0.0, until - time.monotonic()))
            except (SimulateError, OSError, ValueError):
                time.sleep(0.5)  # the kiosk went away: wait for the next one
            finally:
                try:
                    client.close()
                except OSError:
                    pass
            round_ += 1

    # -- faults ----------------------------------------------------------------------------

    def end_life(self, how: str) -> None:
        with self.lock:
            life = self.lives[-1]
            life.ended = how
            if len(life.samples) >= 2:
                (t0, r0), (t1, r1) = life.samples[0], life.samples[-1]
                life.at_kill_rate = (r1 - r0) / (t1 - t0) if t1 > t0 else 0.0
            self.monitor = None

    def kiosk_kill(self) -> None:
        with self.restarting:
            with self.lock:
                self.read_frames()
                stats = self.ask("stats")
                if stats is not None:
                    self.note_stats(stats)
                self.kiosk.kill9()
            self.end_life("killed")
            time.sleep(RESTART_S)
            self.start_kiosk()

    def uplink_kill(self) -> None:
        self.uplink.kill9()
        time.sleep(RESTART_S)
        self.uplink.start()

    def redis_restart(self) -> None:
        self.redis.kill()
        time.sleep(DURATION_S["redis_restart"])
        self.redis.start()

    def broker_stop(self) -> None:
        self.broker.stop()
        time.sleep(DURATION_S["broker_stop"])
        self.broker.start()

    def camera_unplug(self) -> None:
        with self.lock:
            answer = self.ask("camera", action="unplug")
        if answer is None:
            self.notes.append("camera_unplug: the kiosk did not answer (restarting?)")
        time.sleep(DURATION_S["camera_unplug"] / 2)
        with self.lock:
            seen = self.ask("stats") or {}
        self.camera_seen.append(f"unplugged: {(seen.get('sensor') or {}).get('status')}")
        time.sleep(DURATION_S["camera_unplug"] / 2)
        with self.lock:
            self.ask("camera", action="plug")
        time.sleep(10)
        with self.lock:
            seen = self.ask("stats") or {}
        self.camera_seen.append(f"10 s after: {(seen.get('sensor') or {}).get('status')}")

    def disk_full(self) -> None:
        filler = self.disk / "filler"
        with filler.open("wb", buffering=0) as out:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while out.write(b"\0" * size):
                        pass
                except OSError:
                    continue
        free = os.statvfs(self.disk).f_bavail
        self.notes.append(f"disk_full: tmpfs filled ({free} blocks free)")
        time.sleep(DURATION_S["disk_full"])
        filler.unlink()

    def malformed_message(self) -> None:
        variant = self.injected["malformed_message"] % 3
        if variant == 0:
            # numbered: the receiver quarantines a redelivered (identical) message once
            payload = b'\x00{"schema": not json %d' % self.injected["malformed_message"]
        elif variant == 1:
            payload = json.dumps([{"events": "not an envelope"}]).encode()
        else:
            if self.last_message is None:
                self.notes.append("malformed_message: no real message seen yet; sent garbage")
                payload = b"{}"
            else:
                message = json.loads(self.last_message)
                event = dict(message["events"][0])
                event["id"] = str(uuid.uuid4())  # not a UUIDv7, and the type is unknown
                event["type"] = "Not A Type"
                self.injected_ids.append(event["id"])
                message.update(batch_id=str(uuid.uuid4()), part=1, parts=1, count=1)
                message["events"] = [event]
                payload = json.dumps(message).encode()
        deadline = time.monotonic() + 120  # the broker may be stopped just now
        while not self.tap.is_connected() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.tap.publish(f"retail/{STORE}/{KIOSK}/events", payload, qos=1).wait_for_publish(30)

    def inject(self, fault: Fault, kind_locks: dict[str, threading.Lock]) -> None:
        with kind_locks[fault.kind]:
            if fault.kind in self.not_injected:
                return
            started = time.monotonic()
            with self.lock:
                self.active.add(fault.kind)
            try:
                getattr(self, fault.kind)()
                self.injected[fault.kind] += 1
            except Exception as exc:  # a fault that could not be injected is a finding
                self.notes.append(f"{fault.kind} at {fault.at_s:.0f} s failed: {exc!r}")
            finally:
                with self.lock:
                    self.active.discard(fault.kind)
            print(
                f"chaos: {fault.at_s:6.1f} s {fault.kind} ({time.monotonic() - started:.1f} s)",
                flush=True,
            )

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        schedule = make_schedule(self.minutes, self.seed)
        print(f"chaos: run folder {self.run_dir}", flush=True)
        print("chaos: schedule " + ", ".join(f"{f.at_s:.0f}s {f.kind}" for f in schedule))
        self.prepare()
        start = self.started = time.monotonic()
        until = start + self.minutes * 60
        watcher = threading.Thread(target=self.watch, name="chaos-watch", daemon=True)
        watcher.start()
        driver = threading.Thread(target=self.drive, args=(until,), name="chaos-drive")
        driver.start()
        kind_locks = {kind: threading.Lock() for kind in KINDS}
        faults: list[threading.Thread] = []
        for fault in schedule:
            delay = start + fault.at_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=self.inject, args=(fault, kind_locks))
            thread.start()
            faults.append(thread)
        for thread in faults:
            thread.join()
        driver.join()
        return self.finish(time.monotonic() - start)

    def wait_settled(self, timeout_s: float) -> None:
        """Until the kiosk is back in attract, its log and Redis caught up, and the receiver
        holds every stored event (or nothing changed for a minute)."""
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            with self.lock:
                stats = self.ask("stats") or {}
            storage = stats.get("storage") or {}
            stored = count(self.database, "SELECT count(*) FROM events")
            received = count(self.received_db, "SELECT count(*) FROM events")
            state = (stored, received, stats.get("session"), storage.get("redis_lag_events"))
            if state != last:
                last, since = state, time.monotonic()
            settled = (
                stats.get("session") == "attract"
                and storage.get("queue_depth") == 0
                and storage.get("redis_lag_events") == 0
                and stored is not None
                and received is not None
                and received >= stored
            )
            if settled and time.monotonic() - since > 3:
                return
            if time.monotonic() - since > 60:
                self.notes.append(f"not settled: nothing changed for 60 s ({state})")
                return
            time.sleep(1.0)
        self.notes.append(f"not settled within {timeout_s:.0f} s ({last})")

    def finish(self, elapsed: float) -> dict[str, Any]:
        self.wait_settled(300)
        redis_check = check_redis(self.redis.url, self.database)
        with self.lock:
            self.read_frames()
            stats = self.ask("stats")
            if stats is not None:
                self.note_stats(stats)
            self.monitor = None
        self.stop.set()
        code = self.kiosk.stop(signal.SIGTERM)
        self.end_life(f"stopped (status {code})")
        self.wait_received(120)
        self.uplink.stop(signal.SIGTERM)
        self.receiver.stop(signal.SIGINT)
        self.tap.loop_stop()
        self.broker.stop()
        self.redis.stop()
        return self.figures(elapsed, redis_check)

    def wait_received(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stored = count(self.database, "SELECT count(*) FROM events") or 0
            received = count(self.received_db, "SELECT count(*) FROM events") or 0
            if received >= stored:
                return
            time.sleep(1.0)

    def figures(self, elapsed: float, redis_check: dict[str, Any]) -> dict[str, Any]:
        found = compare(
            self.lives, self.database, self.received_db, self.injected_ids, FLUSH_INTERVAL_MS
        )
        crashes = {p.name: p.crashes for p in (self.kiosk, self.uplink, self.receiver) if p.crashes}
        return {
            "elapsed_s": round(elapsed, 1),
            "faults": {kind: self.injected[kind] for kind in KINDS},
            "not_injected": self.not_injected,
            **found,
            "ui_blocked_max_ms": round(self.frames_max_ms, 1),
            "ui_frames": self.frames_count,
            "ui_slow_frames": self.slow_frames,
            "camera_health_seen": self.camera_seen,
            "redis": redis_check,
            "crashes": crashes,
            "touches": sum(g.report.touches for g in self.generators),
        }

    def cleanup(self) -> None:
        self.stop.set()
        for supervised in (self.kiosk, self.uplink, self.receiver):
            supervised.expected_exit = True
            for proc in supervised.started:  # every one started, should one be astray
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for server in (self.broker, self.redis):
            server.kill()
        if self.mounted:
            # keep the kiosk's database for a look afterwards, then let the tmpfs go
            kept = self.run_dir / "kept"
            kept.mkdir(exist_ok=True)
            for path in self.disk.glob("events.sqlite*"):
                shutil.copy2(path, kept / path.name)
            subprocess.run(["umount", "-l", str(self.disk)], check=False)


def main(argv: list[str] | None = None) -> int:
    """Run the chaos benchmark; print findings and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10.0, help="recorded events per second")
    args = parser.parse_args(argv)
    machine = begin("chaos")
    for server in (RedisServer, Mosquitto):
        if not server.available():
            print(
                f"chaos: {server.binary} is not installed (scripts/setup-system)", file=sys.stderr
            )
            return 2
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-chaos-"))
    chaos = Chaos(run_dir, args.minutes, args.seed, args.rate)
    try:
        figures = chaos.run()
    finally:
        chaos.cleanup()
    for note in chaos.notes:
        print(f"chaos: note: {note}")
    for kill in figures["per_kill"]:
        print(f"chaos: kiosk {kill['how']}: {json.dumps(kill)}")
    print(
        f"chaos: generated {figures['generated']}, stored {figures['stored']}, received "
        f"{figures['received']} (should arrive {figures['should_arrive']}); stored but not "
        f"received {figures['stored_not_received']}, received but not stored "
        f"{figures['received_not_stored']}"
    )
    print(f"chaos: redis {json.dumps(figures['redis'])}")
    longest = figures["ui_blocked_max_ms"]
    print(
        f"chaos: UI longest frame {longest} ms over {figures['ui_frames']} frames (goal "
        f"< {UI_GOAL_MS:.0f} ms: {'met' if longest < UI_GOAL_MS else 'NOT met'})"
    )
    report_rounds(
        "chaos",
        machine,
        figures["received"],
        "events",
        "events that should have arrived (generated less the flush windows at kills)",
        figures["should_arrive"],
        one_round=ONE_ROUND,
        minutes=args.minutes,
        seed=args.seed,
        **{k: v for k, v in figures.items() if k not in {"per_kill", "received"}},
        lost_beyond_window_per_kill=[k["lost_beyond_window"] for k in figures["per_kill"]],
        redis_matches_sqlite=figures["redis"]["match"],
        run_dir=str(run_dir),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
