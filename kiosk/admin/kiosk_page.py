"""The page titled "Kiosk" (manager): restart the experience, exit the kiosk, read the
settings in effect."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.audit import AdminAudit
from kiosk.models.shopper_screen import ShopperScreen
from settings import KioskConfig, render_config

log = logging.getLogger(__name__)

#: A second tap within this time confirms exit (one stray tap never closes the kiosk).
CONFIRM_MS = 4000


class KioskPage(QWidget):
    """Restart the experience or leave the kiosk; the effective settings, secrets masked.

    ``exit_kiosk`` stops every service and quits. Each action is recorded through ``audit``
    before it runs ("restart_experience", "exit"), so it is on record even when the kiosk
    then stops.
    """

    def __init__(
        self,
        *,
        config: KioskConfig,
        screen: ShopperScreen,
        exit_kiosk: Callable[[], None],
        audit: AdminAudit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._screen = screen
        self._exit_kiosk = exit_kiosk
        self._audit = audit
        self.restart_button = theme.button("Restart experience")
        self.restart_button.clicked.connect(self.restart)
        self.exit_button = theme.button("Exit kiosk", danger=True)
        self.exit_button.clicked.connect(self.exit_kiosk)
        self.message = theme.label("", theme.FONT_BODY)
        self._armed = False
        self._disarm = QTimer(self)
        self._disarm.setSingleShot(True)
        self._disarm.setInterval(CONFIRM_MS)
        self._disarm.timeout.connect(self._reset_exit)
        self.settings = QPlainTextEdit()
        self.settings.setReadOnly(True)
        self.settings.setFont(QFont("DejaVu Sans Mono", 16))
        theme.touch_scroll(self.settings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restart_button)
        buttons.addWidget(self.exit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Kiosk"))
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(
            theme.label(
                "Settings in effect (change them in the config file; PINs with "
                "`kiosk set-pin --role staff|manager`):",
                theme.FONT_BODY,
                colour=theme.MUTED,
            )
        )
        layout.addWidget(self.settings, 1)
        self.show_settings()

    # -- AdminPage --------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Show the settings as they are now (a calibration may have changed them)."""
        self.show_settings()

    def on_hide(self) -> None:
        """Nothing to stop (an armed exit disarms itself after :data:`CONFIRM_MS`)."""

    def refresh(self) -> None:
        """Nothing changes by the second here."""

    def shutdown(self) -> None:
        """Nothing of its own to stop."""
        self._disarm.stop()

    # -- actions ----------------------------------------------------------------------------

    def show_settings(self) -> None:
        """Show the effective config (secrets masked)."""
        try:
            self.settings.setPlainText(render_config(self._config))
        except Exception as exc:
            self.settings.setPlainText(f"cannot show the settings: {exc}")

    def restart(self) -> None:
        """Reload the experience from disk and go back to the attract loop."""
        self._audit("restart_experience")
        try:
            self._screen.restart_experience()
        except Exception as exc:
            log.warning("restart experience failed: %s", exc)
            self.message.setText(f"⚠ restart failed: {exc}")
            return
        self.message.setText("experience restarted")

    def exit_kiosk(self) -> None:
        """First tap arms, a second tap within four seconds leaves the kiosk."""
        if not self._armed:
            self._armed = True
            self.exit_button.setText("Tap again to exit")
            self._disarm.start()
            return
        self._reset_exit()
        self._audit("exit")
        self._exit_kiosk()

    def _reset_exit(self) -> None:
        self._armed = False
        self._disarm.stop()
        self.exit_button.setText("Exit kiosk")
