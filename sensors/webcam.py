"""The webcam backend: any camera OpenCV can open (``cv2.VideoCapture``), or a video file
(``source = "file:PATH"``) played as one.

A webcam has no depth: presence comes from motion (MOG2, see :mod:`sensors.motion`) and,
when ``hog = true``, people counts from OpenCV's HOG people detector. A video file's frame
times are its own (frame index / its fps); with ``realtime`` they are paced in real time,
otherwise read as fast as they come (tests). Its end is health "file_ended".
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np

from sensors.protocol import SensorDisconnected, SensorError, SensorUnavailable, SourceEnded
from sensors.realsense import source_file
from sensors.state import Frame
from settings.model import SensorsSection

log = logging.getLogger(__name__)

#: Consecutive failed reads before the camera counts as gone.
MAX_FAILED_READS = 30


class WebcamSensor:
    """A camera opened by index (``webcam_index``) (a
    :class:`~sensors.protocol.PresenceSensor`). Frame times are the monotonic clock."""

    def __init__(self, settings: SensorsSection, *, realtime: bool = True) -> None:
        self._settings = settings
        self._file = source_file(settings)
        self._realtime = realtime
        self._capture: cv2.VideoCapture | None = None
        self._failed = 0
        self._index = 0
        self._file_fps = 30.0
        self._start_mono = 0.0

    @property
    def model(self) -> str:
        """The camera's name (or the video file's) in the health report."""
        if self._file is not None:
            return f"webcam video {self._file.name}"
        return f"webcam {self._settings.webcam_index}"

    @property
    def simulated(self) -> bool:
        """Never: a camera, or a video of one."""
        return False

    def open(self) -> None:
        """Open the camera; :class:`SensorUnavailable` when there is none at the index, and
        :class:`SensorError` for a video file that cannot be read."""
        self.close()
        if self._file is not None:
            self._open_file(self._file)
            return
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

    def _open_file(self, path: Path) -> None:
        if not path.is_file():
            raise SensorError(f"the video {path} does not exist", retry=False)
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SensorError(f"OpenCV cannot play the video {path}", retry=False)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._file_fps = fps if fps > 0 else float(self._settings.fps)
        self._capture = capture
        self._index = 0
        self._start_mono = time.monotonic()

    def read(self, timeout_s: float) -> Frame | None:
        """The next colour frame; None when the camera gave none this time."""
        if self._capture is None:
            raise SensorError("webcam read before open")
        if self._file is not None:
            return self._read_file()
        ok, image = self._capture.read()
        if not ok or image is None:
            self._failed += 1
            if self._failed >= MAX_FAILED_READS:
                raise SensorDisconnected(f"camera {self._settings.webcam_index} stopped sending")
            time.sleep(min(timeout_s, 0.05))
            return None
        self._failed = 0
        return Frame(timestamp=time.monotonic(), color=np.asarray(image, dtype=np.uint8))

    def _read_file(self) -> Frame:
        assert self._capture is not None
        ok, image = self._capture.read()
        if not ok or image is None:
            raise SourceEnded(f"the video {self._file} ended after {self._index} frames")
        t = self._index / self._file_fps
        self._index += 1
        if self._realtime:
            delay = self._start_mono + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return Frame(timestamp=t, color=np.asarray(image, dtype=np.uint8))

    def close(self) -> None:
        """Release the camera (idempotent)."""
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()
