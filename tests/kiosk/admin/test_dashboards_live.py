"""Dashboards over the real interaction log, opened from the registry as staff open them:
SQLite (the writer's rollups and the rate window) when Redis is off, Redis through
``storage.redis_counters`` when it is up; figures follow events as they arrive; an older
database's rollups are built by the writer; the reader's child runs nicer than the kiosk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.controller import AdminController
from kiosk.admin.dashboards import DashboardsPage
from kiosk.admin.dashboards_reader import DashboardsReader
from kiosk.admin.statsprocess import NICE, StatsProcess
from localservers import RedisServer
from settings import KioskConfig, load_config
from storage import Event, EventLog
from storage.event import utc_iso
from storage.rollups import DayRollups
from tests.kiosk.admin.traffic import fill_log, shopper_events
from tests.support.admin import STAFF_PIN, log_in, write_config
from tests.support.clock import FakeClock


def _start(config: KioskConfig, *, rollups: bool = True) -> EventLog:
    hooks = [DayRollups(config.storage.retention_days)] if rollups else []
    log = EventLog(config, batch_hooks=hooks)
    log.start()
    return log


def _open_dashboards(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    make_admin: Callable[..., AdminController],
    **wiring: Any,
) -> tuple[AdminController, DashboardsPage]:
    admin = make_admin(**wiring)
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert admin.show_page("dashboards")
    page = admin.pages["dashboards"]
    assert isinstance(page, DashboardsPage)
    return admin, page


def _refreshed(
    qtbot: Any, admin: AdminController, page: DashboardsPage, check: Any, timeout: int = 15_000
) -> Any:
    """Tick until a snapshot satisfies ``check``; that snapshot."""

    def done() -> bool:
        admin.tick()
        return page.last is not None and bool(check(page.last))

    qtbot.waitUntil(done, timeout=timeout)
    return page.last


@pytest.fixture
def event_log(config: KioskConfig) -> Iterator[EventLog]:
    log = _start(config)
    yield log
    log.stop()


def test_dashboards_follow_sqlite(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    make_admin: Callable[..., AdminController],
    event_log: EventLog,
) -> None:
    fill_log(event_log, sessions=120)
    admin, page = _open_dashboards(qtbot, window, clock, make_admin, event_log=event_log)
    first = _refreshed(qtbot, admin, page, lambda s: s.error is None and s.top)
    assert first.source == "sqlite"
    assert first.funnel is not None and first.funnel["passed"] >= first.funnel["touched"] > 0
    assert first.events_today and first.events_today > 0
    assert first.backlog == 0
    assert page.funnel_bars.opts["width"][0] == first.funnel["passed"]
    # a new product takes off: it becomes the busiest in the rate chart, and the day counts
    for _ in range(200):
        event_log.append(
            Event.create("touch", session_id="s-new", page="product", payload={"sku": "SKU-HOT"})
        )
    later = _refreshed(
        qtbot,
        admin,
        page,
        lambda s: (
            s.trends and s.trends[0].sku == "SKU-HOT" and s.events_today == first.events_today + 200
        ),
    )
    assert later.trends[0].last_minute >= 200
    assert "SKU-HOT" in page.rate_legend.text()
    assert later.top[0] == ("SKU-HOT", 200.0)


def test_day_views_count_today_only(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    make_admin: Callable[..., AdminController],
    event_log: EventLog,
) -> None:
    """Top products, funnel, pairs and traffic say "today" and leave yesterday out."""
    yesterday = utc_iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=1))
    for n in range(300):
        sid = f"old-{n // 3}"
        for type_, sku in (("touch", "SKU-OLD"), ("page.view", "SKU-OLDER")):
            old = Event.create(type_, session_id=sid, page="product", payload={"sku": sku})
            event_log.append(dataclasses.replace(old, ts=yesterday))
    fill_log(event_log, sessions=120)
    rng = random.Random(7)  # fill_log's seed: the same shoppers
    events = [e for s in range(120) for e in shopper_events(s, rng)]
    today = [t for t, _ in events]
    touched = {f["session_id"] for t, f in events if t == "touch"}
    admin, page = _open_dashboards(qtbot, window, clock, make_admin, event_log=event_log)
    snap = _refreshed(
        qtbot, admin, page, lambda s: s.error is None and s.events_today == len(today)
    )
    skus = {sku for sku, _ in snap.top} | {p[0] for p in snap.pairs} | {p[1] for p in snap.pairs}
    assert not skus & {"SKU-OLD", "SKU-OLDER"}
    assert sum(t for _, _, t in snap.traffic) == today.count("touch")
    assert sum(s for _, s, _ in snap.traffic) == today.count("session.start")
    assert snap.funnel["touched"] == len(touched)
    assert snap.day == dt.date.today().isoformat()
    titles = [page.funnel_plot, page.top_plot, page.dwell_plot, page.traffic_plot]
    assert all("today" in p.plotItem.titleLabel.text for p in titles)


def test_an_older_database_is_built_by_the_writer(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    make_admin: Callable[..., AdminController],
    config: KioskConfig,
) -> None:
    """Events written without the rollups (a kiosk before them): the page says how many the
    day figures do not count yet; the writer with the rollups builds them as it writes."""
    old_writer = _start(config, rollups=False)
    written = fill_log(old_writer, sessions=80)
    old_writer.stop()
    log = _start(config)
    try:
        admin, page = _open_dashboards(qtbot, window, clock, make_admin, event_log=log)
        waiting = _refreshed(qtbot, admin, page, lambda s: s.error is None and s.backlog)
        assert waiting.backlog == written
        assert "older events to go" in page.header.text()
        log.append(Event.create("touch", session_id="s-now", payload={"sku": "SKU-NOW"}))
        built = _refreshed(qtbot, admin, page, lambda s: s.error is None and not s.backlog)
        assert built.events_today == written + 1
    finally:
        log.stop()


def test_the_reader_runs_nicer_than_the_kiosk(event_log: EventLog) -> None:
    stats = StatsProcess(event_log.database)
    try:
        assert stats.niceness() == min(19, os.nice(0) + NICE)
    finally:
        stats.close()


def test_dashboards_use_redis_when_it_is_up(
    qtbot: Any,
    window: QWidget,
    tmp_path: Path,
    clock: FakeClock,
    make_admin: Callable[..., AdminController],
    redis_server: RedisServer,
) -> None:
    path = write_config(tmp_path / "etc-redis")
    config = load_config(
        path, env={"KIOSK_REDIS__URL": redis_server.url, "KIOSK_REDIS__ENABLED": "true"}
    )
    log = _start(config)
    try:
        fill_log(log, sessions=60)
        admin, page = _open_dashboards(
            qtbot, window, clock, make_admin, event_log=log, config=config
        )
        snap = _refreshed(
            qtbot, admin, page, lambda s: s.error is None and s.source == "redis" and s.top
        )
        assert snap.unique_sessions is not None and snap.unique_sessions > 0
        redis_server.stop()  # Redis goes away: the dashboards carry on from SQLite
        _refreshed(qtbot, admin, page, lambda s: s.error is None and s.source == "sqlite", 30_000)
    finally:
        log.stop()


def test_a_read_after_shutdown_opens_no_child(event_log: EventLog) -> None:
    """The kiosk stops while a read is on its way: the read says so and leaves no process."""
    reader = DashboardsReader(event_log.database)
    assert reader.read().error is None
    assert len(multiprocessing.active_children()) == 1
    reader.shutdown()
    late = reader.read()
    assert late.error is not None and "shut down" in late.error
    assert multiprocessing.active_children() == []
