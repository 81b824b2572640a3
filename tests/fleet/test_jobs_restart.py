"""A kiosk killed with -9 in the middle of a deploy job: at its restart BundleStore.recover()
leaves a whole active bundle and the job, still IN_PROGRESS, is resumed and ends cleanly.
The kiosk is a real process running fleet.jobs (tests.fleet.jobs_support) on the real
mosquitto with mTLS; fleet.aws_jobs keeps the job across the kill."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fleet.aws_jobs import JobService
from fleet.bundles import BundleStore
from localservers import Mosquitto, TestPki
from tests.fleet.bundle_support import HttpsServer, https_server
from tests.fleet.jobs_support import THING, at_step, final
from tests.fleet.test_jobs import KEY, deploy, offered
from tests.fleet.test_jobs_service import service

__all__ = ["service"]  # the fixture, imported for the tests here

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(test_pki: TestPki) -> Iterator[HttpsServer]:
    with https_server(test_pki) as served:
        yield served


@contextmanager
def kiosk_process(data: Path, port: int, pki: TestPki, grace_s: float) -> Iterator[int]:
    """A kiosk process running the jobs agent (its pid); killed -9 at the end at the latest."""
    settings = data.parent / "kiosk-settings.json"
    settings.write_text(json.dumps({
        "data": str(data), "port": port, "grace_s": grace_s,
        "keys": [_raw_key()],
        "pki": {k: str(v) for k, v in dataclasses.asdict(pki).items()},
    }))  # fmt: skip
    with (data.parent / "kiosk.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fleet.jobs_support", str(settings)],
            stdout=log, stderr=log, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
    try:
        yield process.pid
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _raw_key() -> str:
    import base64

    from cryptography.hazmat.primitives import serialization

    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def shown(data: Path) -> list[str]:
    path = data / "shown"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


@pytest.mark.parametrize(
    ("killed_at", "problem", "status", "active_after"),
    [
        ("waiting for the shopper session", None, "SUCCEEDED", "summer"),
        ("watching health", None, "SUCCEEDED", "summer"),  # switched: the new pointer kept
        ("watching health", "no frame drawn", "FAILED", "spring"),  # then rolled back
    ],
)
def test_a_kiosk_killed_mid_deployment_recovers_and_ends_the_job(
    service: JobService, mosquitto_tls: Mosquitto, test_pki: TestPki, server: HttpsServer,
    tmp_path: Path, killed_at: str, problem: str | None, status: str, active_after: str,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    store = BundleStore(data)
    spring = offered(tmp_path, server, "spring")
    store.prepare(spring.offer, [KEY.public_key()], archive=spring.archive)
    store.activate("spring")
    if killed_at.startswith("waiting"):
        (data / "session").touch()
    deploy(service, "deploy-summer", offered(tmp_path, server, "summer",
                                             drawing="edges-routes.drawio"))  # fmt: skip
    with kiosk_process(data, mosquitto_tls.port, test_pki, grace_s=600) as pid:
        at_step(service, "deploy-summer", killed_at)
        os.kill(pid, signal.SIGKILL)
    execution = service.execution(THING, "deploy-summer")
    assert execution is None or execution.status == "IN_PROGRESS"

    (data / "session").unlink(missing_ok=True)
    if problem is not None:
        (data / "problem").write_text(problem)
    with kiosk_process(data, mosquitto_tls.port, test_pki, grace_s=0.3):
        ended = final(service, "deploy-summer")
    assert ended.status == status, ended.status_details
    active = BundleStore(data).active()
    assert active is not None and active.bundle_id == active_after
    if status == "FAILED":
        assert ended.status_details["reason"] == (
            f"bundle summer health check failed: {problem}; rolled back to spring"
        )
        assert active.previous is None
    else:
        assert active.previous == "spring"  # the resumed job did not switch a second time
    assert shown(data)[-1] == active_after
