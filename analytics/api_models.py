"""The data API's response bodies, as OpenAPI documents them (``/openapi.json``, ``/docs``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from analytics.queries import Funnel, HourTraffic, Pair, ProductCount, Triple

Item = TypeVar("Item")

#: The most items one page holds.
MAX_LIMIT = 500


class Page(BaseModel, Generic[Item]):
    """One page of a list: ``next_offset`` asks for the next (null on the last page)."""

    items: list[Item]
    total: int = Field(description="items in the whole list")
    limit: int
    offset: int
    next_offset: int | None = Field(description="the offset of the next page; null at the end")


class ErrorBody(BaseModel):
    """What went wrong, in one line naming the parameter or the resource."""

    detail: str


class StoreOut(BaseModel):
    """A store that has sent batches to the receiver."""

    store_id: str
    kiosks: int = Field(description="kiosks that have sent batches")
    last_seen: str = Field(description="when the receiver last landed a batch of it (UTC)")


class KioskStatusOut(BaseModel):
    """The kiosk's newest status message as the receiver kept it (docs/events.md); a field
    is null when the kiosk's message did not carry it."""

    sent_at: str = Field(description="when the kiosk's uplink sent it")
    received_at: str = Field(description="when the receiver kept it (UTC)")
    state: str = Field(description="online, or offline (a clean stop or the broker's will)")
    software: str | None
    bundle_id: str | None = Field(description="the experience bundle the kiosk runs")
    uptime_s: float | None = Field(description="seconds since the kiosk last started")
    restarts_24h: int | None = Field(description="stops nobody asked for in the last 24 hours")
    crash_loop: bool | None
    backlog_events: int | None = Field(description="events in the outbox not yet delivered")
    camera: str | None = Field(description="the presence sensor's state as the kiosk saw it")


class KioskHealthOut(BaseModel):
    """A kiosk's health from the batches the receiver landed and its newest status message
    (analytics.api_fleet)."""

    store_id: str
    kiosk_id: str
    last_seen: str = Field(description="when the receiver last landed a batch of it (UTC)")
    last_event_ts: str | None = Field(description="the newest event's own time")
    quiet_s: float = Field(description="seconds since last_seen")
    batches_24h: int
    events_24h: int = Field(description="new events landed in the last 24 hours")
    redelivered_batches_24h: int = Field(description="batches that brought an event again")
    quarantined_events_24h: int = Field(description="events that failed the schemas, waiting")
    status: KioskStatusOut | None = Field(
        description="its newest status message; null: not reported (the kiosk sent none)"
    )


# The figures' rows are analytics.queries' own dataclasses with their day (and rank) added:
# FastAPI documents and checks a dataclass as it does a model.


@dataclass(frozen=True)
class FunnelDay(Funnel):
    """A UTC day's presence-to-touch funnel (analytics.queries: presence episodes, then
    shoppers)."""

    date: dt.date


@dataclass(frozen=True)
class TrafficHour(HourTraffic):
    """One UTC hour of a day: events, sessions started, touches."""

    date: dt.date


@dataclass(frozen=True)
class TopProduct(ProductCount):
    """A product among the day's top ``share`` by interactions; ``rank`` 1 is the busiest."""

    date: dt.date
    rank: int


@dataclass(frozen=True)
class PairOut(Pair):
    """Products seen in the same sessions of a day (the rule a -> b)."""

    date: dt.date


@dataclass(frozen=True)
class TripleOut(Triple):
    """Three products seen in the same sessions of a day (the rule {a, b} -> c)."""

    date: dt.date
