"""kiosk-fleet against moto's real IoT server on loopback: list with shadows fresh, stale and
missing; set refusing a bad key or value before anything is sent; rollout's job (document,
targets, rollout and abort config); follow reporting the executions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from designer_import.signed_bundle import sign_archive, signature_path
from fleet.fleet_aws import Connection, FleetAws
from fleet.fleet_cli import main
from fleet.fleet_rollout import JobFollower
from tests.fleet.fleet_cli_support import (
    GROUP,
    IN_GROUP,
    MotoIot,
    age_report,
    end_executions,
    moto_iot,
)

__all__ = ["moto_iot"]  # the fixture, used by name

HEALTH = {"version": "0.4.0", "config_hash": "ab", "uptime_s": 50,
          "bundle": {"id": "spring-1", "sha256": "cd"},
          "backlog": {"events": 7, "batches": 1, "oldest_ts": None},
          "camera": {"state": "streaming"}}  # fmt: skip


def run(moto: MotoIot, *args: str) -> int:
    return main(["--endpoint-url", moto.endpoint, *args])


def test_list_says_fresh_stale_and_missing_shadows(
    moto_iot: MotoIot, capsys: pytest.CaptureFixture[str]
) -> None:
    moto_iot.report("s1-k1", HEALTH)
    moto_iot.report("s1-k2", {**HEALTH, "bundle": {"id": "winter-0", "sha256": "ef"}})
    age_report("s1-k2", 3600)  # s1-k2 last reported an hour ago; s1-k3 never did

    assert run(moto_iot, "list", "--store", "s1", "--json") == 0
    rows = {row["thing"]: row for row in json.loads(capsys.readouterr().out)}

    assert sorted(rows) == ["s1-k1", "s1-k2", "s1-k3"]  # the store's kiosks only
    fresh, stale, missing = rows["s1-k1"], rows["s1-k2"], rows["s1-k3"]
    assert fresh["state"] == "ok" and fresh["report_age_s"] < 600
    assert (fresh["version"], fresh["bundle"], fresh["backlog_events"], fresh["camera"]) == (
        "0.4.0", "spring-1", 7, "streaming")  # fmt: skip
    assert (fresh["store_id"], fresh["kiosk_id"]) == ("s1", "k1")
    assert stale["state"] == "stale" and stale["report_age_s"] >= 3600
    assert stale["bundle"] == "winter-0"
    assert missing["state"] == "no shadow" and missing["report_age_s"] is None

    assert run(moto_iot, "list", "--group", GROUP) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["thing", "store", "kiosk", "state"]
    assert [line.split()[0] for line in table[1:]] == list(IN_GROUP)
    assert table[2].split()[3] == "stale"


def _desired(moto: MotoIot, thing: str) -> Any:
    return moto.shadow(thing)["state"].get("desired")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("admin.pin_hash=x", "admin.pin_hash: admin is set on the kiosk only"),
        ("uplink.host=evil.example", "uplink.host is set on the kiosk only"),
        ("kiosk.idle_timeout_s=2", "kiosk.idle_timeout_s = 2: Input should be greater than"),
        ("logging.level=LOUD", "logging.level = 'LOUD'"),
    ],
)
def test_set_refuses_before_anything_is_sent(
    moto_iot: MotoIot, capsys: pytest.CaptureFixture[str], change: str, said: str
) -> None:
    moto_iot.report("s1-k1", HEALTH)
    before = moto_iot.shadow("s1-k1")

    status = run(moto_iot, "set", "--store", "s1", "kiosk.attract_rotate_s=12", change)

    err = capsys.readouterr().err
    assert status == 2
    assert "nothing sent" in err and said in err
    assert len([line for line in err.splitlines() if "refused:" in line]) == 1
    after = moto_iot.shadow("s1-k1")  # the good change was not sent either
    assert (after["version"], after["state"]) == (before["version"], before["state"])
    assert _desired(moto_iot, "s1-k1") is None


def test_set_sends_the_desired_config_to_the_store_or_group(
    moto_iot: MotoIot, capsys: pytest.CaptureFixture[str]
) -> None:
    for thing in ("s1-k1", "s1-k2", "s2-k1"):
        moto_iot.report(thing, HEALTH)

    assert run(moto_iot, "set", "--group", GROUP, "kiosk.idle_timeout_s=30",
               "logging.level=DEBUG", 'schedule.monday=["08:00-20:00"]') == 0  # fmt: skip

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == list(IN_GROUP)
    for thing in IN_GROUP:
        assert _desired(moto_iot, thing) == {"config": {
            "kiosk": {"idle_timeout_s": 30}, "logging": {"level": "DEBUG"},
            "schedule": {"monday": ["08:00-20:00"]}}}  # fmt: skip
    assert _desired(moto_iot, "s2-k1") is None


def _signed_archive(folder: Path, bundle_id: str = "spring-1a2b") -> Path:
    archive = folder / "spring.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: the CLI does not unpack it
    signature = sign_archive(archive, Ed25519PrivateKey.generate(), bundle_id)
    signature_path(archive).write_text(json.dumps(signature.to_json()))
    return archive


def test_rollout_creates_the_job_for_the_group(
    moto_iot: MotoIot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _signed_archive(tmp_path)
    url = "https://cdn.example/bundles/spring.zip?X-Amz-Signature=secret"

    status = run(moto_iot, "rollout", "--group", GROUP, "--bundle", str(archive), "--url", url,
                 "--canary", "50%", "--abort-failed", "20%", "--grace", "45",
                 "--job-id", "deploy-spring")  # fmt: skip

    assert status == 0, capsys.readouterr().err
    assert "kiosk-fleet follow deploy-spring" in capsys.readouterr().out
    job = moto_iot.iot.describe_job(jobId="deploy-spring")["job"]
    group_arn = moto_iot.iot.describe_thing_group(thingGroupName=GROUP)["thingGroupArn"]
    assert job["targets"] == [group_arn] and job["targetSelection"] == "SNAPSHOT"
    # two kiosks in the group: a 50% canary is one kiosk a minute, more once it SUCCEEDED
    assert job["jobExecutionsRolloutConfig"] == {"exponentialRate": {
        "baseRatePerMinute": 1, "incrementFactor": 2.0,
        "rateIncreaseCriteria": {"numberOfSucceededThings": 1}}}  # fmt: skip
    assert job["abortConfig"] == {"criteriaList": [{
        "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 20.0,
        "minNumberOfExecutedThings": 1}]}  # fmt: skip
    document = json.loads(moto_iot.iot.get_job_document(jobId="deploy-spring")["document"])
    signature = json.loads(signature_path(archive).read_text())
    assert document == {"operation": "deploy-experience", "grace_s": 45.0, "bundle": {
        "bundle_id": "spring-1a2b", "url": url, "size": archive.stat().st_size,
        "sha256": signature["sha256"], "signature": signature}}  # fmt: skip


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        ("archive", "but its signature names"),
        ("url", "kiosks download over https:// only"),
        ("signature", "cannot read the signature"),
    ],
)
def test_rollout_refuses_a_bundle_it_cannot_vouch_for(
    moto_iot: MotoIot, tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil: str, said: str
) -> None:
    archive = _signed_archive(tmp_path)
    url = "https://cdn.example/spring.zip"
    if spoil == "archive":
        archive.write_bytes(archive.read_bytes() + b"x")  # changed after it was signed
    elif spoil == "url":
        url = "http://cdn.example/spring.zip"
    else:
        signature_path(archive).unlink()

    status = run(moto_iot, "rollout", "--group", GROUP, "--bundle", str(archive), "--url", url)

    assert status == 1
    assert said in capsys.readouterr().err
    assert moto_iot.iot.list_jobs()["jobs"] == []


def test_follow_reports_each_kiosks_execution(
    moto_iot: MotoIot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = _signed_archive(tmp_path)
    assert run(moto_iot, "rollout", "--group", GROUP, "--bundle", str(archive),
               "--url", "https://cdn.example/spring.zip", "--job-id", "deploy-1") == 0  # fmt: skip
    capsys.readouterr()
    assert run(moto_iot, "follow", "deploy-1", "--max-wait", "0") == 1  # not done yet
    assert "still QUEUED" in capsys.readouterr().err

    reason = "bundle spring-1a2b health check failed: no page shows; rolled back to winter-0"
    end_executions("deploy-1", {"s1-k1": ("SUCCEEDED", {"bundle": "spring-1a2b"}),
                                "s1-k2": ("FAILED", {"reason": reason})})  # fmt: skip

    status = run(moto_iot, "follow", "deploy-1", "--interval", "0.1", "--max-wait", "20")

    out = capsys.readouterr().out.splitlines()
    assert status == 1  # one kiosk failed: the roll-out did not succeed
    assert out[0].startswith("job deploy-1: COMPLETED; 1 succeeded, 1 failed")
    assert sorted(out[1:]) == ["  s1-k1: SUCCEEDED (spring-1a2b)", f"  s1-k2: FAILED ({reason})"]

    lines: list[str] = []
    follower = JobFollower(FleetAws.connect(Connection(endpoint_url=moto_iot.endpoint)),
                           "deploy-1", lines.append)  # fmt: skip
    follower.look()
    said = list(lines)
    follower.look()  # nothing changed since: nothing more is said
    assert lines == said and len(said) == 3


def test_a_change_not_written_as_key_value_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--endpoint-url", "http://127.0.0.1:9", "set", "--store", "s1", "x=1", "foo"])

    assert status == 2
    assert capsys.readouterr().err == (
        "kiosk-fleet: nothing sent: 'foo': write each change as key=value "
        "(e.g. logging.level=INFO)\n"
    )


def test_an_unknown_group_is_one_line(
    moto_iot: MotoIot, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(moto_iot, "list", "--group", "nowhere") == 1
    err = capsys.readouterr().err
    assert err.startswith("kiosk-fleet: thing group nowhere: ResourceNotFoundException")
    assert len(err.splitlines()) == 1
