"""A mode the shopper turns on and off with one tap, off again when the session ends (reach
mode, large text)."""

from __future__ import annotations


class ShopperMode:
    """On or off (UI thread)."""

    def __init__(self) -> None:
        #: The mode is on.
        self.on = False

    def toggle(self) -> bool:
        """A tap on the mode's button: on when off, off when on; the new state."""
        self.on = not self.on
        return self.on

    def off(self) -> bool:
        """The mode off (the session ended); True when it was on."""
        was, self.on = self.on, False
        return was
