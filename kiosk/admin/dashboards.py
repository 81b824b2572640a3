"""The dashboards page: how shoppers use the kiosk, refreshed every second (pyqtgraph).

The page only draws. Each second (:meth:`DashboardsPage.refresh`) it runs
:meth:`~kiosk.admin.dashboards_reader.DashboardsReader.read` through the kiosk's
:class:`~kiosk.tasks.TaskRunner`, on a lane of its own, and draws the
:class:`~kiosk.admin.dashboards_reader.DashboardSnapshot` that comes back on the UI thread.

What a frame costs the UI thread: a chart is given new data only when its figures changed,
and is drawn off screen into a picture the page shows
(:mod:`kiosk.admin.dashboards_charts`), so a repaint in between (the window's, a 60 Hz
probe's) copies pixmaps in Qt's C++, with no Python and so no wait for the GIL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.admin import theme
from kiosk.admin.dashboards_charts import CachedPlot, ChartTurns
from kiosk.admin.dashboards_reader import (
    RATE_LINES,
    RATE_STEP_S,
    RATE_WINDOW_S,
    SMOOTH_S,
    DashboardSnapshot,
    DashboardsReader,
)
from kiosk.tasks import TaskRunner

log = logging.getLogger(__name__)

LINE_COLOURS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8"]
FUNNEL_STEPS = [
    ("passed", "passed"),
    ("approached", "approached"),
    ("engaged", "engaged"),
    ("touched", "touched"),
    ("viewed_product", "viewed a product"),
]
#: The task lane the page's reads run on, one after the other.
READ_LANE = "dashboards"
_RATE_X = np.arange(-RATE_WINDOW_S, 1, RATE_STEP_S, dtype=float)


class DashboardsPage(QWidget):
    """Six views: product rate with velocity, funnel, dwell, top products, pairs, traffic.

    An :class:`~kiosk.admin.registry.AdminPage`: :meth:`refresh` asks ``reader`` for a
    snapshot through ``tasks`` (never two at once), :meth:`on_hide` lets the reader's child
    process go, :meth:`shutdown` ends it.
    """

    def __init__(
        self,
        *,
        reader: DashboardsReader | None = None,
        tasks: TaskRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.reader = reader
        self.tasks = tasks
        self.last: DashboardSnapshot | None = None
        self.updates = 0
        self._shown = False
        self._reading = False
        self._drawn: dict[str, object] = {}
        self.turns = ChartTurns(self)
        self.header = theme.label(
            "Waiting for the first figures…", theme.FONT_BODY, colour=theme.MUTED
        )
        self._build_rate()
        self._build_funnel()
        self._build_day_charts()
        self._build_pairs()
        self._lay_out()

    # --- AdminPage -------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Snapshots are drawn from now on."""
        self._shown = True

    def on_hide(self) -> None:
        """Snapshots are not drawn; the reader lets its child process go (reopened on the
        next refresh)."""
        self._shown = False
        if self.reader is not None and self.tasks is not None:
            self.tasks.run(self.reader.close, name="dashboards reader close", lane=READ_LANE)

    def refresh(self) -> None:
        """Ask for a fresh snapshot (dropped while the last one is being read)."""
        if self.reader is None or self.tasks is None or self._reading:
            return
        self._reading = True
        task = self.tasks.run(self.reader.read, name="dashboards read", lane=READ_LANE)
        task.on_success(self._arrived).on_failure(self._failed)

    def shutdown(self) -> None:
        """End the reader's child process and its Redis connection."""
        if self.reader is not None:
            self.reader.shutdown()

    def _arrived(self, snap: DashboardSnapshot) -> None:
        self._reading = False
        if self._shown:
            self.show_snapshot(snap)

    def _failed(self, error: Exception) -> None:
        self._reading = False
        self.show_snapshot(DashboardSnapshot(error=f"the dashboards' reader failed: {error}"))

    # --- building --------------------------------------------------------------------------

    def _build_rate(self) -> None:
        self.rate_plot = CachedPlot(
            f"Interactions per second per product ({SMOOTH_S} s average), "
            f"last {RATE_WINDOW_S // 60} min",
            self.turns,
        )
        self.rate_plot.setXRange(-RATE_WINDOW_S, 0, padding=0)
        self.rate_plot.setLabel("bottom", "seconds ago", color=theme.MUTED)
        self.rate_lines = [
            self.rate_plot.plot([], [], pen=pg.mkPen(colour, width=2), skipFiniteCheck=True)
            for colour in LINE_COLOURS[:RATE_LINES]
        ]
        self.rate_legend = theme.label("", theme.FONT_BODY)

    def _build_funnel(self) -> None:
        self.funnel_plot = CachedPlot("Presence → touch funnel, today", self.turns)
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

    def _build_day_charts(self) -> None:
        self.dwell_plot = CachedPlot("Time on a page (seconds), today", self.turns)
        self.dwell_bars = pg.BarGraphItem(x=[], height=[], width=1.0, brush="#81c784")
        self.dwell_plot.addItem(self.dwell_bars)

        self.top_plot = CachedPlot("Top products today (top 10%)", self.turns)
        self.top_bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush="#ffb74d")
        self.top_plot.addItem(self.top_bars)
        self.top_plot.invertY(True)

        self.traffic_plot = CachedPlot("Shoppers (blue) and touches by hour, today", self.turns)
        self.traffic_sessions = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#4fc3f7")
        self.traffic_touches = pg.BarGraphItem(x=[], height=[], width=0.4, brush="#ffb74d")
        self.traffic_plot.addItem(self.traffic_sessions)
        self.traffic_plot.addItem(self.traffic_touches)
        self.traffic_plot.setXRange(-0.6, 23.6, padding=0)
        self.traffic_plot.getAxis("bottom").setTicks([[(h, str(h)) for h in range(0, 24, 3)]])

    def _build_pairs(self) -> None:
        self.pairs_table = QTableWidget(0, 4)
        self.pairs_table.setHorizontalHeaderLabels(["product", "with", "support", "confidence"])
        self.pairs_table.verticalHeader().setVisible(False)
        self.pairs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pairs_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.pairs_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        theme.touch_scroll(self.pairs_table)

    def _lay_out(self) -> None:
        pairs_box = QWidget()
        pairs_layout = QVBoxLayout(pairs_box)
        pairs_layout.setContentsMargins(0, 0, 0, 0)
        pairs_layout.addWidget(theme.label("Viewed together today", 26, bold=True))
        pairs_layout.addWidget(self.pairs_table, 1)
        rate_box = QWidget()
        rate_layout = QHBoxLayout(rate_box)
        rate_layout.setContentsMargins(0, 0, 0, 0)
        rate_layout.addWidget(self.rate_plot.picture, 3)
        rate_layout.addWidget(self.rate_legend, 1)
        grid = QGridLayout()
        grid.setSpacing(14)
        grid.addWidget(rate_box, 0, 0, 1, 2)
        grid.addWidget(self.funnel_plot.picture, 0, 2)
        grid.addWidget(self.top_plot.picture, 1, 0)
        grid.addWidget(self.dwell_plot.picture, 1, 1)
        grid.addWidget(self.traffic_plot.picture, 1, 2)
        grid.addWidget(pairs_box, 2, 0, 1, 3)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Dashboards"))
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)

    # --- drawing ---------------------------------------------------------------------------

    def show_snapshot(self, snap: DashboardSnapshot) -> None:
        """Draw a fresh snapshot; a chart whose figures did not change is left alone."""
        self.last = snap
        self.updates += 1
        if snap.error:
            self.header.setText(f"⚠ {snap.error}")
            self.header.setStyleSheet(
                f"color: {theme.COLOURS['warn']}; font-size: {theme.FONT_BODY}px;"
            )
            return
        self.header.setText(_header_text(snap))
        self.header.setStyleSheet(f"color: {theme.MUTED}; font-size: {theme.FONT_BODY}px;")
        charts: tuple[tuple[str, object, Callable[[DashboardSnapshot], None]], ...] = (
            (
                "rates",
                [(t.sku, t.smooth, t.last_minute, t.velocity) for t in snap.trends],
                self._draw_rates,
            ),
            ("funnel", snap.funnel or {}, self._draw_funnel),
            ("dwell", snap.dwell, self._draw_dwell),
            ("top", snap.top, self._draw_top),
            ("traffic", snap.traffic or [], self._draw_traffic),
            ("pairs", snap.pairs or [], self._draw_pairs),
        )
        for name, figures, draw in charts:
            if self._drawn.get(name) != figures:
                self._drawn[name] = figures
                draw(snap)

    def _draw_rates(self, snap: DashboardSnapshot) -> None:
        legend = []
        for index, line in enumerate(self.rate_lines):
            if index >= len(snap.trends):
                line.setData([], [])
                continue
            trend = snap.trends[index]
            line.setData(_RATE_X, np.asarray(trend.smooth, dtype=float))
            arrow = "▲" if trend.velocity > 0 else ("▼" if trend.velocity < 0 else "•")
            colour = LINE_COLOURS[index]
            legend.append(
                f'<span style="color:{colour}">■</span> <b>{trend.sku}</b><br>'
                f"&nbsp;&nbsp;{trend.last_minute}/min {arrow}{abs(trend.velocity)}"
            )
        self.rate_legend.setText("<br>".join(legend) or "no product interactions yet")

    def _draw_funnel(self, snap: DashboardSnapshot) -> None:
        funnel = snap.funnel or {}
        values = [int(funnel.get(key, 0)) for key, _ in FUNNEL_STEPS]
        self.funnel_bars.setOpts(x0=[0] * len(values), y=list(range(len(values))), width=values)
        top = max(values) or 1
        self.funnel_plot.setXRange(0, top * 1.5, padding=0)
        for index, (text, value) in enumerate(zip(self.funnel_text, values, strict=True)):
            share = f" ({100 * value / values[0]:.0f}%)" if values[0] and index else ""
            text.setText(f"{value:,}{share}")
            text.setPos(value + top * 0.02, index)

    def _draw_dwell(self, snap: DashboardSnapshot) -> None:
        if not snap.dwell or not snap.dwell[1]:
            self.dwell_bars.setOpts(x=[], height=[])
            return
        edges, counts = snap.dwell
        centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        widths = [(edges[i + 1] - edges[i]) * 0.9 for i in range(len(counts))]
        self.dwell_bars.setOpts(x=centres, height=counts, width=widths)
        # the last bar holds every longer view: its edge says so ("240+")
        last = edges[len(counts) - 1]
        ticks = [(edge, f"{edge:g}") for edge in edges if edge % 60 == 0 and edge < last]
        self.dwell_plot.getAxis("bottom").setTicks([[*ticks, (last, f"{last:g}+")]])

    def _draw_top(self, snap: DashboardSnapshot) -> None:
        top = snap.top
        self.top_bars.setOpts(x0=[0] * len(top), y=list(range(len(top))), width=[n for _, n in top])
        self.top_plot.getAxis("left").setTicks([[(i, sku) for i, (sku, _) in enumerate(top)]])
        if top:
            self.top_plot.setYRange(-0.5, len(top) - 0.5, padding=0)

    def _draw_traffic(self, snap: DashboardSnapshot) -> None:
        traffic = snap.traffic or []
        hours = [h for h, _, _ in traffic]
        self.traffic_sessions.setOpts(x=[h - 0.2 for h in hours], height=[s for _, s, _ in traffic])
        self.traffic_touches.setOpts(x=[h + 0.2 for h in hours], height=[t for _, _, t in traffic])

    def _draw_pairs(self, snap: DashboardSnapshot) -> None:
        pairs = snap.pairs or []
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


def _header_text(snap: DashboardSnapshot) -> str:
    source = {"redis": "live from Redis", "sqlite": "from SQLite (Redis away)"}.get(
        snap.source, snap.source
    )
    parts = [source, time.strftime("%H:%M:%S", time.localtime(snap.now))]
    if snap.events_today is not None:
        parts.append(f"{snap.events_today:,} events today")
    if snap.unique_sessions is not None:
        parts.append(f"{snap.unique_sessions:,} shoppers today")
    if snap.backlog:
        parts.append(f"day figures being built: {snap.backlog:,} older events to go")
    return "   ·   ".join(parts)
