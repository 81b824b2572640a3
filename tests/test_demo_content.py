"""The demo experience ``resources/demo/pet-store.drawio``: it loads, validates cleanly, every
link leads somewhere, every page can be reached, and the committed file is exactly what the
generator writes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from designer_import import load_experience, load_experience_bytes, validate
from designer_import.model import ActionLink, Experience, NavigateLink, Page, ShapeKind
from resources.demo import make_demo

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo" / "pet-store.drawio"
MIN_TARGET_PX = 120
STAFF_ACTION = "call-staff"


@pytest.fixture(scope="module")
def experience() -> Experience:
    return load_experience(DEMO)


def _shopper_pages(experience: Experience) -> list[Page]:
    return [p for p in experience.pages if p.role != "attract"]


def _product_pages(experience: Experience) -> list[Page]:
    return [p for p in experience.pages if p.id.startswith("product-")]


def test_config_default_points_at_the_demo() -> None:
    from settings.model import KioskSection

    default = KioskSection().experience
    assert (ROOT / "resources" / default).resolve() == DEMO.resolve()


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
    # and every attract page leads into the shop
    for page in experience.attract_pages:
        assert any(
            isinstance(e.link, NavigateLink) and e.link.page_id == welcome.id for e in page.elements
        ), page.name


def test_every_product_page_carries_sku_actions(experience: Experience) -> None:
    skus = set()
    for page in _product_pages(experience):
        actions = {
            e.kiosk_action.name: e.kiosk_action.params.get("sku")
            for e in page.elements
            if e.kiosk_action is not None
        }
        assert actions.get("add-to-list"), page.name
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


def test_artwork_is_valid_svg() -> None:
    from lxml import etree

    from resources.demo import artwork

    for name, draw in artwork.PRODUCT_ART.items():
        svg = draw()
        root = etree.fromstring(svg.encode())
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        assert svg == draw(), name


# --- the demo on the real shopper window --------------------------------------------------------


@pytest.fixture
def window(qtbot: object, tmp_path: Path) -> Iterator[object]:
    """The shopper window showing the demo, instant transitions, events kept in memory."""
    from kiosk.events import EventRecorder, MemorySink
    from kiosk.services import KioskServices
    from kiosk.shopper import KioskWindow
    from settings.loader import load_config

    config = load_config(None)
    config.paths.data_dir = tmp_path / "data"
    config.paths.log_dir = tmp_path / "logs"
    config.kiosk.fullscreen = False
    config.kiosk.transition = "off"
    config.redis.enabled = False
    sink = MemorySink()
    recorder = EventRecorder(config, sink)
    services = KioskServices(config=config, record=recorder.record)
    shopper = KioskWindow(services)
    recorder.session_id = lambda: shopper.session.session_id
    qtbot.addWidget(shopper)  # type: ignore[attr-defined]
    shopper.resize(1920, 1080)
    shopper.show()
    shopper.start(DEMO)
    shopper.sink = sink  # type: ignore[attr-defined]
    shopper.qtbot = qtbot  # type: ignore[attr-defined]
    yield shopper
    shopper.shutdown()


def _tap(window: object, element_id: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    view = window.view  # type: ignore[attr-defined]
    # a panel that was just shown is still fading in: wait until a finger can reach it
    window.qtbot.waitUntil(lambda: view.touch_point(element_id) is not None, timeout=3000)  # type: ignore[attr-defined]
    point = view.touch_point(element_id)
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)  # type: ignore[attr-defined]


def _shown(window: object, element_id: str) -> bool:
    page = window.page  # type: ignore[attr-defined]
    element = page.element(element_id)
    assert element is not None, element_id
    return bool(window.shown(page, element))  # type: ignore[attr-defined]


def test_a_shopper_walks_through_the_demo(window: object) -> None:
    w = window
    assert w.broken is None  # type: ignore[attr-defined]
    assert w.page.role == "attract"  # type: ignore[attr-defined]
    _tap(w, f"{w.page.id}-anywhere")  # type: ignore[attr-defined]
    assert w.page.id == "welcome"  # type: ignore[attr-defined]
    _tap(w, "welcome-dogs")
    assert w.page.id == "category-dogs"  # type: ignore[attr-defined]
    _tap(w, "category-dogs-tile-dog-214")
    product = "product-dog-214"
    assert w.page.id == product  # type: ignore[attr-defined]

    # details toggle in place; "show me where" and "add to my list" swap the panel
    panel = f"{product}-details-panel"
    assert not _shown(w, panel)
    _tap(w, f"{product}-details")
    assert _shown(w, panel) and _shown(w, f"{product}-details-close")
    _tap(w, f"{product}-details")
    assert not _shown(w, panel)
    _tap(w, f"{product}-where")
    assert _shown(w, f"{product}-where-map")
    _tap(w, f"{product}-add")
    assert not _shown(w, f"{product}-where-map") and _shown(w, f"{product}-added-panel")
    _tap(w, f"{product}-added-close")
    assert not _shown(w, f"{product}-added-panel")

    # call staff: the confirmation shows on the same page and goes away with OK
    _tap(w, f"{product}-call-staff")
    assert w.page.id == product and _shown(w, f"{product}-staff-card")  # type: ignore[attr-defined]
    _tap(w, f"{product}-staff-ok")
    assert not _shown(w, f"{product}-staff-card")

    _tap(w, f"{product}-back")
    assert w.page.id == "category-dogs"  # type: ignore[attr-defined]
    _tap(w, "category-dogs-offers")
    assert w.page.id == "offers"  # type: ignore[attr-defined]
    _tap(w, "offers-tile-cat-120")
    assert w.page.id == "product-cat-120"  # type: ignore[attr-defined]
    _tap(w, "product-cat-120-back")
    assert w.page.id == "offers"  # type: ignore[attr-defined]
    _tap(w, "offers-home")
    assert w.page.id == "welcome"  # type: ignore[attr-defined]

    actions = [
        (e.payload.get("action"), e.payload.get("sku"))
        for e in w.sink.of_type("action")  # type: ignore[attr-defined]
    ]
    assert ("show-product", "DOG-214") in actions
    assert ("add-to-list", "DOG-214") in actions
    assert ("show-me-where", "DOG-214") in actions
    assert ("call-staff", None) in actions
    assert ("show-product", "CAT-120") in actions
