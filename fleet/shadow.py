"""The kiosk's side of its AWS IoT Device Shadow (the named shadow ``kiosk``).

:class:`ShadowAgent` connects with awsiotsdk's own client (``awsiot.iotshadow.IotShadowClient``
over an awscrt MQTT connection made by ``mqtt_connection_builder.mtls_from_path``), to AWS IoT
Core or to a broker where :mod:`fleet.aws_side` plays AWS's part. It

* REPORTS the kiosk's health (version, active bundle, config hash, uptime, backlog) and the
  allow-listed config in effect, at each connection and every ``[uplink] status_interval_s``;
* applies the fleet's DESIRED ``config`` (``{"config": {"kiosk": {"idle_timeout_s": 60}}}``):
  only the keys of :data:`fleet.remote_config.ALLOWED_KEYS`, validated with the config model;
  a refused value is reported back under ``reported.rejected`` with its one-line reason; what
  is applied is kept in the overlay file (:class:`fleet.remote_config.RemoteConfig`), handed
  to ``on_applied`` to take effect live, and recorded as ``admin.remote.*`` events;
* GETs the whole shadow at every connection and reconciles: a desired value the kiosk missed
  while offline is applied; a value staff changed on the kiosk after the fleet asked for
  another is kept (and the fleet's desired value cleared). The log says which side won, why.

Qt-free: it runs in the uplink process or a worker of the kiosk. One named thread
(``fleet-shadow``) does all the work; awscrt's callbacks only queue it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet import mqtt_link
from fleet.mqtt_link import BACKOFF_MAX_S, BACKOFF_MIN_S, CONNECT_TIMEOUT_S
from fleet.remote_config import (
    ALLOWED_KEYS,
    OVERLAY_NAME,
    Applied,
    Change,
    Refusal,
    RemoteConfig,
    check_changes,
    desired_times,
    nest_keys,
    split_desired,
)
from fleet.shadow_health import (
    REASON_MAX,
    EventLogRecorder,
    HealthSource,
    KioskHealth,
    RecordEvent,
)
from settings.model import KioskConfig, UplinkSection
from settings.overlay import STAFF_OVERLAY_NAME, StaffOverlay
from storage.event import Event, JsonObject, JsonValue

log = logging.getLogger(__name__)

#: The named shadow the kiosk keeps (``$aws/things/{thing}/shadow/name/kiosk/...``).
SHADOW_NAME = "kiosk"
#: A value longer than this (as JSON) goes into an event as its sha256 and size.
EVENT_VALUE_MAX = 512
#: A GET without an answer is sent again after this long (the shadow service was away when
#: the kiosk connected, or the answer was lost).
SYNC_RETRY_S = 10.0
#: Requests awaiting their answer that are remembered (the oldest are forgotten).
TOKENS_KEPT = 64


class ShadowError(ConnectionError):
    """The shadow connection could not be made (message names the broker and the cause)."""


@dataclass(frozen=True)
class ShadowEndpoint:
    """Where the shadow connection goes (the uplink's broker and certificate) and as whom."""

    broker: UplinkSection
    cert_file: Path
    key_file: Path
    thing_name: str
    client_id: str

    @classmethod
    def of_config(cls, config: KioskConfig) -> ShadowEndpoint:
        """``[uplink]``'s broker and certificate; the thing is ``<store_id>-<kiosk_id>`` (the
        uplink's client id) and this connection's client id is that with ``-shadow``."""
        uplink = config.uplink
        if uplink.cert_file is None or uplink.key_file is None:
            raise ShadowError("fleet: [uplink] cert_file and key_file are needed (mTLS)")
        thing = uplink.effective_client_id(config.kiosk.store_id, config.kiosk.kiosk_id)
        return cls(uplink, uplink.cert_file, uplink.key_file, thing, f"{thing}-shadow")

    def describe(self) -> str:
        """``mqtts://host:port (thing T)``."""
        return f"mqtts://{self.broker.host}:{self.broker.port} (thing {self.thing_name})"


def _event_value(value: Any) -> JsonValue:
    text = json.dumps(value, sort_keys=True)
    if len(text) <= EVENT_VALUE_MAX:
        plain: JsonValue = json.loads(text)
        return plain
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "json_bytes": len(text)}


class ShadowAgent:
    """Keeps the kiosk's named shadow: reports health and config, applies desired config.

    Lifecycle: :meth:`start` once (returns at once: the ``fleet-shadow`` thread connects,
    retrying with back-off while the broker is away), :meth:`stop` once. ``on_applied(config,
    applied)`` runs on that thread after accepted values are saved; it must hand the new
    config to the UI thread itself (the kiosk posts it to its TaskRunner). The log level is
    applied here (it is the process's).
    """

    def __init__(
        self,
        config: KioskConfig,
        *,
        endpoint: ShadowEndpoint,
        remote: RemoteConfig,
        record: RecordEvent,
        health: HealthSource,
        on_applied: Callable[[KioskConfig, list[Applied]], None] | None = None,
        shadow_name: str = SHADOW_NAME,
        sync_retry_s: float = SYNC_RETRY_S,
    ) -> None:
        self.endpoint = endpoint
        self.remote = remote
        self.shadow_name = shadow_name
        self.sync_retry_s = sync_retry_s
        self._config = config
        self._record = record
        self._health = health
        self._on_applied = on_applied
        self._work: mqtt_link.WorkQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._synced = threading.Event()
        #: False while the connection is down: reports wait for the reconnection's GET
        self._online = False
        #: True from the shadow's GET answer until the report that follows it is sent
        self._reconciling = False
        self._sync_token: str | None = None
        #: A GET was sent and neither accepted nor rejected yet
        self._get_pending = False
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._client: Any = None
        #: client tokens of the requests still unanswered (oldest first, a bounded few)
        self._tokens: dict[str, None] = {}
        #: The version of the last desired state seen (GET or delta); the kiosk's own reports
        #: do not count, so a delta that arrives after the report it preceded is still taken
        self._version = -1
        #: dotted key -> (value, reason) of the desired values refused, as last reported
        self._rejected: dict[str, tuple[Any, str]] = {}
        self._reported_rejected: set[str] = set()
        #: The last error the shadow service answered (None while all is well).
        self.last_error: str | None = None

    @property
    def config(self) -> KioskConfig:
        """The config in effect (with the fleet's accepted values)."""
        return self._config

    def start(self) -> None:
        """Start the ``fleet-shadow`` thread."""
        self._thread = mqtt_link.start_worker("fleet-shadow", self._run)

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect and join the thread."""
        mqtt_link.wake_to_stop(self._stop, self._work)
        mqtt_link.join_worker(self._thread, timeout, "fleet shadow")

    def wait_synced(self, timeout: float) -> bool:
        """Wait until the shadow was read and reconciled since the last connection and the
        kiosk's report was accepted."""
        return self._synced.wait(timeout)

    def note_local_change(self, key: str, value: Any) -> None:
        """Staff changed an allow-listed key on the kiosk (the calibration page): the overlay
        keeps it as the kiosk's, with the time, so a reconnect knows which side is newer; it
        is reported at once when connected (any thread; the work is queued)."""
        at = time.time()
        self._work.put(lambda: self._local_change(key, value, at))

    def _local_change(self, key: str, value: Any, at: float) -> None:
        if key not in ALLOWED_KEYS:
            log.error("fleet shadow: %s is not a key the fleet sets: not kept in %s", key,
                      self.remote.path)  # fmt: skip
            return
        outcome = check_changes(self._config, {key: value}, data_dir=self._config.paths.data_dir)
        if outcome.refused:
            log.error("fleet shadow: the kiosk's own change was refused: %s",
                      outcome.refused[0].reason)  # fmt: skip
            return
        self.remote.set([(key, value)], Change(at, "kiosk"))
        try:
            self.remote.save()
        except OSError as exc:
            log.error("fleet shadow: %s = %r cannot be kept in %s (%s): the fleet's value "
                      "wins at the next connection", key, value, self.remote.path,
                      exc.strerror or exc)  # fmt: skip
            self.remote = RemoteConfig.open(self.remote.path)
            return
        self._config = outcome.config
        log.info("fleet shadow: %s = %r changed on the kiosk (kept as the kiosk's)", key, value)
        self._report()

    # -- the fleet-shadow thread -----------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                self._connect()
            except ShadowError as exc:
                log.warning("%s; retrying in %g s", exc, backoff)
                self._work_until(time.monotonic() + backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            self._serve()
        self._disconnect()

    def _work_until(self, deadline: float) -> None:
        """Run queued work (staff's changes are kept while the kiosk cannot connect) until
        ``deadline`` or a stop."""
        while not self._stop.is_set():
            try:
                work = self._work.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            self._do(work)

    def _do(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # one bad message must not stop the kiosk's shadow
            log.exception("fleet shadow: handling a shadow message failed")

    def _serve(self) -> None:
        """Run queued work until stopped; report the health every status interval, and GET
        the shadow again while the last GET went unanswered."""
        due = time.monotonic() + self._config.uplink.status_interval_s
        while not self._stop.is_set():
            wait = due - time.monotonic()
            if self._online and self._get_pending:
                wait = min(wait, self.sync_retry_s)
            try:
                work = self._work.get(timeout=max(0.0, wait))
            except queue.Empty:
                if self._online and self._get_pending:
                    log.warning("fleet shadow: no answer from the shadow service in %g s: "
                                "asking again", self.sync_retry_s)  # fmt: skip
                    self._request_shadow()
                    continue
                due = time.monotonic() + self._config.uplink.status_interval_s
                self._report()
                continue
            self._do(work)

    def _connect(self) -> None:
        from awscrt import mqtt
        from awsiot import iotshadow

        where = self.endpoint.describe()
        try:
            connection = mqtt_link.connect_mtls(
                self.endpoint,
                what="fleet shadow",
                on_resumed=self._resumed,
                on_interrupted=self._interrupted,
            )
        except ConnectionError as exc:
            raise ShadowError(str(exc)) from None
        self._connection = connection
        self._client = iotshadow.IotShadowClient(connection)
        self._online = True
        try:
            self._subscribe(iotshadow, mqtt.QoS.AT_LEAST_ONCE)
        except Exception as exc:
            self._disconnect()
            raise ShadowError(f"fleet shadow: {where} refused the subscriptions: {exc}") from None
        log.info("fleet shadow: connected to %s, shadow %r", where, self.shadow_name)
        self._request_shadow()

    def _subscribe(self, iotshadow: Any, qos: Any) -> None:
        thing, name = self.endpoint.thing_name, self.shadow_name
        client = self._client
        request = iotshadow.NamedShadowDeltaUpdatedSubscriptionRequest(
            thing_name=thing, shadow_name=name
        )
        futures = [client.subscribe_to_named_shadow_delta_updated_events(
            request, qos, self._queued(self._on_delta))[0]]  # fmt: skip
        for subscribe, handler in (
            (client.subscribe_to_get_named_shadow_accepted, self._on_get_accepted),
            (client.subscribe_to_get_named_shadow_rejected, self._on_get_rejected),
            (client.subscribe_to_update_named_shadow_accepted, self._on_update_accepted),
            (client.subscribe_to_update_named_shadow_rejected, self._on_update_rejected),
        ):
            kind = iotshadow.GetNamedShadowSubscriptionRequest
            if "update" in subscribe.__name__:
                kind = iotshadow.UpdateNamedShadowSubscriptionRequest
            request = kind(thing_name=thing, shadow_name=name)
            futures.append(subscribe(request, qos, self._queued(handler))[0])
        for future in futures:
            future.result(CONNECT_TIMEOUT_S)

    def _queued(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """Awscrt's callback (its thread): queue the message for the fleet-shadow thread."""
        return lambda message: self._work.put(lambda: handler(message))

    def _interrupted(self, connection: object = None, error: object = None, **_: object) -> None:
        self._online = False
        self._synced.clear()
        log.warning("fleet shadow: connection to %s lost (%s)", self.endpoint.describe(), error)

    def _resumed(
        self, connection: Any = None, return_code: object = None, session_present: bool = False,
        **_: object,
    ) -> None:  # fmt: skip
        log.info("fleet shadow: reconnected to %s (session kept: %s)",
                 self.endpoint.describe(), session_present)  # fmt: skip
        if not session_present and connection is not None:
            connection.resubscribe_existing_topics()
        self._online = True
        self._work.put(self._request_shadow)

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        mqtt_link.disconnect(connection, "fleet shadow", self.endpoint.describe())

    def _token(self) -> str:
        token = uuid.uuid4().hex
        self._tokens[token] = None
        if len(self._tokens) > TOKENS_KEPT:  # answers lost with a connection never come
            del self._tokens[next(iter(self._tokens))]
        return token

    def _request_shadow(self) -> None:
        """GET the whole shadow (at each connection): the answer is reconciled."""
        from awscrt import mqtt
        from awsiot import iotshadow

        self._synced.clear()
        self._get_pending = True
        request = iotshadow.GetNamedShadowRequest(
            thing_name=self.endpoint.thing_name,
            shadow_name=self.shadow_name,
            client_token=self._token(),
        )
        self._client.publish_get_named_shadow(request, mqtt.QoS.AT_LEAST_ONCE)

    # -- answers and events (on the fleet-shadow thread) -------------------------------------

    def _ours(self, token: str | None) -> bool:
        """True for the answer to one of this agent's requests (others may ask too)."""
        if token in self._tokens:
            del self._tokens[token]
            return True
        return False

    def _update_token(self) -> str:
        """A report's client token; the first report after the shadow's GET is the one
        whose acceptance means the kiosk is in step (:meth:`wait_synced`)."""
        token = self._token()
        if self._reconciling:
            self._reconciling = False
            self._sync_token = token
        return token

    def _on_get_accepted(self, response: Any) -> None:
        if response is None or not self._ours(response.client_token):
            return
        state = response.state
        metadata = response.metadata
        desired = state.desired if state is not None else None
        desired_meta = metadata.desired if metadata is not None else None
        self._version = response.version or 0
        self._get_pending = False
        self._reconciling = True
        self._reconcile(desired or {}, (desired_meta or {}).get("config"), response.version)

    def _on_get_rejected(self, error: Any) -> None:
        if error is None or not self._ours(error.client_token):
            return
        self._get_pending = False
        if error.code == 404:
            log.info("fleet shadow: no shadow %r yet for %s: reporting the kiosk's state",
                     self.shadow_name, self.endpoint.thing_name)  # fmt: skip
            self._reconciling = True
            self._report()
            return
        self.last_error = f"get rejected: {error.code} {error.message}"
        log.error("fleet shadow: the shadow service refused the GET: %s %s", error.code,
                  error.message)  # fmt: skip

    def _on_delta(self, event: Any) -> None:
        if event is None:
            log.error("fleet shadow: a delta message that is not a shadow document was ignored")
            return
        if event.version is not None and event.version <= self._version:
            log.info("fleet shadow: delta version %s is not newer than %s: ignored",
                     event.version, self._version)  # fmt: skip
            return
        self._version = event.version if event.version is not None else self._version
        flat, refused = split_desired(event.state or {})
        changes = {k: v for k, v in flat.items() if not self._same(k, v)}
        for key, value in changes.items():
            log.info("fleet shadow: %s: the fleet asks for %r (delta, version %s)", key, value,
                     event.version)  # fmt: skip
        self._apply(changes, refused, event.version)

    def _on_update_accepted(self, response: Any) -> None:
        if response is None or not self._ours(response.client_token):
            return
        self.last_error = None
        if response.client_token == self._sync_token:
            self._synced.set()

    def _on_update_rejected(self, error: Any) -> None:
        if error is None or not self._ours(error.client_token):
            return
        self.last_error = f"update rejected: {error.code} {error.message}"
        log.error("fleet shadow: the shadow service refused the kiosk's report: %s %s",
                  error.code, error.message)  # fmt: skip

    def _same(self, key: str, value: Any) -> bool:
        return bool(self.remote.effective_value(self._config, key) == value)

    def _reconcile(self, desired: Mapping[str, Any], metadata: Any, version: int | None) -> None:
        """At each connection: apply what the fleet asked for while the kiosk was away,
        unless staff changed the same key on the kiosk after the fleet asked."""
        flat, refused = split_desired(desired)
        asked_at = desired_times(metadata)
        changes: dict[str, Any] = {}
        keep_local: list[str] = []
        for key, want in sorted(flat.items()):
            if self._same(key, want):
                continue
            have = self.remote.effective_value(self._config, key)
            local = self.remote.changes.get(key)
            fleet_at = asked_at.get(key)
            if (
                local is not None
                and local.by == "kiosk"
                and fleet_at is not None
                and local.at > fleet_at
            ):
                log.warning(
                    "fleet shadow: %s: the kiosk's value %r wins over the fleet's %r: staff "
                    "changed it on the kiosk at %s, after the fleet asked at %s; the fleet's "
                    "desired value is cleared", key, have, want, _when(local.at), _when(fleet_at),
                )  # fmt: skip
                self._safe_record("admin.remote.kept_local", {
                    "key": key, "value": _event_value(have), "desired": _event_value(want),
                    "changed_at": local.at, "desired_at": fleet_at,
                })  # fmt: skip
                keep_local.append(key)
                continue
            log.info("fleet shadow: %s: the fleet's value %r wins over the kiosk's %r: %s", key,
                     want, have, _why_fleet(local, fleet_at))  # fmt: skip
            changes[key] = want
        self._apply(changes, refused, version, clear_desired=keep_local)

    def _apply(
        self,
        changes: Mapping[str, Any],
        refused: list[Refusal],
        version: int | None,
        *,
        clear_desired: list[str] | None = None,
    ) -> None:
        """Validate, save and put in effect ``changes``; record and report the outcome."""
        outcome = check_changes(self._config, changes, data_dir=self._config.paths.data_dir)
        refusals = refused + outcome.refused
        if outcome.applied:
            try:
                self.remote.set(((a.key, a.value) for a in outcome.applied),
                                Change(time.time(), "fleet", version))  # fmt: skip
                self.remote.save()
            except OSError as exc:
                self.remote = RemoteConfig.open(self.remote.path)
                reason = f"cannot be saved in {self.remote.path}: {exc.strerror or exc}"
                refusals += [Refusal(a.key, a.value, reason) for a in outcome.applied]
            else:
                self._take_effect(outcome.config, outcome.applied, version)
        for refusal in refusals:
            self._refuse(refusal)
        self._report(clear_desired or [])

    def _take_effect(
        self, config: KioskConfig, applied: list[Applied], version: int | None
    ) -> None:
        self._config = config
        for change in applied:
            self._rejected.pop(change.key, None)
            log.info("fleet shadow: %s = %r applied (was %r; shadow version %s)", change.key,
                     change.value, change.previous, version)  # fmt: skip
            self._safe_record("admin.remote.applied", {
                "key": change.key, "value": _event_value(change.value),
                "previous": _event_value(change.previous), "shadow_version": version,
            })  # fmt: skip
        if any(change.key == "logging.level" for change in applied):
            logging.getLogger().setLevel(config.logging.level)
        if self._on_applied is not None:
            try:
                self._on_applied(config, applied)
            except Exception:  # the values are saved; the kiosk takes them at its next start
                log.exception("fleet shadow: putting %s in effect failed",
                              ", ".join(a.key for a in applied))  # fmt: skip

    def _refuse(self, refusal: Refusal) -> None:
        reason = refusal.reason[:REASON_MAX]
        if self._rejected.get(refusal.key) == (refusal.value, reason):
            return  # refused before with the same value and reason: said already
        self._rejected[refusal.key] = (refusal.value, reason)
        log.warning("fleet shadow: refused %s", reason)
        self._safe_record("admin.remote.rejected", {
            "key": refusal.key, "value": _event_value(refusal.value), "reason": reason,
        })  # fmt: skip

    def _safe_record(self, type: str, payload: JsonObject) -> None:
        try:
            self._record(type, payload)
        except Exception:  # the change happened; its event could not be kept: say so
            log.exception("fleet shadow: recording %s failed", type)

    def _report(self, clear_desired: list[str] | None = None) -> None:
        """Publish the reported state: config in effect, health, refusals (cleared ones as
        null); ``clear_desired`` keys are removed from the fleet's desired config."""
        from awscrt import mqtt
        from awsiot import iotshadow

        if self._client is None or not self._online:
            return  # the GET at the reconnection is followed by a report
        rejected: dict[str, Any] = {
            key: None for key in self._reported_rejected - set(self._rejected)
        }
        rejected.update(
            {k: {"value": _event_value(v), "reason": r} for k, (v, r) in self._rejected.items()}
        )
        self._reported_rejected = set(self._rejected)
        reported = {
            "config": nest_keys(
                {k: self.remote.effective_value(self._config, k) for k in ALLOWED_KEYS}
            ),
            "health": self._health(self._config),
            "rejected": rejected or None,
        }
        desired = (
            {"config": nest_keys(dict.fromkeys(clear_desired, None))} if clear_desired else None
        )
        request = iotshadow.UpdateNamedShadowRequest(
            thing_name=self.endpoint.thing_name,
            shadow_name=self.shadow_name,
            state=iotshadow.ShadowState(reported=reported, desired=desired),
            client_token=self._update_token(),
        )
        self._client.publish_update_named_shadow(request, mqtt.QoS.AT_LEAST_ONCE)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _why_fleet(local: Change | None, fleet_at: float | None) -> str:
    if local is None:
        return "the kiosk's value was not changed here since the fleet last set it"
    if local.by == "fleet":
        return f"the kiosk has the fleet's older value (from {_when(local.at)})"
    if fleet_at is None:
        return "the fleet's value carries no time, and the fleet's word is the newer one"
    return f"the fleet asked at {_when(fleet_at)}, after staff changed it at {_when(local.at)}"


def open_shadow(
    config: KioskConfig,
    *,
    append: Callable[[Event], None],
    health: KioskHealth,
    on_applied: Callable[[KioskConfig, list[Applied]], None] | None = None,
) -> ShadowAgent:
    """The kiosk's shadow agent, not started: the overlay in the data folder laid over
    ``config`` (``agent.config`` is the config to run with), events through ``append`` (the
    event log's ``EventLog.append``), ``health`` reported. Raises :class:`ShadowError` when
    ``[uplink]`` names no certificate."""
    remote = RemoteConfig.open(config.data_path(OVERLAY_NAME))
    remote.take_staff_changes(StaffOverlay.open(config.data_path(STAFF_OVERLAY_NAME)))
    effective = remote.applied_to(config).config
    return ShadowAgent(
        effective,
        endpoint=ShadowEndpoint.of_config(effective),
        remote=remote,
        record=EventLogRecorder(append, effective),
        health=health,
        on_applied=on_applied,
    )
