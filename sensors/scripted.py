"""A sensor that plays a given list of frames: depth images or plain distances, with their
frame timestamps. For tests and demos of everything downstream of the camera (the kiosk's
"wakes within 150 ms" test uses it with ``realtime=True``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sensors.protocol import SensorError, SourceEnded
from sensors.state import Frame, Observation

log = logging.getLogger(__name__)

#: The foreground share a scripted person stands for (well above any on_share).
SCRIPTED_SHARE = 0.2


class ScriptedSensor:
    """Plays ``frames`` in order (a :class:`~sensors.protocol.PresenceSensor`).

    With ``realtime=True`` frame *i* is handed out when ``frames[i].timestamp -
    frames[0].timestamp`` seconds have passed since the first ``read`` after ``open``, so
    wall-clock reactions can be measured; ``delivery_times[i]`` is the ``time.monotonic()``
    at which frame *i* was handed out. Otherwise frames come as fast as they are read.

    After the last frame, ``read`` raises :class:`SourceEnded` (health "file_ended"), or,
    with ``hold_last=True``, repeats the last frame forever at the script's last interval.
    """

    def __init__(
        self,
        frames: Sequence[Frame],
        *,
        realtime: bool = False,
        hold_last: bool = False,
        model: str = "scripted frames",
        simulated: bool = False,
    ) -> None:
        if not frames:
            raise ValueError("a scripted sensor needs at least one frame")
        self._frames = list(frames)
        self._realtime = realtime
        self._hold_last = hold_last
        self._model = model
        self._simulated = simulated
        self._index = 0
        self._start_mono: float | None = None
        self._opened = False
        self.delivery_times: list[float] = []
        if len(self._frames) > 1:
            self._interval = max(1e-3, self._frames[-1].timestamp - self._frames[-2].timestamp)
        else:
            self._interval = 1 / 30

    @classmethod
    def from_distances(
        cls,
        distances: Sequence[float | None],
        *,
        fps: float = 30.0,
        start: float = 0.0,
        people: int = 1,
        realtime: bool = False,
        hold_last: bool = False,
    ) -> ScriptedSensor:
        """One frame per entry, ``1/fps`` seconds apart from ``start``: a person at that
        many metres, or nobody for None."""
        frames = [
            Frame(
                timestamp=start + i / fps,
                observation=(
                    Observation(share=0.0, nearest_m=None, people=0)
                    if d is None
                    else Observation(share=SCRIPTED_SHARE, nearest_m=float(d), people=people)
                ),
            )
            for i, d in enumerate(distances)
        ]
        return cls(frames, realtime=realtime, hold_last=hold_last, model="scripted distances")

    @classmethod
    def from_depth(
        cls,
        images: Sequence[npt.NDArray[np.generic]],
        *,
        fps: float = 30.0,
        start: float = 0.0,
        depth_scale: float = 0.001,
        realtime: bool = False,
        hold_last: bool = False,
    ) -> ScriptedSensor:
        """One frame per depth image (integer units of ``depth_scale`` metres, or float
        metres), ``1/fps`` seconds apart from ``start``."""
        frames = [
            Frame(timestamp=start + i / fps, depth=image, depth_scale=depth_scale)
            for i, image in enumerate(images)
        ]
        return cls(frames, realtime=realtime, hold_last=hold_last, model="scripted depth")

    @property
    def model(self) -> str:
        """The name shown in the sensor's health."""
        return self._model

    @property
    def simulated(self) -> bool:
        """As given: a script stands for a camera in tests unless told otherwise."""
        return self._simulated

    def open(self) -> None:
        """Rewind to the first frame."""
        self._index = 0
        self._start_mono = None
        self._opened = True
        self.delivery_times = []

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame (waiting for its time when ``realtime``), None after
        ``timeout_s`` of waiting; raises :class:`SourceEnded` after the last one."""
        if not self._opened:
            raise SensorError("scripted sensor read before open")
        frame = self._next_frame()
        if self._realtime:
            now = time.monotonic()
            if self._start_mono is None:
                self._start_mono = now
            due = self._start_mono + (frame.timestamp - self._frames[0].timestamp)
            if due - now > timeout_s:
                time.sleep(max(0.0, timeout_s))
                return None
            if due > now:
                time.sleep(due - now)
        self._index += 1
        self.delivery_times.append(time.monotonic())
        return frame

    def close(self) -> None:
        """Stop playing (``open`` rewinds)."""
        self._opened = False

    def _next_frame(self) -> Frame:
        if self._index < len(self._frames):
            return self._frames[self._index]
        if not self._hold_last:
            raise SourceEnded(f"the script ended after {len(self._frames)} frames")
        last = self._frames[-1]
        extra = self._index - len(self._frames) + 1
        return Frame(
            timestamp=last.timestamp + extra * self._interval,
            depth=last.depth,
            depth_scale=last.depth_scale,
            color=last.color,
            observation=last.observation,
        )
