"""Simulated shoppers for demos and tests without a camera: seeded, so a seed always gives
the same afternoon in the shop.

Shoppers arrive at random (a Poisson process, ``sim_arrivals_per_min``). About six in ten
walk up to the kiosk, stay a while and walk off; the others pass by at a distance without
stopping. The sensor produces observations (distances), not images.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

from sensors.protocol import SensorDisconnected, SensorError
from sensors.state import Frame, Observation

log = logging.getLogger(__name__)

#: Where shoppers come from and go to (metres from the kiosk); beyond it nobody is seen.
HORIZON_M = 5.0
WALK_SPEED_M_S = (0.8, 1.4)
ENGAGE_STOP_M = (0.5, 0.9)
DWELL_S = (8.0, 60.0)
PASS_DISTANCE_M = (2.4, 3.3)
PASS_TIME_S = (2.0, 5.0)
ENGAGE_PROBABILITY = 0.6
SIMULATED_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class SimulatedShopper:
    """One simulated shopper: arrives at ``arrive_t`` (seconds of simulation time) and is
    seen until ``leave_t``; ``distance(t)`` says where."""

    arrive_t: float
    speed_m_s: float
    stop_m: float | None
    dwell_s: float
    pass_m: float

    @property
    def leave_t(self) -> float:
        """When the shopper is out of sight again."""
        if self.stop_m is None:
            return self.arrive_t + self.dwell_s
        walk = (HORIZON_M - self.stop_m) / self.speed_m_s
        return self.arrive_t + 2 * walk + self.dwell_s

    def distance(self, t: float) -> float | None:
        """Metres from the kiosk at time ``t``, or None when out of sight."""
        if t < self.arrive_t or t >= self.leave_t:
            return None
        if self.stop_m is None:
            return self.pass_m
        walk = (HORIZON_M - self.stop_m) / self.speed_m_s
        since = t - self.arrive_t
        if since < walk:
            return HORIZON_M - since * self.speed_m_s
        if since < walk + self.dwell_s:
            return self.stop_m
        return self.stop_m + (since - walk - self.dwell_s) * self.speed_m_s


class SimulatedSensor:
    """Seeded simulated shoppers (a :class:`~sensors.protocol.PresenceSensor`).

    Frame times start at 0 and advance by ``1/fps``. With ``realtime=True`` (the demo) frames
    come at that pace; otherwise as fast as they are read (tests). With ``autonomous=False``
    nobody arrives on their own: shoppers come only from :meth:`add_shopper` (the session
    generator ``python -m simulation`` drives them through the running kiosk).
    """

    def __init__(
        self,
        *,
        arrivals_per_min: float,
        seed: int,
        fps: float = 30.0,
        realtime: bool = True,
        first_arrival_s: float | None = None,
        autonomous: bool = True,
    ) -> None:
        if arrivals_per_min <= 0 or fps <= 0:
            raise ValueError("arrivals_per_min and fps must be positive")
        self._rate_per_s = arrivals_per_min / 60.0
        self._seed = seed
        self._fps = fps
        self._realtime = realtime
        self._first_arrival_s = first_arrival_s
        self._rng = random.Random(seed)
        self._shoppers: list[SimulatedShopper] = []
        self._next_arrival = 0.0
        self._index = 0
        self._start_mono: float | None = None
        self._opened = False
        self._autonomous = autonomous
        self._lock = threading.Lock()
        self._pending: list[tuple[float | None, float, float, float]] = []
        self._unplugged = False

    @property
    def model(self) -> str:
        """The name shown in the sensor's health."""
        return "simulated shoppers"

    @property
    def simulated(self) -> bool:
        """Always: these shoppers are invented."""
        return True

    def unplug(self) -> None:
        """Fault injection (the control socket's ``camera`` command, ``benchmarks.chaos``):
        from now on the sensor fails as an unplugged camera does, through the same path:
        :meth:`read` and :meth:`open` raise :class:`SensorDisconnected` until :meth:`plug`."""
        with self._lock:
            self._unplugged = True
        log.warning("simulated camera unplugged (fault injection)")

    def plug(self) -> None:
        """Undo :meth:`unplug`: the next :meth:`open` restarts the simulation from its seed."""
        with self._lock:
            self._unplugged = False
        log.warning("simulated camera plugged in again (fault injection)")

    def _check_plugged(self) -> None:
        with self._lock:
            if self._unplugged:
                raise SensorDisconnected("simulated camera unplugged (fault injection)")

    def open(self) -> None:
        """Restart the simulation from its seed."""
        self._check_plugged()
        self._rng = random.Random(self._seed)
        self._shoppers = []
        self._next_arrival = (
            self._first_arrival_s
            if self._first_arrival_s is not None
            else self._rng.expovariate(self._rate_per_s)
        )
        self._index = 0
        self._start_mono = None
        self._opened = True

    def read(self, timeout_s: float) -> Frame | None:
        """The next simulated frame (paced in real time when asked)."""
        if not self._opened:
            raise SensorError("simulated sensor read before open")
        self._check_plugged()
        t = self._index / self._fps
        if self._realtime:
            now = time.monotonic()
            if self._start_mono is None:
                self._start_mono = now
            due = self._start_mono + t
            if due - now > timeout_s:
                time.sleep(max(0.0, timeout_s))
                return None
            if due > now:
                time.sleep(due - now)
        self._index += 1
        return Frame(timestamp=t, observation=self.observe(t))

    def close(self) -> None:
        """Stop the simulation."""
        self._opened = False

    def observe(self, t: float) -> Observation:
        """What the simulated camera sees at time ``t`` (times must not go backwards)."""
        while self._autonomous and self._next_arrival <= t:
            self._shoppers.append(self._new_shopper(self._next_arrival))
            self._next_arrival += self._rng.expovariate(self._rate_per_s)
        with self._lock:
            pending, self._pending = self._pending, []
        for stop_m, dwell_s, speed_m_s, pass_m in pending:
            self._shoppers.append(
                SimulatedShopper(
                    arrive_t=t, speed_m_s=speed_m_s, stop_m=stop_m, dwell_s=dwell_s, pass_m=pass_m
                )
            )
        self._shoppers = [s for s in self._shoppers if s.leave_t > t]
        distances = [d for s in self._shoppers if (d := s.distance(t)) is not None]
        if not distances:
            return Observation(share=0.0, nearest_m=None, people=0)
        return Observation(
            share=SIMULATED_SHARE, nearest_m=round(min(distances), 3), people=len(distances)
        )

    def add_shopper(
        self,
        *,
        stop_m: float | None,
        dwell_s: float,
        speed_m_s: float = 1.1,
        pass_m: float = 3.0,
    ) -> None:
        """Send one shopper in now (any thread): they walk from the horizon to ``stop_m``
        metres, stay ``dwell_s`` seconds and walk off; ``stop_m=None`` passes by at ``pass_m``
        metres for ``dwell_s`` seconds."""
        if dwell_s < 0 or speed_m_s <= 0 or (stop_m is not None and not 0 < stop_m < HORIZON_M):
            raise ValueError(
                f"simulated shopper: stop_m must be within (0, {HORIZON_M}) m or None, "
                "dwell_s >= 0 and speed_m_s > 0"
            )
        with self._lock:
            self._pending.append((stop_m, dwell_s, speed_m_s, pass_m))

    def walk_time_s(self, stop_m: float, speed_m_s: float) -> float:
        """How long a shopper walking at ``speed_m_s`` takes from the horizon to ``stop_m``."""
        return (HORIZON_M - stop_m) / speed_m_s

    def _new_shopper(self, arrive_t: float) -> SimulatedShopper:
        rng = self._rng
        engages = rng.random() < ENGAGE_PROBABILITY
        return SimulatedShopper(
            arrive_t=arrive_t,
            speed_m_s=rng.uniform(*WALK_SPEED_M_S),
            stop_m=rng.uniform(*ENGAGE_STOP_M) if engages else None,
            dwell_s=rng.uniform(*DWELL_S) if engages else rng.uniform(*PASS_TIME_S),
            pass_m=rng.uniform(*PASS_DISTANCE_M),
        )
