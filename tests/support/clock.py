"""A clock the test moves by hand."""

from __future__ import annotations


class FakeClock:
    """Monotonic seconds that move only when the test says so (``advance``, or set ``now``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``."""
        self.now += seconds
