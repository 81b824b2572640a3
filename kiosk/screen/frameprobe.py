"""UI frame time, measured the way a shopper feels it.

A 60 Hz screen asks for a frame every 16.7 ms. While the probe runs, it wakes at each of
those moments and repaints the window; a frame's time is how late the UI thread was to
start it (it was busy with something else) plus how long the repaint took (the window and
the graphics views that show the pages). A UI thread that never waits on I/O keeps this
under 16.7 ms; a blocking call shows up as a long frame. The probe costs a full repaint per
frame, so it runs only when asked (benchmarks, soak).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

#: The frame period of a 60 Hz screen.
FRAME_S = 1 / 60
#: Frames kept for the percentiles (ten minutes at 60 Hz).
KEEP = 36_000


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values`` by nearest rank; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class FrameProbe(QObject):
    """Measures frame times of ``widget`` at 60 Hz while started."""

    def __init__(self, widget: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._widget = widget
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._frame)
        self._frames: deque[float] = deque(maxlen=KEEP)
        self._due = 0.0

    @property
    def running(self) -> bool:
        """Whether frames are being measured."""
        return self._timer.isActive()

    def start(self) -> None:
        """Begin measuring (a running probe goes on)."""
        if self._timer.isActive():
            return
        self._due = time.perf_counter() + FRAME_S
        self._timer.start(int(FRAME_S * 1000))

    def stop(self) -> None:
        """Stop measuring; the frames measured so far stay for :meth:`summary`."""
        self._timer.stop()

    def frames_ms(self) -> list[float]:
        """Every frame time kept, in milliseconds."""
        return [f * 1000 for f in self._frames]

    def summary(self, *, reset: bool = False) -> dict[str, Any]:
        """Count, p50, p99 and max frame time in milliseconds."""
        frames = self.frames_ms()
        if reset:
            self._frames.clear()
        return {
            "count": len(frames),
            "p50_ms": round(percentile(frames, 0.50), 3),
            "p99_ms": round(percentile(frames, 0.99), 3),
            "max_ms": round(max(frames, default=0.0), 3),
        }

    def _repaint(self) -> None:
        """Paint the window now, and the viewport of every visible scroll area in it (the
        pages' graphics views): a window's own repaint does not redraw those."""
        self._widget.repaint()
        for area in self._widget.findChildren(QAbstractScrollArea):
            if area.isVisible():
                area.viewport().repaint()

    def _frame(self) -> None:
        start = time.perf_counter()
        late = max(0.0, start - self._due)
        self._repaint()
        self._frames.append(late + time.perf_counter() - start)
        # The next frame is due at the next screen refresh after now: frames missed while
        # the thread was busy are not owed, they were already counted as this late one.
        periods = int((time.perf_counter() - self._due) / FRAME_S) + 1
        self._due += max(1, periods) * FRAME_S
