"""The daily report's figures: one store's UTC day against its previous four same weekdays.

Every figure comes from :class:`analytics.queries.DashboardQueries` (the same answers as the
notebook and the data API) and, for the kiosks' health, :mod:`analytics.report_health`.
"The usual day" is the mean over those of the four previous same weekdays that have any
event for the store (a lake started two weeks ago compares with two days, and says so).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from analytics.queries import DashboardQueries, EventSource, Funnel, Pair, ProductCount
from analytics.report_health import KioskHealth, kiosk_health, kiosks_seen, silent
from analytics.stored_status import StoredStatus

#: How many previous same weekdays the day is compared with.
WEEKS_BACK = 4
#: A store id as the event schema allows it, without the characters that would make a
#: partition path of another meaning (``/``) or none (control characters).
_STORE_ID = re.compile(r"[^/\x00-\x1f]{1,128}")


class ReportError(ValueError):
    """A report that cannot be made as asked: the message is one line naming what and why."""


def parse_date(text: str) -> dt.date:
    """The report's UTC day, ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(text)
    except ValueError:
        return _bad_date(text)


def _bad_date(text: str) -> dt.date:
    raise ReportError(f"--date {text!r}: not a calendar day as YYYY-MM-DD (e.g. 2026-11-23)")


def check_store(text: str) -> str:
    """The store id, if the event schema allows it (1 to 128 characters, no ``/``)."""
    if not _STORE_ID.fullmatch(text):
        raise ReportError(
            f"--store {text!r}: not a store id (1 to 128 characters, no '/' or control characters)"
        )
    return text


def previous_weekdays(day: dt.date) -> list[dt.date]:
    """The :data:`WEEKS_BACK` same weekdays before ``day``, nearest first."""
    return [day - dt.timedelta(weeks=week) for week in range(1, WEEKS_BACK + 1)]


@dataclass(frozen=True)
class DayFigures:
    """One day's headline figures of a store."""

    date: dt.date
    events: int
    sessions_by_hour: tuple[int, ...]
    funnel: Funnel
    products: dict[str, int]


@dataclass(frozen=True)
class Rising:
    """A product looked at more than on the usual day."""

    sku: str
    today: int
    usual: float


@dataclass(frozen=True)
class DayReport:
    """Everything the report shows (see :mod:`analytics.report_render`)."""

    store_id: str
    day: DayFigures
    previous: tuple[DayFigures, ...]
    top: tuple[ProductCount, ...]
    rising: tuple[Rising, ...]
    pairs: tuple[Pair, ...]
    kiosks: tuple[KioskHealth, ...]
    #: Whether the kiosks' status messages were read (a receiver file was given).
    statuses_read: bool = False

    @property
    def has_data(self) -> bool:
        """Any (non-simulated) event of the store on the day."""
        return self.day.events > 0

    @property
    def compared(self) -> tuple[DayFigures, ...]:
        """The previous same weekdays that have any event (the usual day is their mean)."""
        return tuple(day for day in self.previous if day.events > 0)

    def usual(self, figure: str) -> float | None:
        """The mean of a :class:`Funnel` field (or ``events``) over :attr:`compared`."""
        days = self.compared
        if not days:
            return None
        values = [day.events if figure == "events" else getattr(day.funnel, figure) for day in days]
        return sum(values) / len(days)

    def usual_sessions_by_hour(self) -> tuple[float, ...] | None:
        """Sessions started per UTC hour on the usual day."""
        days = self.compared
        if not days:
            return None
        by_hour = zip(*(day.sessions_by_hour for day in days), strict=True)
        return tuple(sum(hours) / len(days) for hours in by_hour)


def day_figures(queries: DashboardQueries, day: dt.date, store_id: str) -> DayFigures:
    """The headline figures of ``store_id`` on ``day``."""
    date = day.isoformat()
    traffic = queries.traffic_by_hour(date, store_id)
    products = queries.top_products(date, store_id, share=1.0)
    return DayFigures(
        date=day,
        events=sum(hour.events for hour in traffic),
        sessions_by_hour=tuple(hour.sessions for hour in traffic),
        funnel=queries.funnel(date, store_id),
        products={product.sku: product.interactions for product in products},
    )


def rising_products(day: DayFigures, compared: tuple[DayFigures, ...]) -> tuple[Rising, ...]:
    """Products with more interactions than on the usual day, the largest rise first (five);
    none when there is no usual day to compare with."""
    if not compared:
        return ()
    usual = {
        sku: sum(other.products.get(sku, 0) for other in compared) / len(compared)
        for sku in day.products
    }
    risen = [Rising(sku, n, usual[sku]) for sku, n in day.products.items() if n > usual[sku]]
    risen.sort(key=lambda rise: (-(rise.today - rise.usual), rise.sku))
    return tuple(risen[:5])


def strongest_pairs(pairs: list[Pair], count: int = 5) -> tuple[Pair, ...]:
    """The first ``count`` pairs of products, each once, in the direction listed first (the
    queries give both directions, strongest first)."""
    seen: set[frozenset[str]] = set()
    kept = []
    for pair in pairs:
        if frozenset((pair.a, pair.b)) not in seen:
            seen.add(frozenset((pair.a, pair.b)))
            kept.append(pair)
    return tuple(kept[:count])


def day_report(
    source: EventSource,
    day: dt.date,
    store_id: str,
    statuses: Mapping[str, StoredStatus] | None = None,
) -> DayReport:
    """The report's figures of ``store_id`` on ``day``, read from ``source``, with each
    kiosk's last status message of the day from ``statuses`` (None: not read)."""
    queries = DashboardQueries(source)
    try:
        figures = day_figures(queries, day, store_id)
        previous = tuple(day_figures(queries, other, store_id) for other in previous_weekdays(day))
        date = day.isoformat()
        top = tuple(queries.top_products(date, store_id))[:10] if figures.events else ()
        pairs = strongest_pairs(queries.pairs(date, store_id, limit=40)) if figures.events else ()
    finally:
        queries.close()
    health = {kiosk.kiosk_id: kiosk for kiosk in kiosk_health(source, day.isoformat(), store_id)}
    others = kiosks_seen(source, [d.isoformat() for d in previous_weekdays(day)], store_id)
    reported = statuses or {}
    kiosks = tuple(
        replace(health.get(kiosk, silent(kiosk)), status=reported.get(kiosk))
        for kiosk in sorted(others | set(health) | set(reported))
    )
    compared = tuple(other for other in previous if other.events > 0)
    rising = rising_products(figures, compared)
    return DayReport(
        store_id, figures, previous, top, rising, pairs, kiosks, statuses_read=statuses is not None
    )
