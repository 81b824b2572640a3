"""A kiosk's status message, published over real mosquitto and kept by a real receiver,
reaches the daily report's and the data API's kiosk health; a kiosk that sent none is "not
reported"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analytics.api import ApiParts, create_app
from analytics.api_fleet import FleetDatabase
from analytics.queries import DashboardQueries, SQLiteSource
from analytics.report import main as report_main
from localservers import Mosquitto
from tests.analytics.api_support import FLEET, bearer, config
from tests.analytics.conftest import batch_bytes
from tests.support.uplink import make_events, plain_endpoint
from tests.support.waiting import wait_until
from tests.uplink.test_kiosk_status import publish, status_body
from uplink.receiver import Receiver

STORE = "store-9"


@pytest.fixture
def received(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Path]:
    """kiosk-01 and kiosk-02 each sent a batch; only kiosk-01 sent status messages (an
    older one of the day, then its last), all through mosquitto into a real receiver."""
    db = tmp_path / "received.sqlite"
    receiver = Receiver(plain_endpoint(mosquitto), "retail/+/+/events", db)
    receiver.start()
    try:
        assert receiver.wait_subscribed(10), "receiver did not connect"
        one = make_events(6, store_id=STORE, kiosk_id="kiosk-01")
        two = make_events(6, store_id=STORE, kiosk_id="kiosk-02")
        day = one[0]["ts"][:10]
        status = f"retail/{STORE}/kiosk-01/status"
        fields = {"store_id": STORE, "kiosk_id": "kiosk-01"}
        publish(
            mosquitto.port,
            [
                (f"retail/{STORE}/kiosk-01/events", batch_bytes(one, "b-1"), False),
                (f"retail/{STORE}/kiosk-02/events", batch_bytes(two, "b-2"), False),
                (status, status_body(f"{day}T08:00:00.000Z", backlog_events=900, **fields), False),
                (
                    status,
                    status_body(
                        f"{day}T20:00:00.000Z",
                        uptime_s=7200.0,
                        restarts_24h=5,
                        crash_loop=True,
                        backlog_events=42,
                        sensor={"status": "disconnected"},
                        **fields,
                    ),
                    True,
                ),
            ],
        )
        wait_until(
            lambda: receiver.stats().messages == 2 and receiver.stats().statuses == 2,
            what="two batches and two statuses",
        )
    finally:
        receiver.stop()
    yield db


def test_the_api_health_carries_the_newest_status(received: Path) -> None:
    queries = DashboardQueries(SQLiteSource(received))
    try:
        app = create_app(ApiParts(config(), FleetDatabase(received), queries))
        with TestClient(app) as client:
            params = {"store": STORE}
            one = client.get("/v1/kiosks/kiosk-01/health", params=params, headers=bearer(FLEET))
            two = client.get("/v1/kiosks/kiosk-02/health", params=params, headers=bearer(FLEET))
    finally:
        queries.close()
    status = one.json()["status"]
    assert status["sent_at"].endswith("T20:00:00.000Z")
    assert (status["uptime_s"], status["restarts_24h"], status["crash_loop"]) == (7200.0, 5, True)
    assert (status["backlog_events"], status["camera"]) == (42, "disconnected")
    assert (status["software"], status["bundle_id"], status["state"]) == (
        "1.4.0", "spring-2026", "online",
    )  # fmt: skip
    assert two.status_code == 200 and two.json()["status"] is None


def test_the_report_health_shows_the_days_last_status(received: Path, tmp_path: Path) -> None:
    day = make_events(1)[0]["ts"][:10]
    out = tmp_path / "report.html"
    args = ["--date", day, "--store", STORE, "--sqlite", str(received), "-o", str(out)]
    assert report_main(args) == 0
    html = out.read_text(encoding="utf-8")
    row_one = html[html.index("<td>kiosk-01</td>") : html.index("<td>kiosk-02</td>")]
    row_two = html[html.index("<td>kiosk-02</td>") :].split("</tr>")[0]
    for cell in ("2.0 h", "5 (crash loop)", "42", "disconnected"):
        assert f"<td>{cell}</td>" in row_one
    assert "<td>not reported</td>" in row_two and "<td>42</td>" not in row_two
    assert "last status message of the day" in html


def test_a_report_from_a_lake_without_the_receivers_file_says_status_was_not_read(
    received: Path, tmp_path: Path
) -> None:
    from analytics.report_figures import day_report
    from analytics.report_render import report_html

    day = dt.date.fromisoformat(make_events(1)[0]["ts"][:10])
    html = report_html(day_report(SQLiteSource(received), day, STORE))
    assert "<td>not read</td>" in html and "not reported" not in html
