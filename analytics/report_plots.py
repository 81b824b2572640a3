"""The daily report's plots: matplotlib figures drawn off-screen (Agg) into PNG bytes.

Figures are made with :class:`matplotlib.figure.Figure` and its Agg canvas directly, not
through pyplot, so no GUI backend is chosen and nothing is kept in a global figure list.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analytics.report_figures import DayReport
from analytics.report_health import KioskHealth

TODAY = "#1f5f99"
USUAL = "#b0b7bf"
WARN = "#c0392b"
_SIZE = (7.2, 2.3)


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=110)
    return out.getvalue()


def _figure(height: float = _SIZE[1]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(_SIZE[0], height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def sessions_plot(report: DayReport) -> bytes:
    """Sessions started per UTC hour: the day's bars, the usual day's line."""
    figure, axes = _figure()
    hours = list(range(24))
    axes.bar(hours, report.day.sessions_by_hour, color=TODAY, label=report.day.date.isoformat())
    usual = report.usual_sessions_by_hour()
    if usual is not None:
        weekday = report.day.date.strftime("%A")
        label = f"usual {weekday} ({len(report.compared)} previous)"
        axes.plot(hours, usual, color=WARN, marker="o", markersize=3, label=label)
    axes.set_xticks(hours[::2], [f"{hour:02d}" for hour in hours[::2]])
    axes.set_xlabel("hour (UTC)")
    axes.set_ylabel("sessions")
    axes.legend(frameon=False, fontsize=8)
    return _png(figure)


def paired_bars(
    labels: Sequence[str], today: Sequence[float], usual: Sequence[float] | None, unit: str
) -> bytes:
    """Horizontal bars of ``today`` per label, with the usual day's beside them if known."""
    height = max(1.4, 0.32 * len(labels) + 0.6)
    figure, axes = _figure(height)
    places = list(range(len(labels)))[::-1]
    if usual is None:
        axes.barh(places, today, color=TODAY, height=0.6, label="this day")
    else:
        axes.barh([p + 0.2 for p in places], today, color=TODAY, height=0.4, label="this day")
        axes.barh([p - 0.2 for p in places], usual, color=USUAL, height=0.4, label="usual day")
    axes.set_yticks(places, list(labels), fontsize=8)
    axes.set_xlabel(unit)
    if usual is not None:
        axes.legend(frameon=False, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1), ncols=2)
    return _png(figure)


def funnel_plot(report: DayReport) -> bytes:
    """The funnel's steps, the day against the usual day."""
    steps = FUNNEL_STEPS
    today = [getattr(report.day.funnel, field) for field, _ in steps]
    usual = [report.usual(field) or 0.0 for field, _ in steps] if report.compared else None
    return paired_bars([label for _, label in steps], today, usual, "people / sessions")


def health_plot(kiosks: Sequence[KioskHealth]) -> bytes:
    """Active hours per kiosk; a silent kiosk's bar is an empty red outline."""
    height = max(1.4, 0.32 * len(kiosks) + 0.6)
    figure, axes = _figure(height)
    places = list(range(len(kiosks)))[::-1]
    colours = [TODAY if kiosk.events else WARN for kiosk in kiosks]
    hours = [kiosk.active_hours if kiosk.events else 24 for kiosk in kiosks]
    fills = [bool(kiosk.events) for kiosk in kiosks]
    for place, hour, colour, fill in zip(places, hours, colours, fills, strict=True):
        axes.barh(place, hour, color=colour if fill else "none", edgecolor=colour, height=0.6)
    axes.set_yticks(places, [kiosk.kiosk_id for kiosk in kiosks], fontsize=8)
    axes.set_xlim(0, 24)
    axes.set_xlabel("hours with events (red outline: no event at all)")
    return _png(figure)


#: The funnel's fields and their names in the report, in order.
FUNNEL_STEPS = (
    ("passed", "passed by"),
    ("approached", "came closer"),
    ("engaged", "stopped in front"),
    ("shoppers", "shoppers (sessions)"),
    ("touched", "touched the screen"),
    ("viewed_product", "looked at a product"),
)
