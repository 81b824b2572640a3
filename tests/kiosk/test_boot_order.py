"""The boot order (issue 17): the shopper window paints its first page before the event log,
the presence service and the uplink start; those start behind it, off the UI thread; every
interaction recorded before the event log was up reaches the real SQLite file, including
when the kiosk is stopped while its parts are still starting."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kiosk.app import BackgroundParts, Kiosk
from kiosk.models.interactions import MemorySink
from kiosk.screen.window import KioskWindow
from kiosk.service_watchdog import FirstPaint
from settings import KioskConfig
from tests.support.drawings import FEATURES


def boot_config(config: KioskConfig) -> KioskConfig:
    """The kiosk config fixture on the features drawing, touch only, no uplink."""
    config.kiosk.experience = FEATURES
    config.sensors.type = "none"
    config.uplink.enabled = False
    return config


def tap_element(window: KioskWindow, element_id: str) -> None:
    """A real mouse click on the element, as a shopper's finger."""
    point = window.view.touch_point(element_id)
    assert point is not None, element_id
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


def kept_ids(kiosk: Kiosk) -> list[str]:
    """The ids of the interactions kept in memory while no event log is up."""
    sink = kiosk.recorder.sink
    assert isinstance(sink, MemorySink), "the event log is up already"
    return [event.id for event in sink.events]


def stored(database: Path) -> list[tuple[str, str]]:
    """The events (id, type) in the SQLite file, in the order they were written."""
    with sqlite3.connect(database) as conn:
        return [
            (row[0], row[1]) for row in conn.execute("SELECT id, type FROM events ORDER BY seq")
        ]


def writers_running() -> list[str]:
    """The event log writer threads still running in this process."""
    return [t.name for t in threading.enumerate() if t.name == "event-log-writer"]


def first_interactions(qtbot: Any, kiosk: Kiosk) -> list[str]:
    """Show the window, wait for its first paint, tap into a session: the ids recorded
    (in memory: nothing else has started)."""
    window = kiosk.start_window()
    qtbot.addWidget(window)
    painted: list[bool] = []
    FirstPaint(window.view, lambda: painted.append(True))
    qtbot.waitUntil(lambda: painted == [True], timeout=10_000)
    assert kiosk.parts() == (None, None, None)
    tap_element(window, "start")
    assert window.current_page() == "home"
    ids = kept_ids(kiosk)
    assert len(ids) >= 2  # the session's start and the touch at least
    return ids


@pytest.fixture
def painted(qtbot: Any, config: KioskConfig) -> Iterator[tuple[Kiosk, list[str]]]:
    """A kiosk on its first page with a session tapped into and nothing else started; the
    ids of the interactions it kept in memory. Stopped at the end (a second stop is
    harmless)."""
    kiosk = Kiosk(boot_config(config))
    try:
        yield kiosk, first_interactions(qtbot, kiosk)
    finally:
        kiosk.stop()


def test_the_first_page_is_painted_before_the_parts_start_and_nothing_is_lost(
    qtbot: Any, painted: tuple[Kiosk, list[str]]
) -> None:
    kiosk, before = painted
    kiosk.start_behind()
    qtbot.waitUntil(lambda: kiosk.started, timeout=30_000)
    assert kiosk.event_log is not None and kiosk.presence is not None
    assert kiosk.admin is not None
    assert kiosk.recorder.sink is kiosk.event_log
    assert kiosk.window is not None
    tap_element(kiosk.window, "toggle-btn")  # recorded straight into the event log
    kiosk.stop()
    assert kiosk.event_log is not None
    events = stored(kiosk.event_log.database)
    assert [ident for ident, _ in events[: len(before)]] == before  # kept, written first
    later = [type for _, type in events[len(before) :]]
    assert later[0] == "touch" and later[-1] == "session.end"


def assert_stopped_and_written(parts: BackgroundParts, before: list[str]) -> None:
    """The parts' threads are gone; the SQLite file holds the interactions kept in memory
    (first, in order) and ends with the session the stop ended."""
    assert parts.event_log is not None and parts.presence is not None
    assert writers_running() == []
    assert not parts.presence.running
    events = stored(parts.event_log.database)
    assert [ident for ident, _ in events[: len(before)]] == before
    assert events[-1][1] == "session.end"


def test_a_stop_while_the_parts_start_stops_them_and_writes_what_was_kept(
    painted: tuple[Kiosk, list[str]],
) -> None:
    kiosk, before = painted
    kiosk.start_behind()
    # no turn of the event loop: the started parts are never handed to the UI thread (they
    # finish starting before the stop, or after it began: both ways they are stopped)
    kiosk.stop()
    assert not kiosk.started and kiosk.admin is None
    assert_stopped_and_written(BackgroundParts(kiosk.event_log, presence=kiosk.presence), before)


def test_parts_started_but_not_taken_in_yet_are_stopped_with_the_kiosk(
    painted: tuple[Kiosk, list[str]],
) -> None:
    kiosk, before = painted
    parts = kiosk.start_parts()  # as the boot lane does; its result not delivered yet
    assert kiosk.parts() == (None, None, None)
    kiosk.stop()
    assert kiosk.parts() == (parts.event_log, parts.presence, None)
    assert_stopped_and_written(parts, before)


def test_parts_that_finish_starting_after_the_stop_stop_themselves(
    painted: tuple[Kiosk, list[str]],
) -> None:
    kiosk, before = painted
    kiosk.stop()
    # the boot lane finishing after the stop gave up waiting for it
    parts = kiosk.start_parts()
    assert kiosk.adopt() is None  # nothing left for the UI thread to take in
    assert_stopped_and_written(parts, before)


def test_a_kiosk_stopped_before_its_first_paint_starts_nothing_behind_it(
    painted: tuple[Kiosk, list[str]],
) -> None:
    kiosk, _before = painted
    kiosk.stop()  # SIGTERM while the first page was on its way
    kiosk.start_behind()  # the first paint's callback, late
    assert kiosk.parts() == (None, None, None) and not kiosk.started
    assert writers_running() == []


def test_a_fleet_shadow_that_fails_unexpectedly_leaves_the_other_parts_taken_in(
    qtbot: Any, painted: tuple[Kiosk, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the shadow's own failures are ShadowError (handled in kiosk.fleet_shadow); this is any
    # other, e.g. a bug: the event log started before it must still be taken in
    import kiosk.fleet_shadow

    def broken(*_args: object) -> None:
        raise RuntimeError("unexpected failure in the shadow's start")

    monkeypatch.setattr(kiosk.fleet_shadow, "start_shadow", broken)
    kiosk_, before = painted
    kiosk_.config.fleet.shadow = True
    kiosk_.start_behind()
    qtbot.waitUntil(lambda: kiosk_.started, timeout=30_000)
    assert kiosk_.shadow is None
    assert kiosk_.event_log is not None and kiosk_.recorder.sink is kiosk_.event_log
    kiosk_.stop()
    assert_stopped_and_written(BackgroundParts(kiosk_.event_log, presence=kiosk_.presence), before)
