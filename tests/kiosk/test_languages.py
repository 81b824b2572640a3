"""The shopper's language on the real window: a set-language shape relabels every page
(those already drawn or rendered ahead too), the session stays in it until it ends, then
the kiosk is back in the config's language; every event carries the language."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from designer_import.model import Page
from kiosk.models.interactions import MemorySink
from kiosk.screen.pageview import PageView
from kiosk.screen.window import KioskWindow
from settings import KioskConfig
from storage import EventLog
from tests.kiosk.shop_screen import tap
from tests.support.clock import FakeClock
from tests.support.drawings import page_xml, write_drawio


def labelled(cell_id: str, english: str, french: str, x: int, y: int, extra: str = "") -> str:
    """A box labelled in English with its French label (``label_fr``), and ``extra`` data."""
    return (
        f'<object label="{english}" label_fr="{french}" id="{cell_id}" {extra}>'
        '<mxCell style="rounded=1;whiteSpace=wrap;fillColor=#dae8fc;" vertex="1" parent="1">'
        f'<mxGeometry x="{x}" y="{y}" width="300" height="120" as="geometry"/></mxCell>'
        "</object>"
    )


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Attract, a welcome page with the French picker and a link to the products, and two
    product pages with a way back (every label also in French)."""
    french = 'kiosk-action="set-language" lang="fr"'
    pages = [
        page_xml("attract", "attract", labelled("hello", "Touch me", "Touchez-moi", 800, 480)),
        page_xml(
            "welcome",
            "Welcome",
            labelled("fr", "Français", "Français", 100, 900, french)
            + labelled("to-dogs", "Dogs", "Chiens", 100, 100, 'link="data:page/id,dogs"')
            + labelled("to-cats", "Cats", "Chats", 500, 100, 'link="data:page/id,cats"'),
        ),
        page_xml(
            "dogs",
            "Dogs",
            labelled("dog-title", "Our dogs", "Nos chiens", 100, 100)
            + labelled("back-d", "Back", "Retour", 40, 900, 'kiosk-action="back"'),
        ),
        page_xml(
            "cats",
            "Cats",
            labelled("cat-title", "Our cats", "Nos chats", 100, 100)
            + labelled("back-c", "Back", "Retour", 40, 900, 'kiosk-action="back"'),
        ),
    ]
    return write_drawio(tmp_path / "shop.drawio", pages)


def on_screen(view: PageView) -> dict[str, str]:
    """The label each shape of the page on screen is drawn with."""
    assert view.scene is not None
    return {e.id: e.label.plain for e in view.scene.page.elements if e.label is not None}


def wait_ready(qtbot: object, window: KioskWindow, pages: list[Page]) -> None:
    """Until the view has rendered ``pages`` (as the window hands them over) ahead."""
    wanted = [window.language.page(p) for p in pages]
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: all(window.view.is_ready(p) for p in wanted), timeout=10_000
    )


def test_a_picker_relabels_every_page_until_the_session_ends(
    qtbot: object, open_window: Callable[..., KioskWindow], shop_file: Path, clock: FakeClock
) -> None:
    window = open_window(shop_file)
    tap(window, "hello")
    assert window.page is not None and window.page.id == "welcome"
    experience = window.experience
    dogs, cats = experience.page("dogs"), experience.page("cats")
    assert dogs is not None and cats is not None
    # the pages one touch away are drawn ahead in English before the switch
    wait_ready(qtbot, window, [dogs, cats])
    tap(window, "fr")
    assert window.language.current == "fr"
    assert on_screen(window.view)["to-dogs"] == "Chiens"
    # the English pictures are let go: the pages one touch away are drawn ahead in French
    wait_ready(qtbot, window, [dogs, cats])
    tap(window, "to-dogs")
    assert on_screen(window.view)["dog-title"] == "Nos chiens"
    tap(window, "back-d")
    tap(window, "to-cats")
    assert on_screen(window.view) == {"cat-title": "Nos chats", "back-c": "Retour"}
    # the session ends by itself: back to the config's language on every page
    clock.advance(window.settings.idle_timeout_s + 1)
    window.tick()
    assert window.session.session_id is None
    assert window.language.current == "en"
    window.go_attract("test")
    assert on_screen(window.view) == {"hello": "Touch me"}
    tap(window, "hello")
    tap(window, "to-dogs")
    assert on_screen(window.view)["dog-title"] == "Our dogs"


def test_events_carry_the_sessions_language(
    open_window: Callable[..., KioskWindow], shop_file: Path, sink: MemorySink, config: KioskConfig
) -> None:
    window = open_window(shop_file)
    tap(window, "hello")
    tap(window, "fr")
    tap(window, "to-dogs")
    window.go_attract("test")
    languages = [(e.type, e.payload.get("language")) for e in sink.events]
    picked = next(i for i, e in enumerate(sink.events) if e.payload.get("action") == "set-language")
    # the tap on the picker is still in English; what follows is in French
    assert languages[: picked + 1] == [
        ("session.start", "en"),
        ("touch", "en"),
        ("touch", "en"),
        ("action", "en"),
    ]
    assert languages[picked + 1 :] == [
        ("touch", "fr"),
        ("page.view", "fr"),
        ("page.view", "fr"),
        ("session.end", "fr"),
    ]
    # the event log's schema v1 check takes the key into SQLite
    log = EventLog(config)
    log.start()
    try:
        for event in sink.events:
            log.append(event)
    finally:
        log.stop()
    with sqlite3.connect(log.database) as conn:
        rows = conn.execute("SELECT json FROM events ORDER BY id").fetchall()
    assert [json.loads(text)["payload"]["language"] for (text,) in rows] == [
        language for _type, language in languages
    ]


def overlay_picture(widget: QWidget) -> QImage:
    widget.repaint()
    return widget.grab().toImage()


def test_the_kiosks_own_screens_use_the_configured_texts_else_english(
    open_window: Callable[..., KioskWindow], shop_file: Path, clock: FakeClock, config: KioskConfig
) -> None:
    config.languages.texts = {"fr": {"still_there": "Toujours là ?", "my_list": "Ma liste"}}
    window = open_window(shop_file)
    tap(window, "hello")
    tap(window, "fr")
    # the built-in "Still there?" prompt
    clock.advance(window.settings.idle_timeout_s - window.settings.still_there_s + 0.5)
    window.tick()
    prompt = window.still_there.prompt
    assert prompt.isVisible()
    french = overlay_picture(prompt)
    window.language.current = "de"  # as a picker would (no German texts: as in English)
    german = overlay_picture(prompt)
    window.language.current = "en"
    assert german == overlay_picture(prompt) != french
    window.language.current = "fr"
    tap(window, "to-dogs")  # the touch keeps the session: the prompt goes
    assert not prompt.isVisible()
    # the list to take home (empty: its title and hint)
    window.take_home.show(window.experience.pages[1], None)
    screen = window.take_home.screen
    french = overlay_picture(screen)
    window.language.current = "de"  # no German texts: as in English
    german = overlay_picture(screen)
    window.language.current = "en"
    assert german == overlay_picture(screen) != french


def test_an_authored_prompt_page_shows_its_translation(
    open_window: Callable[..., KioskWindow], shop_file: Path, clock: FakeClock, tmp_path: Path
) -> None:
    prompt_page = page_xml(
        "prompt", "still-there", labelled("asking", "Still there?", "Toujours là ?", 800, 400)
    )
    drawing = shop_file.read_text(encoding="utf-8").replace("</mxfile>", prompt_page + "</mxfile>")
    (tmp_path / "with-prompt.drawio").write_text(drawing, encoding="utf-8")
    window = open_window(tmp_path / "with-prompt.drawio")
    tap(window, "hello")
    tap(window, "fr")
    clock.advance(window.settings.idle_timeout_s - window.settings.still_there_s + 0.5)
    window.tick()
    prompt = window.still_there.prompt
    assert prompt.isVisible() and prompt.scene is not None
    asking = prompt.scene.page.element("asking")
    assert asking is not None and asking.label is not None
    assert asking.label.plain == "Toujours là ?"
