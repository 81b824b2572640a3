"""The webcam backend: any camera OpenCV can open (``cv2.VideoCapture``).

A webcam has no depth: presence comes from motion (MOG2, see :mod:`sensors.motion`) and,
when ``hog = true``, people counts from OpenCV's HOG people detector.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2
import numpy as np

from sensors.protocol import SensorDisconnected, SensorError, SensorUnavailable
from sensors.state import Frame
from settings.model import SensorsSection

log = logging.getLogger(__name__)

#: Consecutive failed reads before the camera counts as gone.
MAX_FAILED_READS = 30


class WebcamSensor:
    """A camera opened by index (``webcam_index``) (a
    :class:`~sensors.protocol.PresenceSensor`). Frame times are the monotonic clock."""

    def __init__(self, settings: SensorsSection) -> None:
        self._settings = settings
        self._capture: Any = None
        self._failed = 0

    @property
    def model(self) -> str:
        """The camera's name in the health report."""
        return f"webcam {self._settings.webcam_index}"

    @property
    def simulated(self) -> bool:
        """Never: a camera."""
        return False

    def open(self) -> None:
        """Open the camera; :class:`SensorUnavailable` when there is none at the index."""
        self.close()
        index = self._settings.webcam_index
        try:
            capture = cv2.VideoCapture(index)
        except cv2.error as exc:
            raise SensorError(f"OpenCV cannot open cameras: {exc}", retry=False) from None
        if not capture.isOpened():
            capture.release()
            raise SensorUnavailable(f"no camera at index {index}")
        capture.set(cv2.CAP_PROP_FPS, float(self._settings.fps))
        self._capture = capture
        self._failed = 0

    def read(self, timeout_s: float) -> Frame | None:
        """The next colour frame; None when the camera gave none this time."""
        if self._capture is None:
            raise SensorError("webcam read before open")
        ok, image = self._capture.read()
        if not ok or image is None:
            self._failed += 1
            if self._failed >= MAX_FAILED_READS:
                raise SensorDisconnected(f"camera {self._settings.webcam_index} stopped sending")
            time.sleep(min(timeout_s, 0.05))
            return None
        self._failed = 0
        return Frame(timestamp=time.monotonic(), color=np.asarray(image, dtype=np.uint8))

    def close(self) -> None:
        """Release the camera (idempotent)."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
