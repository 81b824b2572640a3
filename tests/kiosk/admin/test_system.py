"""The kiosk page (manager): restart the experience, exit with a confirming second tap."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from kiosk.admin.controller import AdminController
from kiosk.services import KioskServices
from settings import KioskConfig
from tests.support.admin import MANAGER_PIN, Recorded, log_in
from tests.support.clock import FakeClock


def test_restart_and_exit(
    qtbot: Any, window: QWidget, config: KioskConfig, recorded: Recorded, clock: FakeClock
) -> None:
    calls: list[str] = []
    services = KioskServices(
        config=config,
        record=recorded,
        restart_experience=lambda: calls.append("restart"),
        exit_kiosk=lambda: calls.append("exit"),
    )
    admin = AdminController(window, services, clock=clock)
    try:
        log_in(qtbot, admin, window, clock, MANAGER_PIN)
        assert admin.show_page("kiosk")
        page = admin.page_widgets["kiosk"]
        assert "[admin]" in page.settings.toPlainText()
        assert "scrypt$" not in page.settings.toPlainText()  # PIN hashes are masked
        qtbot.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
        assert calls == ["restart"]
        qtbot.mouseClick(page.exit_button, Qt.MouseButton.LeftButton)
        assert calls == ["restart"]  # one tap only arms it
        assert page.exit_button.text() == "Tap again to exit"
        qtbot.mouseClick(page.exit_button, Qt.MouseButton.LeftButton)
        assert calls == ["restart", "exit"]
        types = recorded.types()
        assert types.index("admin.restart_experience") < types.index("admin.exit")
        assert all(p["role"] == "manager" for t, p in recorded.events if t == "admin.exit")
    finally:
        admin.shutdown()
