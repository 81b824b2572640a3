"""The uplink service: drains the outbox to the broker, store-and-forward.

Two named threads share the work. The ``uplink`` thread owns the connection and the
in-flight window: it keeps up to ``inflight`` publishes awaiting their PUBACK and counts a
batch done only when every part of it is acknowledged. While a session runs, the
``uplink-claims`` thread (:mod:`uplink.claim_ahead`) is the outbox's one writer: it claims
batches oldest first, a few ahead, serialises each into one or more messages, marks the
acknowledged ones sent and counts the backlog, so that no SQLite work stalls the network.
When the connection drops, every claimed batch that is not fully acknowledged, in flight or
claimed ahead, goes back to the outbox (same id, same events, same order) and is published
again on the next connection: at-least-once on the wire, exactly once after the receiver's
de-duplication by event id.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from settings.model import KioskConfig
from storage import Backlog, OutboxBatch
from uplink.batch import UplinkMessage, batch_bytes
from uplink.claim_ahead import ClaimAhead, ReadyBatch
from uplink.claim_journal import ClaimJournal
from uplink.credentials import CredentialError
from uplink.pacing import PUBLISH_OVERHEAD, Backoff, RateLimiter
from uplink.status_facts import kiosk_facts
from uplink.transport import (
    LastWill,
    TransportError,
    TransportSession,
    UplinkTransport,
    build_transport,
)

log = logging.getLogger(__name__)

#: The status message's uptime counts from here: the uplink is loaded as its process starts
#: (the kiosk's, at its start; or kiosk-uplink's, which then reports its own uptime).
_PROCESS_STARTED = time.monotonic()

#: How long the thread waits for broker traffic when it has nothing to send.
IDLE_POLL_S = 0.25
#: How long the thread polls the connection while the next batch is being claimed.
CLAIM_POLL_S = 0.002
#: Batches claimed and serialised ahead of the sender (see :mod:`uplink.claim_ahead`).
CLAIM_AHEAD = 3
#: How often the cached backlog shown by :meth:`UplinkService.status` is refreshed.
BACKLOG_REFRESH_S = 2.0
CONNECT_TIMEOUT_S = 10.0


class OutboxLike(Protocol):
    """The part of :class:`storage.Outbox` the service uses: claims are leases.

    ``storage.Outbox`` is the implementation; the Protocol lets a test or a benchmark hand
    in another one.
    """

    def claim_batch(self, max_events: int, max_bytes: int) -> OutboxBatch | None:
        """The oldest batch not sent and not leased, leased to the caller; None when empty."""
        ...

    def mark_sent(self, *batch_ids: str) -> None:
        """The broker acknowledged every message of these batches."""
        ...

    def release(self, batch_id: str) -> None:
        """Give the batch back unchanged (it is claimed again first)."""
        ...

    def backlog(self) -> Backlog:
        """Events and batches still to send, and the oldest timestamp among them."""
        ...

    @property
    def owner(self) -> str:
        """The token this outbox writes into its leases."""
        ...

    def release_owner(self, owner: str) -> int:
        """Give back the unsent batches leased to an earlier run's ``owner``; how many."""
        ...


@dataclass(frozen=True, slots=True)
class UplinkStatus:
    """What the admin panel and the control socket show about the uplink: a snapshot taken
    by :meth:`UplinkService.status`, read directly (every field is always set)."""

    #: A broker session is open (CONNACK received and not lost since).
    connected: bool
    #: Events in the outbox not yet acknowledged by the broker (refreshed every ~2 s).
    backlog_events: int
    #: Batches those events make up.
    backlog_batches: int
    #: When the broker last acknowledged a whole batch (``time.time()``); None before the first.
    last_ack_at: float | None
    #: Why the last connection attempt or session failed; None while things are well.
    last_error: str | None
    #: Batches acknowledged by the broker since this service started.
    sent_batches: int
    #: Events in those batches.
    sent_events: int
    #: Where the uplink sends to (``mqtts://host:port`` or ``aws-iot://endpoint``).
    broker: str = ""
    #: The ISO 8601 timestamp of the oldest event not yet acknowledged; None when none is.
    oldest_unsent_ts: str | None = None


@dataclass
class _Claim:
    batch_id: str
    count: int
    parts: int
    acked: int = 0


def _version() -> str:
    try:
        return importlib.metadata.version("retail-edge-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _plain(value: object) -> object:
    """Sensor health (a dataclass, a dict or None) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(value).items()
        }
    return value


def _claim_journal(config: KioskConfig, client_id: str) -> ClaimJournal | None:
    """Where this client notes its runs' lease tokens (none without a data folder)."""
    if config.paths.data_dir is None:
        return None
    return ClaimJournal(config.data_path(f"uplink-claims-{client_id}.json"))


class UplinkService:
    """Drains ``outbox`` to the broker configured in ``config.uplink``.

    Lifecycle: ``start()`` once, ``status()`` from any thread at any time (returns at once,
    never touches the network or the database), ``stop(timeout)`` once. Bad certificate or
    key files raise :class:`uplink.credentials.CredentialError` from the constructor; a broker
    that is away is not an error: the service retries with backoff for as long as it runs.

    ``sensor_health`` (optional) returns the sensor's health for the status message;
    ``transport`` replaces the one the config names (tests, benchmarks).
    """

    def __init__(
        self,
        config: KioskConfig,
        outbox: OutboxLike,
        *,
        sensor_health: Callable[[], object] | None = None,
        transport: UplinkTransport | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        section = config.uplink
        self._section = section
        self._transport = transport or build_transport(section)
        store, kiosk = config.kiosk.store_id, config.kiosk.kiosk_id
        self.store_id = store
        self.kiosk_id = kiosk
        self.client_id = section.effective_client_id(store, kiosk)
        self.events_topic, self.status_topic = section.topics(store, kiosk)
        self._sensor_health = sensor_health
        # every publish of the connection goes through it, status messages too
        self._limiter = RateLimiter(section.max_publishes_per_s, section.max_bytes_per_s)
        self._events_overhead = len(self.events_topic.encode("utf-8")) + PUBLISH_OVERHEAD
        self._backoff = Backoff(section.backoff_min_s, section.backoff_max_s)
        self._window = section.inflight
        self._max_events = config.storage.batch_max_events
        # whole messages' worth of events per batch, so that no batch leaves a short message
        self._max_bytes = batch_bytes(
            config.storage.batch_max_bytes, section.max_message_bytes, store, kiosk
        )
        self._journal = _claim_journal(config, self.client_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drain_s = 2.0
        # Owned by the uplink thread only.
        self._claims: dict[str, _Claim] = {}
        #: Acknowledged, not yet marked sent in the outbox (see _mark_done): appended by
        #: the uplink thread, marked by the claims thread (one writer) or, once it has
        #: stopped, by the uplink thread; _marking makes each mark one caller's.
        self._done: list[_Claim] = []
        self._done_lock = threading.Lock()
        self._marking = threading.Lock()
        self._queue: deque[UplinkMessage] = deque()
        self._ahead: ClaimAhead | None = None
        #: When the claims thread next counts the backlog (time.monotonic()).
        self._backlog_due = 0.0
        self._inflight = 0
        self._generation = 0
        #: When the uplink thread last went round one of its loops (monotonic): systemd's
        #: watchdog is petted only while it moves (``kiosk-uplink``).
        self._heartbeat = time.monotonic()
        self._refused = False
        # Shared with status(); guarded by the lock.
        self._lock = threading.Lock()
        self._connected = False
        self._last_ack_at: float | None = None
        self._last_error: str | None = None
        self._sent_batches = 0
        self._sent_events = 0
        self._backlog: tuple[int, int, str | None] = (0, 0, None)

    # -- public ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the uplink thread (it connects, and reconnects, on its own)."""
        if self._thread is not None:
            raise RuntimeError("UplinkService.start() called twice")
        self._thread = threading.Thread(target=self._run, name="uplink", daemon=True)
        self._thread.start()
        log.info("uplink: started, %s -> %s", self.client_id, self._transport.describe())

    def stop(self, timeout: float = 5.0) -> None:
        """Stop: wait a little for PUBACKs in flight, say offline, give back unsent batches."""
        self._drain_s = max(0.0, min(2.0, timeout / 2))
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("uplink: thread still busy after %.1f s; leaving it", timeout)

    def status(self) -> UplinkStatus:
        """A snapshot for the admin panel (cheap, any thread)."""
        with self._lock:
            events, batches, oldest = self._backlog
            return UplinkStatus(
                connected=self._connected,
                backlog_events=events,
                backlog_batches=batches,
                last_ack_at=self._last_ack_at,
                last_error=self._last_error,
                sent_batches=self._sent_batches,
                sent_events=self._sent_events,
                broker=self._transport.describe(),
                oldest_unsent_ts=oldest,
            )

    # -- the uplink thread ----------------------------------------------------------------

    def heartbeat_age(self) -> float:
        """Seconds since the uplink thread last went round a loop (any thread may ask)."""
        return time.monotonic() - self._heartbeat

    def _run(self) -> None:
        self._release_previous_claims()
        last_logged: str | None = None
        while not self._stop.is_set():
            self._heartbeat = time.monotonic()
            self._refresh_backlog()
            try:
                session = self._transport.open(self.client_id, self._will(), CONNECT_TIMEOUT_S)
            except (TransportError, CredentialError) as exc:
                message = str(exc)
                wait = self._backoff.next()
                if message != last_logged:
                    log.warning("uplink: %s; retrying (next in %.1f s)", message, wait)
                    last_logged = message
                else:
                    log.debug("uplink: %s; next attempt in %.1f s", message, wait)
                self._set_error(message)
                self._wait_offline(wait)
                continue
            last_logged = None
            self._backoff.reset()
            self._set_connected(True)
            log.info("uplink: connected to %s", self._transport.describe())
            try:
                self._pump(session)
            except Exception as exc:
                # The outbox (SQLite) failed under us: keep the service alive and try again.
                log.exception("uplink: stopped sending")
                self._set_error(f"outbox: {exc}")
            finally:
                self._end_session(session)
            if not self._stop.is_set():
                self._stop.wait(self._backoff.next())
        log.info("uplink: stopped")

    def _release_previous_claims(self) -> None:
        """Give back what a killed earlier run held, so it goes first again (see ClaimJournal)."""
        if self._journal is None:
            return
        kept: list[str] = []
        released = 0
        for owner in self._journal.owners():
            if owner == self.outbox.owner:
                continue
            try:
                released += self.outbox.release_owner(owner)
            except Exception:
                log.exception("uplink: could not release the batches of earlier run %s", owner)
                kept.append(owner)
        if released:
            log.info("uplink: %d batch(es) held by an earlier run back in the outbox", released)
        self._journal.record([*kept, self.outbox.owner])

    def _wait_offline(self, seconds: float) -> None:
        # Keep the backlog shown to staff current while waiting to reconnect.
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(left, BACKLOG_REFRESH_S))
            self._heartbeat = time.monotonic()
            self._refresh_backlog()

    def _pump(self, session: TransportSession) -> None:
        self._generation += 1
        self._refused = False
        ahead = self._ahead = ClaimAhead(self._claim_ready, CLAIM_AHEAD, self._housekeeping)
        self._backlog_due = time.monotonic() + BACKLOG_REFRESH_S
        ahead.start()
        self._publish_status(session, online=True)
        next_status = time.monotonic() + self._section.status_interval_s
        while session.connected and not self._refused and not self._stop.is_set():
            self._heartbeat = time.monotonic()
            wait = self._fill(session, ahead)
            now = time.monotonic()
            if now >= next_status:
                # the backlog in it is the one the claims thread counted last (<= 2 s ago)
                self._publish_status(session, online=True)
                next_status = now + self._section.status_interval_s
            session.poll(wait)
            if self._done or time.monotonic() >= self._backlog_due:
                ahead.nudge()
        if self._refused:
            self._set_error("the broker refused a publish")
        elif not session.connected:
            self._set_error("connection lost")
        if self._stop.is_set() and session.connected:
            self._drain(session)

    def _claim_ready(self) -> ReadyBatch | None:
        """The next batch and its messages (on the claims thread, see ClaimAhead)."""
        batch = self.outbox.claim_batch(self._max_events, self._max_bytes)
        if batch is None:
            return None
        return ReadyBatch.of(
            batch,
            store_id=self.store_id,
            kiosk_id=self.kiosk_id,
            max_message_bytes=self._section.max_message_bytes,
        )

    def _fill(self, session: TransportSession, ahead: ClaimAhead) -> float:
        """Publish while the window has room; return how long to poll before trying again."""
        while self._inflight < self._window:
            if not self._queue:
                ready, empty = ahead.take()
                if ready is None:
                    return IDLE_POLL_S if empty else CLAIM_POLL_S
                batch = ready.batch
                if batch.batch_id in self._claims:
                    # Its lease ran out while it was in flight (a stalled connection):
                    # claiming it again renewed the lease; its messages are already out.
                    continue
                self._claims[batch.batch_id] = _Claim(
                    batch.batch_id, batch.count, len(ready.messages)
                )
                self._queue.extend(ready.messages)
            message = self._queue[0]
            delay = self._limiter.delay(len(message.payload) + self._events_overhead)
            if delay > 0:
                return delay
            self._queue.popleft()
            self._inflight += 1
            session.publish(
                self.events_topic,
                message.payload,
                qos=1,
                on_done=functools.partial(self._acked, message, self._generation),
            )
            if not session.connected:
                break
        return IDLE_POLL_S

    def _acked(self, message: UplinkMessage, generation: int, ok: bool) -> None:
        if generation != self._generation:
            return
        self._inflight -= 1
        claim = self._claims.get(message.batch_id)
        if claim is None:
            return
        if not ok:
            self._refused = True
            return
        claim.acked += 1
        if claim.acked < claim.parts:
            return
        del self._claims[claim.batch_id]
        with self._done_lock:
            self._done.append(claim)

    def _housekeeping(self) -> None:
        """On the claims thread, while a session runs: mark the acknowledged batches sent,
        and count the backlog when due. Both are SQLite work that would stall the network
        thread (a backlog count takes 15-30 ms on a kiosk PC under load)."""
        self._mark_done()
        if time.monotonic() >= self._backlog_due:
            self._backlog_due = time.monotonic() + BACKLOG_REFRESH_S
            self._refresh_backlog()

    def _mark_done(self) -> None:
        """Mark the batches acknowledged since the last call sent, in one transaction (a
        burst of PUBACKs costs one commit, not one each). Kept for the next call if the
        outbox fails: an acknowledged batch is never given back."""
        with self._marking:
            with self._done_lock:
                done = list(self._done)
            if not done:
                return
            self.outbox.mark_sent(*(claim.batch_id for claim in done))
            with self._done_lock:
                # only appended to meanwhile: the first len(done) are the ones just marked
                del self._done[: len(done)]
        with self._lock:
            self._sent_batches += len(done)
            self._sent_events += sum(claim.count for claim in done)
            self._last_ack_at = time.time()

    def _drain(self, session: TransportSession) -> None:
        """On stop: let the acknowledgements in flight arrive, then say offline."""
        deadline = time.monotonic() + self._drain_s
        self._queue.clear()
        while self._inflight > 0 and session.connected and time.monotonic() < deadline:
            session.poll(0.05)
        self._mark_done()
        self._refresh_backlog()
        self._publish_status(session, online=False)
        # Give the offline status a moment to leave before the socket closes.
        session.poll(0.05)

    def _end_session(self, session: TransportSession) -> None:
        session.close()
        # claimed ahead, not taken: leased to this run like the ones in flight
        ahead = self._ahead.stop() if self._ahead is not None else []
        self._ahead = None
        try:
            self._mark_done()
        except Exception:
            log.exception("uplink: could not mark %d acknowledged batch(es) sent", len(self._done))
        self._generation += 1
        unsent = [*self._claims, *(batch.batch_id for batch in ahead)]
        self._claims.clear()
        self._queue.clear()
        self._inflight = 0
        for batch_id in unsent:
            try:
                self.outbox.release(batch_id)
            except Exception:
                # The lease expires on its own; the batch comes back later either way.
                log.exception("uplink: could not release batch %s", batch_id)
        if unsent:
            log.info("uplink: %d unacknowledged batch(es) back in the outbox", len(unsent))
        self._set_connected(False)

    # -- status ---------------------------------------------------------------------------

    def _set_error(self, error: str) -> None:
        with self._lock:
            self._last_error = error

    def _set_connected(self, connected: bool) -> None:
        """A session opened (which clears the last error) or ended (which keeps it)."""
        with self._lock:
            self._connected = connected
            if connected:
                self._last_error = None

    def _refresh_backlog(self) -> None:
        try:
            backlog = self.outbox.backlog()
        except Exception as exc:
            log.debug("uplink: backlog unavailable: %s", exc)
            return
        with self._lock:
            self._backlog = (backlog.events, backlog.batches, backlog.oldest_ts)

    def status_message(self, *, online: bool) -> bytes:
        """The retained status message: online/offline, version, backlog, last ack, uptime,
        restarts in 24 h and crash loop, active bundle, sensor (docs/events.md)."""
        status = self.status()
        facts = kiosk_facts(self.config.paths.data_dir, datetime.now(UTC))
        sensor: object = None
        if online and self._sensor_health is not None:
            try:
                sensor = _plain(self._sensor_health())
            except Exception as exc:
                sensor = {"status": "error", "message": str(exc)}
        body = {
            "schema": "retail-edge-kiosk/status",
            "version": 1,
            "state": "online" if online else "offline",
            "store_id": self.store_id,
            "kiosk_id": self.kiosk_id,
            "software": _version(),
            "ts": _iso(time.time()),
            "backlog_events": status.backlog_events,
            "backlog_batches": status.backlog_batches,
            "oldest_unsent_ts": status.oldest_unsent_ts,
            "last_ack_at": _iso(status.last_ack_at),
            "sent_events": status.sent_events,
            "uptime_s": round(time.monotonic() - _PROCESS_STARTED, 1),
            "restarts_24h": facts.restarts_24h,
            "crash_loop": facts.crash_loop,
            "bundle_id": facts.bundle_id,
            "sensor": sensor,
        }
        return json.dumps(body, separators=(",", ":"), default=str).encode("utf-8")

    def _will(self) -> LastWill:
        # The will is fixed at CONNECT time: what the broker says if we vanish.
        body = {
            "schema": "retail-edge-kiosk/status",
            "version": 1,
            "state": "offline",
            "store_id": self.store_id,
            "kiosk_id": self.kiosk_id,
            "software": _version(),
            # the time of the CONNECT that set it: the receiver keeps one will per connection
            "ts": _iso(time.time()),
            "reason": "connection lost",
        }
        return LastWill(self.status_topic, json.dumps(body).encode("utf-8"), retain=True)

    def _publish_status(self, session: TransportSession, *, online: bool) -> None:
        """Publish the status when the rate limits allow it (polling the connection while
        waiting, at most a window's length)."""
        payload = self.status_message(online=online)
        size = len(payload) + len(self.status_topic.encode("utf-8")) + PUBLISH_OVERHEAD
        while (wait := self._limiter.delay(size)) > 0:
            if not session.connected:
                return
            session.poll(wait)
        session.publish(self.status_topic, payload, qos=1, retain=True)
