"""The backend interface every presence sensor implements, and the errors it may raise."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sensors.state import Frame, HealthStatus


class SensorError(Exception):
    """A sensor cannot give frames. ``str()`` is one line staff can act on; ``status`` is
    the health to report; ``retry`` says whether opening again later may help (a camera that
    may be plugged in) or not (a missing library, a corrupt file)."""

    status: HealthStatus = HealthStatus.ERROR
    retry: bool = False

    def __init__(self, message: str, *, status: HealthStatus | None = None,
                 retry: bool | None = None) -> None:  # fmt: skip
        super().__init__(message)
        if status is not None:
            self.status = status
        if retry is not None:
            self.retry = retry


class SensorUnavailable(SensorError):
    """No device is connected (or the chosen serial number is not among them)."""

    status: HealthStatus = HealthStatus.NO_DEVICE
    retry = True


class SensorDisconnected(SensorError):
    """The device went away or stopped sending frames while streaming."""

    status: HealthStatus = HealthStatus.RECONNECTING
    retry = True


class SourceEnded(SensorError):
    """A recording or a script has no more frames."""

    status: HealthStatus = HealthStatus.FILE_ENDED
    retry = False


class SensorOff(SensorError):
    """Presence detection is switched off in the config (``type = "none"``)."""

    status: HealthStatus = HealthStatus.OFF
    retry = False


@runtime_checkable
class PresenceSensor(Protocol):
    """A source of frames for presence detection (RealSense, webcam, simulation, script).

    Lifecycle, all on one thread (the :class:`~sensors.service.PresenceService` thread):

    1. ``open()`` acquires the device or file. Raises :class:`SensorUnavailable` when no
       device is there (retry later), :class:`SensorError` when it can never work (missing
       optional library, unreadable file), :class:`SensorOff` when switched off.
    2. ``read(timeout_s)`` returns the next :class:`~sensors.state.Frame`, or ``None`` when
       none came within ``timeout_s`` (the caller decides when silence means trouble).
       Raises :class:`SensorDisconnected` when the device went away, :class:`SourceEnded`
       at the end of a recording or script, :class:`SensorError` for anything else.
    3. ``close()`` releases everything; safe to call twice, after a failed ``open()`` and
       from ``finally`` blocks; never raises. ``open()`` may be called again after it.

    ``model`` names the device (e.g. "Intel RealSense D435", "simulated shoppers") for the
    health report; it may change after ``open()``. ``simulated`` is True when the frames are
    invented (simulated shoppers) rather than seen by a camera or read from a recording of
    one: the kiosk marks every event they cause ``simulated``.
    """

    @property
    def model(self) -> str:
        """The device or backend name shown in the sensor's health."""
        ...

    @property
    def simulated(self) -> bool:
        """True when nobody real is behind the frames (simulated shoppers)."""
        ...

    def open(self) -> None:
        """Acquire the device or file (see the class docstring for errors)."""
        ...

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame, or None after ``timeout_s`` without one."""
        ...

    def close(self) -> None:
        """Release the device or file; idempotent, never raises."""
        ...
