r"""AWS IoT Jobs' side of the jobs MQTT API, on any MQTT broker.

AWS IoT Core answers ``$aws/things/{thing}/jobs/...`` itself. On a plain broker (mosquitto)
:class:`JobService` does: it answers ``jobs/get``, ``jobs/start-next``, ``jobs/{jobId}/get``
and ``jobs/{jobId}/update`` with AWS's documented ``/accepted`` and ``/rejected`` payloads
(execution: ``jobId``, ``status``, ``statusDetails``, ``versionNumber``, ``executionNumber``,
``jobDocument``, ``queuedAt``/``startedAt``/``lastUpdatedAt`` in epoch seconds; rejection:
``code``, ``message``, ``clientToken``, ``timestamp``) and publishes ``jobs/notify-next``
whenever a thing's next pending execution changes. Whoever runs the fleet creates jobs
through the Python API (:meth:`JobService.create_job`, :meth:`JobService.executions`), and a
retailer without AWS runs it next to their broker::

    python -m fleet.aws_jobs --broker-host mqtt.example --broker-port 8883 \
        --ca-file ca.pem --cert-file fleet.pem --key-file fleet.key

Executions are kept in memory (a restart of the service forgets them).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fleet.broker_service import (
    BrokerOptions,
    BrokerService,
    broker_arguments,
    serve_until_signalled,
)

log = logging.getLogger(__name__)

QUEUED = "QUEUED"
IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
REJECTED = "REJECTED"
#: The statuses a device may set with UpdateJobExecution, and the terminal ones.
DEVICE_STATUSES = frozenset({IN_PROGRESS, SUCCEEDED, FAILED, REJECTED})
TERMINAL = frozenset({SUCCEEDED, FAILED, REJECTED, "CANCELED", "TIMED_OUT", "REMOVED"})
#: AWS IoT's limits on statusDetails: 10 entries, keys and values of 1 to 1024 characters.
STATUS_DETAILS_MAX = 10
DETAIL_MAX = 1024
_KEY = re.compile(r"^[a-zA-Z0-9:_-]+$")

#: The request topics this service answers (``+``: any thing, any job id).
REQUEST_TOPICS = (
    "$aws/things/+/jobs/get",
    "$aws/things/+/jobs/start-next",
    "$aws/things/+/jobs/+/get",
    "$aws/things/+/jobs/+/update",
)
_REQUEST = re.compile(r"^\$aws/things/([^/]+)/jobs/(?:(get|start-next)|([^/]+)/(get|update))$")


class JobRejected(Exception):
    """A request AWS IoT Jobs would reject: ``code`` (``InvalidRequest``,
    ``ResourceNotFound``, ``VersionMismatch``, ``InvalidStateTransition``) and a message."""

    def __init__(self, code: str, message: str, state: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.state = state


@dataclass
class JobExecution:
    """One job's execution on one thing, as AWS IoT Jobs keeps it."""

    job_id: str
    thing: str
    document: dict[str, Any]
    execution_number: int
    queued_at: int
    status: str = QUEUED
    status_details: dict[str, str] = field(default_factory=dict)
    version_number: int = 1
    started_at: int | None = None
    last_updated_at: int = 0

    def to_json(self, *, document: bool = True) -> dict[str, Any]:
        """The ``execution`` object of AWS's payloads (``JobExecutionData``)."""
        data: dict[str, Any] = {
            "jobId": self.job_id,
            "thingName": self.thing,
            "status": self.status,
            "statusDetails": dict(self.status_details),
            "queuedAt": self.queued_at,
            "lastUpdatedAt": self.last_updated_at,
            "versionNumber": self.version_number,
            "executionNumber": self.execution_number,
        }
        if self.started_at is not None:
            data["startedAt"] = self.started_at
        if document:
            data["jobDocument"] = copy.deepcopy(self.document)
        return data

    def state(self) -> dict[str, Any]:
        """The ``executionState`` object (status, statusDetails, versionNumber)."""
        return {
            "status": self.status,
            "statusDetails": dict(self.status_details),
            "versionNumber": self.version_number,
        }

    def summary(self) -> dict[str, Any]:
        """The ``JobExecutionSummary`` of ``jobs/get``'s lists."""
        return {key: value for key, value in self.to_json(document=False).items()
                if key not in ("status", "statusDetails", "thingName")}  # fmt: skip


def check_status_details(details: Any) -> dict[str, str]:
    """``statusDetails`` after AWS's checks (string keys and values, at most ten)."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise JobRejected("InvalidRequest", "statusDetails must be an object")
    if len(details) > STATUS_DETAILS_MAX:
        raise JobRejected("InvalidRequest", f"statusDetails holds at most {STATUS_DETAILS_MAX}")
    for key, value in details.items():
        if not _KEY.match(key) or len(key) > DETAIL_MAX:
            raise JobRejected("InvalidRequest", f"statusDetails key {key!r} is not allowed")
        if not isinstance(value, str) or not 0 < len(value) <= DETAIL_MAX:
            raise JobRejected(
                "InvalidRequest", f"statusDetails[{key}] must be a string of 1 to 1024 characters"
            )
    return dict(details)


class JobStore:
    """Every thing's job executions and AWS's rules for them (thread-safe, one lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: dict[str, dict[str, JobExecution]] = {}
        self._numbers = 0

    def create(self, thing: str, job_id: str, document: Mapping[str, Any], now: int) -> bool:
        """Queue ``job_id`` for ``thing``; True when it became the thing's next execution."""
        with self._lock:
            jobs = self._executions.setdefault(thing, {})
            if job_id in jobs:
                raise ValueError(f"job {job_id} already exists for {thing}")
            before = self._next(thing)
            self._numbers += 1
            jobs[job_id] = JobExecution(
                job_id, thing, copy.deepcopy(dict(document)), self._numbers, now,
                last_updated_at=now,
            )  # fmt: skip
            return self._next(thing) is not before

    def executions(self, thing: str) -> list[JobExecution]:
        """Copies of the thing's executions, oldest first."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._executions.get(thing, {}).values()]

    def execution(self, thing: str, job_id: str) -> JobExecution | None:
        """A copy of one execution (``$next``: the next pending one), None when none."""
        with self._lock:
            found = self._find(thing, job_id)
            return copy.deepcopy(found) if found is not None else None

    def next_pending(self, thing: str) -> JobExecution | None:
        """A copy of the execution ``$next`` names (None when nothing is pending)."""
        return self.execution(thing, "$next")

    def _find(self, thing: str, job_id: str) -> JobExecution | None:
        if job_id == "$next":
            return self._next(thing)
        return self._executions.get(thing, {}).get(job_id)

    def _next(self, thing: str) -> JobExecution | None:
        """IN_PROGRESS executions first, then the oldest QUEUED (as DescribeJobExecution
        ``$next`` and StartNextPendingJobExecution choose)."""
        pending = [e for e in self._executions.get(thing, {}).values() if e.status not in TERMINAL]
        pending.sort(key=lambda e: (e.status != IN_PROGRESS, e.execution_number))
        return pending[0] if pending else None

    def pending(self, thing: str) -> dict[str, Any]:
        """``jobs/get/accepted``'s ``inProgressJobs`` and ``queuedJobs``."""
        with self._lock:
            jobs = list(self._executions.get(thing, {}).values())
            return {
                "inProgressJobs": [e.summary() for e in jobs if e.status == IN_PROGRESS],
                "queuedJobs": [e.summary() for e in jobs if e.status == QUEUED],
            }

    def start_next(self, thing: str, request: Mapping[str, Any], now: int) -> JobExecution | None:
        """StartNextPendingJobExecution: the next pending execution, now IN_PROGRESS."""
        details = check_status_details(request.get("statusDetails"))
        with self._lock:
            found = self._next(thing)
            if found is None:
                return None
            if found.status == QUEUED:
                found.status = IN_PROGRESS
                found.started_at = now
                found.status_details = details
                found.version_number += 1
                found.last_updated_at = now
            return copy.deepcopy(found)

    def update(
        self, thing: str, job_id: str, request: Mapping[str, Any], now: int
    ) -> tuple[JobExecution, bool]:
        """UpdateJobExecution: the execution after the update, and whether the thing's next
        pending execution changed (a terminal status ends this one)."""
        status = request.get("status")
        if status not in DEVICE_STATUSES:
            raise JobRejected("InvalidRequest", f"status must be one of {sorted(DEVICE_STATUSES)}")
        details = check_status_details(request.get("statusDetails"))
        with self._lock:
            found = self._find(thing, job_id)
            if found is None:
                raise JobRejected(
                    "ResourceNotFound", f"Job Execution {job_id} not found for {thing}"
                )
            if found.status in TERMINAL:
                raise JobRejected(
                    "InvalidStateTransition",
                    f"job execution {job_id} is {found.status} and cannot become {status}",
                    found.state(),
                )
            expected = request.get("expectedVersion")
            if expected is not None and expected != found.version_number:
                raise JobRejected("VersionMismatch", "the expected version does not match",
                                  found.state())  # fmt: skip
            before = self._next(thing)
            found.status = status
            found.status_details = details if "statusDetails" in request else found.status_details
            found.version_number += 1
            found.last_updated_at = now
            if found.started_at is None:
                found.started_at = now
            return copy.deepcopy(found), self._next(thing) is not before


class JobService(BrokerService):
    """Answers the jobs request topics on a broker (:class:`BrokerService`: paho-mqtt, its
    network thread; :meth:`start` returns once subscribed, :meth:`stop` disconnects)."""

    def __init__(self, broker: BrokerOptions, store: JobStore | None = None) -> None:
        super().__init__(broker, name="jobs service", topics=REQUEST_TOPICS,
                         answer=self._answer_request)  # fmt: skip
        self.store = store if store is not None else JobStore()

    def create_job(self, thing: str, job_id: str, document: Mapping[str, Any]) -> None:
        """Queue a job for ``thing`` (as CreateJob with one target); ``notify-next`` tells
        the thing when it is its next execution."""
        if self.store.create(thing, job_id, document, int(time.time())):
            self._notify_next(thing)

    def executions(self, thing: str) -> list[JobExecution]:
        """The thing's executions, oldest first (copies)."""
        return self.store.executions(thing)

    def execution(self, thing: str, job_id: str) -> JobExecution | None:
        """One execution of the thing (a copy), None when there is none."""
        return self.store.execution(thing, job_id)

    def _notify_next(self, thing: str) -> None:
        payload: dict[str, Any] = {"timestamp": int(time.time())}
        found = self.store.next_pending(thing)
        if found is not None:
            payload["execution"] = found.to_json()
        self.publish(f"$aws/things/{thing}/jobs/notify-next", payload)

    def _answer_request(self, topic: str, raw: bytes) -> list[tuple[str, dict[str, Any]]]:
        match = _REQUEST.match(topic)
        if match is None:
            return []
        thing, thing_verb, job_id, job_verb = match.groups()
        return self.answer(thing, job_id, thing_verb or job_verb, raw)

    def answer(
        self, thing: str, job_id: str | None, verb: str, raw: bytes
    ) -> list[tuple[str, dict[str, Any]]]:
        """The messages AWS IoT Jobs publishes for one request: ``(topic, payload)`` pairs."""
        base = f"$aws/things/{thing}/jobs/{verb}" if job_id is None else (
            f"$aws/things/{thing}/jobs/{job_id}/{verb}")  # fmt: skip
        now = int(time.time())
        token: Any = None
        try:
            request = json.loads(raw) if raw.strip() else {}
            if not isinstance(request, dict):
                raise JobRejected("InvalidRequest", "the payload must be a JSON object")
            token = request.get("clientToken")
            answers = self._accepted(thing, job_id, verb, request, now)
        except ValueError:
            invalid = {"code": "InvalidJson", "message": "the payload is not valid JSON"}
            answers = [(f"{base}/rejected", invalid)]
        except JobRejected as rejected:
            log.info("jobs service: %s %s rejected: %s", thing, base, rejected.message)
            body: dict[str, Any] = {"code": rejected.code, "message": rejected.message}
            if rejected.state is not None:
                body["executionState"] = dict(rejected.state)
            answers = [(f"{base}/rejected", body)]
        for topic, payload in answers:
            if token is not None and "/notify" not in topic:
                payload["clientToken"] = token
            payload.setdefault("timestamp", now)
        return answers

    def _accepted(
        self, thing: str, job_id: str | None, verb: str, request: dict[str, Any], now: int
    ) -> list[tuple[str, dict[str, Any]]]:
        if job_id is None and verb == "get":
            return [(f"$aws/things/{thing}/jobs/get/accepted", self.store.pending(thing))]
        if job_id is None:
            started = self.store.start_next(thing, request, now)
            answer = {} if started is None else {"execution": started.to_json()}
            return [(f"$aws/things/{thing}/jobs/start-next/accepted", answer)]
        base = f"$aws/things/{thing}/jobs/{job_id}/{verb}"
        if verb == "get":
            found = self.store.execution(thing, job_id)
            if found is None:
                raise JobRejected("ResourceNotFound", f"Job Execution {job_id} not found")
            with_document = bool(request.get("includeJobDocument", True))
            return [(f"{base}/accepted", {"execution": found.to_json(document=with_document)})]
        updated, next_changed = self.store.update(thing, job_id, request, now)
        body: dict[str, Any] = {}
        if request.get("includeJobExecutionState"):
            body["executionState"] = updated.state()
        if request.get("includeJobDocument"):
            body["jobDocument"] = copy.deepcopy(updated.document)
        answers = [(f"{base}/accepted", body)]
        if next_changed:
            found = self.store.next_pending(thing)
            notice: dict[str, Any] = {} if found is None else {"execution": found.to_json()}
            answers.append((f"$aws/things/{thing}/jobs/notify-next", notice))
        return answers


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m fleet.aws_jobs`` command line (the broker as for fleet.aws_side)."""
    parser = argparse.ArgumentParser(
        prog="python -m fleet.aws_jobs",
        description="Play AWS IoT Jobs' MQTT API on an MQTT broker.",
    )
    broker_arguments(parser, "fleet-jobs-service")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGTERM or Ctrl+C."""
    return serve_until_signalled("fleet.aws_jobs", build_parser().parse_args(argv), JobService)


if __name__ == "__main__":
    raise SystemExit(main())
