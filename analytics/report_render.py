"""The daily report as one self-contained HTML page (plots embedded as PNG data URIs),
laid out to print on A4 (the PDF is Chromium's print of this page)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from analytics import report_meaning as meaning
from analytics.queries import Pair
from analytics.report_figures import DayReport
from analytics.report_health import KioskHealth, status_note
from analytics.report_meaning import change, count, delay
from analytics.report_plots import (
    FUNNEL_STEPS,
    funnel_plot,
    health_plot,
    paired_bars,
    sessions_plot,
)

_STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: 'DejaVu Sans', 'Liberation Sans', sans-serif; color: #1d232a;
       max-width: 820px; margin: 0 auto; font-size: 10.5pt; }
h1 { font-size: 17pt; margin: 0 0 2px; }
h2 { font-size: 12.5pt; margin: 16px 0 2px; border-bottom: 1px solid #d5dbe1; }
.sub { color: #5b6670; margin: 0 0 8px; }
.meaning { font-weight: bold; margin: 4px 0; }
.empty { font-size: 13pt; font-weight: bold; color: #c0392b; }
.note { color: #5b6670; font-size: 9pt; }
img { width: 100%; }
table { border-collapse: collapse; font-size: 9.5pt; margin: 4px 0; }
th, td { padding: 2px 10px 2px 0; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
section { break-inside: avoid; }
"""


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(str(cell))}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(title: str, line: str, *parts: str) -> str:
    return (
        f"<section><h2>{escape(title)}</h2>"
        f'<p class="meaning">{escape(line)}</p>{"".join(parts)}</section>'
    )


def _day_section(report: DayReport) -> str:
    figures = [("events", "events")] + [(field, label) for field, label in FUNNEL_STEPS[3:]]
    rows = []
    for field, label in figures:
        today = report.day.events if field == "events" else getattr(report.day.funnel, field)
        usual = report.usual(field)
        rows.append([label, count(today), "n/a" if usual is None else count(usual)])
        rows[-1].append(change(today, usual))
    header = ["", "this day", f"usual {meaning.weekday(report)}", "change"]
    return _section(
        f"The day against the usual {meaning.weekday(report)}",
        meaning.day_meaning(report),
        _table(header, rows),
        _image(sessions_plot(report), "sessions per hour"),
    )


def _products_sections(report: DayReport) -> list[str]:
    usual_top = None
    if report.compared:
        usual_top = [
            sum(day.products.get(p.sku, 0) for day in report.compared) / len(report.compared)
            for p in report.top
        ]
    top = paired_bars(
        [p.sku for p in report.top], [p.interactions for p in report.top], usual_top, "interactions"
    )
    sections = [_section("Top products", meaning.top_meaning(report), _image(top, "top products"))]
    parts = []
    if report.rising:
        labels = [rise.sku for rise in report.rising]
        today = [rise.today for rise in report.rising]
        usual = [rise.usual for rise in report.rising]
        parts.append(_image(paired_bars(labels, today, usual, "interactions"), "rising products"))
    sections.append(_section("Rising products", meaning.rising_meaning(report), *parts))
    return sections


def _pairs_section(report: DayReport) -> str:
    parts = []
    if report.pairs:
        labels = [f"{pair.a} -> {pair.b}" for pair in report.pairs]
        confidence = [100 * pair.confidence for pair in report.pairs]
        chart = paired_bars(labels, confidence, None, "% of shoppers of the first who saw both")
        rows = [_pair_row(pair) for pair in report.pairs]
        header = ["products", "sessions", "support", "confidence", "lift"]
        parts = [_image(chart, "products looked at together"), _table(header, rows)]
    return _section("Products looked at together", meaning.pairs_meaning(report), *parts)


def _pair_row(pair: Pair) -> list[object]:
    support, confidence = f"{pair.support:.1%}", f"{pair.confidence:.0%}"
    return [f"{pair.a} + {pair.b}", count(pair.sessions), support, confidence, f"{pair.lift:.2f}"]


def _status_cells(kiosk: KioskHealth, read: bool) -> list[object]:
    """Uptime, restarts (24 h), backlog, camera from the kiosk's status message."""
    status = kiosk.status
    if status is None:
        return ["not reported" if read else "not read", "", "", ""]
    restarts = "" if status.restarts_24h is None else str(status.restarts_24h)
    if status.crash_loop:
        restarts += " (crash loop)"
    return [
        "not reported" if status.uptime_s is None else delay(status.uptime_s),
        restarts or "not reported",
        "not reported" if status.backlog_events is None else count(status.backlog_events),
        status.camera or "not reported",
    ]


def _kiosk_row(kiosk: KioskHealth, read: bool) -> list[object]:
    if not kiosk.events:
        return [kiosk.kiosk_id, 0, "no event", "", "", "", "", "", *_status_cells(kiosk, read)]
    span = f"{kiosk.first_event:%H:%M}-{kiosk.last_event:%H:%M}" if kiosk.first_event else ""
    return [
        kiosk.kiosk_id,
        count(kiosk.events),
        f"{kiosk.active_hours} h ({span})",
        kiosk.reboots,
        delay(kiosk.median_delay_s),
        delay(kiosk.longest_delay_s),
        count(kiosk.presence_changes),
        kiosk.camera_lost_sessions,
        *_status_cells(kiosk, read),
    ]


def _health_section(report: DayReport) -> str:
    header = ["kiosk", "events", "active (UTC)", "reboots", "delay (median)", "delay (max)"]
    header += ["presence changes", "camera lost", "uptime", "restarts (24 h)", "backlog", "camera"]
    parts = []
    if report.kiosks:
        rows = [_kiosk_row(kiosk, report.statuses_read) for kiosk in report.kiosks]
        parts = [_image(health_plot(report.kiosks), "kiosk health"), _table(header, rows)]
    parts.append(f'<p class="note">{escape(status_note(report.statuses_read))}</p>')
    return _section("Kiosk health", meaning.health_meaning(report.kiosks), *parts)


def _heading(report: DayReport) -> str:
    day = f"{meaning.weekday(report)} {report.day.date.isoformat()}"
    weekday = meaning.weekday(report)
    if report.compared:
        dates = ", ".join(other.date.isoformat() for other in report.compared)
        compared = (
            f"Compared with the usual {weekday}: the mean of the previous four {weekday}s "
            f"that have data ({dates})."
        )
    else:
        dates = ", ".join(other.date.isoformat() for other in report.previous)
        compared = f"No previous {weekday} has data to compare with ({dates})."
    return (
        f"<h1>Store {escape(report.store_id)}: {escape(day)} (UTC)</h1>"
        f'<p class="sub">{escape(compared)} Simulated traffic is left out.</p>'
    )


def report_html(report: DayReport) -> str:
    """The whole page."""
    body = [_heading(report)]
    if report.has_data:
        body += [_day_section(report), _funnel_section(report), *_products_sections(report)]
        body.append(_pairs_section(report))
    else:
        body.append(
            f'<p class="empty">No events for store {escape(report.store_id)} on '
            f"{report.day.date.isoformat()}: no shopper figures for this day.</p>"
        )
    body.append(_health_section(report))
    title = f"Store {report.store_id}, {report.day.date.isoformat()}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def _funnel_section(report: DayReport) -> str:
    return _section(
        "From passing by to a product",
        meaning.funnel_meaning(report),
        _image(funnel_plot(report), "funnel"),
    )
