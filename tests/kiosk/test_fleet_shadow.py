"""The running kiosk with ``[fleet] shadow`` on: its Device Shadow starts behind the first page
(a real mosquitto with mTLS, fleet.aws_side answering as AWS IoT does), and the fleet's
config reaches the parts that read it live, on the UI thread, recorded in the event log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.bundles import BundleStore
from kiosk.app import Kiosk
from localservers import Mosquitto, TestPki
from settings import KioskConfig
from tests.fleet.bundle_support import signed_bundle
from tests.fleet.jobs_support import uplink_to
from tests.fleet.test_bundles_store import deploy
from tests.fleet.test_shadow import Fleet, fleet, service
from tests.support.drawings import FEATURES

__all__ = ["fleet", "service"]  # the fixtures, imported for the test here


def test_the_kiosk_takes_the_fleets_config_live_and_records_it(
    qtbot: Any, config: KioskConfig, fleet: Fleet, mosquitto_tls: Mosquitto, test_pki: TestPki
) -> None:
    config.kiosk.experience = FEATURES
    config.sensors.type = "none"
    uplink_to(config, mosquitto_tls.port, test_pki)
    config.uplink.status_interval_s = 3600
    config.fleet.shadow = True
    kiosk = Kiosk(config)
    window = kiosk.start()
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: kiosk.shadow is not None and kiosk.shadow.wait_synced(0),
                        timeout=30_000)  # fmt: skip
        assert fleet.reported_config("kiosk", "idle_timeout_s") == 45
        fleet.desire({"kiosk": {"idle_timeout_s": 60, "attract_rotate_s": 12},
                      "sensors": {"zones": {"approaching_m": 4.0, "passing_m": 6.0}}})  # fmt: skip
        # the window's session reads [kiosk] live: the new timeouts count at once
        qtbot.waitUntil(lambda: window.settings.idle_timeout_s == 60, timeout=30_000)
        assert window.settings is config.kiosk and config.kiosk.attract_rotate_s == 12
        zones = config.sensors.zones
        assert (zones.passing_m, zones.approaching_m) == (6.0, 4.0)
    finally:
        kiosk.stop()
    database = config.storage.database
    assert database is not None
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT payload FROM events WHERE type = 'admin.remote.applied' ORDER BY seq"
        ).fetchall()
    assert sorted(json.loads(payload)["key"] for (payload,) in rows) == [
        "kiosk.attract_rotate_s", "kiosk.idle_timeout_s", "sensors.zones.approaching_m",
        "sensors.zones.passing_m",
    ]  # fmt: skip


def test_with_the_fleets_jobs_on_the_shadow_reports_the_active_bundle(
    qtbot: Any, config: KioskConfig, fleet: Fleet, mosquitto_tls: Mosquitto, test_pki: TestPki,
    tmp_path: Path,
) -> None:  # fmt: skip
    key = Ed25519PrivateKey.generate()
    spring = signed_bundle(tmp_path / "build", "spring", key=key)
    deploy(BundleStore(config.data_path("")), spring)
    config.kiosk.experience = FEATURES
    config.sensors.type = "none"
    uplink_to(config, mosquitto_tls.port, test_pki)
    config.fleet.shadow = config.fleet.jobs = True
    kiosk = Kiosk(config)
    qtbot.addWidget(kiosk.start())
    try:
        qtbot.waitUntil(lambda: kiosk.shadow is not None and kiosk.shadow.wait_synced(0),
                        timeout=30_000)  # fmt: skip
        assert fleet.reported()["health"]["bundle"] == {
            "id": "spring",
            "sha256": spring.offer.sha256,
        }
    finally:
        kiosk.stop()
