"""Choosing the presence sensor from the config (``[sensors] type``)."""

from __future__ import annotations

import logging

from sensors.protocol import PresenceSensor, SensorOff
from sensors.simulated import SimulatedSensor
from sensors.state import Frame
from settings.model import SensorsSection

log = logging.getLogger(__name__)


class NoSensor:
    """``type = "none"``: presence detection switched off; the kiosk runs touch-only."""

    @property
    def model(self) -> str:
        """The name shown in the sensor's health."""
        return "none"

    @property
    def simulated(self) -> bool:
        """Never: it sees nothing at all."""
        return False

    def open(self) -> None:
        """Always refuses: the health becomes "off"."""
        raise SensorOff('presence detection is off ([sensors] type = "none")')

    def read(self, timeout_s: float) -> Frame | None:
        """Never called (``open`` refuses)."""
        raise SensorOff('presence detection is off ([sensors] type = "none")')

    def close(self) -> None:
        """Nothing to release."""


def realsense_connected() -> bool:
    """True when pyrealsense2 is installed and sees at least one device."""
    try:
        import pyrealsense2 as rs
    except ImportError:
        return False
    try:
        return len(rs.context().query_devices()) > 0
    except RuntimeError as exc:
        log.warning("cannot list RealSense devices: %s", exc)
        return False


def build_sensor(settings: SensorsSection, *, realtime: bool = True) -> PresenceSensor:
    """The sensor ``settings.type`` asks for. Never raises for a missing library or device:
    the sensor's ``open`` reports that as its health.

    ``auto`` means the RealSense backend (the ``source`` recording, else a connected camera).
    With no camera plugged in it reports "no_device" and looks again with backoff: the kiosk
    runs touch-only, the camera tile is red, and no presence is invented. Simulated shoppers
    come only from ``type = "simulated"`` (the demo asks for them by name).
    ``realtime=False`` makes recordings and simulations run as fast as they can be read
    (tests, ``kiosk-sensor replay``).
    """
    kind = settings.type
    if kind == "auto":
        kind = "realsense"
        log.info(
            "sensors: type auto -> realsense (%s)",
            settings.source
            or ("camera connected" if realsense_connected() else "no camera connected yet"),
        )
    if kind == "none":
        return NoSensor()
    if kind == "simulated":
        return SimulatedSensor(
            arrivals_per_min=settings.sim_arrivals_per_min,
            seed=settings.sim_seed,
            fps=settings.fps,
            realtime=realtime,
            autonomous=not settings.sim_driven,
        )
    if kind == "webcam":
        from sensors.webcam import WebcamSensor

        return WebcamSensor(settings, realtime=realtime)
    from sensors.realsense import RealSenseSensor

    return RealSenseSensor(settings, realtime=realtime)
