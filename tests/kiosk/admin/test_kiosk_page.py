"""The page titled "Kiosk" (manager): restart the experience, exit with a confirming second
tap, the settings in effect."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from tests.kiosk.admin.shopper import ShopperScreenDouble
from tests.support.admin import MANAGER_PIN, Recorded, log_in
from tests.support.clock import FakeClock


def test_restart_and_exit(
    qtbot: Any,
    window: QWidget,
    recorded: Recorded,
    clock: FakeClock,
    make_admin: Any,
    screen: ShopperScreenDouble,
) -> None:
    exits: list[str] = []
    admin = make_admin(exit_kiosk=lambda: exits.append("exit"))
    log_in(qtbot, admin, window, clock, MANAGER_PIN)
    assert admin.show_page("kiosk")
    page = admin.pages["kiosk"]
    assert "[admin]" in page.settings.toPlainText()
    assert "scrypt$" not in page.settings.toPlainText()  # PIN hashes are masked
    qtbot.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
    assert screen.restarts == 1 and not exits
    assert page.message.text() == "experience restarted"
    qtbot.mouseClick(page.exit_button, Qt.MouseButton.LeftButton)
    assert not exits  # one tap only arms it
    assert page.exit_button.text() == "Tap again to exit"
    qtbot.mouseClick(page.exit_button, Qt.MouseButton.LeftButton)
    assert exits == ["exit"] and screen.restarts == 1
    types = recorded.types()
    assert types.index("admin.restart_experience") < types.index("admin.exit")
    assert all(p["role"] == "manager" for t, p in recorded.events if t == "admin.exit")
