"""Python's cyclic garbage collection, run on the UI thread only.

The collector runs in whichever thread happens to allocate: on the event log writer, the
sensor or the experience loader it would destroy Qt objects (pages, timers, animations caught in
reference cycles) off the UI thread, leaving their timers registered, and the next timer event
crashes the process. Automatic collection is switched off and each generation is collected on a
UI-thread timer when its count passes the threshold, as pyqtgraph's ``GarbageCollector`` does
(importing pyqtgraph for it cost the kiosk's start 1.6 s; benchmarks.boot).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class UiGarbageCollector(QObject):
    """Collects on the UI thread every ``interval_s`` seconds, generation by generation."""

    def __init__(self, interval_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval_s * 1000))

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds (young first)."""
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                return
            gc.collect(generation)

    def stop(self) -> None:
        """No more timed collections; automatic collection stays off (the app is ending)."""
        self.timer.stop()
