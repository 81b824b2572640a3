"""What the shopper window works out once per experience to keep page switches cheap (the
goodbye page, the pages one touch away from each page) follows a newly activated experience:
nothing of the previous one is shown or rendered ahead."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication

from designer_import import load_experience
from kiosk.screen.window import KioskWindow
from tests.support.drawings import with_goodbye_page


def settle(window: KioskWindow) -> None:
    """Let the rendering ahead (pictures on a worker, items in idle turns) run to its end."""
    app = QApplication.instance()
    assert app is not None
    app.processEvents()  # the page switch asks for its neighbours in the next turn
    deadline = time.monotonic() + 30
    while window.view.ahead_pending:
        assert time.monotonic() < deadline, "the pages ahead were not ready within 30 s"
        app.processEvents()
        time.sleep(0.005)


def test_goodbye_page_follows_the_activated_experience(
    open_window: Callable[..., KioskWindow], shop_file: Path, tmp_path: Path
) -> None:
    window = open_window(shop_file)
    assert window.goodbye_page() is None
    with_goodbye = with_goodbye_page(shop_file, tmp_path / "with-goodbye.drawio")
    window.activate_experience(with_goodbye, load_experience(with_goodbye))
    found = window.goodbye_page()
    assert found is not None and found.id == "bye"
    assert found is window.experience.page("bye")
    # and back: the first experience has none
    window.activate_experience(shop_file, load_experience(shop_file))
    assert window.goodbye_page() is None


def test_pages_rendered_ahead_follow_the_activated_experience(
    open_window: Callable[..., KioskWindow], shop_file: Path, tmp_path: Path
) -> None:
    window = open_window(shop_file)
    assert window.navigate("welcome")
    settle(window)
    assert "cat" in window.view.cached_pages
    # the same page id now leads to a product instead of the category
    relinked = tmp_path / "relinked.drawio"
    relinked.write_text(
        shop_file.read_text(encoding="utf-8").replace(
            'link="data:page/id,cat" id="to-cat"', 'link="data:page/id,p3" id="to-cat"'
        ),
        encoding="utf-8",
    )
    experience = load_experience(relinked)
    window.activate_experience(relinked, experience)
    settle(window)
    assert window.navigate("welcome")
    settle(window)
    cached = window.view.cached_pages
    assert "p3" in cached and "cat" not in cached, cached
