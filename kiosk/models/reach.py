"""Reach mode: the page in the part of the screen a seated shopper or a child can reach.

From the config's mounting (``[reach]``: the reach height, where the screen's picture starts
above the floor and how high it is) follows the share of the screen below the reach height;
in reach mode the shopper window draws the page in that lower band only, scaled to fit, so
every touch target is below the reach line. A tap on a ``kiosk-action=reach`` shape (or the
kiosk's own reach button) turns it on and off; it is off again when the session ends.
Plain Python: the window asks where the line is.
"""

from __future__ import annotations

import math

from kiosk.models.shopper_mode import ShopperMode
from settings.model import ReachSection

#: The kiosk action that turns reach mode on and off.
REACH = "reach"


class ReachMode(ShopperMode):
    """Whether reach mode is on (the page shows below :meth:`line`), and where its line is
    on a screen (UI thread)."""

    def __init__(self, settings: ReachSection) -> None:
        super().__init__()
        self.settings = settings

    def line(self, height_px: int) -> int:
        """How far from the top of a ``height_px`` screen the reach band starts (window
        pixels, rounded down the screen): 0 when reach mode is off."""
        if not self.on:
            return 0
        return math.ceil(height_px * (1.0 - self.settings.share_in_reach()) - 1e-9)
