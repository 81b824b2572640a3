"""The kiosk's side of AWS IoT Jobs: the fleet's remote operations, run one at a time.

:class:`JobsAgent` connects with awsiotsdk's own client (``awsiot.iotjobs.IotJobsClient`` over
an awscrt MQTT connection made by ``mqtt_connection_builder.mtls_from_path``, as
:mod:`fleet.shadow` does), to AWS IoT Core or to a broker where :mod:`fleet.aws_jobs` plays
AWS's part. It listens to ``notify-next``, asks ``start-next``, runs the job, reports its
progress in the execution's ``statusDetails`` and ends it SUCCEEDED, FAILED (``reason``) or,
for a job it does not know or a document it cannot read, REJECTED (``reason``).

The job document names its ``operation``: ``deploy-experience``, ``restart``, ``screenshot``,
``set-log-level``, ``collect-logs`` (docs/fleet.md, "Jobs"). What needs the running kiosk (is
a shopper session open, show a bundle, is it healthy, grab the screen, restart) goes through
:class:`KioskHooks`, which the Qt side implements: this module stays Qt-free.

One named thread (``fleet-jobs``) connects, runs the jobs and calls the hooks; awscrt's
callbacks only queue work for it. A job still IN_PROGRESS when the kiosk stopped (killed,
restarted) comes back from ``start-next`` at the next start and is run again: each step is
idempotent (a staged bundle is not fetched again, an active one not switched again).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet import mqtt_link
from fleet.bundle_errors import BundleError, BundleRefused
from fleet.bundles import ActiveBundle, BundleOffer, BundleStore
from fleet.job_upload import UploadFailed, pack_logs, upload
from fleet.mqtt_link import BACKOFF_MAX_S, BACKOFF_MIN_S, CONNECT_TIMEOUT_S
from fleet.shadow import ShadowEndpoint
from fleet.shadow_health import REASON_MAX

log = logging.getLogger(__name__)

#: How long a deployed bundle is watched before its job SUCCEEDS (a document may say less).
GRACE_S = 30.0
#: How often the session and the health are looked at while a job waits or watches.
POLL_S = 0.5
#: How long a final status waits for the service's answer before it is sent again later.
ANSWER_TIMEOUT_S = 10.0
#: Progress lines are reported at most this often (a step's first line always).
PROGRESS_EVERY_S = 1.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class KioskHooks(Protocol):
    """What jobs need from the running kiosk. Every method is called on the ``fleet-jobs``
    thread: an implementation hands the work to the UI thread itself and waits for it with a
    timeout; any exception it raises fails the job with its message as the reason."""

    def shopper_session_open(self) -> bool:
        """True while a shopper is using the kiosk (a job that changes the screen waits)."""
        ...

    def show_bundle(self, bundle: ActiveBundle | None) -> None:
        """Show the active bundle's experience (None: the configured one); raises when it
        cannot be shown."""
        ...

    def health_problem(self) -> str | None:
        """None while the kiosk is healthy, else the one-line problem (the grace period's
        check after a deployment)."""
        ...

    def screenshot_png(self) -> bytes:
        """A PNG of what the screen shows (the window, never a camera frame)."""
        ...

    def restart(self, reason: str) -> None:
        """Restart the kiosk (returns; the process ends soon after)."""
        ...


class JobRefused(Exception):
    """The job is not one this kiosk runs, or its document cannot be read: REJECTED."""


class JobFailed(Exception):
    """The job was tried and did not work: FAILED with this one-line reason."""


@dataclass(frozen=True)
class Job:
    """One execution handed to the kiosk (``start-next``'s answer)."""

    job_id: str
    document: Mapping[str, Any]
    status: str
    details: Mapping[str, str]

    @property
    def operation(self) -> str:
        """The document's ``operation`` ('' when it has none)."""
        value = self.document.get("operation")
        return value if isinstance(value, str) else ""

    @property
    def resumed(self) -> bool:
        """The kiosk had started this job before it stopped."""
        return self.status == "IN_PROGRESS"


@dataclass(frozen=True)
class JobsSetup:
    """The kiosk's parts the jobs work with: its bundles, the keys they are checked with,
    its log folder, and the authority of private HTTPS servers (None: the system's)."""

    bundles: BundleStore
    trusted: Sequence[Ed25519PublicKey]
    log_dir: Path | None
    cafile: Path | None = None
    grace_s: float = GRACE_S
    poll_s: float = POLL_S
    answer_timeout_s: float = ANSWER_TIMEOUT_S


def jobs_endpoint(endpoint: ShadowEndpoint) -> ShadowEndpoint:
    """The shadow's endpoint with this connection's own client id (``<thing>-jobs``)."""
    return dataclasses.replace(endpoint, client_id=f"{endpoint.thing_name}-jobs")


def _one_line(text: object) -> str:
    line = " ".join(str(text).split())
    return (line or "no reason given")[:REASON_MAX]


class JobsAgent:
    """Runs the fleet's jobs on this kiosk, one at a time, on the ``fleet-jobs`` thread.

    Lifecycle: :meth:`start` once (returns at once; the thread connects, retrying with
    back-off while the broker is away), :meth:`stop` once (a job waiting for a session or
    watching health stops where it is and stays IN_PROGRESS, resumed at the next start).
    """

    def __init__(self, endpoint: ShadowEndpoint, hooks: KioskHooks, setup: JobsSetup) -> None:
        self.endpoint = endpoint
        self.hooks = hooks
        self.setup = setup
        self._work: mqtt_link.WorkQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._client: Any = None
        #: a start-next was sent and not answered yet (one at a time: no job runs twice)
        self._asking = False
        #: a restart was asked for: no job runs until the kiosk has restarted (the restart
        #: job itself would come back from start-next, still IN_PROGRESS, and end too soon)
        self._restarting = False
        self._done: set[str] = set()
        #: final statuses the service did not answer: sent again until it does
        self._unanswered: dict[str, tuple[Job, str, dict[str, str]]] = {}
        self._answers: dict[str, threading.Event] = {}
        self._handlers: dict[str, Callable[[Job], dict[str, str]]] = {
            "deploy-experience": self._deploy,
            "restart": self._restart,
            "screenshot": self._screenshot,
            "set-log-level": self._set_log_level,
            "collect-logs": self._collect_logs,
        }

    def start(self) -> None:
        """Start the ``fleet-jobs`` thread."""
        self._thread = mqtt_link.start_worker("fleet-jobs", self._run)

    def stopping(self) -> None:
        """Tell the running job to stop where it is (returns at once; :meth:`stop` joins).
        From now on a hook that fails leaves its job IN_PROGRESS (the kiosk is going away:
        its window may refuse to answer), resumed at the next start."""
        mqtt_link.wake_to_stop(self._stop, self._work)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the running job's waits, disconnect and join the thread."""
        self.stopping()
        mqtt_link.join_worker(self._thread, timeout, "fleet jobs")

    # -- connection ---------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                self._connect()
            except ConnectionError as exc:
                log.warning("%s; retrying in %g s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            self._serve()
        self._disconnect()

    def _serve(self) -> None:
        while not self._stop.is_set():
            wait = self.setup.answer_timeout_s if self._unanswered else None
            try:
                work = self._work.get(timeout=wait)
            except queue.Empty:
                work = self._resend_finals
            try:
                work()
            except Exception:  # one bad message must not end the kiosk's jobs
                log.exception("fleet jobs: handling a jobs message failed")

    def _connect(self) -> None:
        from awsiot import iotjobs

        where = self.endpoint.describe()
        connection = mqtt_link.connect_mtls(
            self.endpoint, what="fleet jobs", on_resumed=self._resumed
        )
        self._connection = connection
        self._client = iotjobs.IotJobsClient(connection)
        try:
            self._subscribe(iotjobs)
        except Exception as exc:
            self._disconnect()
            raise ConnectionError(f"fleet jobs: {where} refused the subscriptions: {exc}") from None
        log.info("fleet jobs: connected to %s", where)
        self._asking = False
        self._ask_next()

    def _subscribe(self, iotjobs: Any) -> None:
        from awscrt import mqtt

        thing, client, qos = self.endpoint.thing_name, self._client, mqtt.QoS.AT_LEAST_ONCE
        per_thing = (
            (client.subscribe_to_next_job_execution_changed_events,
             iotjobs.NextJobExecutionChangedSubscriptionRequest, self._queued(self._on_notify)),
            (client.subscribe_to_start_next_pending_job_execution_accepted,
             iotjobs.StartNextPendingJobExecutionSubscriptionRequest,
             self._queued(self._on_started)),
            (client.subscribe_to_start_next_pending_job_execution_rejected,
             iotjobs.StartNextPendingJobExecutionSubscriptionRequest,
             self._queued(self._on_start_rejected)),
        )  # fmt: skip
        futures = [subscribe(kind(thing_name=thing), qos, handler)[0]
                   for subscribe, kind, handler in per_thing]  # fmt: skip
        for subscribe, answered in (
            (client.subscribe_to_update_job_execution_accepted, self._on_update_accepted),
            (client.subscribe_to_update_job_execution_rejected, self._on_update_rejected),
        ):
            request = iotjobs.UpdateJobExecutionSubscriptionRequest(thing_name=thing, job_id="+")
            futures.append(subscribe(request, qos, answered)[0])
        for future in futures:
            future.result(CONNECT_TIMEOUT_S)

    def _queued(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """Awscrt's callback (its thread): queue the message for the fleet-jobs thread."""
        return lambda message: self._work.put(lambda: handler(message))

    def _resumed(
        self, connection: Any = None, return_code: object = None, session_present: bool = False,
        **_: object,
    ) -> None:  # fmt: skip
        if not session_present and connection is not None:
            connection.resubscribe_existing_topics()
        log.info("fleet jobs: reconnected to %s", self.endpoint.describe())
        self._work.put(self._reask_next)

    def _reask_next(self) -> None:
        self._asking = False  # an answer lost with the connection never comes
        self._ask_next()

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        mqtt_link.disconnect(connection, "fleet jobs", self.endpoint.describe())

    # -- the jobs' topics ---------------------------------------------------------------------

    def _ask_next(self) -> None:
        from awscrt import mqtt
        from awsiot import iotjobs

        if self._restarting:
            log.info("fleet jobs: no further job until the kiosk has restarted")
            return
        if self._asking or self._stop.is_set():
            return
        self._asking = True
        request = iotjobs.StartNextPendingJobExecutionRequest(
            thing_name=self.endpoint.thing_name, client_token=uuid.uuid4().hex
        )
        self._client.publish_start_next_pending_job_execution(request, mqtt.QoS.AT_LEAST_ONCE)

    def _on_notify(self, event: Any) -> None:
        if event.execution is not None:
            self._ask_next()

    def _on_start_rejected(self, error: Any) -> None:
        self._asking = False
        log.error("fleet jobs: start-next rejected: %s %s", error.code, error.message)

    def _on_started(self, response: Any) -> None:
        self._asking = False
        execution = response.execution
        if execution is None or execution.job_id in self._done:
            return
        job = Job(execution.job_id, execution.job_document or {}, execution.status or "",
                  execution.status_details or {})  # fmt: skip
        self._run_job(job)
        self._ask_next()

    def _on_update_rejected(self, error: Any) -> None:
        """Awscrt's thread: say why, and wake whoever waits for this update's answer."""
        log.error("fleet jobs: a job update was rejected: %s %s", error.code, error.message)
        self._on_update_accepted(error)

    def _on_update_accepted(self, answer: Any) -> None:
        """Awscrt's thread: wake whoever waits for this update's answer."""
        waiting = self._answers.get(answer.client_token or "")
        if waiting is not None:
            waiting.set()

    def _update(
        self, job: Job, status: str, details: Mapping[str, str], *, wait: bool = False
    ) -> bool:
        """Report ``status`` and ``details``; with ``wait``, until the service answered (a
        final status, or the step before a restart), at most ``answer_timeout_s``: False
        when it did not."""
        from awscrt import mqtt
        from awsiot import iotjobs

        token = uuid.uuid4().hex
        answered = self._answers[token] = threading.Event()
        request = iotjobs.UpdateJobExecutionRequest(
            thing_name=self.endpoint.thing_name, job_id=job.job_id, status=status,
            status_details={k: _one_line(v) for k, v in details.items()}, client_token=token,
        )  # fmt: skip
        try:
            self._client.publish_update_job_execution(request, mqtt.QoS.AT_LEAST_ONCE)
            if wait and not answered.wait(self.setup.answer_timeout_s):
                log.warning("fleet jobs: job %s: no answer to %s in %g s", job.job_id, status,
                            self.setup.answer_timeout_s)  # fmt: skip
                return False
            return True
        finally:
            self._answers.pop(token, None)

    def _resend_finals(self) -> None:
        """Send the final statuses nobody answered again; once one is answered the service
        is back: ask for the next job (the last ask may have been lost too)."""
        for job, status, details in list(self._unanswered.values()):
            if not self._update(job, status, details, wait=True):
                return
            del self._unanswered[job.job_id]
            log.info("fleet jobs: job %s: %s reached the jobs service", job.job_id, status)
        self._reask_next()

    # -- running a job ------------------------------------------------------------------------

    def _run_job(self, job: Job) -> None:
        handler = self._handlers.get(job.operation)
        log.info("fleet jobs: job %s (%s)%s", job.job_id, job.operation or "no operation",
                 " resumed after a restart" if job.resumed else "")  # fmt: skip
        try:
            if handler is None:
                known = ", ".join(sorted(self._handlers))
                raise JobRefused(f"unknown operation {job.operation!r} (this kiosk runs {known})")
            details = handler(job)
        except JobRefused as refused:
            self._finish(job, "REJECTED", {"reason": _one_line(refused)})
        except (JobFailed, BundleError, UploadFailed) as failed:
            self._finish(job, "FAILED", {"reason": _one_line(failed)})
        except _Stopped:
            log.info("fleet jobs: job %s left IN_PROGRESS: the kiosk is stopping", job.job_id)
        except Exception as exc:  # a hook's own error: the job fails with it, the agent lives
            if self._stop.is_set():
                log.info("fleet jobs: job %s left IN_PROGRESS: the kiosk is stopping (%s)",
                         job.job_id, _one_line(exc))  # fmt: skip
                return
            log.exception("fleet jobs: job %s failed", job.job_id)
            self._finish(job, "FAILED", {"reason": _one_line(f"{type(exc).__name__}: {exc}")})
        else:
            self._finish(job, "SUCCEEDED", details)

    def _finish(self, job: Job, status: str, details: Mapping[str, str]) -> None:
        log.log(logging.INFO if status == "SUCCEEDED" else logging.WARNING,
                "fleet jobs: job %s %s: %s", job.job_id, status, dict(details))  # fmt: skip
        self._done.add(job.job_id)
        if not self._update(job, status, details, wait=True):
            self._unanswered[job.job_id] = (job, status, dict(details))

    def _progress(self, job: Job, step: str) -> Callable[[str], None]:
        """A listener that reports ``step`` and its latest line, at most every second."""
        last = [0.0]

        def report(line: str) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                self._update(job, "IN_PROGRESS", {"step": step, "progress": line})

        return report

    def _wait_for_safe_moment(self, job: Job) -> None:
        """Return once no shopper session is open (said once in the job's details)."""
        said = False
        while self.hooks.shopper_session_open():
            if not said:
                said = True
                log.info("fleet jobs: job %s waits for the shopper session to end", job.job_id)
                self._update(job, "IN_PROGRESS", {"step": "waiting for the shopper session"})
            if self._stop.wait(self.setup.poll_s):
                raise _Stopped

    # -- the operations -----------------------------------------------------------------------

    def _deploy(self, job: Job) -> dict[str, str]:
        try:
            offer = BundleOffer.from_json(job.document.get("bundle"), f"job {job.job_id}")
        except BundleRefused as exc:  # the document, not the bundle: nothing was fetched
            raise JobRefused(str(exc)) from None
        grace = _grace(job.document, self.setup.grace_s)
        store = self.setup.bundles
        self._update(job, "IN_PROGRESS", {"step": "downloading", "bundle": offer.bundle_id})
        store.prepare(offer, self.setup.trusted, cafile=self.setup.cafile,
                      progress=self._progress(job, "downloading"))  # fmt: skip
        self._wait_for_safe_moment(job)
        active = store.activate(offer.bundle_id, progress=self._progress(job, "activating"))
        problem = self._show(active)
        if problem is None:
            self._update(
                job, "IN_PROGRESS", {"step": "watching health", "bundle": active.bundle_id}
            )
            problem = self._watch_health(grace)
        if problem is not None:
            raise JobFailed(self._roll_back(offer.bundle_id, problem))
        return {"bundle": active.bundle_id, "sha256": active.sha256 or "unknown"}

    def _show(self, bundle: ActiveBundle | None) -> str | None:
        try:
            self.hooks.show_bundle(bundle)
        except Exception as exc:  # the hook's own error is the reason to roll back
            if self._stop.is_set():
                raise _Stopped from None  # the window went away with the kiosk: no roll back
            return f"cannot be shown: {_one_line(exc)}"
        return None

    def _watch_health(self, grace: float) -> str | None:
        deadline = time.monotonic() + grace
        while True:
            problem = self.hooks.health_problem()
            if problem is not None:
                return f"health check failed: {_one_line(problem)}"
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self._stop.wait(min(self.setup.poll_s, left)):
                raise _Stopped

    def _roll_back(self, bundle_id: str, problem: str) -> str:
        """Go back to the previous bundle; the reason the job fails with."""
        try:
            back = self.setup.bundles.rollback()
        except BundleError as exc:
            return f"bundle {bundle_id} {problem}; not rolled back: {exc}"
        shown = self._show(back)
        after = "" if shown is None else f" (which {shown})"
        return f"bundle {bundle_id} {problem}; rolled back to {back.bundle_id}{after}"

    def _restart(self, job: Job) -> dict[str, str]:
        if job.details.get("step") == "restarting":
            return {"step": "restarted"}
        self._wait_for_safe_moment(job)
        self._update(job, "IN_PROGRESS", {"step": "restarting"}, wait=True)
        self._restarting = True
        self.hooks.restart(f"job {job.job_id}")
        raise _Stopped

    def _screenshot(self, job: Job) -> dict[str, str]:
        url = _url(job)
        png = self.hooks.screenshot_png()
        if not png.startswith(PNG_MAGIC):
            raise JobFailed("the kiosk's screenshot is not a PNG")
        upload(url, png, "image/png", cafile=self.setup.cafile)
        return {"bytes": str(len(png))}

    def _set_log_level(self, job: Job) -> dict[str, str]:
        level = job.document.get("level")
        if level not in LOG_LEVELS:
            raise JobRefused(f"level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        logging.getLogger().setLevel(level)
        log.warning("fleet jobs: log level set to %s by job %s", level, job.job_id)
        return {"level": level}

    def _collect_logs(self, job: Job) -> dict[str, str]:
        url = _url(job)
        packed, count = pack_logs(self.setup.log_dir)
        upload(url, packed, "application/gzip", cafile=self.setup.cafile)
        return {"files": str(count), "bytes": str(len(packed))}


class _Stopped(Exception):
    """The agent is stopping (or the kiosk restarting): the job stays IN_PROGRESS."""


def _url(job: Job) -> str:
    url = job.document.get("url")
    if not isinstance(url, str) or not url:
        raise JobRefused(f"job {job.job_id}: the document needs a url to upload to")
    return url


def _grace(document: Mapping[str, Any], default: float) -> float:
    value = document.get("grace_s", default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise JobRefused(f"grace_s must be a number of seconds, not {value!r}")
    return float(value)
