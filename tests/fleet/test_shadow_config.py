"""fleet.remote_config: the allow-list, the checks with the config model, the overlay file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.remote_config import (
    OVERLAY_NAME,
    Change,
    RemoteConfig,
    check_changes,
    flatten_desired,
)
from settings import KioskConfig


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    made = KioskConfig()
    made.paths.data_dir = tmp_path
    return made


def test_zone_distances_valid_only_together_are_applied_together(config: KioskConfig) -> None:
    # approaching_m = 4.0 alone breaks the order (passing is 3.5); with passing_m = 6.0 it holds
    changes = {"sensors.zones.approaching_m": 4.0, "sensors.zones.passing_m": 6.0}
    outcome = check_changes(config, changes)
    assert outcome.refused == []
    zones = outcome.config.sensors.zones
    assert (zones.passing_m, zones.approaching_m, zones.engaged_m) == (6.0, 4.0, 1.0)
    assert config.sensors.zones.passing_m == 3.5  # the config given is left as it was


def test_one_bad_value_does_not_hold_back_the_others_of_its_table(config: KioskConfig) -> None:
    outcome = check_changes(config, {"kiosk.idle_timeout_s": 7200, "kiosk.goodbye_s": 5})
    assert [a.key for a in outcome.applied] == ["kiosk.goodbye_s"]
    [refusal] = outcome.refused
    assert (
        refusal.reason == "kiosk.idle_timeout_s = 7200: Input should be less than or equal to 3600"
    )
    assert outcome.config.kiosk.goodbye_s == 5 and outcome.config.kiosk.idle_timeout_s == 45


def test_the_experience_must_be_shipped_or_in_the_data_folder(
    config: KioskConfig, tmp_path: Path
) -> None:
    (tmp_path / "bundles" / "b1").mkdir(parents=True)
    outcome = check_changes(config, {"kiosk.experience": "bundles/b1"}, data_dir=tmp_path)
    assert outcome.refused == [] and outcome.config.kiosk.experience == tmp_path / "bundles/b1"
    shipped = check_changes(config, {"kiosk.experience": "builtin:demo/pet-store.drawio"})
    assert shipped.refused == [] and shipped.config.kiosk.experience.exists()
    for value, why in [
        ("bundles/none", "no such file or folder on this kiosk"),
        ("../../etc/passwd", "'..' is not allowed"),
        ("builtin:nothing.drawio", "no such shipped file"),
    ]:
        [refusal] = check_changes(config, {"kiosk.experience": value}, data_dir=tmp_path).refused
        assert why in refusal.reason, refusal.reason


def test_only_allow_listed_keys_come_through() -> None:
    flat, refused = flatten_desired({
        "kiosk": {"idle_timeout_s": 60, "store_id": "other"},
        "sensors": {"zones": {"engaged_m": 0.9}, "type": "none"},
        "schedule": {"exceptions": {"2026-12-25": []}},
        "admin": {"manager_pin_hash": "x"},
        "fleet": {"bundle_keys": ["AAAA"]},
    })  # fmt: skip
    assert flat == {"kiosk.idle_timeout_s": 60, "sensors.zones.engaged_m": 0.9,
                    "schedule.exceptions": {"2026-12-25": []}}  # fmt: skip
    reasons = {r.key: r.reason for r in refused}
    assert set(reasons) == {"kiosk.store_id", "sensors.type", "admin", "fleet"}
    assert "set on the kiosk only" in reasons["admin"]
    assert "set on the kiosk only" in reasons["fleet"]
    assert "not a key the fleet may set" in reasons["kiosk.store_id"]


def test_the_overlay_survives_a_restart_and_lays_over_the_config(
    config: KioskConfig, tmp_path: Path
) -> None:
    remote = RemoteConfig(tmp_path / OVERLAY_NAME)
    remote.set([("kiosk.idle_timeout_s", 60), ("schedule.monday", ["09:00-18:00"])],
               Change(1764000000.0, "fleet", 4))  # fmt: skip
    remote.save()
    again = RemoteConfig.open(tmp_path / OVERLAY_NAME)
    assert again.values == remote.values
    assert again.changes["kiosk.idle_timeout_s"] == Change(1764000000.0, "fleet", 4)
    laid = again.applied_to(config).config
    assert laid.kiosk.idle_timeout_s == 60 and laid.schedule.monday == ["09:00-18:00"]
    assert not list(tmp_path.glob(".*.tmp*"))  # the temporary file was renamed, not left


@pytest.mark.parametrize(
    "text",
    [
        "[config.kiosk\nidle_timeout_s = 60\n",  # cut short (not TOML)
        '[config.uplink]\nhost = "10.0.0.9"\n',  # edited by hand with a key the fleet may not set
        '[changes."kiosk.goodbye_s"]\nat = 1.0\nby = "someone"\n',
    ],
)
def test_an_overlay_that_cannot_be_read_is_moved_aside_and_said(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / OVERLAY_NAME
    path.write_text(text, encoding="utf-8")
    remote = RemoteConfig.open(path)
    assert remote.values == {} and not path.exists()
    [aside] = tmp_path.glob(f"{OVERLAY_NAME}.corrupt-*")
    assert aside.read_text(encoding="utf-8") == text
    assert f"fleet config overlay {path} cannot be read" in caplog.text
