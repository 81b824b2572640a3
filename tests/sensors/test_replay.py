"""Synthetic scenes recorded with rs.software_device + rs.recorder, replayed through the
real rs.pipeline (non-real-time playback): zones, timings, people, flicker, file health."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sensors import PresenceService, PresenceState, SensorHealth, Zone
from sensors.backends import realsense_connected
from sensors.presence import ZONE_HYSTERESIS_M, PresenceTracker
from sensors.realsense import RealSenseSensor
from sensors.recording import record_scene
from sensors.scenes import SCENE_NAMES, SCENES
from sensors.state import Observation
from settings.model import SensorsSection

FPS = 30
#: Entering PASSING depends on how much of a far shopper shows (size, occlusion by the
#: display stand); every later change follows the true distance within a few frames.
LATE_PASSING_S = 1.5
LATE_S = 0.25
#: Someone who vanishes (walks out of view) leaves after the off dwell.
LATE_VANISH_S = 1.5 + LATE_S


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recordings")
    out = {}
    for name in SCENE_NAMES:
        path = folder / f"{name}.db3"
        frames = record_scene(path, name, fps=FPS)
        assert frames == round(SCENES[name].duration_s * FPS)
        out[name] = path
    return out


def replay(path: Path, **overrides: object) -> tuple[list[PresenceState], list[SensorHealth]]:
    settings = SensorsSection(type="realsense", source=f"file:{path}", **overrides)  # type: ignore[arg-type]
    states: list[PresenceState] = []
    health: list[SensorHealth] = []
    service = PresenceService(
        RealSenseSensor(settings, realtime=False),
        on_state=states.append,
        on_health=health.append,
        settings=settings,
    )
    service.start()
    service.join(60)
    assert not service.running
    return states, health


def changes(states: list[PresenceState]) -> list[PresenceState]:
    out: list[PresenceState] = []
    for state in states:
        if not out or out[-1].zone is not state.zone:
            out.append(state)
    return out


def truth_changes(name: str) -> list[tuple[float, Zone, bool]]:
    """(time, zone, vanished) from the scene's true distances through the same zone rules
    with no dwell; ``vanished`` when the zone ends because nobody is in view any more (or
    only beyond the passing zone, where nobody counts)."""
    scene = SCENES[name]
    tracker = PresenceTracker(
        zones=SensorsSection().zones, on_share=0.04, off_share=0.02, on_dwell_s=0, off_dwell_s=0
    )
    beyond = SensorsSection().zones.passing_m + ZONE_HYSTERESIS_M
    out: list[tuple[float, Zone, bool]] = []
    for index in range(round(scene.duration_s * FPS)):
        t = index / FPS
        nearest, count = scene.truth(t)
        seen = Observation(share=1.0, nearest_m=nearest, people=count)
        state = tracker.update(seen if nearest is not None else Observation(0, None, 0), t)
        if not out or out[-1][1] is not state.zone:
            out.append((t, state.zone, nearest is None or nearest > beyond))
    return out


@pytest.mark.parametrize("name", SCENE_NAMES)
def test_scene_replays_to_the_true_zone_sequence_in_time(
    name: str, recordings: dict[str, Path]
) -> None:
    states, health = replay(recordings[name])
    seen = changes(states)
    truth = truth_changes(name)
    assert [s.zone for s in seen] == [zone for _, zone, _ in truth], (name, seen)
    assert seen[0].timestamp == 0.0
    for state, (t, zone, vanished) in zip(seen[1:], truth[1:], strict=True):
        late = state.timestamp - t
        limit = LATE_PASSING_S if zone is Zone.PASSING and state is seen[1] else LATE_S
        if vanished:
            limit = LATE_VANISH_S
        assert -1e-6 <= late <= limit, (
            f"{name}: {zone.value} at {state.timestamp:.3f}, truth {t:.3f}"
        )
    assert [h.status for h in health] == ["ok", "file_ended"]
    assert str(recordings[name]) in health[-1].message


def test_two_shoppers_are_counted_and_the_count_falls_when_one_leaves(
    recordings: dict[str, Path],
) -> None:
    states, _ = replay(recordings["two-shoppers"])
    counts = [s.people for s in states]
    assert max(counts) == 2
    after_peak = counts[counts.index(2) :]
    assert 1 in after_peak and after_peak[-1] == 0
    engaged = [s for s in states if s.zone is Zone.ENGAGED]
    assert engaged and all(s.people == 2 for s in engaged[5:-5])


def test_child_wakes_the_kiosk(recordings: dict[str, Path]) -> None:
    states, _ = replay(recordings["child"])
    assert Zone.ENGAGED in {s.zone for s in states}


def test_flashes_and_noise_do_not_wake_before_the_shopper(recordings: dict[str, Path]) -> None:
    states, _ = replay(recordings["noisy"])
    arrival = SCENES["noisy"].shoppers[0].path[0].t
    assert all(s.zone is Zone.AWAY for s in states if s.timestamp < arrival)
    assert SCENES["noisy"].flashes and max(SCENES["noisy"].flashes) < arrival


def test_empty_scene_stays_away(recordings: dict[str, Path]) -> None:
    states, _ = replay(recordings["empty"])
    assert {s.zone for s in states} == {Zone.AWAY}
    assert {s.people for s in states} == {0}


def test_zone_and_roi_settings_apply_to_replays(recordings: dict[str, Path]) -> None:
    # With the right half only in view, the passer-by (walking left to right) shows later.
    full, _ = replay(recordings["passer-by"])
    right, _ = replay(recordings["passer-by"], roi=[0.5, 0.1, 0.9, 0.95])
    assert changes(right)[1].timestamp > changes(full)[1].timestamp + 0.5


@pytest.mark.parametrize("damage", ["garbage", "truncated", "scribbled", "missing"])
def test_a_broken_recording_is_a_clear_error_not_a_crash(
    damage: str, recordings: dict[str, Path], tmp_path: Path
) -> None:
    good = recordings["approach-leave"].read_bytes()
    bad = tmp_path / f"{damage}.db3"
    if damage == "garbage":
        bad.write_bytes(b"this is not a recording\n" * 100)
    elif damage == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif damage == "scribbled":
        middle = len(good) // 2
        bad.write_bytes(good[:middle] + bytes(range(256)) * 200 + good[middle + 51_200 :])
    states, health = replay(bad)
    assert states == []
    assert health[-1].status == "error"
    assert str(bad) in health[-1].message
    assert "\n" not in health[-1].message


def test_cli_replay_prints_one_json_line_per_change(
    recordings: dict[str, Path], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sensors.cli", "replay", str(recordings["approach-leave"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["zone"] for line in lines] == [
        "away", "passing", "approaching", "engaged", "approaching", "passing", "away"
    ]  # fmt: skip
    assert set(lines[0]) == {"t", "zone", "distance_m", "people"}
    assert lines[0]["t"] == 0.0 and lines[0]["distance_m"] is None
    assert lines[3]["distance_m"] < 1.0 and lines[3]["people"] == 1
    assert all(a["t"] < b["t"] for a, b in itertools.pairwise(lines))
    assert "file_ended" in done.stderr


def test_cli_record_and_replay_report_bad_input_in_one_line(tmp_path: Path) -> None:
    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "sensors.cli",
            "record",
            str(tmp_path / "x.txt"),
            "--scene",
            "empty",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 1
    assert wrong.stderr.strip().count("\n") == 0 and ".db3" in wrong.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "sensors.cli", "replay", str(tmp_path / "none.db3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
    recorded = subprocess.run(
        [sys.executable, "-m", "sensors.cli", "record", str(tmp_path / "e.db3"), "--scene",
         "empty", "--width", "212", "--height", "120"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    assert (tmp_path / "e.db3").stat().st_size > 0


def kiosk_sensor() -> str:
    """The installed ``kiosk-sensor`` command of this environment."""
    command = Path(sys.executable).with_name("kiosk-sensor")
    assert command.is_file(), f"{command} is not installed (pip install -e .)"
    return str(command)


@pytest.mark.parametrize("where", ["after", "before"])
def test_cli_replay_takes_config_after_the_file_as_documented(
    where: str, recordings: dict[str, Path], tmp_path: Path
) -> None:
    # zones no real shopper reaches: a replay that read this file never says "engaged"
    config = tmp_path / "kiosk.toml"
    config.write_text(
        "[sensors.zones]\npassing_m = 3.5\napproaching_m = 0.4\nengaged_m = 0.3\n",
        encoding="utf-8",
    )
    recording = str(recordings["approach-leave"])
    options = ["--config", str(config)]
    argv = ["replay", recording, *options] if where == "after" else [*options, "replay", recording]
    done = subprocess.run([kiosk_sensor(), *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    zones = [json.loads(line)["zone"] for line in done.stdout.splitlines()]
    assert zones == ["away", "passing", "away"]


@pytest.mark.skipif(realsense_connected(), reason="a RealSense camera is plugged in")
def test_cli_live_without_a_camera_says_so_and_invents_nobody(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[sensors]\ntype = "auto"\n', encoding="utf-8")
    done = subprocess.run(
        [kiosk_sensor(), "live", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no_device" in done.stderr and "no RealSense camera" in done.stderr
    assert "Traceback" not in done.stderr
