"""The data API's page at ``/`` in a real Chromium (Debian's, driven by Playwright) against
uvicorn on a loopback port, over a real landed fleet and its lake: the funnel and the top
products are drawn from the API's figures, a wrong token shows the API's message, a brand's
token shows what it may not read in place of the chart, and the page asks nothing of any
other host. KIOSK_SCREENSHOT_DIR keeps analytics-api.png (docs/screenshots/ holds the last)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, Route, sync_playwright

from tests.analytics.api_support import (
    BRAND,
    DAYS,
    FLEET,
    LandedFleet,
    config,
    landed_fleet,
)

#: Debian's Chromium, which scripts/setup-system installs (Playwright downloads no browser).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FUNNEL_LABELS = ["passed by", "came closer", "engaged", "shoppers", "touched", "saw a product"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LandedFleet]:
    yield from landed_fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def served(fleet: LandedFleet) -> Iterator[str]:
    """uvicorn serving the API on a free loopback port; its base URL. Stopped after."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fleet.app(config()), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name="uvicorn")
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start within 20 s"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listening.close()
        assert not thread.is_alive(), "uvicorn did not stop within 20 s"


@pytest.fixture
def page(served: str) -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page; the list collects the page's errors and any request to another
    host (each one aborted)."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM}: Debian's chromium (scripts/setup-system)"
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )

            def elsewhere(route: Route) -> None:
                url = route.request.url
                if url.startswith(served + "/"):
                    route.continue_()
                else:
                    problems.append(f"asked another host: {url}")
                    route.abort()

            page.route("**/*", elsewhere)
            page.goto(served + "/")
            yield page, problems
        finally:
            browser.close()


def ask(page: Page, token: str, day: str) -> None:
    page.fill("#token", token)
    page.fill("#from", day)
    page.fill("#to", day)
    page.click("button[type=submit]")


def bars(page: Page, chart: str) -> list[tuple[str, int]]:
    found = page.locator(f"svg[data-chart='{chart}'] rect.bar")
    return [
        (
            str(found.nth(n).get_attribute("data-label")),
            int(found.nth(n).get_attribute("data-value") or -1),
        )
        for n in range(found.count())
    ]


def test_the_page_charts_the_funnel_and_top_products(
    page: tuple[Page, list[str]], fleet: LandedFleet, tmp_path: Path
) -> None:
    browser_page, problems = page
    day = DAYS[0]
    ask(browser_page, FLEET, day)
    browser_page.wait_for_selector("#figures:not([hidden]) svg[data-chart='top products']")
    funnel = fleet.queries.funnel(day)
    expected = [funnel.passed, funnel.approached, funnel.engaged, funnel.shoppers]
    expected += [funnel.touched, funnel.viewed_product]
    assert bars(browser_page, "funnel") == list(zip(FUNNEL_LABELS, expected, strict=True))
    top = fleet.queries.top_products(day)
    assert bars(browser_page, "top products") == [(p.sku, p.interactions) for p in top]
    assert browser_page.locator("svg[data-chart='traffic'] rect").count() == 48
    pairs = browser_page.locator("#pairs tbody tr")
    assert pairs.count() == min(15, len(fleet.queries.pairs(day, limit=1000)))
    assert browser_page.is_hidden("#error")
    # the store list comes from /v1/stores
    options = browser_page.locator("#store option").all_inner_texts()
    assert options == ["whole fleet", "store-000", "store-001", "store-002"]
    target = Path(os.environ.get("KIOSK_SCREENSHOT_DIR", tmp_path)) / "analytics-api.png"
    browser_page.screenshot(path=str(target), full_page=True)
    assert problems == []


def test_a_wrong_token_shows_the_apis_message(page: tuple[Page, list[str]]) -> None:
    browser_page, problems = page
    ask(browser_page, "not-a-token", DAYS[0])
    error = browser_page.wait_for_selector("#error:not([hidden])")
    assert error is not None
    assert error.inner_text() == "401 Unauthorized: Authorization: this token is not known"
    assert browser_page.is_hidden("#figures")
    # the right token afterwards shows the figures and hides the message
    ask(browser_page, FLEET, DAYS[0])
    browser_page.wait_for_selector("#figures:not([hidden])")
    assert browser_page.is_hidden("#error")
    assert [p for p in problems if "401" not in p] == []  # Chromium logs the 401 it was given


def test_a_brand_token_sees_why_a_figure_is_missing(page: tuple[Page, list[str]]) -> None:
    browser_page, problems = page
    ask(browser_page, BRAND, DAYS[0])
    # two stores in its scope and none chosen: every figure is refused, the reason shown
    error = browser_page.wait_for_selector("#error:not([hidden])")
    assert error is not None
    assert error.inner_text().splitlines() == [
        "403 Forbidden: funnel: token 'brand' is a brand's and reads its products' figures only"
        " (/v1/metrics/top-products, /v1/metrics/pairs, /v1/metrics/triples)",
        "403 Forbidden: store: token 'brand' reads store-000, store-001: name one",
        "403 Forbidden: traffic: token 'brand' is a brand's and reads its products' figures only"
        " (/v1/metrics/top-products, /v1/metrics/pairs, /v1/metrics/triples)",
    ]
    browser_page.select_option("#store", "store-001")
    browser_page.click("button[type=submit]")
    browser_page.wait_for_selector("#figures:not([hidden]) svg[data-chart='top products']")
    assert "is a brand's and reads its products' figures only" in browser_page.inner_text("#funnel")
    assert "is a brand's" in browser_page.inner_text("#traffic")
    assert bars(browser_page, "top products") and browser_page.is_hidden("#error")
    assert [p for p in problems if "403" not in p] == []  # Chromium logs the 403s
