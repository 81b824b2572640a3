"""A kiosk's jobs agent and the fleet's jobs service for the fleet.jobs tests (plain helpers).

:class:`FakeHooks` stands in for the window (what the jobs ask of it is dispatch, the tests
check it); :func:`file_hooks_main` runs a whole jobs agent in a subprocess for kill -9.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fleet.aws_jobs import JobExecution, JobService
from fleet.bundles import ActiveBundle, BundleStore, trusted_keys
from fleet.jobs import JobsAgent, JobsSetup, jobs_endpoint
from fleet.shadow import ShadowEndpoint
from localservers import TestPki
from settings import KioskConfig
from tests.fleet.test_jobs_service import THING
from tests.support.waiting import wait_until

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def uplink_to(config: KioskConfig, port: int, pki: TestPki) -> KioskConfig:
    """``config`` with its uplink (the shadow's and jobs' broker) on the loopback broker at
    ``port``, with the test client certificate (mTLS)."""
    config.uplink.host = "127.0.0.1"
    config.uplink.port = port
    config.uplink.ca_file = pki.ca_cert
    config.uplink.cert_file = pki.client_cert
    config.uplink.key_file = pki.client_key
    return config


def endpoint(port: int, pki: TestPki) -> ShadowEndpoint:
    """The kiosk's jobs connection: the uplink's broker and the test client certificate."""
    return jobs_endpoint(ShadowEndpoint.of_config(uplink_to(KioskConfig(), port, pki)))


def final(service: JobService, job_id: str, timeout: float = 30.0) -> JobExecution:
    """The execution once it reached a terminal status."""
    found: list[JobExecution] = []

    def ended() -> bool:
        execution = service.execution(THING, job_id)
        if execution is not None and execution.status in ("SUCCEEDED", "FAILED", "REJECTED"):
            found.append(execution)
            return True
        return False

    wait_until(ended, f"job {job_id} to end", timeout)
    return found[0]


def at_step(service: JobService, job_id: str, step: str) -> None:
    """Wait until the job's statusDetails say ``step``."""

    def there() -> bool:
        execution = service.execution(THING, job_id)
        return execution is not None and execution.status_details.get("step") == step

    wait_until(there, f"job {job_id} to report step {step!r}")


@dataclass
class FakeHooks:
    """The window as the jobs see it: a session to end, a health to spoil, calls recorded."""

    session_open: threading.Event = field(default_factory=threading.Event)
    problem: str | None = None
    shown: list[str | None] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)
    png: bytes = PNG
    threads: set[str] = field(default_factory=set)

    def _called(self) -> None:
        self.threads.add(threading.current_thread().name)

    def shopper_session_open(self) -> bool:
        self._called()
        return self.session_open.is_set()

    def show_bundle(self, bundle: ActiveBundle | None) -> None:
        self._called()
        self.shown.append(None if bundle is None else bundle.bundle_id)

    def health_problem(self) -> str | None:
        self._called()
        return self.problem

    def screenshot_png(self) -> bytes:
        self._called()
        return self.png

    def restart(self, reason: str) -> None:
        self._called()
        self.restarts.append(reason)


@dataclass
class FileHooks:
    """Hooks read from files, for a kiosk in a subprocess: a session is open while
    ``session`` exists, the health's problem is what ``problem`` says; ``shown`` gets each
    bundle shown."""

    folder: Path

    def shopper_session_open(self) -> bool:
        return (self.folder / "session").exists()

    def show_bundle(self, bundle: ActiveBundle | None) -> None:
        with (self.folder / "shown").open("a", encoding="utf-8") as out:
            out.write(f"{None if bundle is None else bundle.bundle_id}\n")

    def health_problem(self) -> str | None:
        problem = self.folder / "problem"
        return problem.read_text(encoding="utf-8") if problem.exists() else None

    def screenshot_png(self) -> bytes:
        return PNG

    def restart(self, reason: str) -> None:
        raise RuntimeError("no restart in this test kiosk")


def file_hooks_main(argv: list[str]) -> None:
    """``python -m tests.fleet.jobs_support SETTINGS.json``: recover the bundles folder, then
    run a jobs agent until killed (the kill -9 test)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    settings = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    store = BundleStore(Path(settings["data"]))
    active = store.recover()
    print(f"recovered: {None if active is None else active.bundle_id}", flush=True)
    pki = TestPki(**{key: Path(value) for key, value in settings["pki"].items()})
    setup = JobsSetup(store, trusted_keys(settings["keys"]), None, cafile=pki.ca_cert,
                      grace_s=settings["grace_s"], poll_s=0.05)  # fmt: skip
    agent = JobsAgent(endpoint(settings["port"], pki), FileHooks(Path(settings["data"])), setup)
    agent.start()
    threading.Event().wait()


if __name__ == "__main__":
    file_hooks_main(sys.argv[1:])
