"""The admin panel tests' helpers: PINs, a config with PIN hashes, what was recorded, and
the staff's way in (the corner gesture, then the PIN pad)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from kiosk.admin.controller import AdminController
from kiosk.admin.pins import hash_pin, write_pin_hash
from tests.support.clock import FakeClock

STAFF_PIN = "2468"
MANAGER_PIN = "13579"
WINDOW = (1280, 720)

CONFIG_TEXT = """\
# a store's config, with comments staff wrote
[paths]
data_dir = "data"

[redis]
enabled = false

[sensors]
type = "none"
roi = [0.1, 0.1, 0.9, 0.95]        # left, top, right, bottom

[sensors.zones]
passing_m = 3.5                    # nearest person closer than this: PASSING
approaching_m = 2.0
engaged_m = 1.0

[admin]
staff_pin_hash_file = "pins/staff.pin"
manager_pin_hash_file = "pins/manager.pin"
"""


@dataclass
class Recorded:
    """What ``services.record`` was given."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(
        self,
        type_: str,
        page: Any = None,
        element: Any = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.events.append((type_, dict(payload or {})))

    def types(self) -> list[str]:
        return [t for t, _ in self.events]


def write_config(folder: Path, text: str = CONFIG_TEXT) -> Path:
    """A config file with cheap-to-check PIN hashes beside it (scrypt N=2^10 in tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    write_pin_hash(folder / "pins" / "staff.pin", hash_pin(STAFF_PIN, n=2**10))
    write_pin_hash(folder / "pins" / "manager.pin", hash_pin(MANAGER_PIN, n=2**10))
    return path


def tap_corner(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    times: int = 5,
    x: int | None = None,
    y: int = 10,
    gap_s: float = 0.3,
) -> None:
    """Tap ``times`` at (x, y) (default: 10 px inside the top-right corner)."""
    from PySide6.QtCore import QPoint, Qt

    x = window.width() - 10 if x is None else x
    for _ in range(times):
        clock.advance(gap_s)
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=QPoint(x, y))


def log_in(qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, pin: str) -> None:
    """Gesture, then the PIN on the pad, then wait for the panel."""
    tap_corner(qtbot, window, clock)
    assert admin.state == "pad"
    assert admin.overlay is not None
    admin.overlay.pad.enter(pin)
    qtbot.waitUntil(lambda: not admin.checking_pin, timeout=10_000)
