"""The hidden admin panel for store staff: gesture + PIN, status, calibration, content and
dashboards, shown as an overlay over the shopper window.

``install_admin(window, services)`` is the one entry point (called once by ``kiosk.app``).
The Qt modules are imported when it is called, so ``kiosk set-pin`` (``kiosk.admin.pins``)
runs without loading Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from kiosk.admin.controller import AdminController
    from kiosk.services import KioskServices

__all__ = ["install_admin"]


def install_admin(window: QWidget, services: KioskServices) -> AdminController:
    """Watch ``window`` for the hidden gesture and show the panel over it when staff get in.
    Returns the controller (keep a reference; ``shutdown()`` when the kiosk stops)."""
    from kiosk.admin.controller import AdminController

    return AdminController(window, services)
