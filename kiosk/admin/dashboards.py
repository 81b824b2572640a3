"""The dashboards page: how shoppers use the kiosk, refreshed every second (pyqtgraph).

The page only draws: :class:`~kiosk.admin.data.AdminData` runs the queries on its own thread
and hands a :class:`~kiosk.admin.data.DashboardSnapshot` over. Plot items are made once and
given new data, so a refresh costs a few milliseconds of the UI thread.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.admin import theme
from kiosk.admin.data import RATE_LINES, RATE_WINDOW_S, DashboardSnapshot

log = logging.getLogger(__name__)

LINE_COLOURS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8"]
FUNNEL_STEPS = [
    ("passed", "passed"),
    ("approached", "approached"),
    ("engaged", "engaged"),
    ("touched", "touched"),
    ("viewed_product", "viewed a product"),
]
#: Seconds in the moving average of the rate chart.
SMOOTH_S = 15
_TICK_FONT = QFont("DejaVu Sans", 14)


def _plot(title: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background=theme.PANEL)
    widget.setTitle(title, color=theme.TEXT, size="16pt")
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(x=False, y=False)
    widget.hideButtons()
    for name in ("left", "bottom"):
        axis = widget.getAxis(name)
        axis.setTickFont(_TICK_FONT)
        axis.setTextPen(theme.MUTED)
        axis.setPen(theme.MUTED)
    # no grid: its semi-transparent lines cost more to draw than all the data (software
    # rendering on a small PC), and the tick labels carry the scale
    return widget


class DashboardsPage(QWidget):
    """Six views: product rate with velocity, funnel, dwell, top products, pairs, traffic."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last: DashboardSnapshot | None = None
        self.updates = 0
        self.header = theme.label(
            "Waiting for the first figures…", theme.FONT_BODY, colour=theme.MUTED
        )

        self.rate_plot = _plot(
            f"Interactions per second per product ({SMOOTH_S} s average), "
            f"last {RATE_WINDOW_S // 60} min"
        )
        self.rate_plot.setXRange(-RATE_WINDOW_S, 0, padding=0)
        self.rate_plot.setLabel("bottom", "seconds ago", color=theme.MUTED)
        self.rate_lines = [
            self.rate_plot.plot([], [], pen=pg.mkPen(colour, width=2), skipFiniteCheck=True)
            for colour in LINE_COLOURS[:RATE_LINES]
        ]
        for line in self.rate_lines:
            # 3,000 two-pixel segments cost ~3 ms a paint in software rendering; the data
            # changes once a second, so repaints in between blit the cached pixmap
            line.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.rate_legend = theme.label("", theme.FONT_BODY)

        self.funnel_plot = _plot("Presence → touch funnel, today")
        self.funnel_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#4fc3f7")
        self.funnel_plot.addItem(self.funnel_bars)
        self.funnel_plot.invertY(True)
        self.funnel_plot.hideAxis("bottom")  # each bar carries its number
        self.funnel_plot.setYRange(-0.5, len(FUNNEL_STEPS) - 0.5, padding=0.02)
        self.funnel_plot.getAxis("left").setTicks(
            [[(i, t) for i, (_, t) in enumerate(FUNNEL_STEPS)]]
        )
        self.funnel_text: list[pg.TextItem] = []
        for _ in FUNNEL_STEPS:
            text = pg.TextItem("", color=theme.TEXT, anchor=(0, 0.5))
            text.setFont(QFont("DejaVu Sans", 16, QFont.Weight.Bold))
            self.funnel_plot.addItem(text)
            self.funnel_text.append(text)

        self.dwell_plot = _plot("Time on a page (seconds), today")
        self.dwell_bars = pg.BarGraphItem(x=[], height=[], width=1.0, brush="#81c784")
        self.dwell_plot.addItem(self.dwell_bars)

        self.top_plot = _plot("Top products today (top 10%)")
        self.top_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#ffb74d")
        self.top_plot.addItem(self.top_bars)
        self.top_plot.invertY(True)

        self.traffic_plot = _plot("Shoppers (blue) and touches by hour, today")
        self.traffic_sessions = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#4fc3f7")
        self.traffic_touches = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#ffb74d")
        self.traffic_plot.addItem(self.traffic_sessions)
        self.traffic_plot.addItem(self.traffic_touches)
        self.traffic_plot.setXRange(-0.6, 23.6, padding=0)
        self.traffic_plot.getAxis("bottom").setTicks([[(h, str(h)) for h in range(0, 24, 3)]])

        self.pairs_table = QTableWidget(0, 4)
        self.pairs_table.setHorizontalHeaderLabels(["product", "with", "support", "confidence"])
        self.pairs_table.verticalHeader().setVisible(False)
        self.pairs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pairs_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.pairs_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        theme.touch_scroll(self.pairs_table)
        pairs_box = QWidget()
        pairs_layout = QVBoxLayout(pairs_box)
        pairs_layout.setContentsMargins(0, 0, 0, 0)
        pairs_layout.addWidget(theme.label("Viewed together today", 26, bold=True))
        pairs_layout.addWidget(self.pairs_table, 1)

        rate_box = QWidget()
        rate_layout = QHBoxLayout(rate_box)
        rate_layout.setContentsMargins(0, 0, 0, 0)
        rate_layout.addWidget(self.rate_plot, 3)
        rate_layout.addWidget(self.rate_legend, 1)

        grid = QGridLayout()
        grid.setSpacing(14)
        grid.addWidget(rate_box, 0, 0, 1, 2)
        grid.addWidget(self.funnel_plot, 0, 2)
        grid.addWidget(self.top_plot, 1, 0)
        grid.addWidget(self.dwell_plot, 1, 1)
        grid.addWidget(self.traffic_plot, 1, 2)
        grid.addWidget(pairs_box, 2, 0, 1, 3)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Dashboards"))
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)

    def show_snapshot(self, snap: DashboardSnapshot) -> None:
        """Draw a fresh snapshot from the data thread."""
        self.last = snap
        self.updates += 1
        if snap.error:
            self.header.setText(f"⚠ {snap.error}")
            self.header.setStyleSheet(
                f"color: {theme.COLOURS['warn']}; font-size: {theme.FONT_BODY}px;"
            )
            return
        source = {"redis": "live from Redis", "sqlite": "from SQLite (Redis away)"}.get(
            snap.source, snap.source
        )
        parts = [source, time.strftime("%H:%M:%S", time.localtime(snap.now))]
        if snap.events_today is not None:
            parts.append(f"{snap.events_today:,} events today")
        if snap.unique_sessions is not None:
            parts.append(f"{snap.unique_sessions:,} shoppers today")
        self.header.setText("   ·   ".join(parts))
        self.header.setStyleSheet(f"color: {theme.MUTED}; font-size: {theme.FONT_BODY}px;")
        self._draw_rates(snap)
        self._draw_funnel(snap.funnel or {})
        self._draw_dwell(snap.dwell)
        self._draw_top(snap.top)
        self._draw_traffic(snap.traffic or [])
        self._draw_pairs(snap.pairs or [])

    def _draw_rates(self, snap: DashboardSnapshot) -> None:
        legend = []
        for index, line in enumerate(self.rate_lines):
            if index >= len(snap.trends):
                line.setData([], [])
                continue
            trend = snap.trends[index]
            # one point per second, zeros where nothing happened, so the line reads as a rate
            start = int(snap.now) - RATE_WINDOW_S
            counts = np.zeros(RATE_WINDOW_S + 1)
            for t, c in zip(trend.times, trend.counts, strict=True):
                slot = int(t) - start
                if 0 <= slot <= RATE_WINDOW_S:
                    counts[slot] += c
            # per-second counts of one product are mostly 0 or 1: a moving average reads
            # as a rate, where the raw counts read as a bar code
            smooth = np.convolve(counts, np.ones(SMOOTH_S) / SMOOTH_S, mode="same")
            line.setData(np.arange(-RATE_WINDOW_S, 1, dtype=float), smooth)
            arrow = "▲" if trend.velocity > 0 else ("▼" if trend.velocity < 0 else "•")
            colour = LINE_COLOURS[index]
            legend.append(
                f'<span style="color:{colour}">■</span> <b>{trend.sku}</b><br>'
                f"&nbsp;&nbsp;{trend.last_minute}/min {arrow}{abs(trend.velocity)}"
            )
        self.rate_legend.setText("<br>".join(legend) or "no product interactions yet")

    def _draw_funnel(self, funnel: dict[str, int]) -> None:
        values = [int(funnel.get(key, 0)) for key, _ in FUNNEL_STEPS]
        self.funnel_bars.setOpts(x0=[0] * len(values), y=list(range(len(values))), width=values)
        top = max(values) or 1
        self.funnel_plot.setXRange(0, top * 1.5, padding=0)
        for index, (text, value) in enumerate(zip(self.funnel_text, values, strict=True)):
            share = f" ({100 * value / values[0]:.0f}%)" if values[0] and index else ""
            text.setText(f"{value:,}{share}")
            text.setPos(value + top * 0.02, index)

    def _draw_dwell(self, dwell: tuple[list[float], list[int]] | None) -> None:
        if not dwell or not dwell[1]:
            self.dwell_bars.setOpts(x=[], height=[])
            return
        edges, counts = dwell
        centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        widths = [(edges[i + 1] - edges[i]) * 0.9 for i in range(len(counts))]
        self.dwell_bars.setOpts(x=centres, height=counts, width=widths)

    def _draw_top(self, top: list[tuple[str, float]]) -> None:
        self.top_bars.setOpts(x0=[0] * len(top), y=list(range(len(top))), width=[n for _, n in top])
        self.top_plot.getAxis("left").setTicks([[(i, sku) for i, (sku, _) in enumerate(top)]])
        if top:
            self.top_plot.setYRange(-0.5, len(top) - 0.5, padding=0)

    def _draw_traffic(self, traffic: list[tuple[int, int, int]]) -> None:
        hours = [h for h, _, _ in traffic]
        self.traffic_sessions.setOpts(x=[h - 0.2 for h in hours], height=[s for _, s, _ in traffic])
        self.traffic_touches.setOpts(x=[h + 0.2 for h in hours], height=[t for _, _, t in traffic])

    def _draw_pairs(self, pairs: list[tuple[str, str, float, float]]) -> None:
        table = self.pairs_table
        table.setRowCount(len(pairs))
        for row, (a, b, support, confidence) in enumerate(pairs):
            cells = [a, b, f"{100 * support:.1f}%", f"{100 * confidence:.0f}%"]
            for column, text in enumerate(cells):
                item = table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    item.setForeground(QColor(theme.TEXT))
                    if column >= 2:
                        item.setTextAlignment(
                            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                        )
                    table.setItem(row, column, item)
                if item.text() != text:
                    item.setText(text)
