"""Presence from an ordinary camera: moving regions (OpenCV's MOG2 background subtractor).

A webcam has no depth, so the distance of a person is estimated from the height of their
moving region, assuming a 1.7 m person filling the frame's height at ``FULL_HEIGHT_M``.
This is rough (a child reads farther away, a partly visible adult nearer) but ranks
shoppers well enough to tell passing from approaching.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from sensors.presence import MIN_BLOB_SHARE, roi_slices
from sensors.state import EMPTY, Observation

log = logging.getLogger(__name__)

#: Frames are shrunk to this width first.
WORK_WIDTH = 160
#: Distance (metres) at which a standing adult fills the frame's height.
FULL_HEIGHT_M = 1.2
#: MOG2 history in frames: a still shopper fades into the background after about this long.
HISTORY = 900


class MotionPresence:
    """Per-frame observation from colour frames: the moving share of the ROI, blobs as
    people, distance from blob height. Sensor thread only."""

    def __init__(self, *, roi: Sequence[float]) -> None:
        self._roi = tuple(roi)
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=HISTORY, varThreshold=32, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

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
        mask = self._subtractor.apply(small)
        rows, cols = roi_slices(self._roi, mask.shape[0], mask.shape[1])
        roi = mask[rows, cols]
        moving = cv2.morphologyEx((roi > 0).astype(np.uint8), cv2.MORPH_OPEN, self._kernel)
        cells = moving.size
        min_area = max(4, int(MIN_BLOB_SHARE * cells))
        if int(np.count_nonzero(moving)) < min_area:
            return EMPTY
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        people = 0
        area_total = 0
        tallest = 0
        for label in range(1, count):
            area = int(stats[label, cv2.CC_STAT_AREA])
            if area < min_area:
                continue
            people += 1
            area_total += area
            tallest = max(tallest, int(stats[label, cv2.CC_STAT_HEIGHT]))
        if not people:
            return EMPTY
        nearest = FULL_HEIGHT_M * mask.shape[0] / max(1, tallest)
        return Observation(share=area_total / cells, nearest_m=float(nearest), people=people)
