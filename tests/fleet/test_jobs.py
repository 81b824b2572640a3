"""The kiosk's jobs (fleet.jobs) with awsiotsdk's own IotJobsClient on a real mosquitto with
mTLS, fleet.aws_jobs playing AWS IoT Jobs, bundles fetched from and files PUT to a local HTTPS
server with the test PKI. The window is FakeHooks: what a job asks of it is dispatch."""

from __future__ import annotations

import dataclasses
import io
import logging
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.aws_jobs import JobService
from fleet.bundles import BundleStore
from fleet.job_upload import UploadFailed, upload
from fleet.jobs import JobsAgent, JobsSetup
from localservers import Mosquitto, TestPki
from tests.fleet.bundle_support import HttpsServer, Signed, https_server, send_bytes, signed_bundle
from tests.fleet.jobs_support import PNG, THING, FakeHooks, at_step, endpoint, final
from tests.fleet.test_jobs_service import service
from tests.support.waiting import wait_until

__all__ = ["service"]  # the fixture, imported for the tests here

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def server(test_pki: TestPki) -> Iterator[HttpsServer]:
    with https_server(test_pki) as served:
        yield served


@dataclasses.dataclass
class Kiosk:
    """A kiosk's jobs agent with its bundles folder and its log folder."""

    store: BundleStore
    hooks: FakeHooks
    agent: JobsAgent
    log_dir: Path


@pytest.fixture
def kiosk(
    mosquitto_tls: Mosquitto, test_pki: TestPki, tmp_path: Path, service: JobService
) -> Iterator[Kiosk]:
    store = BundleStore(tmp_path / "data")
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    hooks = FakeHooks()
    setup = JobsSetup(store, [KEY.public_key()], log_dir, cafile=test_pki.ca_cert,
                      grace_s=0.5, poll_s=0.05, answer_timeout_s=1.0)  # fmt: skip
    agent = JobsAgent(endpoint(mosquitto_tls.port, test_pki), hooks, setup)
    agent.start()
    yield Kiosk(store, hooks, agent, log_dir)
    agent.stop()


def offered(tmp_path: Path, server: HttpsServer, bundle_id: str, key: Ed25519PrivateKey = KEY,
            drawing: str = "features.drawio") -> Signed:  # fmt: skip
    """A signed bundle served by the HTTPS server, the offer carrying its (presigned) URL."""
    signed = signed_bundle(tmp_path / "build", bundle_id, key=key, drawing=drawing)
    server.routes[f"/bundles/{bundle_id}.zip"] = send_bytes(signed.archive.read_bytes())
    url = server.url(f"/bundles/{bundle_id}.zip?X-Amz-Signature=s3cr3t")
    return dataclasses.replace(signed, offer=dataclasses.replace(signed.offer, url=url))


def deploy(service: JobService, job_id: str, signed: Signed, **extra: object) -> None:
    document = {"operation": "deploy-experience", "bundle": signed.offer.to_json(), **extra}
    service.create_job(THING, job_id, document)


def test_a_signed_bundle_is_deployed_activated_and_succeeds(
    kiosk: Kiosk, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    spring = offered(tmp_path, server, "spring")
    deploy(service, "deploy-1", spring)
    execution = final(service, "deploy-1")
    assert execution.status == "SUCCEEDED", execution.status_details
    assert execution.status_details == {"bundle": "spring", "sha256": spring.offer.sha256}
    active = kiosk.store.active()
    assert active is not None and active.bundle_id == "spring"
    assert kiosk.hooks.shown == ["spring"]
    assert kiosk.hooks.threads == {"fleet-jobs"}


def test_a_bad_signature_is_refused_and_fails_with_the_reason(
    kiosk: Kiosk, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    forged = offered(tmp_path, server, "forged", key=Ed25519PrivateKey.generate())
    deploy(service, "deploy-forged", forged)
    execution = final(service, "deploy-forged")
    assert execution.status == "FAILED"
    assert "which this kiosk does not trust" in execution.status_details["reason"]
    assert "s3cr3t" not in execution.status_details["reason"]
    assert kiosk.store.active() is None and kiosk.store.staged() == []
    assert kiosk.hooks.shown == []


def test_a_bundle_failing_its_health_check_is_rolled_back_and_fails(
    kiosk: Kiosk, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    deploy(service, "deploy-spring", offered(tmp_path, server, "spring"))
    assert final(service, "deploy-spring").status == "SUCCEEDED"
    kiosk.hooks.problem = "the page view drew nothing for 5 s"
    deploy(
        service, "deploy-summer", offered(tmp_path, server, "summer", drawing="edges-routes.drawio")
    )
    execution = final(service, "deploy-summer")
    assert execution.status == "FAILED"
    assert execution.status_details["reason"] == (
        "bundle summer health check failed: the page view drew nothing for 5 s; "
        "rolled back to spring"
    )
    active = kiosk.store.active()
    assert active is not None and active.bundle_id == "spring"
    assert kiosk.hooks.shown == ["spring", "summer", "spring"]


def test_a_job_arriving_during_a_shopper_session_waits_for_it_to_end(
    kiosk: Kiosk, service: JobService, server: HttpsServer, tmp_path: Path
) -> None:
    kiosk.hooks.session_open.set()
    deploy(service, "deploy-later", offered(tmp_path, server, "later"))
    at_step(service, "deploy-later", "waiting for the shopper session")
    assert kiosk.store.staged() == ["later"]  # fetched and checked while the shopper shops
    assert kiosk.store.active() is None and kiosk.hooks.shown == []
    kiosk.hooks.session_open.clear()
    assert final(service, "deploy-later").status == "SUCCEEDED"
    assert kiosk.hooks.shown == ["later"]


def test_a_job_the_kiosk_does_not_know_is_rejected_with_a_reason(
    kiosk: Kiosk, service: JobService
) -> None:
    service.create_job(THING, "mystery", {"operation": "format-disk"})
    execution = final(service, "mystery")
    assert execution.status == "REJECTED"
    assert execution.status_details["reason"].startswith("unknown operation 'format-disk'")
    service.create_job(THING, "quiet", {"operation": "set-log-level", "level": "LOUD"})
    assert final(service, "quiet").status == "REJECTED"
    service.create_job(THING, "no-bundle", {"operation": "deploy-experience"})
    assert final(service, "no-bundle").status_details == {
        "reason": "job no-bundle: the bundle must be a JSON object"
    }
    assert final(service, "no-bundle").status == "REJECTED"


def test_a_screenshot_is_a_png_put_to_the_presigned_url(
    kiosk: Kiosk, service: JobService, server: HttpsServer
) -> None:
    url = server.url("/shots/kiosk-01.png?X-Amz-Signature=s3cr3t")
    service.create_job(THING, "shot", {"operation": "screenshot", "url": url})
    execution = final(service, "shot")
    assert execution.status == "SUCCEEDED", execution.status_details
    assert server.uploads["/shots/kiosk-01.png"] == PNG
    kiosk.hooks.png = b"JFIF not a png"
    service.create_job(THING, "shot-2", {"operation": "screenshot", "url": url})
    assert final(service, "shot-2").status_details == {
        "reason": "the kiosk's screenshot is not a PNG"
    }
    kiosk.hooks.png = PNG
    service.create_job(THING, "shot-3", {"operation": "screenshot",
                                         "url": "http://127.0.0.1/x.png?sig=s3cr3t"})  # fmt: skip
    assert final(service, "shot-3").status_details == {
        "reason": "http://127.0.0.1/x.png: only https:// uploads are made"
    }


def test_collect_logs_uploads_the_log_files(
    kiosk: Kiosk, service: JobService, server: HttpsServer
) -> None:
    (kiosk.log_dir / "kiosk.log").write_text("started\n")
    (kiosk.log_dir / "kiosk.log.1").write_text("older\n")
    url = server.url("/logs/kiosk-01.tar.gz?X-Amz-Signature=s3cr3t")
    service.create_job(THING, "logs", {"operation": "collect-logs", "url": url})
    execution = final(service, "logs")
    assert execution.status == "SUCCEEDED", execution.status_details
    with tarfile.open(fileobj=io.BytesIO(server.uploads["/logs/kiosk-01.tar.gz"])) as packed:
        files = {m.name: packed.extractfile(m) for m in packed.getmembers()}
        contents = {name: f.read() for name, f in files.items() if f is not None}
    assert contents == {"kiosk.log": b"started\n", "kiosk.log.1": b"older\n"}


def test_set_log_level_applies_to_the_process(kiosk: Kiosk, service: JobService) -> None:
    root = logging.getLogger()
    before = root.level
    try:
        service.create_job(THING, "debug", {"operation": "set-log-level", "level": "DEBUG"})
        assert final(service, "debug").status == "SUCCEEDED"
        assert root.level == logging.DEBUG
    finally:
        root.setLevel(before)


def test_restart_waits_for_the_session_and_succeeds_after_the_restart(
    kiosk: Kiosk, service: JobService, server: HttpsServer, mosquitto_tls: Mosquitto,
    test_pki: TestPki, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="fleet.jobs")
    kiosk.hooks.session_open.set()
    kiosk.hooks.png = b"not the restarted kiosk's screen"
    service.create_job(THING, "restart", {"operation": "restart"})
    url = server.url("/shot.png")
    service.create_job(THING, "shot", {"operation": "screenshot", "url": url})
    at_step(service, "restart", "waiting for the shopper session")
    assert kiosk.hooks.restarts == []
    kiosk.hooks.session_open.clear()
    wait_until(lambda: kiosk.hooks.restarts == ["job restart"], "the restart to be asked for")
    paused = "fleet jobs: no further job until the kiosk has restarted"
    wait_until(lambda: paused in caplog.messages, "the agent to pause until the restart")
    assert service.execution(THING, "restart").status_details == {"step": "restarting"}
    kiosk.agent.stop()
    # the kiosk came back: the job still IN_PROGRESS ends, then the next one runs (not before)
    hooks = FakeHooks()
    again = JobsAgent(endpoint(mosquitto_tls.port, test_pki), hooks, kiosk.agent.setup)
    again.start()
    try:
        assert final(service, "restart").status_details == {"step": "restarted"}
        assert final(service, "shot").status == "SUCCEEDED"
        assert server.uploads["/shot.png"] == PNG
        assert hooks.restarts == []
    finally:
        again.stop()


def test_an_upload_to_a_server_the_kiosk_does_not_trust_fails_in_one_line(
    server: HttpsServer,
) -> None:
    url = server.url("/shot.png?X-Amz-Signature=s3cr3t")
    with pytest.raises(UploadFailed) as failed:
        upload(url, PNG, "image/png")  # the system's authorities: not the test CA
    assert str(failed.value) == (
        f"https://127.0.0.1:{server.port}/shot.png: the server's certificate is not trusted "
        "(unable to get local issuer certificate)"
    )
    assert server.uploads == {}


def test_a_final_status_the_jobs_service_missed_is_sent_again_until_answered(
    kiosk: Kiosk, service: JobService, server: HttpsServer, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="fleet.jobs")
    kiosk.hooks.session_open.set()
    deploy(service, "deploy-away", offered(tmp_path, server, "away"))
    at_step(service, "deploy-away", "waiting for the shopper session")
    service.stop()  # the jobs service goes away; the broker stays
    kiosk.hooks.session_open.clear()
    lost = "fleet jobs: job deploy-away: no answer to SUCCEEDED in 1 s"
    wait_until(lambda: lost in caplog.messages, "the final status to go unanswered")
    assert service.execution(THING, "deploy-away").status == "IN_PROGRESS"
    back = JobService(service.broker, service.store)
    back.start(timeout=10)
    try:
        assert final(back, "deploy-away").status == "SUCCEEDED"
        back.create_job(THING, "after", {"operation": "noop"})
        assert final(back, "after").status == "REJECTED"  # the kiosk asks for jobs again
    finally:
        back.stop()
