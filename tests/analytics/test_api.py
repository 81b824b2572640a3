"""The data API over a real landed fleet (the receiver's SQLite file and its lake in
tmp_path), through FastAPI's TestClient: the same figures as analytics.queries, scopes,
paging, tokens hashed at rest, the rate limit, CORS and clear messages."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.api import ApiParts, create_app
from analytics.api_auth import ApiConfigError, load_api_config, token_digest
from analytics.api_cli import main, token_entry
from analytics.api_fleet import FleetDatabase
from analytics.lake_target import LocalLake
from analytics.queries import DashboardQueries, LakeSource, SQLiteSource
from tests.analytics.api_support import (
    BRAND,
    BRAND_SKUS,
    DAYS,
    FLEET,
    STORE0,
    TWO_STORES,
    LandedFleet,
    bearer,
    config,
    entry,
    landed_fleet,
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LandedFleet]:
    yield from landed_fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture
def client(fleet: LandedFleet) -> Iterator[TestClient]:
    with TestClient(fleet.app(config())) as client:
        yield client


def every_item(client: TestClient, path: str, token: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page (``limit`` items a page)."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        response = client.get(path, params={**params, "offset": offset}, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["offset"] == offset and len(body["items"]) <= body["limit"]
        items += body["items"]
        offset = body["next_offset"]
    assert len(items) == body["total"]
    return items


def plain(row: object, day: str, **more: object) -> dict[str, object]:
    assert dataclasses.is_dataclass(row) and not isinstance(row, type)
    return {"date": day, **more, **dataclasses.asdict(row)}


def test_a_day_answers_the_same_from_the_api_as_from_the_queries(
    client: TestClient, fleet: LandedFleet
) -> None:
    queries = fleet.queries
    for day in DAYS:
        for store in (None, "store-001"):
            where = {"from": day} if store is None else {"from": day, "store": store}
            funnel = every_item(client, "/v1/metrics/funnel", FLEET, **where)
            assert funnel == [plain(queries.funnel(day, store), day)]
            traffic = every_item(client, "/v1/metrics/traffic", FLEET, limit=7, **where)
            assert traffic == [plain(h, day) for h in queries.traffic_by_hour(day, store)]
            top = every_item(client, "/v1/metrics/top-products", FLEET, share=0.3, **where)
            expected = queries.top_products(day, store, share=0.3)
            assert top == [plain(p, day, rank=n) for n, p in enumerate(expected, 1)]
            assert len(top) >= 4
            pairs = every_item(client, "/v1/metrics/pairs", FLEET, min_support=0, limit=50, **where)
            strongest = queries.pairs(day, store, min_support=0, limit=100_000)
            assert pairs == [plain(p, day) for p in strongest] and len(pairs) > 50
            triples = every_item(
                client, "/v1/metrics/triples", FLEET, min_support=0, limit=500, **where
            )
            expected_triples = queries.triples(day, store, min_support=0, limit=100_000)
            assert triples == [plain(t, day) for t in expected_triples] and len(triples) > 50
    both = every_item(client, "/v1/metrics/funnel", FLEET, **{"from": DAYS[0], "to": DAYS[1]})
    assert [row["date"] for row in both] == list(DAYS)
    assert both[0]["shoppers"] > 0 and both[0] != both[1]


def test_a_store_token_reads_its_store_only(client: TestClient, fleet: LandedFleet) -> None:
    stores = client.get("/v1/stores", headers=bearer(STORE0)).json()
    assert [s["store_id"] for s in stores["items"]] == ["store-000"] and stores["total"] == 1
    other = client.get(
        "/v1/metrics/funnel", params={"from": DAYS[0], "store": "store-001"}, headers=bearer(STORE0)
    )
    assert other.status_code == 403
    assert other.json() == {"detail": "store: token 'store-000' may not read 'store-001'"}
    # its one store is the default
    own = client.get("/v1/metrics/funnel", params={"from": DAYS[0]}, headers=bearer(STORE0))
    assert own.json()["items"] == [plain(fleet.queries.funnel(DAYS[0], "store-000"), DAYS[0])]
    # two stores: name one; a store nobody has heard of is 404 to the fleet, 403 to others
    two = client.get(
        "/v1/metrics/top-products", params={"from": DAYS[0]}, headers=bearer(TWO_STORES)
    )
    assert two.status_code == 403 and "reads store-000, store-002: name one" in two.text
    missing = {"from": DAYS[0], "store": "store-999"}
    unknown = client.get("/v1/metrics/pairs", params=missing, headers=bearer(FLEET))
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "store: no batches from 'store-999' have been received"}
    assert (
        client.get("/v1/metrics/pairs", params=missing, headers=bearer(STORE0)).status_code == 403
    )
    health = client.get(
        "/v1/kiosks/kiosk-01/health", params={"store": "store-001"}, headers=bearer(STORE0)
    )
    assert health.status_code == 403


def test_a_brand_token_reads_its_products_figures_only(
    client: TestClient, fleet: LandedFleet
) -> None:
    where = {"from": DAYS[0], "store": "store-001"}
    top = every_item(client, "/v1/metrics/top-products", BRAND, share=1, **where)
    everything = fleet.queries.top_products(DAYS[0], "store-001", share=1)
    assert top == [
        plain(p, DAYS[0], rank=n) for n, p in enumerate(everything, 1) if p.sku in BRAND_SKUS
    ]
    assert 0 < len(top) < len(everything)
    pairs = every_item(client, "/v1/metrics/pairs", BRAND, min_support=0, **where)
    assert pairs and all(p["a"] in BRAND_SKUS and p["b"] in BRAND_SKUS for p in pairs)
    triples = every_item(client, "/v1/metrics/triples", BRAND, min_support=0, **where)
    every_triple = fleet.queries.triples(DAYS[0], "store-001", min_support=0, limit=100_000)
    assert triples == [
        plain(t, DAYS[0]) for t in every_triple if {t.a, t.b, t.c} <= set(BRAND_SKUS)
    ]
    assert 0 < len(triples) < len(every_triple)
    for path in ("/v1/metrics/funnel", "/v1/metrics/traffic", "/v1/kiosks/kiosk-01/health"):
        refused = client.get(path, params=where, headers=bearer(BRAND))
        assert refused.status_code == 403, path
        assert "is a brand's and reads its products' figures only" in refused.json()["detail"]
    other = client.get(
        "/v1/metrics/pairs", params={**where, "store": "store-002"}, headers=bearer(BRAND)
    )
    assert other.status_code == 403


def test_lists_come_in_pages_of_at_most_the_limit(client: TestClient) -> None:
    first = client.get("/v1/stores", params={"limit": 2}, headers=bearer(FLEET)).json()
    assert [s["store_id"] for s in first["items"]] == ["store-000", "store-001"]
    assert (first["total"], first["next_offset"]) == (3, 2)
    last = client.get("/v1/stores", params={"limit": 2, "offset": 2}, headers=bearer(FLEET)).json()
    assert [s["store_id"] for s in last["items"]] == ["store-002"] and last["next_offset"] is None
    assert all(s["kiosks"] == 2 for s in first["items"] + last["items"])
    too_many = client.get("/v1/stores", params={"limit": 501}, headers=bearer(FLEET))
    assert too_many.status_code == 422
    assert too_many.json() == {
        "detail": "query parameter 'limit': Input should be less than or equal to 500 (got '501')"
    }


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({}, 422, "query parameter 'from': Field required"),
        ({"from": "27/11/2026"}, 422, "query parameter 'from': Input should be a valid date"),
        ({"from": DAYS[1], "to": DAYS[0]}, 400, "to: 2026-11-23 is before from (2026-11-24)"),
        ({"from": "2026-01-01", "to": "2026-02-01"}, 400, "to: 32 days asked for, at most 31"),
        ({"from": DAYS[0], "share": 0}, 422, "query parameter 'share': Input should be greater"),
    ],
)
def test_a_bad_parameter_is_named(
    client: TestClient, params: dict[str, object], status: int, detail: str
) -> None:
    response = client.get("/v1/metrics/top-products", params=params, headers=bearer(FLEET))
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_a_kiosks_health_comes_from_its_batches(fleet: LandedFleet) -> None:
    import datetime as dt

    with TestClient(fleet.app(config())) as client:
        ambiguous = client.get("/v1/kiosks/kiosk-02/health", headers=bearer(FLEET))
        assert ambiguous.status_code == 400
        assert ambiguous.json()["detail"] == (
            "store: kiosk 'kiosk-02' is in store-000, store-001, store-002: name one"
        )
        # one store's token needs no store; random_fleet: 6 batches of 60 a kiosk and day
        health = client.get("/v1/kiosks/kiosk-01/health", headers=bearer(STORE0)).json()
        assert health["store_id"] == "store-000" and health["batches_24h"] == 12 + 5
        assert health["events_24h"] == 12 * 60 and health["quarantined_events_24h"] == 0
        assert health["last_event_ts"].startswith(DAYS[1])
        missing = client.get("/v1/kiosks/kiosk-77/health", headers=bearer(FLEET))
        assert missing.status_code == 404
        # the first five batches (store-000's kiosk-01) came again under new ids
        again = client.get(
            "/v1/kiosks/kiosk-01/health", params={"store": "store-000"}, headers=bearer(FLEET)
        )
        assert again.json()["redelivered_batches_24h"] == 5
        once = client.get(
            "/v1/kiosks/kiosk-01/health", params={"store": "store-001"}, headers=bearer(FLEET)
        )
        assert once.json()["redelivered_batches_24h"] == 0
    # a day later nothing is recent
    later = dt.datetime.fromisoformat(health["last_seen"]) + dt.timedelta(days=2)
    with TestClient(fleet.app(config(), now=later)) as client:
        old = client.get("/v1/kiosks/kiosk-01/health", headers=bearer(STORE0)).json()
        assert (old["batches_24h"], old["events_24h"]) == (0, 0)
        assert old["quiet_s"] == pytest.approx(2 * 86_400)


def test_a_token_is_needed_and_only_its_hash_is_kept(tmp_path: Path, fleet: LandedFleet) -> None:
    with TestClient(fleet.app(config())) as client:
        nothing = client.get("/v1/stores")
        assert nothing.status_code == 401 and nothing.headers["WWW-Authenticate"] == "Bearer"
        assert nothing.json() == {"detail": "Authorization: a Bearer token is needed"}
        wrong = client.get("/v1/stores", headers=bearer("not-a-token"))
        assert wrong.json() == {"detail": "Authorization: this token is not known"}
    path = tmp_path / "api.toml"
    path.write_text(token_entry("store 0", ["store-000"], None, "s3cret-t0ken") + "\n")
    loaded = load_api_config(path)
    assert "s3cret-t0ken" not in path.read_text()
    assert loaded.find("s3cret-t0ken") == entry("s3cret-t0ken", ("store-000",)).model_copy(
        update={"name": "store 0"}
    )
    assert loaded.find("s3cret-t0ke") is None
    path.write_text(f'[[tokens]]\nname = "x"\nsha256 = "{token_digest("t")}"\nstore = ["a"]\n')
    with pytest.raises(ApiConfigError, match=r"api.toml: tokens.0.stores: Field required"):
        load_api_config(path)


def test_a_token_over_its_rate_waits(fleet: LandedFleet) -> None:
    slow = entry("slow-token", ("*",), rate_per_minute=3)
    with TestClient(fleet.app(config(slow))) as client:
        answers = [client.get("/v1/stores", headers=bearer("slow-token")) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 20
        assert (
            answers[3]
            .json()["detail"]
            .startswith("token 'slow': more than 3 requests a minute; try again in")
        )
        # another token is not held back
        assert client.get("/v1/stores", headers=bearer(FLEET)).status_code == 200


def test_cors_is_off_unless_origins_are_configured(fleet: LandedFleet) -> None:
    preflight = {
        "Origin": "https://bi.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    with TestClient(fleet.app(config())) as client:
        asked = client.options("/v1/stores", headers=preflight)
        assert "access-control-allow-origin" not in asked.headers
        got = client.get("/v1/stores", headers={**bearer(FLEET), "Origin": "https://bi.example"})
        assert got.status_code == 200 and "access-control-allow-origin" not in got.headers
    with TestClient(fleet.app(config(cors=("https://bi.example",)))) as client:
        asked = client.options("/v1/stores", headers=preflight)
        assert asked.headers["access-control-allow-origin"] == "https://bi.example"
        other = client.options(
            "/v1/stores", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


def test_the_api_is_documented_by_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/v1/stores", "/v1/kiosks/{kiosk_id}/health", "/v1/metrics/funnel",
        "/v1/metrics/traffic", "/v1/metrics/top-products", "/v1/metrics/pairs",
        "/v1/metrics/triples",
    }  # fmt: skip
    funnel = spec["paths"]["/v1/metrics/funnel"]["get"]
    assert funnel["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Page_FunnelDay_"
    }
    assert {"403", "429", "422"} <= set(funnel["responses"])
    assert {p["name"] for p in funnel["parameters"]} == {"from", "to", "store", "limit", "offset"}
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_a_corrupt_lake_file_is_a_503_naming_it(tmp_path: Path, fleet: LandedFleet) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(fleet.db.parent / "lake", lake)
    [broken, *_] = sorted(lake.glob(f"events/date={DAYS[0]}/store=store-001/part-*.parquet"))
    broken.write_bytes(b"PAR1 this is no longer a Parquet file PAR1")
    queries = DashboardQueries(LakeSource(LocalLake(lake)))
    parts = ApiParts(config(), FleetDatabase(fleet.db), queries)
    try:
        with TestClient(create_app(parts)) as client:
            where = {"from": DAYS[0], "store": "store-001"}
            answer = client.get("/v1/metrics/funnel", params=where, headers=bearer(FLEET))
            assert answer.status_code == 503
            assert answer.json()["detail"].startswith("the figures cannot be read: ")
            assert str(broken) in answer.json()["detail"]
            # the other store's files still answer
            other = client.get(
                "/v1/metrics/funnel", params={**where, "store": "store-002"}, headers=bearer(FLEET)
            )
            assert other.status_code == 200
    finally:
        queries.close()


def test_the_command_names_a_missing_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "api.toml"
    assert main(["serve", "--config", str(missing), "--db", str(tmp_path / "x.sqlite")]) == 2
    assert capsys.readouterr().err == (
        f"kiosk-analytics-api: cannot read {missing}: No such file or directory\n"
    )
    assert main(["new-token", "--name", "hq", "--store", "*"]) == 0
    out, err = capsys.readouterr()
    token = err.rsplit(": ", 1)[1].strip()
    assert f'sha256 = "{token_digest(token)}"' in out and token not in out


def test_the_api_over_the_receivers_file_answers_as_over_the_lake(fleet: LandedFleet) -> None:
    from_sqlite = DashboardQueries(SQLiteSource(fleet.db))
    over_sqlite = ApiParts(config(), FleetDatabase(fleet.db), from_sqlite)
    try:
        with (
            TestClient(create_app(over_sqlite)) as sqlite_client,
            TestClient(fleet.app(config())) as lake_client,
        ):
            for path in ("funnel", "traffic", "top-products", "pairs", "triples"):
                for store in (None, "store-002"):
                    where = {"from": DAYS[1]} | ({} if store is None else {"store": store})
                    answers = [
                        every_item(client, f"/v1/metrics/{path}", FLEET, min_support=0, **where)
                        for client in (sqlite_client, lake_client)
                    ]
                    assert answers[0] == answers[1] and answers[0], (path, store)
    finally:
        from_sqlite.close()
