"""The kiosk's fleet agents' common parts: one awscrt MQTT connection with mTLS, and one
named worker thread.

:mod:`fleet.shadow` (the Device Shadow) and :mod:`fleet.jobs` (IoT Jobs) each connect with
awsiotsdk's ``mqtt_connection_builder.mtls_from_path`` to the uplink's broker (AWS IoT Core,
or a broker where :mod:`fleet.aws_side` and :mod:`fleet.aws_jobs` play AWS's part), and each
does all its work on one thread of its own that awscrt's callbacks only queue work for.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fleet.shadow import ShadowEndpoint

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 60.0

#: The work a fleet agent's thread runs, queued by awscrt's callbacks and the agent's callers.
WorkQueue = queue.SimpleQueue[Callable[[], None]]


def connect_mtls(
    endpoint: ShadowEndpoint,
    *,
    what: str,
    on_resumed: Callable[..., None],
    on_interrupted: Callable[..., None] | None = None,
) -> Any:
    """An awscrt MQTT connection to ``endpoint`` with its client certificate, connected (a
    clean session; awscrt reconnects with back-off and calls ``on_interrupted`` and
    ``on_resumed``). Raises ``ConnectionError`` with one line: ``<what>: cannot connect to
    <where>: <cause>``."""
    from awsiot import mqtt_connection_builder

    extra: dict[str, object] = {}
    if endpoint.broker.ca_file is not None:
        extra["ca_filepath"] = str(endpoint.broker.ca_file)
    if on_interrupted is not None:
        extra["on_connection_interrupted"] = on_interrupted
    try:
        connection = mqtt_connection_builder.mtls_from_path(
            endpoint=endpoint.broker.host,
            port=endpoint.broker.port,
            cert_filepath=str(endpoint.cert_file),
            pri_key_filepath=str(endpoint.key_file),
            client_id=endpoint.client_id,
            clean_session=True,
            keep_alive_secs=endpoint.broker.keepalive_s,
            enable_metrics_collection=False,
            on_connection_resumed=on_resumed,
            tcp_connect_timeout_ms=int(CONNECT_TIMEOUT_S * 1000),
            reconnect_min_timeout_secs=int(BACKOFF_MIN_S),
            reconnect_max_timeout_secs=int(BACKOFF_MAX_S),
            **extra,
        )
        connection.connect().result(CONNECT_TIMEOUT_S)
    except Exception as exc:  # awscrt raises its AwsCrtError, a timeout, or bad PEM errors
        raise ConnectionError(f"{what}: cannot connect to {endpoint.describe()}: {exc}") from None
    return connection


def disconnect(connection: Any, what: str, where: str) -> None:
    """Disconnect ``connection`` (None: nothing to do); a failure is logged, not raised."""
    if connection is None:
        return
    try:
        connection.disconnect().result(CONNECT_TIMEOUT_S)
    except Exception as exc:  # awscrt's own error or a timeout: the process goes on
        log.warning("%s: disconnect from %s: %s", what, where, exc)


def start_worker(name: str, target: Callable[[], None]) -> threading.Thread:
    """Start the agent's thread ``name`` (a daemon: a stuck broker never holds the exit)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def wake_to_stop(stop: threading.Event, work: WorkQueue) -> None:
    """Set ``stop`` and wake the thread waiting on ``work``."""
    stop.set()
    work.put(lambda: None)


def join_worker(thread: threading.Thread | None, timeout: float, what: str) -> None:
    """Wait up to ``timeout`` for the agent's thread to end; say so when it did not."""
    if thread is None:
        return
    thread.join(timeout)
    if thread.is_alive():
        log.error("%s: the %s thread did not stop in %g s", what, thread.name, timeout)
