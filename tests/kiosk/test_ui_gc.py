"""Cyclic garbage is collected on the UI thread's timer, never on the thread that made it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from kiosk.ui_gc import UiGarbageCollector


class Cycle:
    """An object in a reference cycle that says on which thread it was finalised."""

    finalised_on: list[str] = []  # noqa: RUF012 (shared by the instances on purpose)

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Cycle.finalised_on.append(threading.current_thread().name)


@pytest.fixture
def collector(qtbot: Any) -> Iterator[UiGarbageCollector]:
    was_enabled = gc.isenabled()
    gc.enable()  # as in a fresh process: the collector is what switches it off
    gc.collect()
    Cycle.finalised_on.clear()
    collector = UiGarbageCollector(0.05)
    yield collector
    collector.stop()
    if not was_enabled:
        gc.disable()


def test_cycles_made_on_a_worker_are_collected_on_the_ui_thread(
    qtbot: Any, collector: UiGarbageCollector
) -> None:

    def make_garbage() -> None:
        # well past generation 0's threshold: an automatic collection would run right here
        for _ in range(5 * gc.get_threshold()[0]):
            Cycle()

    worker = threading.Thread(target=make_garbage, name="worker")
    worker.start()
    worker.join()
    assert Cycle.finalised_on == []
    qtbot.waitUntil(lambda: len(Cycle.finalised_on) > 0, timeout=10_000)
    assert set(Cycle.finalised_on) == {threading.main_thread().name}
