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
- A camera that stops (unplugged, failed, its recording ended: ``sensor_online(False)``)
  no longer says where anyone is: the machine falls back to touch-only timing at once. A
  shopper who was seen there gets ``idle_timeout_s`` from that moment (or from their last
  touch, if later); the session then ends with reason "camera lost" (plain "idle" when
  they touched after the camera went).
- Simulated presence (``presence(zone, simulated=True)``) marks the session it starts, or
  joins, as simulated: every event of it is then recorded ``simulated``.
- Staff: while the admin pad or panel is up (``staff_arrived``) the person at the kiosk is
  staff. Their presence starts no session and is not a shopper's; the shopper's session,
  if any, has ended ("staff"). After the panel closes, presence counts again only once
  the person seen there has gone (the zone dropped below APPROACHING).
- "Still there?": an idle session (touch-only timing: nobody touched and nobody is seen, or
  the camera was lost) gets a prompt in the last ``still_there_s`` of its idle time (at
  most half of ``idle_timeout_s``). The prompt does not move the end: ignored, the session
  ends when it would have (its ``SessionEnd.prompted`` says a prompt was up); a touch, or
  someone seen at the kiosk, keeps the session and takes the prompt down. A shopper the
  sensor saw leave ("shopper left") gets no prompt.
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
    """A finished session, for the ``session.end`` event (``simulated``: simulated presence
    started or joined it, so its events are marked simulated)."""

    session_id: str
    reason: str
    duration_s: float
    touches: int
    pages: int
    simulated: bool = False
    #: The "Still there?" prompt was up, unanswered, when the session ended.
    prompted: bool = False


@dataclass(frozen=True)
class PromptAnswer:
    """The "Still there?" prompt was answered (``by`` "touch" or "presence") ``after_s``
    seconds after it showed: the session goes on."""

    by: str
    after_s: float


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
        #: The latest zone came from simulated presence.
        self.zone_simulated = False
        self.present_since: float | None = None
        self.away_since: float | None = None
        self.attract_since = clock()
        #: Someone was seen at the kiosk during this session (the grace rule applies).
        self.seen = False
        #: Simulated presence started or joined this session: its events are simulated.
        self.simulated = False
        #: The camera stopped while a shopper of this session was seen (monotonic time).
        self.camera_lost_at: float | None = None
        #: The admin pad or panel is up: whoever is at the kiosk is staff.
        self.staff = False
        #: The panel has closed but the person who used it is still seen at the kiosk.
        self.staff_lingering = False
        #: When the "Still there?" prompt showed (monotonic), None while it is not up.
        self.prompt_since: float | None = None
        #: When the session ends if nobody answers the prompt (monotonic).
        self.prompt_until = 0.0
        #: The last answer to the prompt, until :meth:`take_answer` hands it over.
        self._answer: PromptAnswer | None = None

    @property
    def present(self) -> bool:
        """Someone is at the kiosk (as far as the sensor can tell)."""
        return self.zone in PRESENT_ZONES

    @property
    def prompting(self) -> bool:
        """The "Still there?" prompt is up."""
        return self.prompt_since is not None

    def prompt_left(self) -> float:
        """Seconds until the session ends unless someone answers the prompt (0 when no
        prompt is up)."""
        if self.prompt_since is None:
            return 0.0
        return max(0.0, self.prompt_until - self.clock())

    def prompt_length(self) -> float:
        """How long the prompt counts down: ``still_there_s``, at most half the idle time."""
        return min(self.settings.still_there_s, self.settings.idle_timeout_s / 2)

    def take_answer(self) -> PromptAnswer | None:
        """The prompt's answer since the last call (a touch or presence took it down)."""
        answer, self._answer = self._answer, None
        return answer

    def _answered(self, by: str) -> None:
        if self.prompt_since is not None:
            self._answer = PromptAnswer(by, round(self.clock() - self.prompt_since, 3))
            self.prompt_since = None

    @property
    def staff_at_kiosk(self) -> bool:
        """The person the sensor sees is staff (the panel is up, or was and they are still
        there): their presence is not a shopper's and is not recorded."""
        return self.staff or self.staff_lingering

    def touch(self) -> bool:
        """A finger touched the screen; True when this started a session."""
        now = self.clock()
        started = False
        if self.state == SessionState.ATTRACT:
            self._start(now)
            started = True
        elif self.state == SessionState.WELCOME:
            self.state = SessionState.BROWSING
        self._answered("touch")
        self.last_touch = now
        self.touches += 1
        return started

    def page_viewed(self) -> None:
        """The shopper got to another page (counted for ``session.end``)."""
        if self.session_id is not None:
            self.pages += 1

    def presence(self, zone: str, *, simulated: bool = False) -> bool:
        """The sensor reports ``zone`` (``sensors.Zone`` value), ``simulated`` when the
        sensor invents its shoppers; True when this started a session."""
        now = self.clock()
        was_present = self.present
        self.zone = zone
        self.zone_simulated = simulated
        self.camera_lost_at = None  # the sensor is back: its reports rule again
        if self.present:
            self.away_since = None
            if not was_present:
                self.present_since = now
            if self.staff_at_kiosk:
                return False
            self.seen = True
            self._answered("presence")
            if self.state == SessionState.ATTRACT:
                self._start(now)
                return True
            self.simulated = self.simulated or simulated
        else:
            self.staff_lingering = False
            if was_present or self.away_since is None:
                self.away_since = now
                self.present_since = None
        return False

    def sensor_online(self, online: bool) -> None:
        """The sensor's health changed: ``online`` False when it stopped giving presence
        (unplugged, failed, its recording ended). Touch-only timing from now on: the last
        zone no longer holds the session open, and the grace rule no longer applies."""
        if online or self.zone is None:
            return
        if self.session_id is not None and self.present and not self.staff_at_kiosk:
            self.camera_lost_at = self.clock()
        self.zone = None
        self.present_since = None
        self.away_since = None
        self.seen = False
        self.staff_lingering = False

    def staff_arrived(self) -> SessionEnd | None:
        """The admin pad or panel opened: the shopper's session (if any) ends with reason
        "staff", and presence is staff's until :meth:`staff_left`."""
        self.staff = True
        return self.end("staff")

    def staff_left(self) -> None:
        """The admin panel closed; the person seen at the kiosk stays staff until they go."""
        self.staff = False
        self.staff_lingering = self.present

    def tick(self) -> SessionEnd | None:
        """Check the timeouts (and put the "Still there?" prompt up when its time has
        come); the session that ended now, if one did."""
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
        lost = self.camera_lost_at
        if lost is not None and lost > self.last_touch:
            # the shopper was last known to be there when the camera went
            return self._idle(now, now - lost, "camera lost")
        return self._idle(now, untouched, "idle")

    def _idle(self, now: float, idle_s: float, reason: str) -> SessionEnd | None:
        """Touch-only timing: nobody touched or was seen for ``idle_s``; the prompt goes up
        in the last ``prompt_length()`` seconds, the session ends at ``idle_timeout_s``."""
        left = self.settings.idle_timeout_s - idle_s
        if left <= 0:
            return self.end(reason)
        countdown = self.prompt_length()
        if countdown > 0 and left <= countdown and self.prompt_since is None:
            self.prompt_since = now
            self.prompt_until = now + left
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
            simulated=self.simulated,
            prompted=self.prompt_since is not None,
        )
        self.prompt_since = None
        self._answer = None
        self.state = SessionState.ATTRACT
        self.session_id = None
        self.simulated = False
        self.camera_lost_at = None
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
        self.seen = self.present and not self.staff_at_kiosk
        self.simulated = self.seen and self.zone_simulated
        self.camera_lost_at = None
        self.prompt_since = None
        self._answer = None
