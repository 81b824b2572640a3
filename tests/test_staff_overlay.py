"""Staff's overlay in the data folder (settings.overlay) laid over the config file at load:
values taken and logged with their file, a value the model refuses left out and named, the
environment still winning, an unreadable overlay moved aside."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from settings import load_config
from settings.overlay import STAFF_OVERLAY_NAME, StaffOverlay

CONFIG = """\
[paths]
data_dir = "data"

[sensors]
type = "none"

[sensors.zones]
passing_m = 3.5
approaching_m = 2.0
engaged_m = 1.0
"""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "data").mkdir()
    return path


def keep(source: Path, values: dict[str, object]) -> Path:
    overlay = StaffOverlay(source.parent / "data" / STAFF_OVERLAY_NAME).changed(values, 1.0e9)
    overlay.save()
    return overlay.path


def test_staff_values_are_laid_over_the_file_and_logged(
    source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = keep(source, {"sensors.zones.engaged_m": 0.8, "schedule.monday": ["09:00-18:00"]})
    with caplog.at_level(logging.INFO, logger="settings.loader"):
        config = load_config(source, env={})
    assert config.sensors.zones.engaged_m == 0.8
    assert config.schedule.monday == ["09:00-18:00"]
    assert config.sensors.zones.passing_m == 3.5  # the file's, not in the overlay
    assert f"config: sensors.zones.engaged_m = 0.8 from {path}" in caplog.text
    assert "2001-09-09 01:46:40 UTC" in caplog.text


def test_a_value_the_model_refuses_is_left_out_and_named(
    source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = keep(source, {"sensors.zones.engaged_m": 5.0, "schedule.monday": ["09:00-18:00"]})
    config = load_config(source, env={})
    assert config.sensors.zones.engaged_m == 1.0  # engaged beyond approaching: refused
    assert config.schedule.monday == ["09:00-18:00"]  # the other value still taken
    assert f"config: sensors.zones.engaged_m = 5.0 from {path} not taken" in caplog.text


def test_the_environment_still_wins(source: Path, caplog: pytest.LogCaptureFixture) -> None:
    keep(source, {"sensors.zones.engaged_m": 0.8})
    config = load_config(source, env={"KIOSK_SENSORS__ZONES__ENGAGED_M": "0.7"})
    assert config.sensors.zones.engaged_m == 0.7
    assert "is overridden by KIOSK_SENSORS__ZONES__ENGAGED_M" in caplog.text


def test_an_unreadable_overlay_is_moved_aside(
    source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = source.parent / "data" / STAFF_OVERLAY_NAME
    path.write_text('[config.paths]\ndata_dir = "/elsewhere"\n', encoding="utf-8")
    config = load_config(source, env={})
    assert config.paths.data_dir == source.parent / "data"
    assert not path.exists() and len(list(path.parent.glob(f"{path.name}.corrupt-*"))) == 1
    assert "keys staff do not set: paths.data_dir" in caplog.text


@pytest.mark.parametrize(("staff_at", "wins"), [(2000.0, "staff"), (500.0, "fleet")])
def test_the_newer_of_staff_and_fleet_wins_when_the_shadow_starts(
    source: Path, staff_at: float, wins: str
) -> None:
    """The fleet set the engaged zone at t=1000; staff changed it on the kiosk at ``staff_at``
    (the shadow off, or never told). The overlay the shadow starts from holds the newer."""
    from fleet.remote_config import OVERLAY_NAME, Change, RemoteConfig
    from fleet.shadow import open_shadow
    from fleet.shadow_health import KioskHealth

    remote = RemoteConfig(source.parent / "data" / OVERLAY_NAME)
    remote.set([("sensors.zones.engaged_m", 0.7)], Change(1000.0, "fleet", 3))
    remote.save()
    StaffOverlay(source.parent / "data" / STAFF_OVERLAY_NAME).changed(
        {"sensors.zones.engaged_m": 0.8, "sensors.roi": [0.2, 0.2, 0.8, 0.8]}, staff_at
    ).save()
    config = load_config(source, env={})
    config.uplink.cert_file = source.parent / "kiosk.crt"  # named only: the agent is not started
    config.uplink.key_file = source.parent / "kiosk.key"

    agent = open_shadow(config, append=lambda _event: None, health=KioskHealth())
    effective = agent.config
    kept = RemoteConfig.open(remote.path)  # saved, so a reconnect knows it too
    if wins == "staff":
        assert effective.sensors.zones.engaged_m == 0.8
        assert kept.changes["sensors.zones.engaged_m"] == Change(2000.0, "kiosk")
        assert "sensors.roi" not in kept.values  # not a key the fleet sets
    else:
        assert effective.sensors.zones.engaged_m == 0.7
        assert kept.changes["sensors.zones.engaged_m"] == Change(1000.0, "fleet", 3)
    assert effective.sensors.roi == [0.2, 0.2, 0.8, 0.8]
