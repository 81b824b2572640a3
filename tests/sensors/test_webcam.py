"""The webcam backend on a recorded video: a synthetic shop floor drawn with OpenCV, written
with cv2.VideoWriter and played through the real WebcamSensor (cv2.VideoCapture on the file)
and the PresenceService thread."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from sensors import PresenceService, PresenceState, SensorHealth, Zone
from sensors.webcam import WebcamSensor
from settings.model import SensorsSection

FPS = 10
WIDTH, HEIGHT = 160, 120
#: The filmed camera: 62 degrees wide, 1.4 m above the floor, looking level.
HFOV_DEG = 62.0
CAMERA_M = 1.4
#: The shopper: shoulders 0.45 m wide, 1.7 m tall (head 0.16 x 0.22 m).
SHOULDERS_M, TALL_M = 0.45, 1.7
ARRIVE_S, STOP_S, LEAVE_S, END_S = 3.0, 6.0, 126.0, 131.0
STAND_M, START_M = 0.8, 4.0


def where(t: float) -> tuple[float, float] | None:
    """(distance, sideways offset) of the shopper at ``t`` seconds, None when not in view:
    walks up from 4 m to 0.8 m, stands still for two minutes, steps aside out of view."""
    if t < ARRIVE_S or t >= LEAVE_S + 2.0:
        return None
    if t < STOP_S:
        k = (t - ARRIVE_S) / (STOP_S - ARRIVE_S)
        return START_M + k * (STAND_M - START_M), 0.0
    if t < LEAVE_S:
        return STAND_M, 0.0
    return STAND_M, (t - LEAVE_S) * 0.6


def shop_floor() -> np.ndarray:
    """The empty scene: a beige wall with shelves, a grey floor."""
    image = np.full((HEIGHT, WIDTH, 3), (170, 200, 215), np.uint8)
    cv2.rectangle(image, (0, 80), (WIDTH, HEIGHT), (120, 120, 125), -1)
    for x in range(5, WIDTH, 38):
        cv2.rectangle(image, (x, 20), (x + 24, 70), (60, 90, 140), -1)
        cv2.line(image, (x, 45), (x + 24, 45), (30, 40, 50), 2)
    return image


def draw_shopper(image: np.ndarray, distance: float, offset: float) -> None:
    """The shopper as a pinhole camera sees them (clipped at the frame's edges)."""
    f = (WIDTH / 2) / math.tan(math.radians(HFOV_DEG) / 2)

    def px(x_m: float, height_m: float) -> tuple[int, int]:
        return (
            round(WIDTH / 2 + f * x_m / distance),
            round(HEIGHT / 2 - f * (height_m - CAMERA_M) / distance),
        )

    left, top = px(offset - SHOULDERS_M / 2, TALL_M - 0.25)
    right, bottom = px(offset + SHOULDERS_M / 2, 0.0)
    cv2.rectangle(image, (left, top), (right, bottom), (90, 40, 30), -1)  # a dark blue coat
    centre = px(offset, TALL_M - 0.11)
    axes = (max(1, round(f * 0.08 / distance)), max(1, round(f * 0.11 / distance)))
    cv2.ellipse(image, centre, axes, 0, 0, 360, (120, 160, 210), -1)


@pytest.fixture(scope="module")
def still_shopper_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "still-shopper.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    floor = shop_floor()
    try:
        for index in range(round(END_S * FPS)):
            image = floor.copy()
            seen = where(index / FPS)
            if seen is not None:
                draw_shopper(image, *seen)
            noise = rng.normal(0, 2.0, image.shape)  # sensor noise on every frame
            writer.write(np.clip(image + noise, 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return path


def play(path: Path) -> tuple[list[PresenceState], list[SensorHealth]]:
    settings = SensorsSection(type="webcam", source=f"file:{path}")
    states: list[PresenceState] = []
    health: list[SensorHealth] = []
    service = PresenceService(
        WebcamSensor(settings, realtime=False),
        on_state=states.append,
        on_health=health.append,
        settings=settings,
    )
    service.start()
    service.join(120)
    assert not service.running
    return states, health


def test_a_shopper_standing_still_at_0_8_m_stays_engaged_for_two_minutes(
    still_shopper_video: Path,
) -> None:
    states, health = play(still_shopper_video)
    assert [h.status for h in health] == ["ok", "file_ended"]
    assert str(still_shopper_video) in health[-1].message
    engaged = [s for s in states if s.zone is Zone.ENGAGED]
    assert engaged, sorted({(s.zone.value, s.distance_m) for s in states})
    first = engaged[0]
    assert first.timestamp <= STOP_S + 1.0
    assert first.distance_m is not None and 0.6 <= first.distance_m <= 1.0
    # standing still for two minutes: never faded, never anything but ENGAGED
    during = [s for s in states if first.timestamp <= s.timestamp < LEAVE_S]
    assert {s.zone for s in during} == {Zone.ENGAGED}, [
        (s.timestamp, s.zone.value) for s in during if s.zone is not Zone.ENGAGED
    ][:5]
    assert states[-1].zone is Zone.AWAY and states[-1].timestamp < END_S
    # they came in through the zones, in order
    order = [s.zone for s in states if s.timestamp < first.timestamp]
    assert Zone.APPROACHING in order


def test_a_missing_video_is_a_clear_error(tmp_path: Path) -> None:
    states, health = play(tmp_path / "none.avi")
    assert states == []
    assert [h.status for h in health] == ["error"]
    assert "none.avi" in health[0].message and "does not exist" in health[0].message


def test_something_left_in_view_longer_than_relearn_s_becomes_background() -> None:
    from sensors.motion import MotionPresence

    motion = MotionPresence(roi=[0.1, 0.1, 0.9, 0.95], relearn_s=5.0)
    floor = shop_floor()
    rng = np.random.default_rng(1)
    seen: list[tuple[float, int]] = []
    for index in range(200):
        image = floor.copy()
        if index >= 30:  # a display stand is put down at 3 s and stays
            cv2.rectangle(image, (50, 30), (110, 119), (40, 40, 90), -1)
        noisy = np.clip(image + rng.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8)
        seen.append((index / FPS, motion.observe(noisy, index / FPS).people))
    held = [t for t, people in seen if 3.0 <= t < 8.0 and people == 0]
    assert not held  # held while it could be a shopper standing still
    assert seen[-1][1] == 0  # then learned: nobody there


def test_exposure_settling_at_start_is_learned_not_taken_for_a_shopper() -> None:
    from sensors.motion import MotionPresence

    motion = MotionPresence(roi=[0.1, 0.1, 0.9, 0.95])
    floor = shop_floor().astype(np.float64)
    rng = np.random.default_rng(2)
    people: list[tuple[float, int]] = []
    for index in range(15 * FPS):
        t = index / FPS
        gain = min(1.0, 0.5 + t / 3.0)  # auto-exposure brightens the picture for 1.5 s
        image = np.clip(floor * gain + rng.normal(0, 2.0, floor.shape), 0, 255)
        people.append((t, motion.observe(image.astype(np.uint8), t).people))
    assert [t for t, count in people if count and t >= 3.0] == []
