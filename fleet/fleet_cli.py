"""``kiosk-fleet``: the command for whoever runs the fleet, over AWS IoT (boto3's ``iot`` and
``iot-data`` clients; docs/fleet.md, "kiosk-fleet").

- ``list [--store S] [--group G] [--json]``: the kiosks and the health their shadows report;
- ``set (--store S | --group G) key=value ...``: desired config, checked before it is sent;
- ``rollout --group G --bundle FILE.zip --url URL [--canary 10%] [--abort-failed 20%]``:
  a deploy-experience job with IoT Jobs' rollout and abort configuration;
- ``follow JOB``: the job's progress until it is done (or Ctrl-C).

Exit status: 0 done, 1 a failure (AWS, a file, a job that did not succeed), 2 a request
refused before anything was sent, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from fleet.fleet_aws import Connection, FleetAws, FleetError
from fleet.fleet_kiosks import (
    STALE_AFTER_S,
    checked_changes,
    kiosk_json,
    kiosk_row,
    kiosk_table,
    parse_assignments,
)
from fleet.fleet_rollout import JobFollower, Rollout, job_succeeded, share, start_rollout
from settings.model import KioskConfig

PROG = "kiosk-fleet"


class Refused(FleetError):
    """A request refused before anything was sent (exit status 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Run a fleet of kiosks on AWS IoT.")
    parser.add_argument("--region", help="AWS region (default: as boto3 finds it)")
    parser.add_argument("--profile", help="AWS credentials profile")
    parser.add_argument("--endpoint-url", help="one endpoint for iot and iot-data (tests)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="kiosks and their reported health")
    listing.add_argument("--store", help="only this store's kiosks (thing attribute store_id)")
    listing.add_argument("--group", help="only this thing group's kiosks")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    stale = f"a report older than this is stale (default {STALE_AFTER_S:g})"
    listing.add_argument(
        "--stale-after", type=float, default=STALE_AFTER_S, metavar="SECONDS", help=stale
    )
    setting = commands.add_parser("set", help="set desired config on many kiosks")
    where = setting.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", help="every kiosk of this store")
    where.add_argument("--group", help="every kiosk of this thing group")
    setting.add_argument("changes", nargs="+", metavar="key=value")
    rollout = commands.add_parser("rollout", help="deploy a signed bundle to a thing group")
    rollout.add_argument("--group", required=True)
    rollout.add_argument(
        "--bundle", required=True, help="the signed FILE.zip (FILE.zip.sig beside)"
    )
    rollout.add_argument("--url", required=True, help="https URL the kiosks download it from")
    rollout.add_argument("--canary", default="10%", help="share of the group first (10%%)")
    rollout.add_argument("--abort-failed", default="20%", help="FAILED share that cancels (20%%)")
    rollout.add_argument("--grace", type=float, help="seconds each kiosk watches its health")
    rollout.add_argument("--job-id", help="the job's id (default: deploy-<bundle>-<time>)")
    follow = commands.add_parser("follow", help="a job's progress until it is done")
    follow.add_argument("job")
    follow.add_argument("--interval", type=float, default=5.0, help="seconds between looks")
    follow.add_argument("--max-wait", type=float, help="give up following after SECONDS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status (module docstring)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except FleetError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: stopped (a job goes on without being followed)", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "set":
        try:
            asked = parse_assignments(args.changes)
        except FleetError as exc:
            raise Refused(f"nothing sent: {exc}") from None
        changes, refusals = checked_changes(asked, KioskConfig())
        if refusals:  # before any call: nothing is sent when one change is wrong
            raise Refused("nothing sent:\n" + "\n".join(f"  refused: {r}" for r in refusals))
    aws = FleetAws.connect(Connection(args.region, args.profile, args.endpoint_url))
    if args.command == "list":
        return _list(aws, args)
    if args.command == "set":
        return _set(aws, args, changes)
    if args.command == "rollout":
        return _rollout(aws, args)
    return _follow(aws, args.job, args.interval, args.max_wait)


def _list(aws: FleetAws, args: argparse.Namespace) -> int:
    now = time.time()
    rows = [
        kiosk_row(thing, aws.shadow(thing.name), now=now, stale_after_s=args.stale_after)
        for thing in aws.things(store=args.store, group=args.group)
    ]
    print(kiosk_json(rows) if args.json else kiosk_table(rows))
    return 0


def _set(aws: FleetAws, args: argparse.Namespace, changes: dict[str, object]) -> int:
    things = aws.things(store=args.store, group=args.group)
    if not things:
        where = f"store {args.store}" if args.store else f"thing group {args.group}"
        raise Refused(f"no kiosk in {where}: nothing sent")
    for thing in things:
        version = aws.set_desired(thing.name, changes)
        print(f"{thing.name}: desired config set (shadow version {version})")
    return 0


def _rollout(aws: FleetAws, args: argparse.Namespace) -> int:
    rollout = Rollout(
        group=args.group,
        archive=Path(args.bundle),
        url=args.url,
        canary=share(args.canary, "--canary"),
        abort_failed=share(args.abort_failed, "--abort-failed"),
        grace_s=args.grace,
        job_id=args.job_id,
    )
    job_id = start_rollout(aws, rollout)
    print(f"job {job_id} created for thing group {args.group}; follow it with: "
          f"{PROG} follow {job_id}")  # fmt: skip
    return 0


def _follow(aws: FleetAws, job_id: str, interval_s: float, max_wait_s: float | None) -> int:
    follower = JobFollower(aws, job_id, lambda line: print(line, flush=True))
    job = follower.follow(interval_s=interval_s, max_wait_s=max_wait_s)
    return 0 if job_succeeded(job) else 1


if __name__ == "__main__":
    sys.exit(main())
