"""The demo experience ``resources/demo/pet-store.drawio``: it loads, validates cleanly, every
link leads somewhere, every page can be reached, and the committed file is exactly what the
generator writes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from designer_import import load_experience, load_experience_bytes, validate
from designer_import.model import ActionLink, Experience, NavigateLink, Page, ShapeKind
from designer_import.validate import still_there_pages
from kiosk.models.interactions import EventRecorder, MemorySink
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from resources.demo import make_demo
from settings.loader import load_config

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "pet-store.drawio"
MIN_TARGET_PX = 120
STAFF_ACTION = "call-staff"


@pytest.fixture(scope="module")
def experience() -> Experience:
    return load_experience(DEMO)


def _shopper_pages(experience: Experience) -> list[Page]:
    prompts = still_there_pages(experience)  # the kiosk's own "Still there?" prompt
    return [p for p in experience.pages if p.role != "attract" and p not in prompts]


def _product_pages(experience: Experience) -> list[Page]:
    return [p for p in experience.pages if p.id.startswith("product-")]


def test_config_default_points_at_the_demo() -> None:
    from settings.model import KioskSection
    from settings.resources import builtin_name, resource_path

    name = builtin_name(KioskSection().experience)
    assert name is not None and resource_path(name).resolve() == DEMO.resolve()


def test_validates_without_errors_or_warnings(experience: Experience) -> None:
    findings = validate(experience, (1920, 1080))
    assert [f.format() for f in findings] == []


def test_page_structure(experience: Experience) -> None:
    assert all((p.width, p.height) == (1920, 1080) for p in experience.pages)
    assert len(experience.attract_pages) >= 2
    welcome = experience.welcome_page
    assert welcome is not None and welcome.name == "Welcome"
    categories = {p.name for p in experience.pages if p.id.startswith("category-")}
    assert categories == {"Dogs", "Cats", "Small pets & fish"}
    assert len(_product_pages(experience)) >= 6
    assert experience.page("offers") is not None


def test_every_navigation_link_reaches_an_existing_page(experience: Experience) -> None:
    links = 0
    for page in experience.pages:
        for element in page.elements:
            if isinstance(element.link, NavigateLink):
                links += 1
                assert experience.page(element.link.page_id) is not None, (page.name, element.id)
    assert links >= 20
    # Back and Home are the kiosk's own actions (back = where the shopper came from)
    for page in _shopper_pages(experience):
        if page.role == "welcome":
            continue
        names = {e.kiosk_action.name for e in page.elements if e.kiosk_action is not None}
        assert {"back", "home"} <= names, page.name


def test_every_page_is_reachable_from_welcome(experience: Experience) -> None:
    welcome = experience.welcome_page
    assert welcome is not None
    reached = {welcome.id}
    queue = deque([welcome])
    while queue:
        page = queue.popleft()
        for element in page.elements:
            link = element.link
            if isinstance(link, NavigateLink) and link.page_id not in reached:
                reached.add(link.page_id)
                target = experience.page(link.page_id)
                assert target is not None
                queue.append(target)
    shopper_ids = {p.id for p in _shopper_pages(experience)}
    assert shopper_ids <= reached
    # and every attract page leads into the shop (the offers teaser straight to the offers)
    for page in experience.attract_pages:
        targets = {e.link.page_id for e in page.elements if isinstance(e.link, NavigateLink)}
        assert targets and targets <= shopper_ids, page.name
    assert any(
        e.link.page_id == "offers"
        for page in experience.attract_pages
        for e in page.elements
        if isinstance(e.link, NavigateLink)
    )


def test_every_product_page_carries_sku_actions(experience: Experience) -> None:
    skus = set()
    for page in _product_pages(experience):
        actions = {
            e.kiosk_action.name: e.kiosk_action.params.get("sku")
            for e in page.elements
            if e.kiosk_action is not None
        }
        assert actions.get("add-to-list"), page.name
        # the page's own sku goes with its page views (dwell time per product)
        assert page.properties.get("sku") == actions["add-to-list"], page.name
        assert actions.get("show-me-where") == actions["add-to-list"], page.name
        skus.add(actions["add-to-list"])
        pictures = [e for e in page.elements if e.kind is ShapeKind.IMAGE and e.visible]
        assert any(p.image is not None and p.image.available for p in pictures), page.name
    assert len(skus) == len(_product_pages(experience))
    # a category tile that leads to a product says which product it is
    for page in experience.pages:
        for element in page.elements:
            if isinstance(element.link, NavigateLink) and element.link.page_id.startswith(
                "product-"
            ):
                assert element.kiosk_action is not None
                assert element.kiosk_action.name == "show-product"
                assert element.kiosk_action.params["sku"] in skus


def test_details_panel_toggles_by_tag(experience: Experience) -> None:
    for page in _product_pages(experience):
        toggles = [
            step
            for e in page.elements
            if isinstance(e.link, ActionLink)
            for step in e.link.actions
            if step.action == "toggle" and "details" in step.tags
        ]
        assert toggles, page.name
        panel = page.tagged("details")
        assert panel and not any(e.visible for e in panel), page.name


def test_call_staff_everywhere_with_a_confirmation_in_place(experience: Experience) -> None:
    for page in _shopper_pages(experience):
        buttons = [
            e
            for e in page.elements
            if e.kiosk_action is not None and e.kiosk_action.name == STAFF_ACTION
        ]
        assert len(buttons) == 1, page.name
        link = buttons[0].link
        assert isinstance(link, ActionLink), page.name
        shown = [tag for step in link.actions if step.action == "show" for tag in step.tags]
        confirmation = [e for tag in shown for e in page.tagged(tag)]
        assert confirmation, page.name
        assert not any(e.visible for e in confirmation), page.name
        assert any(e.label and "on the way" in e.label.plain for e in confirmation), page.name


def test_touch_targets_are_big(experience: Experience) -> None:
    for page in experience.pages:
        for element in page.elements:
            if element.link is None and element.kiosk_action is None:
                continue
            short = min(element.geometry.width, element.geometry.height)
            assert short >= MIN_TARGET_PX, (page.name, element.id, short)


def test_text_is_large(experience: Experience) -> None:
    for page in experience.pages:
        for element in page.elements:
            if element.label is not None and element.label.plain.strip():
                assert element.style.font_size >= 30, (page.name, element.id)


def test_generator_is_deterministic_and_matches_the_committed_file(tmp_path: Path) -> None:
    first = make_demo.render()
    second = make_demo.render()
    assert first == second
    assert DEMO.read_bytes() == first, "run: python -m resources.demo.make_demo"
    assert b'compressed="false"' in first
    # the generator's own command line writes the same bytes elsewhere
    out = tmp_path / "demo.drawio"
    assert make_demo.main(["--output", str(out)]) == 0
    assert out.read_bytes() == first
    assert make_demo.main(["--check", "--output", str(out)]) == 0
    out.write_bytes(first.replace(b"Happy Paws", b"Sad Paws", 1))
    assert make_demo.main(["--check", "--output", str(out)]) == 1
    assert load_experience_bytes(first, "demo.drawio").pages


def test_generator_runs_as_a_script_with_the_same_bytes(tmp_path: Path) -> None:
    out = tmp_path / "script.drawio"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "resources" / "demo" / "make_demo.py"), "--output", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == DEMO.read_bytes()


def test_artwork_is_valid_svg() -> None:
    from lxml import etree

    from resources.demo import artwork

    for name, draw in artwork.PRODUCT_ART.items():
        svg = draw()
        root = etree.fromstring(svg.encode())
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        assert svg == draw(), name


# --- the demo on the real shopper window --------------------------------------------------------


@dataclass
class Shopper:
    """A shopper's hands on the kiosk window showing the demo."""

    window: KioskWindow
    sink: MemorySink
    qtbot: QtBot

    @property
    def page_id(self) -> str:
        assert self.window.page is not None
        return self.window.page.id

    def tap(self, element_id: str) -> None:
        view = self.window.view
        # a panel that was just shown is still fading in: wait until a finger can reach it
        self.qtbot.waitUntil(lambda: view.touch_point(element_id) is not None, timeout=3000)
        point = view.touch_point(element_id)
        assert point is not None, element_id
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)

    def shown(self, element_id: str) -> bool:
        page = self.window.page
        assert page is not None
        element = page.element(element_id)
        assert element is not None, element_id
        return self.window.shown(page, element)


@pytest.fixture
def shopper(qtbot: QtBot, tmp_path: Path) -> Iterator[Shopper]:
    """The shopper window showing the demo, instant transitions, events kept in memory."""
    config = load_config(None)
    config.paths.data_dir = tmp_path / "data"
    config.paths.log_dir = tmp_path / "logs"
    config.storage.database = tmp_path / "data" / "events.sqlite"  # derived at load: set too
    config.kiosk.fullscreen = False
    config.kiosk.transition = "off"
    config.redis.enabled = False
    sink = MemorySink()
    recorder = EventRecorder(config, sink)
    tasks = TaskRunner()
    window = KioskWindow(config=config, recorder=recorder, tasks=tasks)
    recorder.session_id = lambda: window.session.session_id
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    window.start(DEMO)
    yield Shopper(window, sink, qtbot)
    window.shutdown()
    assert tasks.shutdown(timeout=30.0)


def test_a_shopper_walks_through_the_demo(shopper: Shopper) -> None:
    assert shopper.window.broken is None
    assert shopper.window.page is not None and shopper.window.page.role == "attract"
    shopper.tap(f"{shopper.page_id}-anywhere")
    assert shopper.page_id == "welcome"
    shopper.tap("welcome-dogs")
    assert shopper.page_id == "category-dogs"
    shopper.tap("category-dogs-tile-dog-214")
    product = "product-dog-214"
    assert shopper.page_id == product

    # details toggle in place; "show me where" and "add to my list" swap the panel
    panel = f"{product}-details-panel"
    assert not shopper.shown(panel)
    shopper.tap(f"{product}-details")
    assert shopper.shown(panel) and shopper.shown(f"{product}-details-close")
    shopper.tap(f"{product}-details")
    assert not shopper.shown(panel)
    shopper.tap(f"{product}-where")
    assert shopper.shown(f"{product}-where-map")
    shopper.tap(f"{product}-add")
    assert not shopper.shown(f"{product}-where-map")
    assert shopper.shown(f"{product}-added-panel")
    shopper.tap(f"{product}-added-close")
    assert not shopper.shown(f"{product}-added-panel")

    # call staff: the confirmation shows on the same page and goes away with OK
    shopper.tap(f"{product}-call-staff")
    assert shopper.page_id == product and shopper.shown(f"{product}-staff-card")
    shopper.tap(f"{product}-staff-ok")
    assert not shopper.shown(f"{product}-staff-card")

    # Back returns to where the shopper came from
    shopper.tap(f"{product}-back")
    assert shopper.page_id == "category-dogs"
    shopper.tap("category-dogs-offers")
    assert shopper.page_id == "offers"
    shopper.tap("offers-tile-cat-120")
    assert shopper.page_id == "product-cat-120"
    shopper.tap("product-cat-120-back")
    assert shopper.page_id == "offers"
    shopper.tap("offers-home")
    assert shopper.page_id == "welcome"

    actions = [
        (e.payload.get("action"), e.payload.get("sku")) for e in shopper.sink.of_type("action")
    ]
    assert ("show-product", "DOG-214") in actions
    assert ("add-to-list", "DOG-214") in actions
    assert ("show-me-where", "DOG-214") in actions
    assert ("call-staff", None) in actions
    assert ("show-product", "CAT-120") in actions
    viewed = {e.payload.get("sku") for e in shopper.sink.of_type("page.view")}
    assert {"DOG-214", "CAT-120"} <= viewed
