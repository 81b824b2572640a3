"""The one line under each of the daily report's plots saying what it means, in plain words."""

from __future__ import annotations

from analytics.report_figures import DayReport
from analytics.report_health import KioskHealth


def count(value: float) -> str:
    """A count as the report prints it: ``1,234`` (a usual day's mean to one decimal)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def share(part: float, whole: float) -> str:
    """``part`` of ``whole`` in whole percent ("n/a" of nothing)."""
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def change(today: float, usual: float | None) -> str:
    """``+18%``, ``-4%``, ``new`` (nothing usually) or ``n/a`` (no usual day)."""
    if usual is None:
        return "n/a"
    if usual == 0:
        return "new" if today else "+0%"
    return f"{100 * (today - usual) / usual:+.0f}%"


def weekday(report: DayReport) -> str:
    """``Monday``."""
    return report.day.date.strftime("%A")


def day_meaning(report: DayReport) -> str:
    """Shoppers against the usual day, and the busiest hour."""
    shoppers = report.day.funnel.shoppers
    usual = report.usual("shoppers")
    hours = report.day.sessions_by_hour
    busiest = max(range(24), key=lambda hour: (hours[hour], -hour))
    peak = f"; the busiest hour was {busiest:02d}:00 UTC with {count(hours[busiest])} sessions"
    if usual is None:
        return f"{count(shoppers)} shoppers; no previous {weekday(report)} to compare with{peak}."
    if usual == 0:
        return f"{count(shoppers)} shoppers, where a usual {weekday(report)} had none{peak}."
    difference = (shoppers - usual) / usual
    direction = "more" if difference >= 0 else "fewer"
    return (
        f"{count(shoppers)} shoppers, {abs(100 * difference):.0f}% {direction} than a usual "
        f"{weekday(report)} ({count(usual)}){peak}."
    )


def funnel_meaning(report: DayReport) -> str:
    """How many of those passing came closer, and of the shoppers touched and looked."""
    funnel = report.day.funnel
    return (
        f"Of {count(funnel.passed)} people passing, {share(funnel.approached, funnel.passed)} "
        f"came closer and {share(funnel.engaged, funnel.passed)} stopped in front; of "
        f"{count(funnel.shoppers)} shoppers, {share(funnel.touched, funnel.shoppers)} touched "
        f"the screen and {share(funnel.viewed_product, funnel.shoppers)} looked at a product."
    )


def top_meaning(report: DayReport) -> str:
    """The leading product and its share of the day's product interactions."""
    if not report.top:
        return "No product was looked at this day."
    first = report.top[0]
    total = sum(report.day.products.values())
    return (
        f"{first.sku} led with {count(first.interactions)} interactions "
        f"({share(first.interactions, total)} of the day's {count(total)})."
    )


def rising_meaning(report: DayReport) -> str:
    """The product that rose most, or why none is shown."""
    if not report.compared:
        return f"No previous {weekday(report)} has data, so nothing can be said to rise."
    if not report.rising:
        return f"No product was looked at more than on a usual {weekday(report)}."
    first = report.rising[0]
    return (
        f"{first.sku} rose most: {count(first.today)} interactions against "
        f"{count(first.usual)} on a usual {weekday(report)}."
    )


def pairs_meaning(report: DayReport) -> str:
    """The strongest pair as a sentence a manager can act on (place them together)."""
    if not report.pairs:
        return "No two products were looked at together by at least 1% of the shoppers."
    pair = report.pairs[0]
    return (
        f"Of the shoppers who looked at {pair.a}, {pair.confidence:.0%} also looked at "
        f"{pair.b}: {pair.lift:.1f} times as often as shoppers in general (lift)."
    )


def health_meaning(kiosks: tuple[KioskHealth, ...]) -> str:
    """Silent kiosks first, then reboots, then the longest delivery delay."""
    if not kiosks:
        return "No kiosk of this store has sent any event this day or on the days compared."
    quiet = [kiosk.kiosk_id for kiosk in kiosks if not kiosk.events]
    if quiet:
        check = "it is" if len(quiet) == 1 else "they are"
        return f"No event at all from {', '.join(quiet)}: check that {check} on and connected."
    rebooted = [f"{kiosk.kiosk_id} ({kiosk.reboots})" for kiosk in kiosks if kiosk.reboots]
    longest = max(kiosk.longest_delay_s or 0.0 for kiosk in kiosks)
    line = f"All {len(kiosks)} kiosks sent events; the longest delivery delay was {delay(longest)}"
    if rebooted:
        line += f"; rebooted: {', '.join(rebooted)}"
    return line + "."


def delay(seconds: float | None) -> str:
    """``0.8 s``, ``12 min``, ``3.5 h``."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
