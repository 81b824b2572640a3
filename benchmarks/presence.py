"""Presence step cost at 848x480, against one numpy reduction over the same ROI; and the
CPU share of one core while a recording replays at 30 fps through the real pipeline.

1. **Step vs limit.** The synthetic "approach-leave" scene is rendered at 848x480 (z16).
   For every frame, the full presence step (``DepthPresence.observe`` + ``PresenceTracker
   .update``: grid, background, foreground, spike filter, blobs, distances, hysteresis,
   dwell, zones) is timed against ``roi.min()``, one numpy reduction over the same ROI of
   the same frame: the least any presence detector must do is look at each ROI pixel once.
   The step reads only the sampling grid's cells of the ROI (every 8th pixel each way: a
   64th of the pixels the limit reads); the JSON line says how many each reads. Median of
   the rounds (at least five; the step and the limit alternate within a round), per frame.
   Goal: ratio <= 2 (issue 22).
2. **CPU share.** The same scene is recorded (``rs.software_device`` + ``rs.recorder``) and
   replayed through ``RealSenseSensor`` (``rs.pipeline``, the configured depth filters) and
   the ``PresenceService`` thread, paced in real time at 30 fps; process CPU time over wall
   time is the share of one core (it includes librealsense's own playback threads and the
   recording's decompression, which a live camera does not need). Goal: <= 15 %.

``python -m benchmarks.presence [--rounds N>=5] [--no-replay]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import Rounds, add_rounds_argument, begin, measure_rounds, report_rounds
from sensors.presence import DepthPresence, PresenceTracker, grid_stride, roi_slices
from sensors.realsense import RealSenseSensor
from sensors.recording import record_scene
from sensors.scenes import SCENES, SceneRenderer
from sensors.service import PresenceService
from settings.model import SensorsSection

WIDTH, HEIGHT, FPS = 848, 480, 30
SCENE = "approach-leave"
#: Why each replay's CPU share is measured once.
REPLAY_ONE_ROUND = (
    "each replay is 11 s of playback paced in real time by the recording: one long "
    "measurement of ~325 frames, its share averaged over all of them"
)


def _roi_view(frame: np.ndarray, roi: list[float]) -> np.ndarray:
    rows, cols = roi_slices(roi, frame.shape[0], frame.shape[1])
    return frame[rows, cols]


def _pixels_read(shape: tuple[int, ...], roi: list[float], stride: int) -> tuple[int, int]:
    """(pixels the step reads, pixels the limit reads) of one frame: the step reads the
    sampling grid's cells inside the ROI, the limit every ROI pixel."""
    rows, cols = roi_slices(roi, shape[0], shape[1])
    limit = (rows.stop - rows.start) * (cols.stop - cols.start)
    grid_rows, grid_cols = roi_slices(roi, -(-shape[0] // stride), -(-shape[1] // stride))
    return (grid_rows.stop - grid_rows.start) * (grid_cols.stop - grid_cols.start), limit


def step_cost(rounds: int) -> tuple[Rounds, Rounds, Rounds, int]:
    """(step us/frame, roi.min() us/frame, roi.max() us/frame) per round, and the frames.

    In each round the step, then ``roi.min()``, then ``roi.max()`` go over all frames, so
    the three see the same load; the frames do not fit in the CPU caches, so each pass reads
    them from memory."""
    settings = SensorsSection()
    renderer = SceneRenderer(SCENES[SCENE], width=WIDTH, height=HEIGHT)
    frames = [frame for _, frame in renderer.frames(FPS)]
    detector = DepthPresence(
        roi=settings.roi, margin_m=settings.margin_m, relearn_s=settings.relearn_s,
        max_range_m=settings.zones.passing_m + 0.1,
    )  # fmt: skip
    tracker = PresenceTracker(
        zones=settings.zones,
        on_share=settings.on_share,
        off_share=settings.off_share,
        on_dwell_s=settings.on_dwell_ms / 1000,
        off_dwell_s=settings.off_dwell_ms / 1000,
    )
    # Learn the empty scene first (the first second of the scene is empty).
    for index, frame in enumerate(frames[:FPS]):
        detector.observe(frame, 0.001, index / FPS)
    assert detector.learned
    rois = [_roi_view(frame, settings.roi) for frame in frames]
    clock = 10.0

    def one_round() -> tuple[float, ...]:
        nonlocal clock
        start = time.perf_counter()
        for frame in frames:
            clock += 1 / FPS
            tracker.update(detector.observe(frame, 0.001, clock), clock)
        step = time.perf_counter() - start
        start = time.perf_counter()
        for roi in rois:
            roi.min()
        low = time.perf_counter() - start
        start = time.perf_counter()
        for roi in rois:
            roi.max()
        high = time.perf_counter() - start
        return tuple(seconds / len(frames) * 1e6 for seconds in (step, low, high))

    step, low, high = measure_rounds(one_round, rounds)
    return step, low, high, len(frames)


def replay_cpu(folder: Path, filters: Sequence[str]) -> tuple[float, float, int]:
    """(CPU share of one core, wall seconds, frames) replaying at 30 fps."""
    path = folder / f"{SCENE}.db3"
    if not path.exists():
        record_scene(path, SCENE, width=WIDTH, height=HEIGHT, fps=FPS)
    settings = SensorsSection(type="realsense", source=f"file:{path}", filters=list(filters))
    frames = 0

    def count(_: object) -> None:
        nonlocal frames
        frames += 1

    service = PresenceService(
        RealSenseSensor(settings, realtime=True),
        on_state=lambda state: None,
        on_health=lambda health: None,
        settings=settings.model_copy(update={"heartbeat_s": 600.0}),
    )
    service.set_preview_sink(None)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    service.start()
    service.join(120)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / wall, wall, round(SCENES[SCENE].duration_s * FPS)


def main(argv: list[str] | None = None) -> None:
    """Run both measurements, print figures, end with the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.presence")
    add_rounds_argument(parser, default=9)
    parser.add_argument("--no-replay", action="store_true", help="skip the 30 fps replay")
    args = parser.parse_args(argv)

    machine = begin("presence")
    step, limit_min, limit_max, frames = step_cost(args.rounds)
    stride = grid_stride(WIDTH)
    step_pixels, limit_pixels = _pixels_read((HEIGHT, WIDTH), SensorsSection().roi, stride)
    print(f"scene {SCENE}: {frames} frames {WIDTH}x{HEIGHT}, grid stride {stride}")
    print(f"pixels read per frame: step {step_pixels:,} (the grid's ROI cells), "
          f"limit {limit_pixels:,} (every ROI pixel)")  # fmt: skip
    print(f"presence step      {step.describe('us/frame')}")
    print(f"roi.min() (limit)  {limit_min.describe('us/frame')}")
    print(f"roi.max()          {limit_max.describe('us/frame')}")
    print(f"ratio to roi.min() {step.median / limit_min.median:.2f}, "
          f"to roi.max() {step.median / limit_max.median:.2f} (medians)")  # fmt: skip
    extra: dict[str, object] = {
        "frame": f"{WIDTH}x{HEIGHT}",
        "frames": frames,
        "step_pixels": step_pixels,
        "limit_pixels": limit_pixels,
    }
    if not args.no_replay:
        with tempfile.TemporaryDirectory(prefix="presence-bench-") as tmp:
            default_filters = list(SensorsSection().filters)
            share, wall, count = replay_cpu(Path(tmp), default_filters)
            bare, _, _ = replay_cpu(Path(tmp), [])
        print(
            f"30 fps replay, filters {default_filters}: {share * 100:.1f}% of one core "
            f"({count} frames in {wall:.1f}s)"
        )
        print(f"30 fps replay, no filters: {bare * 100:.1f}% of one core")
        extra.update(
            cpu_share_30fps=round(share, 4),
            cpu_share_30fps_no_filters=round(bare, 4),
            cpu_goal=0.15,
            cpu_share_rounds=1,
            cpu_share_one_round=REPLAY_ONE_ROUND,
        )
    report_rounds(
        "presence",
        machine,
        step,
        "us/frame",
        "roi.min() over the same ROI, same frames",
        limit_min,
        **extra,
    )


if __name__ == "__main__":
    main()
