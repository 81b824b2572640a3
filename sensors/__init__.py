"""Shopper presence from a RealSense depth camera, a webcam or a simulation. No Qt here.

``build_sensor(config.sensors)`` picks the backend; ``PresenceService(sensor, on_state=...,
on_health=..., settings=config.sensors)`` runs it on its own thread and reports
:class:`PresenceState` changes and :class:`SensorHealth`. Camera frames never leave that
thread. See ``docs/sensors.md``.
"""

from sensors.backends import NoSensor, build_sensor
from sensors.protocol import (
    PresenceSensor,
    SensorDisconnected,
    SensorError,
    SensorOff,
    SensorUnavailable,
    SourceEnded,
)
from sensors.scripted import ScriptedSensor
from sensors.service import PresenceService
from sensors.simulated import SimulatedSensor
from sensors.state import Frame, HealthStatus, Observation, PresenceState, SensorHealth, Zone

__all__ = [
    "Frame",
    "HealthStatus",
    "NoSensor",
    "Observation",
    "PresenceSensor",
    "PresenceService",
    "PresenceState",
    "ScriptedSensor",
    "SensorDisconnected",
    "SensorError",
    "SensorHealth",
    "SensorOff",
    "SensorUnavailable",
    "SimulatedSensor",
    "SourceEnded",
    "Zone",
    "build_sensor",
]
