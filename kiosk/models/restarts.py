"""The kiosk's restart record, kept in :mod:`storage.restarts` so that the uplink (its own
process, which may not import kiosk) reads it for the status message; re-exported here for
the kiosk's status page and ``kiosk record-stop``."""

from storage.restarts import (
    KEEP,
    LOOP_RESTARTS,
    LOOP_WINDOW_S,
    RESTART_LOG,
    RESULTS,
    RestartHistory,
    Stop,
    read_stops,
    record_stop,
    restart_history,
)

__all__ = [
    "KEEP",
    "LOOP_RESTARTS",
    "LOOP_WINDOW_S",
    "RESTART_LOG",
    "RESULTS",
    "RestartHistory",
    "Stop",
    "read_stops",
    "record_stop",
    "restart_history",
]
