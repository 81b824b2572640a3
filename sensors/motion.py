"""Presence from an ordinary camera: moving regions (OpenCV's MOG2 background subtractor).

A webcam has no depth, so a person's distance is estimated from the size of their region
with a pinhole model of a typical webcam (``HFOV_DEG`` wide, frame aspect as given): a
shopper ``SHOULDERS_M`` wide fills ``SHOULDERS_M / (2 d tan(hfov/2))`` of the frame's width
at ``d`` metres, and a standing adult ``PERSON_M`` tall as much of its height with the
vertical field of view. The nearer of the two readings counts: close up a shopper overflows
the frame's height, far away their width is the less certain. Calibrated so that a shopper
at 0.8 m reads about 0.8 m (ENGAGED with the default zones); two shoppers side by side read
as one nearer shopper. Rough, but it ranks shoppers well enough for the zones.

The first ``LEARN_S`` seconds teach MOG2 the empty scene (start the kiosk with nobody in
view, as with depth). MOG2 learns whatever stands still as background; left alone it fades
a shopper who stands still at the screen within seconds to a minute. So while someone is
seen, the background stops learning (learning rate 0); a region that stays for
``relearn_s`` (a display stand moved into view) is learned again, as with depth. When
nobody is seen, it learns at the usual rate (lighting drifts).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from sensors.presence import MIN_BLOB_SHARE, roi_slices
from sensors.state import EMPTY, Observation

log = logging.getLogger(__name__)

#: Frames are shrunk to this width first.
WORK_WIDTH = 160
#: The webcam's horizontal field of view (degrees): most USB webcams see 60-70.
HFOV_DEG = 62.0
#: A shopper's shoulder width and height (metres) in the distance model.
SHOULDERS_M = 0.45
PERSON_M = 1.7
#: MOG2 history in frames (its learning rate when nobody is seen is 1/HISTORY per frame).
HISTORY = 900
#: The first seconds of frames only teach the empty scene (a webcam's exposure and white
#: balance settle meanwhile); nobody is reported.
LEARN_S = 2.0
#: MOG2's learning rate while it learns the empty scene.
LEARN_RATE = 0.1


def distance_from_size(width_frac: float, height_frac: float, aspect: float) -> float:
    """Metres to a shopper whose region is ``width_frac`` of the frame's width and
    ``height_frac`` of its height, for a frame ``aspect`` = width / height."""
    tan_h = math.tan(math.radians(HFOV_DEG) / 2)
    tan_v = tan_h / aspect
    by_width = SHOULDERS_M / (2 * tan_h * max(width_frac, 1e-3))
    by_height = PERSON_M / (2 * tan_v * max(height_frac, 1e-3))
    return min(by_width, by_height)


class MotionPresence:
    """Per-frame observation from colour frames: the moving share of the ROI, blobs as
    people, distance from blob size. Sensor thread only.

    ``relearn_s``: a region seen for this long without a break becomes background."""

    def __init__(self, *, roi: Sequence[float], relearn_s: float = 600.0) -> None:
        self._roi = tuple(roi)
        self._relearn_s = float(relearn_s)
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=HISTORY, varThreshold=32, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        #: Frame time since which someone has been seen without a break (None: nobody).
        self._seen_since: float | None = None
        self._relearning = False
        self._start_t: float | None = None

    def set_roi(self, roi: Sequence[float]) -> None:
        """Use a new region of interest from the next frame on."""
        self._roi = tuple(roi)

    def observe(self, color: npt.NDArray[np.uint8], t: float) -> Observation:
        """What the BGR frame at time ``t`` shows."""
        height, width = color.shape[:2]
        scale = WORK_WIDTH / width if width > WORK_WIDTH else 1.0
        small = (
            cv2.resize(color, (round(width * scale), max(1, round(height * scale))))
            if scale < 1.0
            else color
        )
        if self._start_t is None:
            self._start_t = t
        if t - self._start_t < LEARN_S:
            self._subtractor.apply(small, learningRate=LEARN_RATE)
            return EMPTY
        holding = self._seen_since is not None and t - self._seen_since < self._relearn_s
        # a still shopper must not fade into the background while they are there
        mask = self._subtractor.apply(small, learningRate=0.0 if holding else -1.0)
        observation = self._blobs(mask)
        if not observation.people:
            self._seen_since = None
        elif self._seen_since is None:
            self._seen_since = t
        elif self._seen_since is not None and not holding and not self._relearning:
            # until it is gone, it is learned at the usual rate (as a moved stand would be)
            log.info("webcam: something in view for %gs: learning it as background",
                     self._relearn_s)  # fmt: skip
        self._relearning = self._seen_since is not None and not holding
        return observation

    def _blobs(self, mask: cv2.typing.MatLike) -> Observation:
        frame_h, frame_w = mask.shape[:2]
        rows, cols = roi_slices(self._roi, frame_h, frame_w)
        roi = mask[rows, cols]
        moving = cv2.morphologyEx((roi > 0).astype(np.uint8), cv2.MORPH_OPEN, self._kernel)
        cells = moving.size
        min_area = max(4, int(MIN_BLOB_SHARE * cells))
        if int(np.count_nonzero(moving)) < min_area:
            return EMPTY
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        people = 0
        area_total = 0
        nearest: float | None = None
        for label in range(1, count):
            area = int(stats[label, cv2.CC_STAT_AREA])
            if area < min_area:
                continue
            people += 1
            area_total += area
            distance = distance_from_size(
                int(stats[label, cv2.CC_STAT_WIDTH]) / frame_w,
                int(stats[label, cv2.CC_STAT_HEIGHT]) / frame_h,
                frame_w / frame_h,
            )
            nearest = distance if nearest is None else min(nearest, distance)
        if not people:
            return EMPTY
        return Observation(share=area_total / cells, nearest_m=nearest, people=people)
