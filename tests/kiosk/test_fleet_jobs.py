"""The running kiosk with ``[fleet] jobs`` on: the composition root recovers the fleet's bundles
before the window loads its first experience, shows the active bundle, and runs the jobs agent
behind the first page (a real mosquitto with mTLS, fleet.aws_jobs playing AWS IoT Jobs, a
local HTTPS server for the bundle, real bundles signed with an Ed25519 key)."""

from __future__ import annotations

import base64
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from designer_import.bundle import load_bundle
from fleet.aws_jobs import JobService
from fleet.bundles import BundleOffer, BundleStore
from kiosk.admin.library import ContentLibrary
from kiosk.app import RESTART_EXIT_CODE, Kiosk
from kiosk.fleet_link import recover_bundles
from kiosk.screen.window import KioskWindow
from localservers import Mosquitto, TestPki
from settings import KioskConfig
from tests.fleet.bundle_support import HttpsServer, send_bytes, signed_bundle
from tests.fleet.jobs_support import final, uplink_to
from tests.fleet.test_bundles_store import deploy, hidden, kill_deployment_at
from tests.fleet.test_jobs_service import THING, service
from tests.kiosk.test_fleet_link import ended, server
from tests.support.drawings import FEATURES

__all__ = ["server", "service"]  # the fixtures, imported for the tests here

KEY = Ed25519PrivateKey.generate()


def bundle_key(key: Ed25519PrivateKey) -> str:
    """The key as ``[fleet] bundle_keys`` holds it (``kiosk-import keygen``'s line)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.fixture
def jobs_config(config: KioskConfig, mosquitto_tls: Mosquitto, test_pki: TestPki) -> KioskConfig:
    """The test kiosk with the fleet's jobs on, trusting KEY, its broker the TLS mosquitto."""
    config.kiosk.experience = FEATURES
    config.sensors.type = "none"
    uplink_to(config, mosquitto_tls.port, test_pki)
    config.fleet.jobs = True
    config.fleet.bundle_keys = [bundle_key(KEY)]
    config.fleet.https_ca_file = test_pki.ca_cert
    return config


@dataclasses.dataclass
class Running:
    kiosk: Kiosk
    window: KioskWindow


@pytest.fixture
def running(qtbot: Any, jobs_config: KioskConfig) -> Iterator[Running]:
    """The kiosk, started; stopped at the end (the test may stop it first)."""
    kiosk = Kiosk(jobs_config)
    window = kiosk.start()
    qtbot.addWidget(window)
    yield Running(kiosk, window)
    kiosk.stop()


def routes_offer(tmp_path: Path, server: HttpsServer) -> BundleOffer:
    """The edges-routes drawing as bundle "routes", signed with KEY, served by ``server``."""
    signed = signed_bundle(tmp_path / "build", "routes", key=KEY, drawing="edges-routes.drawio")
    server.routes["/routes.zip"] = send_bytes(signed.archive.read_bytes())
    return dataclasses.replace(signed.offer, url=server.url("/routes.zip"))


def step_of(service: JobService, job_id: str) -> str | None:
    """The step the job's statusDetails name (None before it has one)."""
    execution = service.execution(THING, job_id)
    return None if execution is None else execution.status_details.get("step")


def test_a_deploy_job_reaches_the_running_kiosk_which_shows_the_bundle_and_succeeds(
    qtbot: Any, running: Running, jobs_config: KioskConfig, service: JobService,
    server: HttpsServer, tmp_path: Path,
) -> None:  # fmt: skip
    offer = routes_offer(tmp_path, server)
    window = running.window
    assert window.source == FEATURES
    document = {"operation": "deploy-experience", "bundle": offer.to_json(), "grace_s": 0.3}
    service.create_job(THING, "deploy", document)
    assert ended(qtbot, service, "deploy") == {
        "status": "SUCCEEDED", "bundle": "routes", "sha256": offer.sha256,
    }  # fmt: skip
    shown = BundleStore(jobs_config.data_path("")).root / "routes"
    assert window.source == shown
    bundle = load_bundle(shown)
    assert window.current_page() == (bundle.attract_pages or bundle.pages)[0].id
    assert window.experience_error() is None


@pytest.mark.parametrize(
    ("killed_at", "shown"),
    [
        ("switching", "spring"),  # the new pointer written to its temporary file, not switched
        ("unpacking assets/", "spring"),  # the new bundle half unpacked
        ("active", "autumn"),  # switched, the old bundles not yet pruned
    ],
)
def test_a_kiosk_killed_mid_deployment_starts_on_a_whole_bundle(
    qtbot: Any, jobs_config: KioskConfig, tmp_path: Path, killed_at: str, shown: str
) -> None:
    store = BundleStore(jobs_config.data_path(""))
    deploy(store, signed_bundle(tmp_path / "build", "spring", key=KEY))
    autumn = signed_bundle(tmp_path / "build", "autumn", key=KEY,
                           drawing="features-compressed.drawio")  # fmt: skip
    assert kill_deployment_at(store, autumn, killed_at).startswith(f"AT {killed_at}")
    if killed_at != "active":
        assert hidden(store), "the kill was meant to leave a half-done step behind"
    kiosk = Kiosk(jobs_config)
    window = kiosk.start()
    qtbot.addWidget(window)
    kiosk.stop()
    # recovered before the window loaded its first experience: that bundle was on screen
    assert hidden(store) == []
    assert window.source == store.root / shown
    assert window.experience_error() is None
    active = store.active()
    assert active is not None and active.bundle_id == shown


def test_a_job_waiting_on_the_window_when_the_kiosk_stops_stays_in_progress(
    qtbot: Any, running: Running, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    offer = routes_offer(tmp_path, server)
    window = running.window
    window.session.touch()  # a shopper is using the kiosk: the deployment waits
    document = {"operation": "deploy-experience", "bundle": offer.to_json()}
    service.create_job(THING, "deploy", document)
    waiting = "waiting for the shopper session"
    qtbot.waitUntil(lambda: step_of(service, "deploy") == waiting, timeout=30_000)
    # the UI thread answers nothing meanwhile: the job's next look at the session waits for
    # it (it looks every 0.5 s), so the stop finds a question pending on the window
    time.sleep(1.5)
    running.kiosk.stop()
    execution = service.execution(THING, "deploy")
    assert execution is not None
    assert (execution.status, execution.status_details.get("step")) == (
        "IN_PROGRESS", "waiting for the shopper session",
    )  # fmt: skip
    assert window.source == FEATURES


def test_a_restart_job_ends_the_kiosk_process_and_its_next_start_ends_the_job(
    tmp_path: Path, mosquitto_tls: Mosquitto, test_pki: TestPki, service: JobService
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\nlog_dir = "{tmp_path / "logs"}"\n\n'
        f'[kiosk]\nexperience = "{FEATURES}"\n\n[sensors]\ntype = "none"\n\n'
        "[redis]\nenabled = false\n\n"
        f'[uplink]\nenabled = false\nhost = "127.0.0.1"\nport = {mosquitto_tls.port}\n'
        f'ca_file = "{test_pki.ca_cert}"\ncert_file = "{test_pki.client_cert}"\n'
        f'key_file = "{test_pki.client_key}"\n\n[fleet]\njobs = true\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    command = [sys.executable, "-m", "kiosk.cli", "--config", str(config), "--log-level", "INFO"]
    service.create_job(THING, "restart", {"operation": "restart"})
    first = tmp_path / "first.log"
    with first.open("w", encoding="utf-8") as stderr:
        kiosk = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            code = kiosk.wait(timeout=60)  # it ends by itself: systemd starts it again
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.wait(timeout=30)
    err = first.read_text(encoding="utf-8")
    assert code == RESTART_EXIT_CODE, err
    assert "restarting the kiosk: job restart" in err
    assert step_of(service, "restart") == "restarting"
    second = tmp_path / "second.log"
    with second.open("w", encoding="utf-8") as stderr:
        kiosk = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            execution = final(service, "restart", timeout=60)
        finally:
            kiosk.send_signal(signal.SIGTERM)
            kiosk.wait(timeout=60)
    assert (execution.status, execution.status_details) == ("SUCCEEDED", {"step": "restarted"})
    assert "Traceback" not in err + second.read_text(encoding="utf-8")


def test_the_newer_of_the_fleets_bundle_and_staffs_activation_is_shown_at_start(
    config: KioskConfig, tmp_path: Path
) -> None:
    library = ContentLibrary.for_config(config)
    library.record(FEATURES, "activated")  # staff's choice, before the fleet's bundle
    store = BundleStore(config.data_path(""))
    deploy(store, signed_bundle(tmp_path / "build", "spring", key=KEY))
    entry = recover_bundles(config)[1].active()
    assert entry is not None and (entry.path, entry.role) == (str(store.root / "spring"), "fleet")
    chosen = tmp_path / "chosen.drawio"
    library.record(chosen, "activated")  # staff activated another one after the bundle
    entry = recover_bundles(config)[1].active()
    assert entry is not None and entry.path == str(chosen)


def test_without_a_certificate_the_kiosk_runs_without_its_jobs_and_says_why(
    qtbot: Any, config: KioskConfig, caplog: pytest.LogCaptureFixture
) -> None:
    config.kiosk.experience = FEATURES
    config.sensors.type = "none"
    config.fleet.jobs = True  # [uplink] names no certificate
    kiosk = Kiosk(config)
    qtbot.addWidget(kiosk.start())
    kiosk.stop()
    assert kiosk.started and kiosk.jobs is None and kiosk.bundles is not None
    assert (
        "fleet: [uplink] cert_file and key_file are needed (mTLS): the kiosk runs without the "
        "fleet's jobs"
    ) in caplog.text
