"""A landed fleet for the data API's tests: the receiver's SQLite file and its lake in a
folder, the API's config with a token of each kind, and its application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from analytics.api import ApiParts, create_app
from analytics.api_auth import ApiConfig, TokenEntry, token_digest
from analytics.api_fleet import FleetDatabase
from analytics.lake_target import LocalLake
from analytics.queries import DashboardQueries
from tests.analytics.conftest import batch_bytes, land
from tests.analytics.test_queries import lake_of, random_fleet

#: The days random_fleet covers.
DAYS = ("2026-11-23", "2026-11-24")
FLEET = "fleet-token"
STORE0 = "store-000-token"
TWO_STORES = "two-stores-token"
BRAND = "brand-token"
BRAND_SKUS = ("SKU-01", "SKU-02", "SKU-03", "SKU-04")


def entry(token: str, stores: tuple[str, ...], **more: Any) -> TokenEntry:
    """The config entry of ``token`` (its hash)."""
    return TokenEntry(
        name=token.removesuffix("-token"), sha256=token_digest(token), stores=stores, **more
    )


def config(*extra: TokenEntry, cors: tuple[str, ...] = ()) -> ApiConfig:
    """Tokens of each kind: the fleet, one store, two stores, a brand in two stores."""
    return ApiConfig(
        tokens=(
            entry(FLEET, ("*",)),
            entry(STORE0, ("store-000",)),
            entry(TWO_STORES, ("store-000", "store-002")),
            entry(BRAND, ("store-000", "store-001"), skus=BRAND_SKUS),
            *extra,
        ),
        cors_origins=cors,
    )


@dataclass
class LandedFleet:
    """The receiver's file and its lake, with queries over the lake."""

    db: Path
    queries: DashboardQueries

    def app(self, api_config: ApiConfig, now: dt.datetime | None = None) -> FastAPI:
        """The API over this fleet."""
        clock = (lambda: now) if now is not None else (lambda: dt.datetime.now(dt.UTC))
        return create_app(ApiParts(api_config, FleetDatabase(self.db), self.queries, clock))


def landed_fleet(folder: Path) -> Iterator[LandedFleet]:
    """random_fleet landed (some events twice, some batches twice) and copied into a lake;
    closed after."""
    db = folder / "received.sqlite"
    batches = random_fleet(seed=11)
    messages = [batch_bytes(events, f"b-{n}") for n, events in enumerate(batches)]
    # a kiosk's first five batches sent again under new ids (an outbox that lost its acks)
    again = [batch_bytes(events, f"again-{n}") for n, events in enumerate(batches[:5])]
    land(db, messages + again + messages[:3])
    queries = DashboardQueries(lake_of(db, LocalLake(folder / "lake")))
    try:
        yield LandedFleet(db, queries)
    finally:
        queries.close()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}
