"""Dashboards: the page draws what the reader found, and draws a chart again only when its
figures changed."""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

from kiosk.admin import theme
from kiosk.admin.dashboards import FUNNEL_STEPS, DashboardsPage
from kiosk.admin.dashboards_charts import CachedPlot
from kiosk.admin.dashboards_reader import DashboardSnapshot, top_share, trends_from_rates


def sample_snapshot(now: float) -> DashboardSnapshot:
    """A busy afternoon, in the shapes the storage contract gives."""
    rates = [
        (now - s, f"SKU-{k:03d}", 1 + (s + k) % 3)
        for s in range(0, 600, 2)
        for k in range(1, 8)
        if (s * k) % 5 < 2
    ]
    trends, seen = trends_from_rates(rates, now)
    return DashboardSnapshot(
        source="sqlite",
        now=now,
        trends=trends,
        products_seen=seen,
        top=top_share([(f"SKU-{k:03d}", float(200 - 9 * k)) for k in range(1, 41)]),
        funnel={
            "passed": 1200,
            "approached": 640,
            "engaged": 410,
            "touched": 300,
            "viewed_product": 180,
        },
        dwell=(
            [0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300],
            [40, 90, 120, 80, 60, 40, 30, 20, 12, 6, 3, 1],
        ),
        pairs=[("SKU-001", "SKU-002", 0.12, 0.45), ("SKU-003", "SKU-001", 0.08, 0.31)],
        traffic=[(h, 10 + 3 * h, 25 + 5 * h) for h in range(8, 21)],
        events_today=48211,
        unique_sessions=None,
    )


def test_velocity_and_top_share() -> None:
    now = 10_000.0
    rates = [(now - 30, "A", 5), (now - 90, "A", 2), (now - 10, "B", 1), (now - 100, "B", 4)]
    trends, seen = trends_from_rates(rates, now)
    assert seen == 2
    assert [(t.sku, t.last_minute, t.previous_minute, t.velocity) for t in trends] == [
        ("A", 5, 2, 3),
        ("B", 1, 4, -3),
    ]
    rows = [(f"P{n}", float(n)) for n in range(1, 31)]
    assert top_share(rows) == [("P30", 30.0), ("P29", 29.0), ("P28", 28.0)]  # 10% of 30
    assert top_share(rows[:3]) == [("P3", 3.0)]  # at least one
    assert top_share([]) == []


def test_page_draws_a_snapshot(qtbot: Any) -> None:
    page = DashboardsPage()
    qtbot.addWidget(page)
    page.resize(1600, 1000)
    now = time.time()
    page.show_snapshot(sample_snapshot(now))
    assert "48,211 events today" in page.header.text()
    xs, ys = page.rate_lines[0].getData()
    assert len(xs) == 201 and xs[0] == -600 and xs[-1] == 0 and ys.sum() > 0
    assert page.funnel_bars.opts["width"] == [1200, 640, 410, 300, 180]
    assert page.funnel_text[4].toPlainText() == "180 (15%)"
    assert len(page.top_bars.opts["width"]) == 4  # top 10% of 40 products
    assert page.pairs_table.rowCount() == 2
    assert page.pairs_table.item(0, 3).text() == "45%"
    assert "SKU-" in page.rate_legend.text()
    # an error replaces the header, the last figures stay drawn
    page.show_snapshot(DashboardSnapshot(error="cannot read the statistics: disk I/O error"))
    assert "disk I/O error" in page.header.text()
    assert page.funnel_bars.opts["width"] == [1200, 640, 410, 300, 180]
    assert len(FUNNEL_STEPS) == 5


def _repaint_like_a_frame(page: DashboardsPage) -> None:
    """What the 60 Hz frame probe does: the window, then every scroll area's viewport."""
    page.repaint()
    for area in page.findChildren(QAbstractScrollArea):
        area.viewport().repaint()


def _frames(qtbot: Any, page: DashboardsPage, count: int) -> None:
    """``count`` frames, the event loop running in between (the scenes report changes in a
    later turn of it)."""
    for _ in range(count):
        qtbot.wait(20)
        _repaint_like_a_frame(page)


def _drawn_page(qtbot: Any) -> tuple[DashboardsPage, list[Any], DashboardSnapshot]:
    """A page on screen with a snapshot drawn (its charts took their turns, their axes
    settled), its charts, and the snapshot."""
    page = DashboardsPage()
    qtbot.addWidget(page)
    page.resize(1600, 1000)
    page.show()
    qtbot.waitExposed(page)
    charts = [page.rate_plot, page.funnel_plot, page.dwell_plot, page.top_plot, page.traffic_plot]
    snap = sample_snapshot(time.time())
    page.show_snapshot(snap)
    _frames(qtbot, page, 12)
    return page, charts, snap


def test_a_chart_is_drawn_again_only_when_its_figures_change(qtbot: Any) -> None:
    page, charts, snap = _drawn_page(qtbot)
    drawn = [chart.renders for chart in charts]
    assert all(drawn)
    _frames(qtbot, page, 5)  # frames without new figures copy the pictures
    page.show_snapshot(dataclasses.replace(snap))  # the same figures a second later
    _frames(qtbot, page, 5)
    assert [chart.renders for chart in charts] == drawn
    funnel = {**(snap.funnel or {}), "touched": 301}
    page.show_snapshot(dataclasses.replace(snap, funnel=funnel))
    _frames(qtbot, page, 5)
    assert [chart.renders for chart in charts] == [
        n + (c is page.funnel_plot) for n, c in zip(drawn, charts, strict=True)
    ]
    assert page.funnel_text[3].toPlainText() == "301 (25%)"


def _busier(snap: DashboardSnapshot) -> DashboardSnapshot:
    """``snap`` a moment later: every chart's figures changed."""
    return dataclasses.replace(
        snap,
        funnel={key: n + 7 for key, n in (snap.funnel or {}).items()},
        dwell=(snap.dwell[0], [n + 1 for n in snap.dwell[1]]) if snap.dwell else None,
        top=[(sku, n + 3) for sku, n in snap.top],
        traffic=[(h, s + 1, t + 2) for h, s, t in snap.traffic or []],
        trends=snap.trends[1:],
    )


def test_charts_changed_together_take_turns_to_draw(qtbot: Any) -> None:
    """After a refresh that changes every chart, each turn of the event loop draws one of
    them, never all at once, and a frame (a repaint of the whole page, as the 60 Hz probe
    makes) draws none: it shows the pictures drawn so far."""
    page, charts, snap = _drawn_page(qtbot)
    before = sum(chart.renders for chart in charts)
    page.show_snapshot(_busier(snap))
    QApplication.sendPostedEvents()  # the scenes report their changes
    assert page.turns.waiting == len(charts)
    assert sum(chart.renders for chart in charts) == before
    per_turn = []
    deadline = time.monotonic() + 20
    while page.turns.waiting and time.monotonic() < deadline:
        drawn = sum(chart.renders for chart in charts)
        QApplication.processEvents()  # one turn
        per_turn.append(sum(chart.renders for chart in charts) - drawn)
        drawn = sum(chart.renders for chart in charts)
        _repaint_like_a_frame(page)
        assert sum(chart.renders for chart in charts) == drawn, "a frame drew a chart"
        time.sleep(0.002)
    assert page.turns.waiting == 0, f"charts still waiting after 20 s: {page.turns.waiting}"
    assert max(per_turn) == 1
    assert sum(per_turn) == len(charts)


def test_a_frame_runs_no_python(qtbot: Any) -> None:
    """A repaint of the page runs in Qt's C++ alone: a Python call in it would wait for the
    GIL, up to 5 ms each while another thread of the kiosk runs Python (the event log's
    writer, the dashboards' lane)."""
    page, _, _ = _drawn_page(qtbot)
    called: list[str] = []

    def seen(frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            called.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    sys.setprofile(seen)
    try:
        _repaint_like_a_frame(page)
    finally:
        sys.setprofile(None)
    assert [c for c in called if not c.endswith(":_repaint_like_a_frame")] == []


def test_charts_show_on_the_page_as_pictures_of_their_size(qtbot: Any) -> None:
    """Each chart's picture is the chart drawn at the size its place on the page has, drawn
    again when the page is resized; the charts themselves are never on the screen."""
    page, charts, _ = _drawn_page(qtbot)
    for chart in charts:
        assert chart.picture.window() is page
        assert chart.window() is chart  # a window of its own, never shown on the screen
        assert chart.picture.pixmap().size() == chart.picture.size() == chart.size()
    assert page.findChildren(CachedPlot) == []  # none of them is painted with the page
    page.resize(1200, 800)

    def fitted() -> bool:
        return all(c.picture.pixmap().size() == c.picture.size() == c.size() for c in charts)

    assert not fitted()
    # until its new drawing is there, a view shows the panel colour, not old pixels
    assert all(c.picture.backgroundBrush().color() == QColor(theme.PANEL) for c in charts)
    qtbot.waitUntil(fitted, timeout=5000)
    # then nothing is painted under the drawing (neither the view's background nor the
    # style sheet's: each would fill the chart's area again in every frame)
    for chart in charts:
        assert chart.picture.backgroundBrush().style() == Qt.BrushStyle.NoBrush
        assert chart.picture.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    page.hide()
    assert not any(chart.isVisible() for chart in charts)
