"""kiosk-fleet's roll-outs: the deploy-experience job for a signed bundle, IoT Jobs' own
rollout (a canary share first, then exponentially more) and abort (a share of FAILED
executions cancels the job) configuration, and following a job to its end. Qt-free.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from designer_import.signed_bundle import (
    SigningError,
    file_digest,
    read_signature,
    signature_path,
)
from fleet.bundles import BundleOffer
from fleet.fleet_aws import FleetAws, FleetError

#: The rate grows by this factor each time the previous wave has succeeded.
INCREMENT_FACTOR = 2.0
#: Job statuses after which nothing more happens.
DONE = frozenset({"COMPLETED", "CANCELED", "DELETION_IN_PROGRESS"})
#: Execution statuses that end badly (their ``reason`` is shown).
BAD = frozenset({"FAILED", "REJECTED", "TIMED_OUT", "CANCELED", "REMOVED"})
_JOB_ID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Rollout:
    """What ``kiosk-fleet rollout`` asks: the bundle archive (its ``.sig`` beside it), where
    kiosks fetch it, the thing group, the canary share and the FAILED share that aborts."""

    group: str
    archive: Path
    url: str
    canary: float = 0.10
    abort_failed: float = 0.20
    grace_s: float | None = None
    job_id: str | None = None


def share(text: str, what: str) -> float:
    """``10%`` or ``0.1`` as 0.1; a share outside (0, 1] is a :class:`FleetError`."""
    raw = text.strip()
    try:
        value = float(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise FleetError(f"{what} {text!r}: write a share such as 10% or 0.1") from None
    if not 0 < value <= 1:
        raise FleetError(f"{what} {text!r}: must be more than 0% and at most 100%")
    return value


def bundle_offer(archive: Path, url: str) -> BundleOffer:
    """The offer a deploy job carries, from the archive and its ``.sig`` file, checked: the
    URL is https (kiosks fetch nothing else) and the archive is the one the signature names."""
    if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise FleetError(f"--url {url.split('?')[0]}: kiosks download over https:// only")
    try:
        signature = read_signature(signature_path(archive))
        size, sha256 = file_digest(archive)
    except SigningError as exc:
        raise FleetError(str(exc)) from None
    except OSError as exc:
        raise FleetError(f"{archive}: cannot read the bundle ({exc.strerror})") from None
    if (size, sha256) != (signature.size, signature.sha256):
        raise FleetError(
            f"{archive}: {size} bytes, sha256 {sha256[:12]}…, but its signature names "
            f"{signature.size} bytes, sha256 {signature.sha256[:12]}… (sign it again)"
        )
    return BundleOffer(signature.bundle_id, size, sha256, signature, url)


def job_document(offer: BundleOffer, grace_s: float | None) -> dict[str, Any]:
    """The ``deploy-experience`` document fleet.jobs reads."""
    document: dict[str, Any] = {"operation": "deploy-experience", "bundle": offer.to_json()}
    if grace_s is not None:
        document["grace_s"] = grace_s
    return document


def rollout_config(group_size: int, canary: float) -> dict[str, Any]:
    """Start with the canary share of the group per minute; the rate doubles each time as many
    kiosks as the canary have SUCCEEDED (so a bad canary never reaches the rest)."""
    base = max(1, math.ceil(group_size * canary))
    return {
        "exponentialRate": {
            "baseRatePerMinute": min(base, 1000),
            "incrementFactor": INCREMENT_FACTOR,
            "rateIncreaseCriteria": {"numberOfSucceededThings": base},
        }
    }


def abort_config(group_size: int, canary: float, failed: float) -> dict[str, Any]:
    """Cancel the job once ``failed`` of the executions so far have FAILED, judged after at
    least the canary's number of kiosks have ended."""
    return {
        "criteriaList": [
            {
                "failureType": "FAILED",
                "action": "CANCEL",
                "thresholdPercentage": round(failed * 100, 2),
                "minNumberOfExecutedThings": max(1, math.ceil(group_size * canary)),
            }
        ]
    }


def start_rollout(aws: FleetAws, rollout: Rollout, *, now: float | None = None) -> str:
    """Check the bundle, then create the job on the thing group; the job id."""
    offer = bundle_offer(rollout.archive, rollout.url)
    size = aws.group_size(rollout.group)
    if size == 0:
        raise FleetError(f"thing group {rollout.group} holds no kiosk: nothing to roll out to")
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() if now is None else now))
    job_id = rollout.job_id or f"deploy-{_JOB_ID.sub('-', offer.bundle_id)[:40]}-{stamp}"
    aws.create_job(
        job_id,
        targets=[aws.group_arn(rollout.group)],
        document=_json(job_document(offer, rollout.grace_s)),
        description=f"deploy bundle {offer.bundle_id} to {rollout.group}",
        targetSelection="SNAPSHOT",
        jobExecutionsRolloutConfig=rollout_config(size, rollout.canary),
        abortConfig=abort_config(size, rollout.canary, rollout.abort_failed),
    )
    return job_id


def _json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


class JobFollower:
    """Says what changed in a job since the last look: its status and counts, and each
    kiosk's execution (with the kiosk's reason when it ended badly)."""

    def __init__(self, aws: FleetAws, job_id: str, say: Callable[[str], None]) -> None:
        self.aws = aws
        self.job_id = job_id
        self.say = say
        self._seen: dict[str, str] = {}
        self._last_summary = ""

    def look(self) -> dict[str, Any]:
        """One look; the job as described."""
        job = self.aws.describe_job(self.job_id)
        summary = _summary(job)
        if summary != self._last_summary:
            self._last_summary = summary
            self.say(summary)
        for execution in self.aws.executions(self.job_id):
            thing = str(execution["thingArn"]).rsplit("/", 1)[-1]
            status = str(execution["jobExecutionSummary"]["status"])
            if self._seen.get(thing) == status:
                continue
            self._seen[thing] = status
            self.say(self._execution_line(thing, status))
        return job

    def _execution_line(self, thing: str, status: str) -> str:
        line = f"  {thing}: {status}"
        if status in BAD or status == "SUCCEEDED":
            details = self.aws.execution_details(self.job_id, thing)
            said = details.get("reason") if status in BAD else details.get("bundle")
            if said:
                line += f" ({said})"
        return line

    def follow(self, *, interval_s: float, max_wait_s: float | None) -> dict[str, Any]:
        """Look every ``interval_s`` until the job is done (or ``max_wait_s`` has passed: a
        :class:`FleetError`); the job as last described."""
        deadline = None if max_wait_s is None else time.monotonic() + max_wait_s
        while True:
            job = self.look()
            if job.get("status") in DONE:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise FleetError(
                    f"job {self.job_id} still {job.get('status')} after {max_wait_s:g} s "
                    "(it goes on; follow it again later)"
                )
            time.sleep(interval_s)


def _summary(job: Mapping[str, Any]) -> str:
    counts = job.get("jobProcessDetails") or {}
    parts = [
        f"{counts.get(f'numberOf{name}Things', 0)} {name.lower()}"
        for name in ("Succeeded", "Failed", "Rejected", "InProgress", "Queued", "Canceled")
    ]
    reason = f" ({job['reasonCode']})" if job.get("reasonCode") else ""
    return f"job {job.get('jobId')}: {job.get('status')}{reason}; " + ", ".join(parts)


def job_succeeded(job: Mapping[str, Any]) -> bool:
    """Whether a finished job ended COMPLETED with no failed, rejected or timed-out kiosk."""
    counts = job.get("jobProcessDetails") or {}
    bad = sum(int(counts.get(f"numberOf{n}Things", 0) or 0)
              for n in ("Failed", "Rejected", "TimedOut", "Canceled", "Removed"))  # fmt: skip
    return job.get("status") == "COMPLETED" and bad == 0
