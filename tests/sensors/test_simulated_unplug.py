"""The simulated sensor's fault injection: unplugged, it fails as a camera does, through the
presence service's real reconnect path, and comes back when plugged in."""

from __future__ import annotations

import threading

import pytest

from sensors import PresenceService, SensorHealth, SimulatedSensor, build_sensor
from sensors.protocol import SensorDisconnected
from settings.model import SensorsSection


def test_an_unplugged_simulated_camera_reconnects_once_plugged_in() -> None:
    sensor = build_sensor(SensorsSection(type="simulated", sim_driven=True), realtime=True)
    assert isinstance(sensor, SimulatedSensor)
    health: list[SensorHealth] = []
    changed = threading.Condition()

    def on_health(h: SensorHealth) -> None:
        with changed:
            health.append(h)
            changed.notify_all()

    def wait_for(status: str, after: int) -> int:
        with changed:
            assert changed.wait_for(
                lambda: any(h.status == status for h in health[after:]), timeout=30
            ), [h.status for h in health]
            return len(health)

    service = PresenceService(
        sensor, on_state=lambda _s: None, on_health=on_health, settings=SensorsSection()
    )
    service.start()
    try:
        seen = wait_for("ok", 0)
        sensor.unplug()
        seen = wait_for("reconnecting", seen)
        assert "unplugged" in health[-1].message
        sensor.plug()
        wait_for("ok", seen)
        assert service.running
    finally:
        service.stop()


def test_read_and_open_fail_while_unplugged() -> None:
    sensor = SimulatedSensor(arrivals_per_min=1, seed=1, realtime=False, autonomous=False)
    sensor.open()
    assert sensor.read(0.1) is not None
    sensor.unplug()
    with pytest.raises(SensorDisconnected, match="unplugged"):
        sensor.read(0.1)
    with pytest.raises(SensorDisconnected):
        sensor.open()
    sensor.plug()
    sensor.open()
    assert sensor.read(0.1) is not None
