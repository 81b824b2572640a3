"""The RealSense backend: a pyrealsense2 pipeline on a live camera or a recording.

- Live: depth ``depth_width`` x ``depth_height`` z16 at ``fps`` (and colour 640x480 BGR when
  ``color`` is on) from the camera with ``serial`` (or the first one). A devices-changed
  callback notices an unplug at once; ``try_wait_for_frames`` never blocks longer than asked.
  The :class:`~sensors.service.PresenceService` reopens with backoff until the camera is back.
- File (``source = "file:PATH"``, ``.db3`` or ``.bag``): played through the same pipeline
  with ``enable_device_from_file``. Playback is set to non-real-time *before* the pipeline
  starts (by resolving the config first), so no frame is ever dropped; with ``realtime``
  the backend paces frames by their own timestamps, otherwise they come as fast as they
  are read. The end of the file is health "file_ended".

Depth filters run in librealsense's recommended order (decimation, spatial, temporal,
hole filling), whichever order the config lists them in; the spatial filter makes one pass.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from sensors.protocol import (
    SensorDisconnected,
    SensorError,
    SensorUnavailable,
    SourceEnded,
)
from sensors.state import Frame
from settings.model import SensorsSection

if TYPE_CHECKING:
    # Imported when the backend opens (an optional library); named here for the types only.
    import pyrealsense2

log = logging.getLogger(__name__)

FILTER_ORDER = ("decimation", "spatial", "temporal", "hole_filling")
SPATIAL_PASSES = 1
COLOR_SIZE = (640, 480)
FILE_PREFIX = "file:"


def source_file(settings: SensorsSection) -> Path | None:
    """The recording ``settings.source`` names, or None for a live camera."""
    if not settings.source.startswith(FILE_PREFIX):
        return None
    return Path(settings.source[len(FILE_PREFIX) :]).expanduser()


class RealSenseSensor:
    """A RealSense camera or recording (a :class:`~sensors.protocol.PresenceSensor`)."""

    def __init__(self, settings: SensorsSection, *, realtime: bool = True) -> None:
        self._settings = settings
        self._realtime = realtime
        self._file = source_file(settings)
        self._model = f"RealSense recording {self._file.name}" if self._file else "RealSense"
        self._rs: ModuleType | None = None
        self._ctx: pyrealsense2.context | None = None
        self._pipe: pyrealsense2.pipeline | None = None
        self._playback: pyrealsense2.playback | None = None
        self._filters: list[pyrealsense2.filter] = []
        self._scale = 0.001
        self._serial = ""
        self._lost = threading.Event()
        self._held: list[pyrealsense2.frame] = []
        self._first_ts: float | None = None
        self._start_mono = 0.0

    @property
    def model(self) -> str:
        """The camera's name and serial number, or the recording's file name."""
        return self._model

    @property
    def simulated(self) -> bool:
        """Never: a camera, or a recording played as one."""
        return False

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> None:
        """Start the pipeline on the camera or the file (errors: see the Protocol)."""
        self.close()
        try:
            import pyrealsense2 as rs
        except ImportError:
            raise SensorError(
                "pyrealsense2 is not installed; presence detection is off", retry=False
            ) from None
        self._rs = rs
        self._lost.clear()
        self._first_ts = None
        if self._ctx is None:
            self._ctx = rs.context()
            if self._file is None:
                self._ctx.set_devices_changed_callback(self._devices_changed)
        pipe = rs.pipeline(self._ctx)
        config = rs.config()
        if self._file is not None:
            self._configure_file(config)
        else:
            self._configure_camera(rs, config)
        try:
            profile = config.resolve(rs.pipeline_wrapper(pipe))
        except RuntimeError as exc:
            raise self._resolve_error(exc) from None
        device = profile.get_device()
        if self._file is not None:
            # Before start, so that not a single frame is played in real time and dropped.
            self._playback = device.as_playback()
            self._playback.set_real_time(False)
        try:
            started = pipe.start(config)
        except RuntimeError as exc:
            raise self._resolve_error(exc) from None
        self._pipe = pipe
        device = started.get_device()
        try:
            self._scale = float(device.first_depth_sensor().get_depth_scale())
        except RuntimeError:
            self._scale = 0.001
        self._filters = self._make_filters(rs)
        name = _info(device, rs.camera_info.name) or "RealSense"
        if self._file is None:
            self._model = f"{name} ({self._serial})" if self._serial else name
        log.info(
            "RealSense streaming: %s, depth scale %g m, filters %s",
            self._model,
            self._scale,
            [type(f).__name__ for f in self._filters] or "none",
        )
        self._start_mono = time.monotonic()

    def read(self, timeout_s: float) -> Frame | None:
        """The next depth (and colour) frame, filtered; None after ``timeout_s``."""
        if self._pipe is None:
            raise SensorError("RealSense read before open")
        if self._lost.is_set():
            raise SensorDisconnected(f"the camera {self._serial} was unplugged")
        try:
            ok, frames = self._pipe.try_wait_for_frames(max(1, int(timeout_s * 1000)))
        except RuntimeError as exc:
            raise SensorDisconnected(f"the camera stopped sending frames ({exc})") from None
        if not ok:
            if self._file is not None and self._finished():
                raise SourceEnded(f"the recording {self._file} ended")
            return None
        depth_frame = frames.get_depth_frame()
        if not depth_frame:
            return None
        timestamp = depth_frame.get_timestamp() / 1000.0
        for block in self._filters:
            depth_frame = block.process(depth_frame)
        color = None
        held = [depth_frame]
        if self._settings.color:
            color_frame = frames.get_color_frame()
            if color_frame:
                held.append(color_frame)
                color = np.asanyarray(color_frame.get_data())
        # The arrays below are views of librealsense buffers: keep their frames alive
        # until the next read.
        self._held = held
        depth = np.asanyarray(depth_frame.get_data())
        if self._realtime and self._file is not None:
            self._pace(timestamp)
        return Frame(timestamp=timestamp, depth=depth, depth_scale=self._scale, color=color)

    def close(self) -> None:
        """Stop the pipeline (idempotent, never raises)."""
        self._held = []
        pipe, self._pipe = self._pipe, None
        self._playback = None
        if pipe is not None:
            try:
                pipe.stop()
            except RuntimeError as exc:
                log.debug("RealSense pipeline stop: %s", exc)

    # -- helpers --------------------------------------------------------------------------

    def _configure_file(self, config: pyrealsense2.config) -> None:
        assert self._file is not None
        if not self._file.is_file():
            raise SensorError(f"the recording {self._file} does not exist", retry=False)
        # Every stream in the file plays; only depth (and colour) are read.
        config.enable_device_from_file(str(self._file), repeat_playback=False)

    def _configure_camera(self, rs: ModuleType, config: pyrealsense2.config) -> None:
        settings = self._settings
        assert self._ctx is not None
        devices = list(self._ctx.query_devices())
        if not devices:
            raise SensorUnavailable("no RealSense camera is connected")
        serials = [_info(d, rs.camera_info.serial_number) for d in devices]
        if settings.serial:
            if settings.serial not in serials:
                raise SensorUnavailable(
                    f"no RealSense camera with serial {settings.serial} "
                    f"(connected: {', '.join(serials)})"
                )
            self._serial = settings.serial
        else:
            self._serial = serials[0]
        config.enable_device(self._serial)
        config.enable_stream(
            rs.stream.depth, settings.depth_width, settings.depth_height, rs.format.z16,
            settings.fps,
        )  # fmt: skip
        if settings.color:
            config.enable_stream(rs.stream.color, *COLOR_SIZE, rs.format.bgr8, settings.fps)

    def _resolve_error(self, exc: RuntimeError) -> SensorError:
        if self._file is not None:
            reason = str(exc).split("Reason: ", 1)[-1]
            return SensorError(f"cannot play the recording {self._file}: {reason}", retry=False)
        settings = self._settings
        return SensorError(
            f"the camera {self._serial} cannot stream depth {settings.depth_width}x"
            f"{settings.depth_height} at {settings.fps} fps"
            f"{' with colour' if settings.color else ''}: {exc}",
            retry=False,
        )

    def _make_filters(self, rs: ModuleType) -> list[pyrealsense2.filter]:
        makers = {
            "decimation": rs.decimation_filter,
            "spatial": rs.spatial_filter,
            "temporal": rs.temporal_filter,
            "hole_filling": rs.hole_filling_filter,
        }
        wanted = set(self._settings.filters)
        blocks = [makers[name]() for name in FILTER_ORDER if name in wanted]
        for block in blocks:
            if isinstance(block, rs.spatial_filter):
                # One smoothing pass instead of two: blobs are measured by their median
                # depth, and the second pass costs as much as the whole presence step.
                block.set_option(rs.option.filter_magnitude, SPATIAL_PASSES)
        return blocks

    def _finished(self) -> bool:
        playback = self._playback
        if playback is None or self._rs is None:
            return True
        try:
            return bool(playback.current_status() == self._rs.playback_status.stopped)
        except RuntimeError:
            return True

    def _pace(self, timestamp: float) -> None:
        if self._first_ts is None:
            self._first_ts = timestamp
            self._start_mono = time.monotonic()
            return
        delay = self._start_mono + (timestamp - self._first_ts) - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _devices_changed(self, info: pyrealsense2.event_information) -> None:
        """On librealsense's thread: note an unplug of our camera, log arrivals."""
        rs = self._rs
        assert rs is not None  # set before the callback is registered
        try:
            pipe = self._pipe
            if pipe is not None and self._serial:
                device = pipe.get_active_profile().get_device()
                if info.was_removed(device):
                    log.warning("RealSense %s unplugged", self._serial)
                    self._lost.set()
            for device in info.get_new_devices():
                log.info(
                    "RealSense connected: %s",
                    _info(device, rs.camera_info.serial_number),
                )
        except RuntimeError as exc:
            log.debug("devices-changed callback: %s", exc)


def _info(device: pyrealsense2.device, field: pyrealsense2.camera_info) -> str:
    try:
        if device.supports(field):
            return str(device.get_info(field))
    except RuntimeError:
        pass
    return ""
