r"""AWS IoT's side of the named Device Shadow topics, on any MQTT broker.

AWS IoT Core answers ``$aws/things/{thing}/shadow/name/{shadow}/update``, ``/get`` and
``/delete`` itself. On a plain broker (mosquitto) nobody does: :class:`ShadowService` is that
nobody. It subscribes to the three request topics of every thing and named shadow and
publishes AWS's documented answers: ``/accepted`` or ``/rejected`` (``code``, ``message``,
``clientToken``), ``/update/delta`` when the desired state differs from the reported one, and
``/update/documents`` (``previous`` and ``current``) after each accepted update, with
``version``, ``timestamp`` (epoch seconds) and per-key ``metadata`` timestamps. So the kiosk's
awsiotsdk client (:mod:`fleet.shadow`) talks to it as it would to AWS, and a retailer without
AWS runs it next to their broker::

    python -m fleet.aws_side --broker-host mqtt.example --broker-port 8883 \
        --ca-file ca.pem --cert-file fleet.pem --key-file fleet.key --state shadows.json

Shadows are kept in memory and, with ``--state``, in a JSON file replaced atomically after
each change (a restart keeps every kiosk's desired state).
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
from pathlib import Path
from typing import Any

from designer_import.signed_bundle import write_atomically
from fleet.broker_service import (
    BrokerOptions,
    BrokerService,
    broker_arguments,
    serve_until_signalled,
)

log = logging.getLogger(__name__)

#: The request topics this service answers (``+``: any thing, any shadow).
REQUEST_TOPICS = tuple(
    f"$aws/things/+/shadow/name/+/{verb}" for verb in ("update", "get", "delete")
)
_REQUEST = re.compile(r"^\$aws/things/([^/]+)/shadow/name/([^/]+)/(update|get|delete)$")
#: AWS IoT's limits: a state document of 8 KB, six levels of nesting in desired/reported.
MAX_STATE_BYTES = 8 * 1024
MAX_DEPTH = 6
SECTIONS = ("desired", "reported")


class ShadowRejected(Exception):
    """A request AWS IoT would reject: ``code`` (HTTP-like) and a one-line ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ShadowDocument:
    """One named shadow: desired and reported state, their metadata, the version."""

    desired: dict[str, Any] = field(default_factory=dict)
    reported: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"desired": {}, "reported": {}}
    )
    version: int = 0

    def state(self) -> dict[str, Any]:
        """``desired`` and ``reported`` (the sections that hold something)."""
        return {
            name: copy.deepcopy(getattr(self, name)) for name in SECTIONS if getattr(self, name)
        }

    def to_json(self) -> dict[str, Any]:
        """The document as the state file keeps it."""
        return {
            "desired": self.desired,
            "reported": self.reported,
            "metadata": self.metadata,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShadowDocument:
        """A document read back from the state file."""
        return cls(
            desired=dict(data.get("desired") or {}),
            reported=dict(data.get("reported") or {}),
            metadata={
                name: dict((data.get("metadata") or {}).get(name) or {}) for name in SECTIONS
            },
            version=int(data.get("version") or 0),
        )


def state_delta(desired: Mapping[str, Any], reported: Mapping[str, Any]) -> dict[str, Any]:
    """The desired values that the reported state does not hold (objects compared key by
    key, anything else, arrays included, as a whole), as AWS IoT computes ``delta``."""
    delta: dict[str, Any] = {}
    for key, want in desired.items():
        have = reported.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            inner = state_delta(want, have)
            if inner:
                delta[key] = inner
        elif key not in reported or want != have:
            delta[key] = copy.deepcopy(want)
    return delta


def _merge(
    target: dict[str, Any], stamps: dict[str, Any], change: Mapping[str, Any], now: int
) -> None:
    """Apply one section of an update: ``null`` deletes a key, an object merges, anything
    else replaces; ``stamps`` (the metadata) gets ``{"timestamp": now}`` for each leaf."""
    for key, value in change.items():
        if value is None:
            target.pop(key, None)
            stamps.pop(key, None)
        elif isinstance(value, dict):
            inner = target.get(key)
            inner_stamps = stamps.get(key)
            if not isinstance(inner, dict):
                inner = target[key] = {}
            if not isinstance(inner_stamps, dict) or "timestamp" in inner_stamps:
                inner_stamps = stamps[key] = {}
            _merge(inner, inner_stamps, value, now)
            if not inner:
                target.pop(key)
                stamps.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
            stamps[key] = _leaf_stamps(value, now)


def _leaf_stamps(value: Any, now: int) -> Any:
    if isinstance(value, list):
        return [_leaf_stamps(item, now) for item in value]
    return {"timestamp": now}


def _stamps_for(change: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The metadata AWS returns with an update: a timestamp for each leaf it set."""
    return {
        key: _stamps_for(value, now) if isinstance(value, dict) else _leaf_stamps(value, now)
        for key, value in change.items()
    }


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


def _check_update(request: Any) -> dict[str, Any]:
    """The request's ``state`` after AWS's checks, or :class:`ShadowRejected` (400/413)."""
    if not isinstance(request, dict):
        raise ShadowRejected(400, "Payload contains invalid json")
    state = request.get("state")
    if not isinstance(state, dict):
        raise ShadowRejected(400, "Missing required node: state")
    for key, section in state.items():
        if key not in SECTIONS:
            raise ShadowRejected(400, f"State contains an invalid node: '{key}'")
        if section is not None and not isinstance(section, dict):
            raise ShadowRejected(400, f"Invalid JSON: '{key}' node must be an object")
        if _depth(section) > MAX_DEPTH:
            raise ShadowRejected(
                400, f"JSON contains too many levels of nesting; maximum is {MAX_DEPTH}"
            )
    if len(json.dumps(state, separators=(",", ":")).encode()) > MAX_STATE_BYTES:
        raise ShadowRejected(413, "The payload exceeds the maximum size allowed")
    version = request.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ShadowRejected(400, "Invalid version: must be an integer")
    return state


class ShadowStore:
    """Every thing's named shadows, and the AWS rules for update, get and delete.

    Thread-safe (one lock); with ``state_file`` every change is written to it atomically.
    """

    def __init__(self, state_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._state_file = state_file
        self._shadows: dict[tuple[str, str], ShadowDocument] = {}
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for key, doc in data["shadows"].items():
                thing, shadow = key.split("/", 1)
                self._shadows[(thing, shadow)] = ShadowDocument.from_json(doc)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"shadow state file {path} cannot be read: {exc}") from None
        log.info("shadow service: %d shadows read from %s", len(self._shadows), path)

    def _save(self) -> None:
        if self._state_file is None:
            return
        data = {"shadows": {f"{t}/{s}": doc.to_json() for (t, s), doc in self._shadows.items()}}
        write_atomically(self._state_file, json.dumps(data).encode(), mode=0o600)

    def document(self, thing: str, shadow: str) -> ShadowDocument | None:
        """A copy of one shadow (None when it does not exist)."""
        with self._lock:
            doc = self._shadows.get((thing, shadow))
            return copy.deepcopy(doc) if doc is not None else None

    def get(self, thing: str, shadow: str, now: int) -> dict[str, Any]:
        """The ``/get/accepted`` document, or :class:`ShadowRejected` 404."""
        with self._lock:
            doc = self._shadows.get((thing, shadow))
            if doc is None:
                raise ShadowRejected(404, f"No shadow exists with name: '{shadow}'")
            state = doc.state()
            delta = state_delta(doc.desired, doc.reported)
            if delta:
                state["delta"] = delta
            return {
                "state": state,
                "metadata": {
                    n: copy.deepcopy(doc.metadata[n]) for n in SECTIONS if doc.metadata[n]
                },
                "version": doc.version,
                "timestamp": now,
            }

    def update(self, thing: str, shadow: str, request: Any, now: int) -> UpdateOutcome:
        """Apply an update request; :class:`ShadowRejected` (400, 409, 413) when AWS would."""
        state = _check_update(request)
        with self._lock:
            doc = self._shadows.get((thing, shadow))
            previous = copy.deepcopy(doc) if doc is not None else None
            version = request.get("version")
            current_version = doc.version if doc is not None else 0
            if version is not None and version != current_version:
                raise ShadowRejected(409, "Version conflict")
            doc = copy.deepcopy(doc) if doc is not None else ShadowDocument()
            for name in SECTIONS:
                if name not in state:
                    continue
                if state[name] is None:
                    setattr(doc, name, {})
                    doc.metadata[name] = {}
                else:
                    _merge(getattr(doc, name), doc.metadata[name], state[name], now)
            doc.version = current_version + 1
            self._keep((thing, shadow), doc, previous)
            return UpdateOutcome.of(previous, doc, state, now)

    def delete(self, thing: str, shadow: str, now: int) -> dict[str, Any]:
        """Delete a shadow: the ``/delete/accepted`` document, or 404."""
        with self._lock:
            doc = self._shadows.get((thing, shadow))
            if doc is None:
                raise ShadowRejected(404, f"No shadow exists with name: '{shadow}'")
            self._keep((thing, shadow), None, doc)
            return {"version": doc.version, "timestamp": now}

    def _keep(
        self, key: tuple[str, str], doc: ShadowDocument | None, previous: ShadowDocument | None
    ) -> None:
        """Put ``doc`` in place (None: delete) and save; when the state file cannot be
        written, the shadow stays as it was and the request is answered 500 (as AWS does
        for an internal failure), so memory and file never disagree."""
        if doc is None:
            self._shadows.pop(key, None)
        else:
            self._shadows[key] = doc
        try:
            self._save()
        except OSError as exc:
            if previous is None:
                self._shadows.pop(key, None)
            else:
                self._shadows[key] = previous
            log.error("shadow service: %s/%s not changed: the state file %s cannot be written "
                      "(%s)", key[0], key[1], self._state_file, exc.strerror or exc)  # fmt: skip
            raise ShadowRejected(500, "Internal service failure") from None


@dataclass(frozen=True)
class UpdateOutcome:
    """What an accepted update publishes: ``/update/accepted``, ``/update/documents`` and,
    when the update set desired values the reported state lacks, ``/update/delta``."""

    accepted: dict[str, Any]
    documents: dict[str, Any]
    delta: dict[str, Any] | None

    @classmethod
    def of(
        cls,
        previous: ShadowDocument | None,
        current: ShadowDocument,
        state: dict[str, Any],
        now: int,
    ) -> UpdateOutcome:
        """The three documents for an update of ``state`` that made ``current``."""
        changes = {n: section for n, section in state.items() if section}
        accepted = {
            "state": copy.deepcopy(state),
            "metadata": {n: _stamps_for(section, now) for n, section in changes.items()},
            "version": current.version,
            "timestamp": now,
        }
        documents: dict[str, Any] = {"current": _snapshot(current), "timestamp": now}
        if previous is not None:
            documents["previous"] = _snapshot(previous)
        delta_doc = None
        if "desired" in state:
            delta = state_delta(current.desired, current.reported)
            if delta:
                delta_doc = {
                    "state": delta,
                    "metadata": _pick_stamps(current.metadata["desired"], delta),
                    "version": current.version,
                    "timestamp": now,
                }
        return cls(accepted, documents, delta_doc)


def _snapshot(doc: ShadowDocument) -> dict[str, Any]:
    return {
        "state": doc.state(),
        "metadata": copy.deepcopy(doc.metadata),
        "version": doc.version,
    }


def _pick_stamps(stamps: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata of the keys in ``delta``."""
    picked: dict[str, Any] = {}
    for key, value in delta.items():
        stamp = stamps.get(key)
        if isinstance(value, dict) and isinstance(stamp, dict) and "timestamp" not in stamp:
            picked[key] = _pick_stamps(stamp, value)
        elif stamp is not None:
            picked[key] = copy.deepcopy(stamp)
    return picked


class ShadowService(BrokerService):
    """Answers the shadow request topics on a broker (:class:`BrokerService`: paho-mqtt,
    its network thread; :meth:`start` returns once subscribed, :meth:`stop` disconnects)."""

    def __init__(self, broker: BrokerOptions, store: ShadowStore | None = None) -> None:
        super().__init__(
            broker, name="shadow service", topics=REQUEST_TOPICS, answer=self._answer_request
        )
        self.store = store if store is not None else ShadowStore()

    def _answer_request(self, topic: str, raw: bytes) -> list[tuple[str, dict[str, Any]]]:
        match = _REQUEST.match(topic)
        if match is None:
            return []
        thing, shadow, verb = match.groups()
        return self.answer(thing, shadow, verb, raw)

    def answer(
        self, thing: str, shadow: str, verb: str, raw: bytes
    ) -> list[tuple[str, dict[str, Any]]]:
        """The messages AWS IoT publishes for one request: ``(topic, payload)`` pairs."""
        base = f"$aws/things/{thing}/shadow/name/{shadow}/{verb}"
        now = int(time.time())
        token: Any = None
        try:
            request = json.loads(raw) if raw.strip() else {}
            if isinstance(request, dict):
                token = request.get("clientToken")
            if verb == "update":
                outcome = self.store.update(thing, shadow, request, now)
                answers = [(f"{base}/accepted", outcome.accepted)]
                if outcome.delta is not None:
                    answers.append((f"{base}/delta", outcome.delta))
                answers.append((f"{base}/documents", outcome.documents))
            elif verb == "get":
                answers = [(f"{base}/accepted", self.store.get(thing, shadow, now))]
            else:
                answers = [(f"{base}/accepted", self.store.delete(thing, shadow, now))]
        except ValueError:
            answers = [
                (f"{base}/rejected", {"code": 400, "message": "Payload contains invalid json"})
            ]
        except ShadowRejected as rejected:
            log.info("shadow service: %s/%s %s rejected: %s", thing, shadow, verb, rejected.message)
            answers = [(f"{base}/rejected", {"code": rejected.code, "message": rejected.message})]
        for topic, payload in answers:
            if token is not None and not topic.endswith("/documents"):
                payload["clientToken"] = token
            payload.setdefault("timestamp", now)
        return answers


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m fleet.aws_side`` command line (its options are :class:`BrokerOptions`'
    fields, plus ``--state`` and ``--log-level``)."""
    parser = argparse.ArgumentParser(
        prog="python -m fleet.aws_side",
        description="Play AWS IoT's Device Shadow service (named shadows) on an MQTT broker.",
    )
    broker_arguments(parser, "fleet-shadow-service")
    parser.add_argument("--state", type=Path, help="keep the shadows in this JSON file too")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGTERM or Ctrl+C."""
    args = build_parser().parse_args(argv)
    return serve_until_signalled(
        "fleet.aws_side", args, lambda broker: ShadowService(broker, ShadowStore(args.state))
    )


if __name__ == "__main__":
    raise SystemExit(main())
