"""The numpy presence logic on hand-made depth frames, colour cues, and backend health."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sensors import (
    Frame,
    PresenceService,
    PresenceState,
    SensorDisconnected,
    SensorHealth,
    color_cues,
)
from sensors.backends import realsense_connected
from sensors.color_cues import ColorCues
from sensors.presence import DepthPresence, PresenceTracker, _label_areas, _median
from sensors.realsense import RealSenseSensor
from sensors.state import Observation, Zone
from sensors.webcam import WebcamSensor
from settings.model import SensorsSection

FPS = 30
W, H = 212, 120


def room() -> np.ndarray:
    return np.full((H, W), 4000, dtype=np.uint16)


def with_person(depth_mm: int, left: int = 80, width: int = 50) -> np.ndarray:
    frame = room()
    frame[20:110, left : left + width] = depth_mm
    return frame


def detector(relearn_s: float = 600.0) -> DepthPresence:
    found = DepthPresence(roi=[0.1, 0.1, 0.9, 0.95], margin_m=0.15, relearn_s=relearn_s)
    for i in range(FPS):
        found.observe(room(), 0.001, i / FPS)
    assert found.learned
    return found


def test_person_is_seen_from_the_second_frame_with_its_distance() -> None:
    found = detector()
    first = found.observe(with_person(1500), 0.001, 1.0)
    second = found.observe(with_person(1500), 0.001, 1.0 + 1 / FPS)
    assert first.nearest_m is None  # a single frame is never enough (spike filter)
    assert second.nearest_m == pytest.approx(1.5)
    assert second.people == 1 and second.share > 0.1


def test_holes_and_single_frame_spikes_are_not_people() -> None:
    found = detector()
    rng = np.random.default_rng(1)
    for i in range(60):
        frame = room()
        frame[rng.random(frame.shape) < 0.3] = 0  # holes
        if i % 2:
            frame[10:100, 30:180] = 700  # a large spike, every other frame
        seen = found.observe(frame, 0.001, 1 + i / FPS)
        assert seen.nearest_m is None, i


@pytest.mark.parametrize(
    ("columns", "people", "nearest_m"),
    [
        # two separate people are two blobs, and the nearest wins
        ({(30, 70): 2500, (130, 180): 1200}, 2, 1.2),
        # one person with an even number of cells, half at 1.4 m and half at 1.6 m: their
        # distance is the median, the mean of the two middle depths (as np.median gives it)
        ({(80, 106): 1400, (106, 132): 1600}, 1, 1.5),
    ],
    ids=["two-people-nearest-wins", "distance-is-the-median"],
)
def test_blobs_are_people_at_their_median_depth(
    columns: dict[tuple[int, int], int], people: int, nearest_m: float
) -> None:
    frame = room()
    for (left, right), depth_mm in columns.items():
        frame[20:110, left:right] = depth_mm
    found = detector()
    found.observe(frame, 0.001, 1.0)
    seen = found.observe(frame, 0.001, 1.0 + 1 / FPS)
    assert seen.people == people
    assert seen.nearest_m == pytest.approx(nearest_m)


@pytest.mark.parametrize("size", [1, 2, 3, 10, 11, 4386])
def test_the_step_s_median_is_numpy_s_median(size: int) -> None:
    values = np.random.default_rng(size).random(size).astype(np.float32) * 4
    values[: size // 3] = values[0]  # ties
    assert _median(values.copy()) == float(np.median(values))


def test_something_left_standing_becomes_background_after_relearn_s() -> None:
    found = detector(relearn_s=2.0)
    t = 1.0
    seen = []
    for _ in range(4 * FPS):
        t += 1 / FPS
        seen.append(found.observe(with_person(2000), 0.001, t).nearest_m)
    assert seen[FPS] == pytest.approx(2.0)
    assert seen[-1] is None  # a moved display stand is not a shopper forever


def test_a_person_in_the_learning_frames_is_forgotten_once_they_leave() -> None:
    found = DepthPresence(roi=[0.1, 0.1, 0.9, 0.95], margin_m=0.15, relearn_s=600)
    for i in range(FPS):
        found.observe(with_person(1000), 0.001, i / FPS)
    t = 1.0
    for _ in range(2 * FPS):  # they leave; the uncovered wall is learned within ~1 s
        t += 1 / FPS
        found.observe(room(), 0.001, t)
    found.observe(with_person(1000), 0.001, t + 1 / FPS)
    back = found.observe(with_person(1000), 0.001, t + 2 / FPS)
    assert back.nearest_m == pytest.approx(1.0)


def test_roi_excludes_what_is_outside_it() -> None:
    found = detector()
    found.set_roi([0.6, 0.1, 0.9, 0.95])
    for i in range(3):
        seen = found.observe(with_person(1500, left=20, width=50), 0.001, 1 + i / FPS)
    assert seen.nearest_m is None


def test_float_metre_frames_work_like_depth_units() -> None:
    found = DepthPresence(roi=[0, 0, 1, 1], margin_m=0.15, relearn_s=600)
    for i in range(FPS):
        found.observe(room().astype(np.float32) / 1000, 1.0, i / FPS)
    person = with_person(900).astype(np.float32) / 1000
    found.observe(person, 1.0, 1.0)
    assert found.observe(person, 1.0, 1.0 + 1 / FPS).nearest_m == pytest.approx(0.9)


def test_tracker_hysteresis_between_on_and_off_share() -> None:
    tracker = PresenceTracker(
        zones=SensorsSection().zones, on_share=0.04, off_share=0.02, on_dwell_s=0, off_dwell_s=0
    )
    assert tracker.update(Observation(0.03, 1.5, 1), 0.0).zone is Zone.AWAY  # below on
    assert tracker.update(Observation(0.05, 1.5, 1), 0.1).zone is Zone.APPROACHING
    assert tracker.update(Observation(0.03, 1.5, 1), 0.2).zone is Zone.APPROACHING  # above off
    assert tracker.update(Observation(0.01, 1.5, 1), 0.3).zone is Zone.AWAY


class FlakyCamera:
    """A real PresenceSensor that loses its device once, like an unplugged cable."""

    model = "flaky camera"
    simulated = False

    def __init__(self) -> None:
        self.opened = 0
        self.index = 0

    def open(self) -> None:
        self.opened += 1

    def read(self, timeout_s: float) -> Frame | None:
        self.index += 1
        if self.index == 20:
            raise SensorDisconnected("cable pulled")
        if self.index > 60:
            raise (
                SensorDisconnected("gone for good") if self.opened > 3 else SensorDisconnected("x")
            )
        return Frame(timestamp=self.index / FPS, observation=Observation(0.2, 0.8, 1))

    def close(self) -> None:
        pass


def test_service_reopens_a_lost_device_and_reports_it() -> None:
    health: list[SensorHealth] = []
    states: list[PresenceState] = []
    camera = FlakyCamera()
    service = PresenceService(
        camera, on_state=states.append, on_health=health.append, settings=SensorsSection()
    )
    service.start()
    try:
        for _ in range(100):
            if camera.opened >= 2 and len(health) >= 3:
                break
            service.join(0.05)
    finally:
        service.stop()
    statuses = [h.status for h in health]
    assert statuses[:3] == ["ok", "reconnecting", "ok"]
    assert "cable pulled" in health[1].message
    assert camera.opened >= 2
    assert any(s.zone is Zone.ENGAGED for s in states)


@pytest.mark.skipif(realsense_connected(), reason="a RealSense camera is plugged in")
def test_no_realsense_camera_is_health_no_device_and_retried() -> None:
    health: list[SensorHealth] = []
    service = PresenceService(
        RealSenseSensor(SensorsSection(type="realsense")),
        on_state=lambda s: None,
        on_health=health.append,
        settings=SensorsSection(),
    )
    service.start()
    service.join(0.3)
    assert service.running  # still waiting for a camera
    service.stop()
    assert health[0].status == "no_device"
    assert "no RealSense camera" in health[0].message


def test_missing_webcam_is_health_no_device() -> None:
    health: list[SensorHealth] = []
    service = PresenceService(
        WebcamSensor(SensorsSection(type="webcam", webcam_index=57)),
        on_state=lambda s: None,
        on_health=health.append,
        settings=SensorsSection(),
    )
    service.start()
    service.join(0.3)
    service.stop()
    assert health[0].status == "no_device"
    assert "57" in health[0].message


def test_color_cues_hog_and_faces_run_on_colour_frames() -> None:
    cues = ColorCues(hog=True, faces=True)
    assert cues.enabled
    blank = np.full((480, 640, 3), 127, dtype=np.uint8)
    seen = cues.refine(Observation(0.2, 1.0, 1), blank, 0.0)
    assert seen.people == 1  # HOG finds nobody on a blank wall; depth's count stands
    assert seen.looking is (None if cues.problem else False)
    nobody = cues.refine(Observation(0.0, None, 0), blank, 5.0)
    assert nobody.nearest_m is None and nobody.people == 0


def test_missing_face_cascade_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import cv2  # color_cues loads it with the detectors, not at import

    monkeypatch.setattr(color_cues, "CASCADE_DIRS", (tmp_path,))
    monkeypatch.setattr(cv2, "data", None, raising=False)
    cues = ColorCues(hog=False, faces=True)
    assert not cues.enabled
    assert "opencv-data" in cues.problem


def test_sensor_health_is_a_typed_frozen_snapshot() -> None:
    import dataclasses
    import json

    from sensors import HealthStatus

    health = SensorHealth("ok", model="RealSense D435 (123)", fps=29.9)  # a value, as scripts write
    assert health.status is HealthStatus.OK and health.online
    assert SensorHealth(HealthStatus.NO_DEVICE).status == "no_device"  # a str enum
    assert not SensorHealth(HealthStatus.NO_DEVICE).online
    assert json.loads(json.dumps(dataclasses.asdict(health)))["status"] == "ok"
    with pytest.raises(dataclasses.FrozenInstanceError):
        health.fps = 0.0
    with pytest.raises(ValueError, match="'unplugged' is not a valid HealthStatus"):
        SensorHealth("unplugged")


@pytest.mark.parametrize("blobs", [1, 2, 3, 12])
def test_blob_areas_are_each_label_s_cells(blobs: int) -> None:
    # few labels are counted one by one, many by one bincount: both give every label's cells
    mask = np.zeros((51, 86), dtype=np.uint8)
    for index in range(blobs):
        row, col = divmod(index, 4)
        mask[row * 12 : row * 12 + 3 + index, col * 20 : col * 20 + 5] = 1
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    assert count == blobs + 1
    assert _label_areas(labels, count) == np.bincount(labels.ravel(), minlength=count).tolist()
