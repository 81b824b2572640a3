"""The simulated sensor's fault injection: unplugged, it fails as a camera does, through the
presence service's real reconnect path, and comes back when plugged in."""

from __future__ import annotations

import pytest

from sensors import PresenceService, SensorHealth, SimulatedSensor, build_sensor
from sensors.protocol import SensorDisconnected
from settings.model import SensorsSection
from tests.support.waiting import wait_until


def test_an_unplugged_simulated_camera_reconnects_once_plugged_in() -> None:
    sensor = build_sensor(SensorsSection(type="simulated", sim_driven=True), realtime=True)
    assert isinstance(sensor, SimulatedSensor)
    health: list[SensorHealth] = []

    def wait_for(status: str, after: int) -> int:
        wait_until(lambda: any(h.status == status for h in health[after:]), f"health {status}")
        return len(health)

    service = PresenceService(
        sensor, on_state=lambda _s: None, on_health=health.append, settings=SensorsSection()
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
