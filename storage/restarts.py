"""Why the kiosk stopped, kept across restarts: restarts today, their reasons, crash loops.

systemd runs ``kiosk record-stop`` after every stop of ``retail-edge-kiosk.service``
(``ExecStopPost=``) with the outcome in ``SERVICE_RESULT``, ``EXIT_CODE`` and ``EXIT_STATUS``;
it appends one JSON line to ``<data_dir>/restarts.jsonl``. At start the kiosk reads them back:
the status page shows the restarts of today with their reasons, and a crash loop (``N``
failed stops within ``M`` seconds) makes the kiosk start on the last good copy of the experience
instead of the configured one, and say so.

The uplink reads it too (its status message carries the failed stops of the last 24 hours
and whether in a crash loop, :func:`failed_since`): it lives in storage, which both the kiosk
and the uplink may import. Plain Python: the file is small (the last :data:`KEEP` stops),
appended with an fsync.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RESTART_LOG = "restarts.jsonl"
#: The stops kept in the file (older ones are dropped when it is rewritten).
KEEP = 500
#: A crash loop: this many failed stops within LOOP_WINDOW_S (systemd's own start limit in the
#: unit, 10 starts in 10 minutes, comes later and stops the restarts).
LOOP_RESTARTS = 4
LOOP_WINDOW_S = 600.0

#: systemd's SERVICE_RESULT values (systemd.exec(5)) in the words of the status page.
RESULTS = {
    "success": "stopped",
    "protocol": "did not start properly",
    "timeout": "did not start or stop in time",
    "exit-code": "exited with an error",
    "signal": "crashed",
    "core-dump": "crashed",
    "watchdog": "hung (the watchdog restarted it)",
    "start-limit-hit": "restarted too often",
    "resources": "could not get its resources",
    "oom-kill": "ran out of memory",
}


@dataclass(frozen=True)
class Stop:
    """One stop of the kiosk as systemd saw it."""

    at: str
    result: str
    exit_code: str
    exit_status: str

    @property
    def failed(self) -> bool:
        """A stop nobody asked for."""
        return self.result != "success"

    @property
    def reason(self) -> str:
        """One line for the status page: "crashed (SEGV)", "hung (the watchdog restarted it)"."""
        words = RESULTS.get(self.result, self.result or "stopped")
        if self.result in ("signal", "core-dump") and self.exit_status:
            return f"{words} ({self.exit_status})"
        if self.result == "exit-code" and self.exit_status:
            return f"{words} (status {self.exit_status})"
        return words

    @property
    def when(self) -> dt.datetime:
        """When it stopped (aware)."""
        return dt.datetime.fromisoformat(self.at)


def record_stop(data_dir: Path, env: Mapping[str, str], now: dt.datetime | None = None) -> Stop:
    """Append the stop systemd describes in ``env`` to the restart log (fsync'd)."""
    stop = Stop(
        at=(now or dt.datetime.now(dt.UTC)).isoformat(),
        result=env.get("SERVICE_RESULT", ""),
        exit_code=env.get("EXIT_CODE", ""),
        exit_status=env.get("EXIT_STATUS", ""),
    )
    path = data_dir / RESTART_LOG
    data_dir.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(stop)) + "\n")
        out.flush()
        os.fsync(out.fileno())
    stops = read_stops(data_dir)
    if len(stops) > KEEP:
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(asdict(s)) + "\n" for s in stops[-KEEP:]), "utf-8")
        os.replace(tmp, path)
    return stop


def read_stops(data_dir: Path) -> list[Stop]:
    """Every stop in the log, oldest first; a damaged line is named in the log and skipped."""
    path = data_dir / RESTART_LOG
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    stops: list[Stop] = []
    for number, line in enumerate(lines, start=1):
        try:
            stops.append(Stop(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            log.warning("%s line %d is damaged and skipped: %s", path, number, exc)
    return stops


@dataclass(frozen=True)
class RestartHistory:
    """What the status page and the uplinked status say about restarts."""

    today: list[Stop]
    crash_loop: bool

    @property
    def failures_today(self) -> int:
        """Restarts today that nobody asked for."""
        return sum(1 for stop in self.today if stop.failed)

    def summary(self) -> str | None:
        """One line for the status page: "restarts today: 2 (crashed (SEGV) 10:42, hung (the
        watchdog restarted it) 11:03)"; None when nothing failed today."""
        failed = [stop for stop in self.today if stop.failed]
        if not failed:
            return None
        shown = ", ".join(f"{stop.reason} {stop.when.astimezone():%H:%M}" for stop in failed[-3:])
        more = f", {len(failed) - 3} more" if len(failed) > 3 else ""
        return f"restarts today: {len(failed)} ({shown}{more})"


def restart_history(
    data_dir: Path,
    now: dt.datetime,
    *,
    loop_restarts: int = LOOP_RESTARTS,
    loop_window_s: float = LOOP_WINDOW_S,
) -> RestartHistory:
    """Today's stops (local day of ``now``) and whether the last ``loop_restarts`` failed stops
    all fell within ``loop_window_s`` seconds before ``now``."""
    stops = read_stops(data_dir)
    day = now.astimezone().date()
    today = [s for s in stops if s.when.astimezone().date() == day]
    recent = [s for s in stops if s.failed and (now - s.when).total_seconds() <= loop_window_s]
    return RestartHistory(today=today, crash_loop=len(recent) >= loop_restarts)


def failed_since(data_dir: Path, since: dt.datetime) -> int:
    """The failed stops (nobody asked for them) in the log at or after ``since`` (aware)."""
    return sum(1 for stop in read_stops(data_dir) if stop.failed and stop.when >= since)
