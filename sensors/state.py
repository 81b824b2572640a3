"""What the sensors package tells the rest of the kiosk: presence states and sensor health.

Only these small values ever leave the sensor thread; camera frames never do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


class HealthStatus(enum.StrEnum):
    """The sensor's own state, as the admin panel shows it. A ``str`` enum: each member
    equals its lowercase value (``HealthStatus.NO_DEVICE == "no_device"``), which is also
    what the control socket's JSON and ``kiosk-sensor`` print."""

    #: Frames arrive; presence states are current.
    OK = "ok"
    #: No camera is connected (or not the configured serial number); retried.
    NO_DEVICE = "no_device"
    #: The camera went away or stopped sending while streaming; reopened with backoff.
    RECONNECTING = "reconnecting"
    #: A recording or script has no more frames (final).
    FILE_ENDED = "file_ended"
    #: The sensor failed in a way reopening cannot heal (final): see the message.
    ERROR = "error"
    #: Presence sensing is switched off, or the service has not started (final).
    OFF = "off"


class Zone(enum.Enum):
    """Where the nearest shopper is, by distance from the kiosk (thresholds in
    ``[sensors.zones]``): nobody (or farther than ``passing_m``), passing by, approaching
    (wakes the kiosk) or engaged (at the screen)."""

    AWAY = "away"
    PASSING = "passing"
    APPROACHING = "approaching"
    ENGAGED = "engaged"

    @property
    def rank(self) -> int:
        """0 for AWAY up to 3 for ENGAGED: how close the zone is to the screen."""
        return _ZONE_RANK[self]


_ZONE_RANK = {Zone.AWAY: 0, Zone.PASSING: 1, Zone.APPROACHING: 2, Zone.ENGAGED: 3}


@dataclass(frozen=True, slots=True)
class PresenceState:
    """The presence in front of the kiosk at one frame.

    ``distance_m`` is the nearest person's distance (None when nobody is seen), ``people``
    the number of people seen, ``looking`` whether a frontal face looks at the screen (None
    when face detection is off or impossible), ``timestamp`` the frame's own clock in
    seconds (camera time for a RealSense, file time for a recording: compare timestamps of
    one source only). ``simulated`` is True when the sensor invents its shoppers (simulated
    presence): whatever the state causes is marked simulated.
    """

    zone: Zone
    distance_m: float | None
    people: int
    looking: bool | None
    timestamp: float
    simulated: bool = False

    def same_presence(self, other: PresenceState | None) -> bool:
        """True when ``other`` has the same zone, people count and looking flag (the
        fields whose change is reported; distance and time always move)."""
        return (
            other is not None
            and other.zone is self.zone
            and other.people == self.people
            and other.looking == self.looking
        )

    def to_json_dict(self) -> dict[str, object]:
        """A JSON-ready dict (zone as its lowercase value)."""
        return {
            "zone": self.zone.value,
            "distance_m": self.distance_m,
            "people": self.people,
            "looking": self.looking,
            "timestamp": self.timestamp,
            "simulated": self.simulated,
        }


@dataclass(frozen=True, slots=True)
class SensorHealth:
    """A snapshot of the sensor's health, made on the sensor thread and read directly by
    any thread (frozen: never changed after it is made)."""

    #: The sensor's state (see :class:`HealthStatus`).
    status: HealthStatus
    #: One line staff can act on ("" when all is well).
    message: str = ""
    #: The camera's name and serial, the recording's file name, or the backend's name.
    model: str = ""
    #: Frames per second, smoothed over the last frames (0.0 before the second frame).
    fps: float = 0.0
    #: Seconds since the last frame when the snapshot was made (None before the first).
    last_frame_age_s: float | None = None
    #: True when the sensor invents its shoppers (simulated presence: no camera at all).
    simulated: bool = False

    def __post_init__(self) -> None:
        # A status given by its value ("no_device", as tests and scripts write it) becomes
        # the member, so ``is`` comparisons hold; an unknown one is a ValueError naming it.
        object.__setattr__(self, "status", HealthStatus(self.status))

    @property
    def online(self) -> bool:
        """True when presence states are current (the kiosk may rely on them)."""
        return self.status is HealthStatus.OK


@dataclass(frozen=True, slots=True)
class Observation:
    """What one frame shows before hysteresis and dwell timers: the foreground share of the
    region of interest (0..1), the nearest person's distance, the number of people and,
    when known, whether someone looks at the screen."""

    share: float
    nearest_m: float | None
    people: int
    looking: bool | None = None


#: Nothing seen.
EMPTY = Observation(share=0.0, nearest_m=None, people=0)


@dataclass(slots=True)
class Frame:
    """One frame from a sensor, for the sensor thread only (never stored or sent).

    ``timestamp`` is the frame's own clock in seconds. ``depth`` is HxW, either integer depth
    units (``depth_scale`` metres each, as a RealSense gives them) or float metres
    (``depth_scale`` ignored); 0 means no depth (a hole). ``color`` is HxWx3 BGR uint8.
    Sources that already know what they see (simulated shoppers, scripted distances) fill
    ``observation`` instead of images.
    """

    timestamp: float
    depth: npt.NDArray[np.generic] | None = None
    depth_scale: float = 0.001
    color: npt.NDArray[np.uint8] | None = None
    observation: Observation | None = None
