"""What the running kiosk offers to its parts (the shopper view, the admin panel, the control
socket): one object built by the composition root (``kiosk.app``) and handed to each of them.

Everything here is called on the UI thread and returns at once; whatever may block (SQLite,
Redis, the network) lives behind the services' own threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from settings import KioskConfig

if TYPE_CHECKING:
    from designer_import import Finding
    from designer_import.model import Experience
    from sensors import PresenceService, PresenceState, SensorHealth


class EventSink(Protocol):
    """Where interactions go: ``storage.EventLog`` in the product, a list in dispatch tests."""

    def append(self, event: Any) -> None:
        """Take one ``storage.Event``; returns at once."""
        ...


@dataclass
class KioskServices:
    """The kiosk's running services and the few commands its staff-facing parts may give.

    The composition root fills the callables; parts that do not exist in a given set-up
    (no camera, uplink off, Redis absent) are ``None``.
    """

    config: KioskConfig
    #: Records one interaction: ``record(type, page=..., element=..., payload=...)``.
    #: The session id and the simulated flag are filled in by the session machine.
    record: Callable[..., None]
    #: ``storage.EventLog`` (for ``health()``) or ``None`` when storage failed to start.
    event_log: Any | None = None
    #: ``sensors.PresenceService`` or ``None`` for a touch-only kiosk.
    presence: PresenceService | None = None
    #: ``uplink.UplinkService`` (``status()``) or ``None`` when the uplink is off.
    uplink: Any | None = None
    #: The experience on screen now, and what the validator said about it.
    experience: Callable[[], Experience | None] = field(default=lambda: None)
    findings: Callable[[], list[Finding]] = field(default=list)
    #: Latest sensor health and presence state, as last reported by the sensor thread.
    sensor_health: Callable[[], SensorHealth | None] = field(default=lambda: None)
    presence_state: Callable[[], PresenceState | None] = field(default=lambda: None)
    #: Show another experience from attract: ``activate_experience(path, experience)``, the
    #: experience already loaded from ``path`` (a .drawio file or a bundle folder) off the
    #: UI thread; ``path`` is what hot reload and restart read from then on.
    activate_experience: Callable[[Any, Any], None] = field(default=lambda _path, _exp: None)
    #: Reload the current experience from disk off the UI thread and go back to attract.
    restart_experience: Callable[[], None] = field(default=lambda: None)
    #: Leave the kiosk (manager only): stops every service and quits.
    exit_kiosk: Callable[[], None] = field(default=lambda: None)
    started_at: float = field(default_factory=time.time)
    #: The sensor itself (``sensors.SimulatedSensor`` accepts shoppers from ``python -m simulation``).
    sensor: Any | None = None
    #: True while the session generator drives the kiosk: its events are marked simulated.
    simulated: bool = False
    #: Where a shopper can touch on the page shown now, in window pixels: dicts with
    #: ``page``, ``element``, ``kind`` ("link" | "action"), ``x``, ``y`` (a point inside the
    #: shape), ``target`` (page id or action name).
    touch_targets: Callable[[], list[dict[str, Any]]] = field(default=list)
    #: The page shown now (id) and the session machine's state name ("attract", ...).
    current_page: Callable[[], str | None] = field(default=lambda: None)
    session_state: Callable[[], str] = field(default=lambda: "attract")
    #: Why the experience could not be loaded (one line), None while it shows fine; the
    #: shopper then sees the built-in "back soon" page.
    experience_error: Callable[[], str | None] = field(default=lambda: None)
    #: How many interactions the kiosk has recorded (handed to the event log) since start.
    recorded: Callable[[], int] = field(default=lambda: 0)
