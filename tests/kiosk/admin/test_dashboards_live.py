"""Dashboards over the real interaction log: SQLite through ``storage.queries`` when Redis is
off, Redis through ``storage.redis_counters`` when it is up; figures follow events as they
arrive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.controller import AdminController
from kiosk.services import KioskServices
from localservers import RedisServer
from settings import KioskConfig, load_config
from storage import Event, EventLog
from storage.event import utc_iso
from tests.kiosk.admin.traffic import fill_log, shopper_events, start_log
from tests.support.admin import STAFF_PIN, Recorded, log_in, write_config
from tests.support.clock import FakeClock


def _open_dashboards(
    qtbot: Any, window: QWidget, services: KioskServices, clock: FakeClock
) -> AdminController:
    admin = AdminController(window, services, clock=clock)
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert admin.show_page("dashboards")
    return admin


def _refreshed(qtbot: Any, admin: AdminController, check: Any, timeout: int = 15_000) -> Any:
    """Tick until a snapshot satisfies ``check``; that snapshot."""
    page = admin.page_widgets["dashboards"]

    def done() -> bool:
        admin.tick()
        return page.last is not None and bool(check(page.last))

    qtbot.waitUntil(done, timeout=timeout)
    return page.last


@pytest.fixture
def event_log(config: KioskConfig) -> Iterator[EventLog]:
    log = start_log(config)
    yield log
    log.stop()


def test_dashboards_follow_sqlite(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    event_log: EventLog,
) -> None:
    fill_log(event_log, sessions=120)
    services = KioskServices(config=config, record=recorded, event_log=event_log)
    admin = _open_dashboards(qtbot, window, services, clock)
    try:
        first = _refreshed(qtbot, admin, lambda s: s.error is None and s.top)
        assert first.source == "sqlite"
        assert first.funnel is not None and first.funnel["passed"] >= first.funnel["touched"] > 0
        assert first.events_today and first.events_today > 0
        page = admin.page_widgets["dashboards"]
        assert page.funnel_bars.opts["width"][0] == first.funnel["passed"]
        # a new product takes off: it becomes the busiest in the rate chart
        for _ in range(200):
            event_log.append(
                Event.create(
                    "touch", session_id="s-new", page="product", payload={"sku": "SKU-HOT"}
                )
            )
        # the rates follow at once; the whole-log figures at their own (slower) pace
        later = _refreshed(
            qtbot,
            admin,
            lambda s: (
                s.trends
                and s.trends[0].sku == "SKU-HOT"
                and s.events_today >= first.events_today + 200
            ),
        )
        assert later.trends[0].last_minute >= 200
        assert "SKU-HOT" in page.rate_legend.text()
    finally:
        admin.shutdown()


def test_day_views_count_today_only(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
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
    services = KioskServices(config=config, record=recorded, event_log=event_log)
    admin = _open_dashboards(qtbot, window, services, clock)
    try:
        snap = _refreshed(qtbot, admin, lambda s: s.error is None and s.top)
        assert snap.events_today == len(today)
        skus = (
            {sku for sku, _ in snap.top} | {p[0] for p in snap.pairs} | {p[1] for p in snap.pairs}
        )
        assert not skus & {"SKU-OLD", "SKU-OLDER"}
        assert sum(t for _, _, t in snap.traffic) == today.count("touch")
        assert sum(s for _, s, _ in snap.traffic) == today.count("session.start")
        assert snap.funnel["touched"] == len(touched)
        assert snap.since is not None and snap.since <= snap.now < snap.since + 25 * 3600
        page = admin.page_widgets["dashboards"]
        titles = [page.funnel_plot, page.top_plot, page.dwell_plot, page.traffic_plot]
        assert all("today" in p.plotItem.titleLabel.text for p in titles)
    finally:
        admin.shutdown()


def test_dashboards_use_redis_when_it_is_up(
    qtbot: Any,
    window: QWidget,
    tmp_path: Path,
    recorded: Recorded,
    clock: FakeClock,
    redis_server: RedisServer,
) -> None:
    path = write_config(tmp_path / "etc-redis")
    config = load_config(
        path, env={"KIOSK_REDIS__URL": redis_server.url, "KIOSK_REDIS__ENABLED": "true"}
    )
    log = start_log(config)
    try:
        fill_log(log, sessions=60)
        services = KioskServices(config=config, record=recorded, event_log=log)
        admin = _open_dashboards(qtbot, window, services, clock)
        try:
            snap = _refreshed(
                qtbot, admin, lambda s: s.error is None and s.source == "redis" and s.top
            )
            assert snap.unique_sessions is not None and snap.unique_sessions > 0
            redis_server.stop()  # Redis goes away: the dashboards carry on from SQLite
            _refreshed(qtbot, admin, lambda s: s.error is None and s.source == "sqlite", 30_000)
        finally:
            admin.shutdown()
    finally:
        log.stop()
