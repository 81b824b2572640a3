"""The restart log systemd's ExecStopPost writes through ``kiosk record-stop``: reasons,
restarts today, crash loops, and a damaged line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kiosk.models.restarts import RESTART_LOG, read_stops, record_stop, restart_history

NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def stop(data_dir: Path, minutes_before: float, result: str, status: str = "") -> None:
    env = {"SERVICE_RESULT": result, "EXIT_CODE": "killed" if status else "", "EXIT_STATUS": status}
    record_stop(data_dir, env, now=NOON - dt.timedelta(minutes=minutes_before))


def test_each_stop_is_kept_with_its_reason(tmp_path: Path) -> None:
    stop(tmp_path, 30, "watchdog", "ABRT")
    stop(tmp_path, 20, "signal", "SEGV")
    stop(tmp_path, 10, "exit-code", "1")
    stop(tmp_path, 5, "success")
    stops = read_stops(tmp_path)
    assert [s.reason for s in stops] == [
        "hung (the watchdog restarted it)",
        "crashed (SEGV)",
        "exited with an error (status 1)",
        "stopped",
    ]
    assert [s.failed for s in stops] == [True, True, True, False]


def test_a_crash_loop_is_n_failed_stops_within_the_window(tmp_path: Path) -> None:
    for minutes in (50, 9, 6, 3):
        stop(tmp_path, minutes, "signal", "SEGV")
    stop(tmp_path, 1, "success")  # a stop on purpose does not count
    history = restart_history(tmp_path, NOON, loop_restarts=3, loop_window_s=600)
    assert history.crash_loop and history.failures_today == 4 and len(history.today) == 5
    calm = restart_history(tmp_path, NOON, loop_restarts=4, loop_window_s=600)
    assert not calm.crash_loop
    later = restart_history(tmp_path, NOON + dt.timedelta(hours=1), loop_restarts=3,
                            loop_window_s=600)  # fmt: skip
    assert not later.crash_loop


def test_a_damaged_line_is_named_and_the_others_are_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop(tmp_path, 3, "signal", "SEGV")
    with (tmp_path / RESTART_LOG).open("a") as log:
        log.write('{"at": "2026-11-27T11:58:00+00:00", "res\n')
    stop(tmp_path, 1, "watchdog")
    assert [s.result for s in read_stops(tmp_path)] == ["signal", "watchdog"]
    assert f"{RESTART_LOG} line 2 is damaged" in caplog.text


def test_the_log_keeps_the_last_stops_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.restarts.KEEP", 5)
    for minutes in range(8, 0, -1):
        stop(tmp_path, minutes, "signal", str(minutes))
    assert [s.exit_status for s in read_stops(tmp_path)] == ["5", "4", "3", "2", "1"]
