"""kiosk.fleet_link: the fleet's jobs on the real shopper window. A real JobsAgent (awsiotsdk's
IotJobsClient, a real mosquitto with mTLS, fleet.aws_jobs) asks the window through
WindowHooks from its own thread while the UI thread runs Qt's loop (qtbot.waitUntil)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from fleet.aws_jobs import JobService
from fleet.bundles import BundleStore
from fleet.jobs import JobsAgent, JobsSetup
from kiosk.fleet_link import WindowHooks
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from localservers import Mosquitto, TestPki
from tests.fleet.bundle_support import HttpsServer, https_server, send_bytes, signed_bundle
from tests.fleet.jobs_support import THING, endpoint
from tests.fleet.test_jobs_service import service
from tests.support.drawings import FEATURES

__all__ = ["service"]  # the fixture, imported for the tests here

KEY = Ed25519PrivateKey.generate()


@dataclasses.dataclass
class Linked:
    window: KioskWindow
    store: BundleStore
    restarts: list[str]


@pytest.fixture
def linked(
    qtbot: QtBot, open_window: Callable[..., KioskWindow], tasks: TaskRunner,
    mosquitto_tls: Mosquitto, test_pki: TestPki, tmp_path: Path, service: JobService,
) -> Iterator[Linked]:  # fmt: skip
    window = open_window(FEATURES, size=(640, 360))
    restarts: list[str] = []
    hooks = WindowHooks(window=window, tasks=tasks, configured=FEATURES, restart=restarts.append)
    store = BundleStore(tmp_path / "data")
    setup = JobsSetup(store, [KEY.public_key()], None, cafile=test_pki.ca_cert, grace_s=0.3,
                      poll_s=0.05)  # fmt: skip
    agent = JobsAgent(endpoint(mosquitto_tls.port, test_pki), hooks, setup)
    agent.start()
    yield Linked(window, store, restarts)
    agent.stop()


@pytest.fixture
def server(test_pki: TestPki) -> Iterator[HttpsServer]:
    with https_server(test_pki) as served:
        yield served


def ended(qtbot: QtBot, service: JobService, job_id: str) -> dict[str, str]:
    """Wait, running Qt's loop, until the job ended; its status and details."""

    def done() -> bool:
        execution = service.execution(THING, job_id)
        return execution is not None and execution.status in ("SUCCEEDED", "FAILED", "REJECTED")

    qtbot.waitUntil(done, timeout=30_000)
    execution = service.execution(THING, job_id)
    assert execution is not None
    return {"status": execution.status, **execution.status_details}


def test_a_deployed_bundle_waits_for_the_shopper_then_shows_on_the_window(
    qtbot: QtBot, linked: Linked, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    signed = signed_bundle(tmp_path / "build", "routes", key=KEY, drawing="edges-routes.drawio")
    server.routes["/routes.zip"] = send_bytes(signed.archive.read_bytes())
    offer = dataclasses.replace(signed.offer, url=server.url("/routes.zip"))
    linked.window.session.touch()  # a shopper is using the kiosk
    assert linked.window.session.session_id is not None
    service.create_job(THING, "deploy", {"operation": "deploy-experience",
                                         "bundle": offer.to_json()})  # fmt: skip

    def waiting() -> bool:
        execution = service.execution(THING, "deploy")
        return execution is not None and (
            execution.status_details.get("step") == "waiting for the shopper session"
        )

    qtbot.waitUntil(waiting, timeout=30_000)
    assert linked.window.source == FEATURES
    linked.window.go_attract("walked away")
    assert ended(qtbot, service, "deploy") == {
        "status": "SUCCEEDED", "bundle": "routes", "sha256": offer.sha256,
    }  # fmt: skip
    assert linked.window.source == linked.store.root / "routes"
    assert linked.window.experience_error() is None


def test_a_screenshot_is_the_window_as_a_png(
    qtbot: QtBot, linked: Linked, service: JobService, server: HttpsServer
) -> None:
    url = server.url("/shot.png?X-Amz-Signature=s3cr3t")
    service.create_job(THING, "shot", {"operation": "screenshot", "url": url})
    assert ended(qtbot, service, "shot")["status"] == "SUCCEEDED"
    picture = QImage.fromData(server.uploads["/shot.png"], "PNG")
    assert not picture.isNull()
    ratio = linked.window.devicePixelRatioF()
    assert (picture.width(), picture.height()) == (round(640 * ratio), round(360 * ratio))


def test_restart_is_asked_of_the_composition_root(
    qtbot: QtBot, linked: Linked, service: JobService
) -> None:
    service.create_job(THING, "restart", {"operation": "restart"})
    qtbot.waitUntil(lambda: linked.restarts == ["job restart"], timeout=30_000)


def test_the_health_is_whether_the_chosen_experience_shows(
    qtbot: QtBot, open_window: Callable[..., KioskWindow], tasks: TaskRunner, tmp_path: Path
) -> None:
    window = open_window(tmp_path / "gone.drawio", size=(640, 360))
    hooks = WindowHooks(window=window, tasks=tasks, configured=FEATURES, restart=[].append)
    with pytest.raises(RuntimeError, match="not called on the UI thread"):
        hooks.health_problem()
    heard: list[str | None] = []
    asker = threading.Thread(target=lambda: heard.append(hooks.health_problem()))
    asker.start()
    qtbot.waitUntil(lambda: bool(heard), timeout=30_000)
    asker.join(timeout=10)
    assert heard[0] is not None
    assert heard[0].startswith("the experience does not show: ")
    assert "gone.drawio" in heard[0]
