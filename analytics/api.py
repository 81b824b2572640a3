"""The data API: read-only HTTP (FastAPI) over the dashboards' figures, for the retailer's
and the brands' own systems, and a page at ``/`` that charts them.

- ``/v1/stores``, ``/v1/kiosks/{kiosk_id}/health``: the receiver's SQLite file
  (:mod:`analytics.api_fleet`).
- ``/v1/metrics/funnel``, ``traffic``, ``top-products``, ``pairs``, ``triples``:
  :mod:`analytics.queries` over the lake or the receiver's file, one row per UTC day (per
  hour, per product, per pair or triple) between ``from`` and ``to`` (at most
  :data:`MAX_DAYS` days).
- Every list is paginated (``limit`` up to 500, ``offset``); every request carries a Bearer
  token of the config file (:mod:`analytics.api_auth`), which names the stores it reads (a
  brand token also its products: it reads top products, pairs and triples of those only) and
  its rate (429 with ``Retry-After`` beyond it). CORS is off unless the config names origins.
- Errors are ``{"detail": "<one line naming the parameter>"}``; ``/docs`` and
  ``/openapi.json`` are FastAPI's own.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import duckdb
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from analytics.api_auth import ApiConfig, RateLimiter, TokenEntry
from analytics.api_fleet import FleetDatabase
from analytics.api_models import (
    MAX_LIMIT,
    ErrorBody,
    FunnelDay,
    KioskHealthOut,
    Page,
    PairOut,
    StoreOut,
    TopProduct,
    TrafficHour,
    TripleOut,
)
from analytics.queries import DashboardQueries

log = logging.getLogger(__name__)

#: The longest span of days one request may ask for.
MAX_DAYS = 31
#: The page at ``/`` and its script.
WEB = Path(__file__).with_name("web")
#: Every pair (triple) of a day is found (then paged): no day has more.
PAIRS_CAP = 100_000

Row = TypeVar("Row")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 422, 429, 503)
}


@dataclass(frozen=True)
class ApiParts:
    """What the API reads, and its clock (UTC now) for the kiosks' health."""

    config: ApiConfig
    fleet: FleetDatabase
    queries: DashboardQueries
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Paging:
    """``limit`` and ``offset`` of a list request."""

    limit: int
    offset: int

    def page(self, rows: Sequence[Row]) -> dict[str, Any]:
        """The page of ``rows`` as :class:`Page` fields."""
        end = self.offset + self.limit
        return {
            "items": list(rows[self.offset : end]),
            "total": len(rows),
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": end if end < len(rows) else None,
        }


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 100,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
) -> Paging:
    """The paging parameters."""
    return Paging(limit, offset)


def days(
    start: Annotated[dt.date, Query(alias="from", description="first UTC day, YYYY-MM-DD")],
    end: Annotated[
        dt.date | None, Query(alias="to", description="last UTC day (default: from)")
    ] = None,
) -> list[dt.date]:
    """The days from ``from`` to ``to``, both included."""
    last = start if end is None else end
    if last < start:
        raise HTTPException(400, f"to: {last} is before from ({start})")
    span = (last - start).days + 1
    if span > MAX_DAYS:
        raise HTTPException(400, f"to: {span} days asked for, at most {MAX_DAYS} at a time")
    return [start + dt.timedelta(days=n) for n in range(span)]


def create_app(parts: ApiParts) -> FastAPI:
    """The API's application (serve it with uvicorn)."""
    app = FastAPI(
        title="Retail Edge Kiosk data API",
        version="1",
        description="Read-only figures of the kiosk fleet. Authorization: Bearer <token>.",
    )
    app.state.parts = parts
    app.state.limiter = RateLimiter()
    if parts.config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(parts.config.cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
        )
    _add_error_handlers(app)
    app.include_router(fleet_routes())
    app.include_router(metric_routes())
    app.mount("/web", StaticFiles(directory=WEB), name="web")
    app.add_api_route("/", lambda: FileResponse(WEB / "index.html"), include_in_schema=False)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        if not errors:
            return JSONResponse({"detail": f"bad request: {exc}"}, status_code=422)
        first = errors[0]
        where, *rest = first["loc"]
        name = ".".join(str(part) for part in rest) or str(where)
        got = f" (got {first['input']!r})" if first.get("input") else ""
        text = f"{where} parameter {name!r}: {first['msg']}{got}"
        return JSONResponse({"detail": text}, status_code=422)

    async def unreadable(request: Request, exc: Exception) -> JSONResponse:
        log.error("data API: %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": f"the figures cannot be read: {exc}"}, status_code=503)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(OSError, unreadable)
    app.add_exception_handler(sqlite3.Error, unreadable)
    app.add_exception_handler(duckdb.Error, unreadable)


_bearer = HTTPBearer(auto_error=False, description="a token of the API's config file")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenEntry:
    """The request's token entry: 401 without a known token, 429 beyond its rate."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "Authorization: a Bearer token is needed", challenge)
    parts: ApiParts = request.app.state.parts
    entry = parts.config.find(credentials.credentials)
    if entry is None:
        raise HTTPException(401, "Authorization: this token is not known", challenge)
    wait_s = request.app.state.limiter.take(entry)
    if wait_s:
        raise HTTPException(
            429,
            f"token {entry.name!r}: more than {entry.rate_per_minute} requests a minute;"
            f" try again in {wait_s} s",
            {"Retry-After": str(wait_s)},
        )
    return entry


def api_parts(request: Request) -> ApiParts:
    """The application's :class:`ApiParts`."""
    parts: ApiParts = request.app.state.parts
    return parts


Caller = Annotated[TokenEntry, Depends(caller)]
Parts = Annotated[ApiParts, Depends(api_parts)]
Pages = Annotated[Paging, Depends(paging)]
Days = Annotated[list[dt.date], Depends(days)]
StoreParam = Annotated[
    str | None, Query(description="a store id; left out: the whole fleet (fleet tokens only)")
]


def scoped_store(entry: TokenEntry, store: str | None, parts: ApiParts) -> str | None:
    """The store a request reads (None: the fleet), or 403/404 naming ``store``."""
    if store is None:
        if entry.every_store:
            return None
        if len(entry.stores) == 1:
            return entry.stores[0]
        raise HTTPException(
            403, f"store: token {entry.name!r} reads {', '.join(entry.stores)}: name one"
        )
    if not entry.may_read(store):
        raise HTTPException(403, f"store: token {entry.name!r} may not read {store!r}")
    if store not in {row.store_id for row in parts.fleet.stores()}:
        raise HTTPException(404, f"store: no batches from {store!r} have been received")
    return store


def not_for_brands(entry: TokenEntry, what: str) -> None:
    """403 for a brand token asking for a figure that is not about its products."""
    if entry.brand:
        raise HTTPException(
            403,
            f"{what}: token {entry.name!r} is a brand's and reads its products' figures only"
            " (/v1/metrics/top-products, /v1/metrics/pairs, /v1/metrics/triples)",
        )


def fleet_routes() -> APIRouter:
    """``/v1/stores`` and ``/v1/kiosks/{kiosk_id}/health``."""
    router = APIRouter(prefix="/v1", tags=["fleet"], responses=ERRORS)

    @router.get("/stores", response_model=Page[StoreOut])
    def stores(entry: Caller, parts: Parts, pages: Pages) -> dict[str, Any]:
        """The stores the token reads that have sent batches, by id."""
        return pages.page([r for r in parts.fleet.stores() if entry.may_read(r.store_id)])

    @router.get("/kiosks/{kiosk_id}/health", response_model=KioskHealthOut)
    def health(
        kiosk_id: str, entry: Caller, parts: Parts, store: StoreParam = None
    ) -> KioskHealthOut:
        """A kiosk's health from its batches; ``store`` when the id is in several stores."""
        not_for_brands(entry, "health")
        if store is None:
            found = [s for s in parts.fleet.kiosk_stores(kiosk_id) if entry.may_read(s)]
            if len(found) > 1:
                raise HTTPException(
                    400, f"store: kiosk {kiosk_id!r} is in {', '.join(found)}: name one"
                )
            store = found[0] if found else None
        elif not entry.may_read(store):
            raise HTTPException(403, f"store: token {entry.name!r} may not read {store!r}")
        report = None if store is None else parts.fleet.health(store, kiosk_id, parts.now())
        if report is None:
            raise HTTPException(404, f"kiosk_id: no batches from {kiosk_id!r} in the stores read")
        return report

    return router


def metric_routes() -> APIRouter:
    """``/v1/metrics/...``: the figures of :mod:`analytics.queries`, per day."""
    router = APIRouter(prefix="/v1/metrics", tags=["metrics"], responses=ERRORS)
    _add_store_figures(router)
    _add_product_figures(router)
    return router


@dataclass(frozen=True)
class FigureRequest:
    """A request for a figure: the token, the parts, the page, the days and the store read
    (None: the fleet)."""

    entry: TokenEntry
    parts: ApiParts
    pages: Paging
    dates: list[dt.date]
    store: str | None

    @property
    def queries(self) -> DashboardQueries:
        """The figures' queries."""
        return self.parts.queries

    def per_day(self, rows_of: Callable[[dt.date], list[Row]]) -> dict[str, Any]:
        """The asked-for page of every day's rows, day after day."""
        return self.pages.page([row for day in self.dates for row in rows_of(day)])

    def mine(self, *skus: str) -> bool:
        """True when every one of ``skus`` is the token's to see (any, for a non-brand)."""
        return self.entry.skus is None or all(sku in self.entry.skus for sku in skus)


def store_figure(
    request: Request,
    entry: Caller,
    parts: Parts,
    pages: Pages,
    dates: Days,
    store: StoreParam = None,
) -> FigureRequest:
    """A store's (or the fleet's) figure: not a brand's to read."""
    not_for_brands(entry, request.url.path.rsplit("/", 1)[-1])
    return FigureRequest(entry, parts, pages, dates, scoped_store(entry, store, parts))


def product_figure(
    entry: Caller, parts: Parts, pages: Pages, dates: Days, store: StoreParam = None
) -> FigureRequest:
    """A figure about products: a brand reads its own in it."""
    return FigureRequest(entry, parts, pages, dates, scoped_store(entry, store, parts))


StoreFigure = Annotated[FigureRequest, Depends(store_figure)]
ProductFigure = Annotated[FigureRequest, Depends(product_figure)]


def _add_store_figures(router: APIRouter) -> None:
    """The funnel and the traffic: a store's (or the fleet's) figures, not for brands."""

    @router.get("/funnel", response_model=Page[FunnelDay])
    def funnel(ask: StoreFigure) -> dict[str, Any]:
        """The presence-to-touch funnel of each day."""
        return ask.per_day(
            lambda day: [FunnelDay(**asdict(ask.queries.funnel(str(day), ask.store)), date=day)]
        )

    @router.get("/traffic", response_model=Page[TrafficHour])
    def traffic(ask: StoreFigure) -> dict[str, Any]:
        """Events, sessions and touches of each UTC hour of each day."""
        return ask.per_day(
            lambda day: [
                TrafficHour(**asdict(hour), date=day)
                for hour in ask.queries.traffic_by_hour(str(day), ask.store)
            ]
        )


def _add_product_figures(router: APIRouter) -> None:
    """Top products, pairs and triples: a brand token sees its own products in them."""

    @router.get("/top-products", response_model=Page[TopProduct])
    def top_products(
        ask: ProductFigure,
        share: Annotated[float, Query(gt=0, le=1, description="top share of products")] = 0.1,
    ) -> dict[str, Any]:
        """Each day's top ``share`` of the products (a brand: those of them that are its;
        ``rank`` is still the place among all)."""

        def ranked(day: dt.date) -> list[TopProduct]:
            top = ask.queries.top_products(str(day), ask.store, share=share)
            return [TopProduct(**asdict(p), date=day, rank=n) for n, p in enumerate(top, 1)]

        return ask.per_day(lambda day: [row for row in ranked(day) if ask.mine(row.sku)])

    @router.get("/pairs", response_model=Page[PairOut])
    def pairs(
        ask: ProductFigure,
        min_support: Annotated[float, Query(ge=0, le=1, description="least support")] = 0.01,
    ) -> dict[str, Any]:
        """Each day's products seen together, strongest first (a brand: its own pairs)."""
        return ask.per_day(
            lambda day: [
                PairOut(**asdict(pair), date=day)
                for pair in ask.queries.pairs(
                    str(day), ask.store, min_support=min_support, limit=PAIRS_CAP
                )
                if ask.mine(pair.a, pair.b)
            ]
        )

    @router.get("/triples", response_model=Page[TripleOut])
    def triples(
        ask: ProductFigure,
        min_support: Annotated[float, Query(ge=0, le=1, description="least support")] = 0.01,
    ) -> dict[str, Any]:
        """Each day's three products seen together, strongest first, as rules {a, b} -> c
        (a brand: its own triples)."""
        return ask.per_day(
            lambda day: [
                TripleOut(**asdict(triple), date=day)
                for triple in ask.queries.triples(
                    str(day), ask.store, min_support=min_support, limit=PAIRS_CAP
                )
                if ask.mine(triple.a, triple.b, triple.c)
            ]
        )
