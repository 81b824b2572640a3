"""The presence service: one named thread that reads a sensor and reports states and health.

Frames live and die on this thread. Only :class:`~sensors.state.PresenceState` and
:class:`~sensors.state.SensorHealth` values leave it (through the callbacks), plus the small
calibration preview while the admin page asks for it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sensors.color_cues import ColorCues
from sensors.presence import ZONE_HYSTERESIS_M, DepthPresence, PresenceTracker
from sensors.protocol import PresenceSensor, SensorDisconnected, SensorError
from sensors.state import EMPTY, Frame, HealthStatus, Observation, PresenceState, SensorHealth
from settings.model import SensorsSection, ZonesSection

if TYPE_CHECKING:
    from sensors.motion import MotionPresence

log = logging.getLogger(__name__)

StateCallback = Callable[[PresenceState], None]
HealthCallback = Callable[[SensorHealth], None]
PreviewSink = Callable[[npt.NDArray[np.float32]], None]

#: How long one read may wait for a frame.
READ_TIMEOUT_S = 1.0
#: Silence longer than this while streaming counts as a lost device.
STALL_S = 3.0
#: Reopen delays after a failure: doubling from the first to the last.
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
#: The calibration preview's rate (frames per second, wall clock).
PREVIEW_FPS = 5.0
#: While paused (the shop is closed), how often the sensor thread looks whether to resume.
PAUSE_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class _Calibration:
    roi: tuple[float, float, float, float] | None
    zones: ZonesSection | None


class PresenceService:
    """Runs a :class:`~sensors.protocol.PresenceSensor` on a named thread.

    ``on_state`` is called with a :class:`PresenceState` on the first frame, on every change
    of zone, people count or looking flag, and every ``settings.heartbeat_s`` seconds as a
    heartbeat (same fields, fresh distance and time). ``on_health`` is called when the
    health status or its message changes. Both run on the sensor thread and must return
    quickly (the kiosk re-emits them through queued Qt signals); an exception they raise is
    logged and ignored.

    The thread opens the sensor, reopens it with backoff (0.5 s doubling to 10 s) after a
    disconnect or while no device is plugged in, and stops for good on errors that cannot
    heal (a missing library, a corrupt or finished recording); the kiosk keeps working by
    touch alone. ``stop_event`` may be shared with other services of the app: setting it
    stops this one too.
    """

    def __init__(
        self,
        sensor: PresenceSensor,
        *,
        on_state: StateCallback,
        on_health: HealthCallback,
        settings: SensorsSection,
        stop_event: threading.Event | None = None,
        name: str = "presence-sensor",
    ) -> None:
        self._sensor = sensor
        self._on_state = on_state
        self._on_health = on_health
        self._settings = settings
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._paused = threading.Event()
        self._lock = threading.Lock()
        self._pending: _Calibration | None = None
        self._preview_sink: PreviewSink | None = None
        self._health = SensorHealth(
            status=HealthStatus.OFF,
            message="not started",
            model=sensor.model,
            simulated=sensor.simulated,
        )
        self._state: PresenceState | None = None
        self._last_frame_mono: float | None = None
        self._fps = 0.0
        self._depth = DepthPresence(
            roi=settings.roi,
            margin_m=settings.margin_m,
            relearn_s=settings.relearn_s,
            max_range_m=settings.zones.passing_m + ZONE_HYSTERESIS_M,
        )
        self._motion: MotionPresence | None = None
        self._cues = ColorCues(hog=settings.hog, faces=settings.faces)
        self._tracker = PresenceTracker(
            zones=settings.zones,
            on_share=settings.on_share,
            off_share=settings.off_share,
            on_dwell_s=settings.on_dwell_ms / 1000.0,
            off_dwell_s=settings.off_dwell_ms / 1000.0,
        )

    # -- control, from any thread ---------------------------------------------------------

    def start(self) -> None:
        """Start the sensor thread (once)."""
        log.info("presence service starting with %s", self._sensor.model)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("presence service did not stop within %.1fs", timeout)

    def pause(self) -> None:
        """Stop reading frames until :meth:`resume` (outside opening hours); the sensor
        stays open and its health says it is paused. Any thread."""
        self._paused.set()

    def resume(self) -> None:
        """Read frames again after :meth:`pause`. Any thread."""
        self._paused.clear()

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._paused.is_set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end by itself (a finished recording, a failed sensor)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the sensor thread runs."""
        return self._thread.is_alive()

    def update_calibration(
        self, *, roi: Sequence[float] | None = None, zones: ZonesSection | None = None
    ) -> None:
        """Use a new region of interest ([left, top, right, bottom] fractions) and/or zone
        distances from the next frame on. Raises ValueError for an impossible ROI."""
        new_roi: tuple[float, float, float, float] | None = None
        if roi is not None:
            left, top, right, bottom = (float(v) for v in roi)
            if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
                raise ValueError(
                    f"roi must be [left, top, right, bottom] fractions with left < right and "
                    f"top < bottom (got {list(roi)})"
                )
            new_roi = (left, top, right, bottom)
        with self._lock:
            self._pending = _Calibration(roi=new_roi, zones=zones)

    def set_preview_sink(self, sink: PreviewSink | None) -> None:
        """While ``sink`` is set, hand it a downsampled depth image (float32 metres, 0 = no
        depth) about 5 times a second, on the sensor thread. Shown, never stored."""
        with self._lock:
            self._preview_sink = sink

    def health(self) -> SensorHealth:
        """The current health with a fresh fps and frame age."""
        with self._lock:
            return self._fresh_health(self._health)

    @property
    def state(self) -> PresenceState | None:
        """The last state reported (None before the first frame)."""
        return self._state

    # -- the sensor thread ----------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        streamed = False
        try:
            while not self._stop.is_set():
                try:
                    self._sensor.open()
                except SensorError as exc:
                    status = exc.status
                    if streamed and status is HealthStatus.NO_DEVICE:
                        status = HealthStatus.RECONNECTING  # it was here a moment ago
                    self._report(status, str(exc))
                    if not exc.retry:
                        return
                    self._stop.wait(backoff)
                    backoff = min(BACKOFF_MAX_S, backoff * 2)
                    continue
                except Exception as exc:
                    log.exception("presence sensor failed to open")
                    self._report(HealthStatus.ERROR, f"sensor failed to open: {exc}")
                    return
                try:
                    self._report(HealthStatus.OK, "")
                    self._stream()
                    return
                except SensorError as exc:
                    streamed = True
                    self._report(exc.status, str(exc))
                    if not exc.retry:
                        return
                    backoff = BACKOFF_MIN_S
                    self._stop.wait(backoff)
                except Exception as exc:
                    log.exception("presence sensor failed")
                    self._report(HealthStatus.ERROR, f"sensor failed: {exc}")
                    return
                finally:
                    self._sensor.close()
        finally:
            log.info("presence service stopped (%s)", self._health.status)

    def _stream(self) -> None:
        heartbeat = self._settings.heartbeat_s
        simulated = self._sensor.simulated
        last_emit = time.monotonic()
        last_frame = time.monotonic()
        last_preview = 0.0
        while not self._stop.is_set():
            if self._paused.is_set():
                self._idle_while_paused()
                last_frame = time.monotonic()  # a pause is not a stalled camera
                continue
            frame = self._sensor.read(READ_TIMEOUT_S)
            now = time.monotonic()
            if frame is None:
                if now - last_frame > STALL_S:
                    raise SensorDisconnected(f"no frames for {now - last_frame:.0f}s")
                continue
            self._count_frame(now, last_frame)
            last_frame = now
            self._apply_calibration()
            sink = self._preview_sink
            if sink is not None and now - last_preview >= 1.0 / PREVIEW_FPS:
                last_preview = now
                self._preview(sink, frame)
            state = self._tracker.update(self._observe(frame), frame.timestamp)
            if not state.same_presence(self._state) or now - last_emit >= heartbeat:
                if not state.same_presence(self._state):
                    log.debug("presence %s", state)
                if simulated:
                    state = dataclasses.replace(state, simulated=True)
                self._state = state
                last_emit = now
                self._emit_state(state)

    def _observe(self, frame: Frame) -> Observation:
        if frame.observation is not None:
            observation = frame.observation
        elif frame.depth is not None:
            observation = self._depth.observe(frame.depth, frame.depth_scale, frame.timestamp)
        elif frame.color is not None:
            if self._motion is None:
                # OpenCV's motion pipeline loads with a colour-only camera's first frame
                from sensors.motion import MotionPresence

                self._motion = MotionPresence(
                    roi=self._settings.roi, relearn_s=self._settings.relearn_s
                )
            observation = self._motion.observe(frame.color, frame.timestamp)
        else:
            observation = EMPTY
        if frame.color is not None and self._cues.enabled:
            observation = self._cues.refine(observation, frame.color, frame.timestamp)
        return observation

    def _apply_calibration(self) -> None:
        if self._pending is None:
            return
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        if pending.roi is not None:
            self._depth.set_roi(pending.roi)
            if self._motion is not None:
                self._motion.set_roi(pending.roi)
            log.info("presence ROI now %s", list(pending.roi))
        if pending.zones is not None:
            self._tracker.zones = pending.zones
            self._depth.max_range_m = pending.zones.passing_m + ZONE_HYSTERESIS_M
            log.info(
                "presence zones now engaged < %.2fm < approaching < %.2fm < passing < %.2fm",
                pending.zones.engaged_m,
                pending.zones.approaching_m,
                pending.zones.passing_m,
            )

    def _preview(self, sink: PreviewSink, frame: Frame) -> None:
        if frame.depth is None:
            return
        try:
            sink(self._depth.grid(frame.depth, frame.depth_scale))
        except Exception:
            log.exception("presence preview sink failed")

    def _count_frame(self, now: float, previous: float) -> None:
        interval = now - previous
        if self._last_frame_mono is not None and interval > 0:
            rate = 1.0 / interval
            self._fps = rate if self._fps == 0 else 0.9 * self._fps + 0.1 * rate
        self._last_frame_mono = now

    def _fresh_health(self, health: SensorHealth) -> SensorHealth:
        age = None
        if self._last_frame_mono is not None:
            age = round(time.monotonic() - self._last_frame_mono, 3)
        return SensorHealth(
            status=health.status,
            message=health.message,
            model=self._sensor.model,
            fps=round(self._fps, 1),
            last_frame_age_s=age,
            simulated=self._sensor.simulated,
        )

    def _idle_while_paused(self) -> None:
        """Read no frames until resumed or stopped (the health says so meanwhile)."""
        self._report(HealthStatus.OK, "paused: the shop is closed")
        while self._paused.is_set() and not self._stop.is_set():
            self._stop.wait(PAUSE_POLL_S)
        self._report(HealthStatus.OK, "")

    def _report(self, status: HealthStatus, message: str) -> None:
        with self._lock:
            previous = self._health
            if previous.status == status and previous.message == message:
                return
            self._health = self._fresh_health(SensorHealth(status=status, message=message))
            health = self._health
        if status is HealthStatus.OK:
            log.info("presence sensor %s ok", health.model)
        elif status in (HealthStatus.FILE_ENDED, HealthStatus.OFF):
            log.info("presence sensor %s: %s %s", health.model, status, message)
        else:
            log.warning("presence sensor %s: %s %s", health.model, status, message)
        try:
            self._on_health(health)
        except Exception:
            log.exception("presence on_health callback failed")

    def _emit_state(self, state: PresenceState) -> None:
        try:
            self._on_state(state)
        except Exception:
            log.exception("presence on_state callback failed")
