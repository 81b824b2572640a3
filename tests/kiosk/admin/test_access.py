"""Getting into the admin panel: the hidden gesture, the PIN pad, lockout, roles, idle close."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget

from kiosk.admin.audit import AdminAudit
from kiosk.admin.controller import AdminController, PanelState
from kiosk.admin.gesture import CornerTaps, in_corner
from kiosk.admin.registry import EVERY_ROLE, MANAGER_ONLY, PageRegistry
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from settings.model import AdminSection
from tests.support.admin import MANAGER_PIN, STAFF_PIN, Recorded, log_in, tap_corner
from tests.support.clock import FakeClock


def test_corner_square_edges() -> None:
    assert in_corner(1279, 0, 1280, 720, "top-right", 80)
    assert in_corner(1200, 79, 1280, 720, "top-right", 80)
    assert not in_corner(1199, 10, 1280, 720, "top-right", 80)
    assert not in_corner(1270, 80, 1280, 720, "top-right", 80)
    assert in_corner(5, 715, 1280, 720, "bottom-left", 80)
    assert not in_corner(5, 715, 1280, 720, "top-left", 80)


def test_taps_must_fit_the_time_window(clock: FakeClock) -> None:
    taps = CornerTaps(AdminSection(), clock=clock)
    results = []
    for _ in range(5):
        clock.advance(0.8)  # five taps over 4 s: never five inside 3 s
        results.append(taps.tap(1275, 5, 1280, 720))
    assert results == [False] * 5
    assert taps.count == 4  # the first one aged out
    clock.advance(0.5)
    assert taps.tap(1275, 5, 1280, 720) is True  # five within the last 3 s now


def test_a_tap_elsewhere_starts_the_count_again(clock: FakeClock) -> None:
    taps = CornerTaps(AdminSection(), clock=clock)
    for _ in range(4):
        clock.advance(0.2)
        assert not taps.tap(1275, 5, 1280, 720)
    clock.advance(0.2)
    assert not taps.tap(640, 360, 1280, 720)
    clock.advance(0.2)
    assert not taps.tap(1275, 5, 1280, 720)
    assert taps.count == 1


def test_gesture_opens_the_pad(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    tap_corner(qtbot, window, clock)
    assert admin.state == "pad"
    assert admin.overlay is not None and admin.overlay.isVisible()
    assert admin.overlay.geometry() == window.rect()
    assert admin.overlay.stack.currentWidget() is admin.overlay.pad


def test_near_misses_show_nothing(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    tap_corner(qtbot, window, clock, times=4)  # one tap short
    assert admin.state == "closed"
    clock.advance(5)
    tap_corner(qtbot, window, clock, times=5, x=window.width() - 81)  # just outside
    assert admin.state == "closed"
    tap_corner(qtbot, window, clock, times=5, y=81)  # below the corner square
    assert admin.state == "closed"
    tap_corner(qtbot, window, clock, times=5, gap_s=0.9)  # too slow
    assert admin.state == "closed"
    assert admin.overlay is None or not admin.overlay.isVisible()


def test_gesture_counts_taps_on_child_widgets(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    child = QWidget(window)  # the shopper page covers the window: presses land on it
    child.setGeometry(window.rect())
    child.show()
    for _ in range(5):
        clock.advance(0.3)
        qtbot.mouseClick(child, Qt.MouseButton.LeftButton, pos=QPoint(window.width() - 5, 5))
    assert admin.state == "pad"


def test_staff_pin_opens_staff_pages_only(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, recorded: Recorded
) -> None:
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert admin.state == "open"
    assert admin.role == "staff"
    assert admin.visible_pages() == ["status", "dashboards", "calibration"]
    assert admin.page == "status"
    assert not admin.show_page("content")
    assert not admin.show_page("kiosk")
    assert admin.page == "status"
    assert "content" not in admin.pages
    assert ("admin.login", {"role": "staff"}) in recorded.events


def test_manager_pin_opens_every_page(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, recorded: Recorded
) -> None:
    log_in(qtbot, admin, window, clock, MANAGER_PIN)
    assert admin.role == "manager"
    assert admin.visible_pages() == admin.pages_for("manager")
    assert admin.pages_for("manager") == [
        "status", "dashboards", "calibration", "content", "hours", "kiosk",
    ]  # fmt: skip
    assert admin.show_page("content")
    assert admin.show_page("kiosk")
    assert ("admin.page", {"role": "manager", "page": "kiosk"}) in recorded.events


def test_wrong_pins_lock_the_pad_with_a_countdown(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, recorded: Recorded
) -> None:
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    pad = admin.overlay.pad
    for attempt in range(1, 5):
        pad.enter("0000")
        qtbot.waitUntil(lambda: not admin.checking_pin, timeout=10_000)
        assert f"{5 - attempt} tries left" in pad.message.text()
    pad.enter("0000")
    qtbot.waitUntil(lambda: not admin.checking_pin, timeout=10_000)
    assert "Locked for 5:00" in pad.message.text()
    assert not pad.keys["1"].isEnabled()
    assert recorded.types().count("admin.pin_failed") == 5
    assert ("admin.locked", {"role": None, "lockout_s": 300.0}) in recorded.events

    # even the right PIN is refused while locked; the countdown runs with the clock
    admin.submit_pin(MANAGER_PIN)
    assert admin.state == "pad" and not admin.checking_pin
    clock.advance(20)
    admin.tick()
    assert "Locked for 4:40" in pad.message.text()
    # closing and reopening the pad does not reset the lockout
    admin.close("cancel")
    tap_corner(qtbot, window, clock)
    assert "Locked for 4:39" in pad.message.text()
    clock.advance(280)
    admin.tick()  # the pad also closes itself when nobody touches it
    assert admin.state == "closed"
    tap_corner(qtbot, window, clock)
    assert pad.keys["1"].isEnabled()
    assert "Enter your PIN" in pad.message.text()
    pad.enter(MANAGER_PIN)
    qtbot.waitUntil(lambda: admin.state == "open", timeout=10_000)
    assert admin.role == "manager"


def test_panel_closes_itself_after_two_idle_minutes(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, recorded: Recorded
) -> None:
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert admin.state == "open"
    clock.advance(100)
    admin.tick()
    assert admin.state == "open"
    assert admin.overlay is not None
    assert "closes in 20 s" in admin.overlay.idle_label.text()
    # a touch on the panel starts the two minutes again
    qtbot.mouseClick(admin.overlay.panel, Qt.MouseButton.LeftButton, pos=QPoint(600, 400))
    clock.advance(100)
    admin.tick()
    assert admin.state == "open"
    clock.advance(21)
    admin.tick()
    assert admin.state == "closed"
    assert not admin.overlay.isVisible()
    assert admin.role is None
    assert ("admin.logout", {"role": "staff", "reason": "idle"}) in recorded.events
    # and the gesture works again afterwards
    tap_corner(qtbot, window, clock)
    assert admin.state == "pad"


def test_an_abandoned_pin_pad_closes_after_half_a_minute(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    tap_corner(qtbot, window, clock)
    clock.advance(29)
    admin.tick()
    assert admin.state == "pad"
    clock.advance(1)
    admin.tick()
    assert admin.state == "closed"


def test_close_button_and_cancel(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    qtbot.mouseClick(admin.overlay.pad.cancel_button, Qt.MouseButton.LeftButton)
    assert admin.state == "closed"
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    qtbot.mouseClick(admin.overlay.close_button, Qt.MouseButton.LeftButton)
    assert admin.state == "closed"


def test_pad_says_when_no_pin_is_set(
    qtbot: Any, window: QWidget, clock: FakeClock, make_admin: Any, tmp_path: Any
) -> None:
    from settings import load_config

    path = tmp_path / "bare.toml"
    path.write_text('[paths]\ndata_dir = "data"\n', encoding="utf-8")
    admin = make_admin(config=load_config(path, env={}))
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    pad = admin.overlay.pad
    # the PIN files are read off the UI thread when the pad opens
    qtbot.waitUntil(lambda: "kiosk set-pin" in pad.message.text(), timeout=10_000)
    admin.overlay.pad.enter("1234")
    qtbot.waitUntil(lambda: not admin.checking_pin, timeout=10_000)
    assert admin.state is PanelState.PAD


def test_touch_taps_count_once_each(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock
) -> None:
    from PySide6.QtTest import QTest

    device = QTest.createTouchDevice()
    corner = QPoint(window.width() - 6, 6)

    def touch_tap() -> None:
        clock.advance(0.3)
        QTest.touchEvent(window, device).press(0, corner, window)
        QTest.touchEvent(window, device).release(0, corner, window)

    # a touch also arrives as the mouse press Qt makes from it: four taps must stay four
    for _ in range(4):
        touch_tap()
    assert admin.state == "closed"
    assert admin.gesture.count == 4
    touch_tap()
    assert admin.state == "pad"


def test_a_lockout_survives_a_restart_of_the_kiosk(
    qtbot: Any,
    admin: AdminController,
    make_admin: Any,
    window: QWidget,
    tasks: TaskRunner,
    clock: FakeClock,
) -> None:
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    for _ in range(5):
        admin.overlay.pad.enter("0000")
        qtbot.waitUntil(lambda: not admin.checking_pin, timeout=10_000)
    assert "Locked for 5:00" in admin.overlay.pad.message.text()
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=10_000)  # saved off the UI thread
    admin.shutdown()

    # the power comes back: a new controller on the same data directory
    later = FakeClock()
    restarted = make_admin(clock=later)
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=10_000)
    tap_corner(qtbot, window, later)
    assert restarted.state is PanelState.PAD and restarted.overlay is not None
    assert "Locked for 4:" in restarted.overlay.pad.message.text()
    assert not restarted.overlay.pad.keys["1"].isEnabled()


def test_the_pad_names_a_missing_pin_file(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, config: KioskConfig
) -> None:
    assert config.admin.staff_pin_hash_file is not None
    assert config.admin.manager_pin_hash_file is not None
    config.admin.staff_pin_hash_file.unlink()
    config.admin.manager_pin_hash_file.unlink()
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    pad = admin.overlay.pad
    qtbot.waitUntil(lambda: "No PIN can be used" in pad.message.text(), timeout=10_000)
    assert f"PIN file {config.admin.staff_pin_hash_file}: no such file" in pad.message.text()


class LoggedPage(QWidget):
    """A page that notes each lifecycle call the controller makes (dispatch check)."""

    def __init__(self, name: str, calls: list[str]) -> None:
        super().__init__()
        self.name = name
        self.calls = calls

    def widget(self) -> QWidget:
        return self

    def on_show(self) -> None:
        self.calls.append(f"{self.name}.on_show")

    def on_hide(self) -> None:
        self.calls.append(f"{self.name}.on_hide")

    def refresh(self) -> None:
        self.calls.append(f"{self.name}.refresh")

    def shutdown(self) -> None:
        self.calls.append(f"{self.name}.shutdown")


def test_the_controller_drives_any_registered_page_through_its_lifecycle(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    tasks: TaskRunner,
) -> None:
    calls: list[str] = []
    built: list[str] = []

    def page(name: str) -> Any:
        def build() -> LoggedPage:
            built.append(name)
            return LoggedPage(name, calls)

        return build

    pages = PageRegistry()
    pages.register("first", title="First", roles=EVERY_ROLE, build=page("first"))
    pages.register("secret", title="Secret", roles=MANAGER_ONLY, build=page("secret"))
    pages.register("second", title="Second", roles=EVERY_ROLE, build=page("second"))
    admin = AdminController(
        window, config=config, pages=pages, audit=AdminAudit(recorded), tasks=tasks, clock=clock
    )
    try:
        admin.open_pad()
        admin.login("staff")
        assert built == ["first", "second"]  # a page the role may not see is never built
        assert admin.visible_pages() == ["first", "second"]
        assert admin.overlay is not None
        assert [b.text() for b in admin.overlay.nav_buttons.values()] == ["First", "Second"]
        assert calls == ["first.on_show", "first.refresh"]
        assert not admin.show_page("secret")
        assert admin.show_page("second")
        clock.advance(1)
        admin.tick()
        admin.close("closed")
        assert calls[2:] == [
            "first.on_hide",
            "second.on_show",
            "second.refresh",
            "second.refresh",
            "second.on_hide",
        ]
        admin.shutdown()
        assert calls[7:] == ["first.shutdown", "second.shutdown"]
        assert [t for t, _ in recorded.events] == [
            "admin.login",
            "admin.page",
            "admin.page",
            "admin.logout",
        ]
    finally:
        admin.shutdown()


def test_a_wrong_pin_stays_said_until_the_next_one(
    qtbot: Any, admin: AdminController, window: QWidget, clock: FakeClock, tasks: TaskRunner
) -> None:
    """The pad's once-a-second update and a late read of the PIN files (both call the pad's
    update) do not wipe "Wrong PIN" before staff have read it."""
    tap_corner(qtbot, window, clock)
    assert admin.overlay is not None
    pad = admin.overlay.pad
    pad.enter("0000")
    qtbot.waitUntil(lambda: not admin.checking_pin and tasks.pending() == 0, timeout=10_000)
    assert pad.message.text() == "Wrong PIN. 4 tries left"
    clock.advance(1)
    admin.tick()
    assert pad.message.text() == "Wrong PIN. 4 tries left"
    admin.close("cancel")
    tap_corner(qtbot, window, clock)
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=10_000)
    assert pad.message.text() == "Enter your PIN"
