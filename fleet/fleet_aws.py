"""kiosk-fleet's calls to AWS IoT: boto3's ``iot`` (things, groups, jobs) and ``iot-data``
(the kiosks' named shadows), each failure one line naming what was asked.

Kiosks are things named ``<store_id>-<kiosk_id>`` with the attributes ``store_id`` and
``kiosk_id``; their shadow is the named shadow ``kiosk`` (:data:`fleet.shadow.SHADOW_NAME`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fleet.shadow import SHADOW_NAME

#: The thing attributes that name a kiosk's store and the kiosk within it.
STORE_ATTRIBUTE = "store_id"
KIOSK_ATTRIBUTE = "kiosk_id"


class FleetError(Exception):
    """A fleet command that cannot go on: one line naming what failed and why."""


@dataclass(frozen=True)
class Thing:
    """A kiosk's thing: its name and its store and kiosk ids (empty when not set)."""

    name: str
    store_id: str
    kiosk_id: str


@dataclass(frozen=True)
class Connection:
    """Where the clients go: ``endpoint_url`` (a test server, one URL for both clients) or
    the account's IoT endpoints in ``region`` (the data endpoint asked of ``iot``)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise FleetError(
            "kiosk-fleet needs boto3: pip install 'retail-edge-kiosk[fleet-cli]'"
        ) from None
    return boto3


class FleetAws:
    """The two boto3 clients kiosk-fleet uses; every method raises :class:`FleetError`."""

    def __init__(self, iot: Any, data: Any) -> None:
        self.iot = iot
        self.data = data

    @classmethod
    def connect(cls, connection: Connection) -> FleetAws:
        """Make the clients (credentials as boto3 finds them: environment, profile, role)."""
        boto3 = _boto3()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            session = boto3.session.Session(
                profile_name=connection.profile, region_name=connection.region
            )
            iot = session.client("iot", endpoint_url=connection.endpoint_url)
            data_url = connection.endpoint_url
            if data_url is None:
                found = iot.describe_endpoint(endpointType="iot:Data-ATS")
                data_url = f"https://{found['endpointAddress']}"
            data = session.client("iot-data", endpoint_url=data_url)
        except (BotoCoreError, ClientError) as exc:
            raise FleetError(f"AWS IoT clients: {exc}") from None
        return cls(iot, data)

    def _call(self, what: str, method: Any, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "error"), error.get("Message", "")
            raise FleetError(f"{what}: {code} {message}".rstrip()) from None
        except BotoCoreError as exc:
            raise FleetError(f"{what}: {exc}") from None

    def things(self, *, store: str | None = None, group: str | None = None) -> list[Thing]:
        """The kiosks of ``store`` (by attribute), of thing ``group``, or all, by name."""
        if group is not None:
            names = list(self._group_names(group))
            found = [self.describe_thing(name) for name in names]
            if store is not None:
                found = [thing for thing in found if thing.store_id == store]
            return sorted(found, key=lambda thing: thing.name)
        params: dict[str, Any] = {}
        if store is not None:
            params = {"attributeName": STORE_ATTRIBUTE, "attributeValue": store}
        found = [
            _thing(item["thingName"], item.get("attributes") or {})
            for item in self._pages("listing things", self.iot.list_things, "things", **params)
        ]
        return sorted(found, key=lambda thing: thing.name)

    def _group_names(self, group: str) -> Iterator[str]:
        yield from self._pages(
            f"thing group {group}",
            self.iot.list_things_in_thing_group,
            "things",
            thingGroupName=group,
            recursive=True,
        )

    def _pages(self, what: str, method: Any, key: str, **params: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            page = self._call(what, method, **params, **({"nextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("nextToken")
            if not token:
                return

    def describe_thing(self, name: str) -> Thing:
        """One thing with its store and kiosk ids."""
        found = self._call(f"thing {name}", self.iot.describe_thing, thingName=name)
        return _thing(name, found.get("attributes") or {})

    def shadow(self, thing: str) -> dict[str, Any] | None:
        """The thing's ``kiosk`` shadow document, or None when it has none."""
        from botocore.exceptions import ClientError

        try:
            answer = self.data.get_thing_shadow(thingName=thing, shadowName=SHADOW_NAME)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise FleetError(f"shadow {SHADOW_NAME!r} of {thing}: {exc}") from None
        except Exception as exc:  # botocore's transport errors, said with the thing's name
            raise FleetError(f"shadow {SHADOW_NAME!r} of {thing}: {exc}") from None
        document: dict[str, Any] = json.loads(answer["payload"].read())
        return document

    def set_desired(self, thing: str, config: Mapping[str, Any]) -> int:
        """Merge ``config`` (nested tables) into the thing's desired ``config``; the
        shadow's new version."""
        payload = json.dumps({"state": {"desired": {"config": config}}}).encode()
        answer = self._call(
            f"shadow {SHADOW_NAME!r} of {thing}",
            self.data.update_thing_shadow,
            thingName=thing,
            shadowName=SHADOW_NAME,
            payload=payload,
        )
        version: int = json.loads(answer["payload"].read()).get("version", 0)
        return version

    def group_arn(self, group: str) -> str:
        """The thing group's ARN (a job's target)."""
        found = self._call(
            f"thing group {group}", self.iot.describe_thing_group, thingGroupName=group
        )
        arn: str = found["thingGroupArn"]
        return arn

    def group_size(self, group: str) -> int:
        """How many things the group holds (its subgroups' included)."""
        return sum(1 for _ in self._group_names(group))

    def create_job(self, job_id: str, **params: Any) -> str:
        """Create the job; its ARN."""
        answer = self._call(f"creating job {job_id}", self.iot.create_job, jobId=job_id, **params)
        arn: str = answer["jobArn"]
        return arn

    def describe_job(self, job_id: str) -> dict[str, Any]:
        """The job as ``describe_job`` gives it (status, jobProcessDetails, configs)."""
        job: dict[str, Any] = self._call(f"job {job_id}", self.iot.describe_job, jobId=job_id)[
            "job"
        ]
        return job

    def executions(self, job_id: str) -> list[dict[str, Any]]:
        """The job's executions: ``thingArn`` and ``jobExecutionSummary`` each."""
        return list(
            self._pages(
                f"executions of job {job_id}",
                self.iot.list_job_executions_for_job,
                "executionSummaries",
                jobId=job_id,
            )
        )

    def execution_details(self, job_id: str, thing: str) -> dict[str, str]:
        """The ``statusDetails`` an execution ended with (a kiosk's ``reason``)."""
        found = self._call(
            f"execution of job {job_id} on {thing}",
            self.iot.describe_job_execution,
            jobId=job_id,
            thingName=thing,
        )
        details: dict[str, str] = found["execution"].get("statusDetails", {}).get("detailsMap")
        return details or {}


def _thing(name: str, attributes: Mapping[str, str]) -> Thing:
    return Thing(name, attributes.get(STORE_ATTRIBUTE, ""), attributes.get(KIOSK_ATTRIBUTE, ""))
