"""The shopper session state machine: ATTRACT -> WELCOME -> BROWSING -> back to ATTRACT.

Plain Python with an injectable clock, so tests drive time by hand. The screen calls
``touch()``, ``presence()`` and ``tick()``; each returns what changed, and the screen
shows pages and records events accordingly.

- ATTRACT: nobody there; the attract pages take turns every ``attract_rotate_s``.
- A touch (any kiosk) or a presence signal (APPROACHING/ENGAGED, camera kiosks) starts a
  session: WELCOME, with a new session id.
- The first touch in WELCOME (any touch) makes it BROWSING.
- The session ends (back to ATTRACT) when nobody touched for ``idle_timeout_s`` and nobody is
  seen in front of the kiosk, or when the shopper seen there has been gone (AWAY) for
  ``presence_grace_s`` and has not touched meanwhile (only when the sensor saw someone
  during the session: a camera that misses a short shopper does not cut them off).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import uuid_utils

from settings.model import KioskSection


class SessionState(StrEnum):
    """Where the shopper is."""

    ATTRACT = "attract"
    WELCOME = "welcome"
    BROWSING = "browsing"


#: Presence zones (``sensors.Zone`` values) that mean someone is at the kiosk.
PRESENT_ZONES = frozenset({"approaching", "engaged"})


@dataclass(frozen=True)
class SessionEnd:
    """A finished session, for the ``session.end`` event."""

    session_id: str
    reason: str
    duration_s: float
    touches: int
    pages: int


def new_session_id() -> str:
    """A time-ordered unique session id (UUIDv7)."""
    return str(uuid_utils.uuid7())


class SessionMachine:
    """Tracks one shopper session at a time; time comes from ``clock`` (monotonic seconds)."""

    def __init__(
        self,
        settings: KioskSection,
        *,
        clock: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._new_id = new_id
        self.state = SessionState.ATTRACT
        self.session_id: str | None = None
        self.started_at = 0.0
        self.last_touch = 0.0
        self.touches = 0
        self.pages = 0
        #: The latest presence zone ("away", "passing", ...), None = no sensor / unknown.
        self.zone: str | None = None
        self.present_since: float | None = None
        self.away_since: float | None = None
        self.attract_since = clock()
        #: Someone was seen at the kiosk during this session (the grace rule applies).
        self.seen = False

    @property
    def present(self) -> bool:
        """Someone is at the kiosk (as far as the sensor can tell)."""
        return self.zone in PRESENT_ZONES

    def touch(self) -> bool:
        """A finger touched the screen; True when this started a session."""
        now = self.clock()
        started = False
        if self.state == SessionState.ATTRACT:
            self._start(now)
            started = True
        elif self.state == SessionState.WELCOME:
            self.state = SessionState.BROWSING
        self.last_touch = now
        self.touches += 1
        return started

    def page_viewed(self) -> None:
        """The shopper got to another page (counted for ``session.end``)."""
        if self.session_id is not None:
            self.pages += 1

    def presence(self, zone: str) -> bool:
        """The sensor reports ``zone`` (``sensors.Zone`` value); True when this started a
        session."""
        now = self.clock()
        was_present = self.present
        self.zone = zone
        if self.present:
            self.away_since = None
            self.seen = True
            if not was_present:
                self.present_since = now
            if self.state == SessionState.ATTRACT:
                self._start(now)
                return True
        elif was_present or self.away_since is None:
            self.away_since = now
            self.present_since = None
        return False

    def tick(self) -> SessionEnd | None:
        """Check the timeouts; the session that ended now, if one did."""
        if self.state == SessionState.ATTRACT or self.session_id is None:
            return None
        now = self.clock()
        if self.present:
            return None
        untouched = now - self.last_touch
        if self.away_since is not None and self.seen:
            gone = now - self.away_since
            grace = self.settings.presence_grace_s
            if gone >= grace and untouched >= grace:
                return self.end("shopper left")
            # nobody touched and nobody was seen: counted from whichever happened last
            untouched = min(untouched, gone)
        if untouched >= self.settings.idle_timeout_s:
            return self.end("idle")
        return None

    def end(self, reason: str) -> SessionEnd | None:
        """End the session now (reload, staff, error, timeouts); None when there was none."""
        if self.session_id is None:
            self.state = SessionState.ATTRACT
            return None
        now = self.clock()
        finished = SessionEnd(
            session_id=self.session_id,
            reason=reason,
            duration_s=round(now - self.started_at, 3),
            touches=self.touches,
            pages=self.pages,
        )
        self.state = SessionState.ATTRACT
        self.session_id = None
        self.attract_since = now
        return finished

    def attract_due(self) -> bool:
        """True when the attract loop should move to its next page (and restarts its wait)."""
        if self.state != SessionState.ATTRACT:
            return False
        now = self.clock()
        if now - self.attract_since >= self.settings.attract_rotate_s:
            self.attract_since = now
            return True
        return False

    def _start(self, now: float) -> None:
        self.state = SessionState.WELCOME
        self.session_id = self._new_id()
        self.started_at = now
        self.last_touch = now
        self.touches = 0
        self.pages = 0
        self.seen = self.present
