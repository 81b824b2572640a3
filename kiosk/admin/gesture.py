"""The hidden gesture that opens the PIN pad: N taps within T seconds in one corner.

Plain logic, no Qt, so the rule is easy to test and to read: only taps inside the corner
square count, a tap anywhere else starts the count again, and taps older than the window
drop out. One physical touch may arrive twice (as a touch and as the mouse press Qt makes
from it); presses closer together than :data:`DEBOUNCE_S` count once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from settings.model import AdminSection

#: Two presses closer than this are one tap (no finger taps 25 times a second).
DEBOUNCE_S = 0.04


def in_corner(x: float, y: float, width: float, height: float, corner: str, size: float) -> bool:
    """True when (x, y) lies in the ``size`` square at ``corner`` of a width x height area."""
    horizontal, vertical = corner.split("-")[1], corner.split("-")[0]
    in_x = x >= width - size if horizontal == "right" else x < size
    in_y = y < size if vertical == "top" else y >= height - size
    return in_x and in_y and 0 <= x < width and 0 <= y < height


class CornerTaps:
    """Counts taps in the configured corner; :meth:`tap` says when the gesture is done."""

    def __init__(
        self, settings: AdminSection, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.corner = settings.gesture_corner
        self.taps = settings.gesture_taps
        self.window_s = settings.gesture_window_s
        self.size = settings.gesture_area_px
        self._clock = clock
        self._times: deque[float] = deque()
        self._last = -1.0

    @property
    def count(self) -> int:
        """Taps counted towards the gesture right now."""
        return len(self._times)

    def reset(self) -> None:
        """Forget the taps counted so far."""
        self._times.clear()

    def covers(self, x: float, y: float, width: float, height: float) -> bool:
        """True when (x, y) of a width x height window is in the gesture's corner square."""
        return in_corner(x, y, width, height, self.corner, self.size)

    def tap(self, x: float, y: float, width: float, height: float) -> bool:
        """A press at (x, y) in a width x height window; True when it completes the gesture
        (the count then starts again)."""
        now = self._clock()
        if self._last >= 0 and now - self._last < DEBOUNCE_S:
            return False
        self._last = now
        if not self.covers(x, y, width, height):
            self._times.clear()
            return False
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) >= self.taps:
            self._times.clear()
            return True
        return False
