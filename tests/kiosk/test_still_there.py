""" "Still there?" on the real window, driven by the session tests' hand-moved clock: the
prompt shows in the last seconds of an idle session, a tap on it saves the session, and
ignored it ends the session when it would have ended anyway; each step is an event."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPointingDevice
from PySide6.QtTest import QTest

from designer_import import load_experience
from designer_import.validate import validate
from kiosk.models.interactions import MemorySink
from kiosk.models.session import SessionMachine, SessionState
from kiosk.screen.window import KioskWindow
from sensors import PresenceState, Zone
from settings import ConfigError, KioskConfig
from settings.loader import load_config
from tests.kiosk.shop_screen import Shop
from tests.support.clock import FakeClock
from tests.support.drawings import page_xml, write_drawio

#: The authored prompt: a dark page, a title and the countdown's box (yellow digits).
PROMPT_BACKGROUND = "#203040"
COUNTDOWN_COLOUR = "#ffcc00"
PROMPT_PAGE = page_xml(
    "prompt",
    "still-there",
    '<mxCell id="title" value="Noch da?" style="text;fontSize=96;fontColor=#ffffff;" '
    'vertex="1" parent="1"><mxGeometry x="560" y="200" width="800" height="160" '
    'as="geometry"/></mxCell>'
    '<object label="99" kiosk-countdown="1" id="count"><mxCell style="text;fontSize=48;'
    f'fontColor={COUNTDOWN_COLOUR};" vertex="1" parent="1"><mxGeometry x="860" y="500" '
    'width="200" height="200" as="geometry"/></mxCell></object>',
    PROMPT_BACKGROUND,
)


@pytest.fixture
def shop(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> Shop:
    """The shop's window (shop_file, shown at 1920 x 1080), attract on screen."""
    return Shop(open_window(shop_file), clock, config, sink)


def start_session(window: KioskWindow) -> str:
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert window.state == SessionState.WELCOME
    session_id = window.session.session_id
    assert session_id
    return session_id


def wait(window: KioskWindow, clock: FakeClock, seconds: float) -> None:
    """Let ``seconds`` pass on the session clock, ticking as the window's timer would."""
    step = 0.25
    while seconds > 1e-9:
        clock.advance(min(step, seconds))
        seconds -= step
        window.tick()


def steps(sink: MemorySink) -> list[str]:
    return [str(e.payload["step"]) for e in sink.of_type("session.prompt")]


def test_a_tap_on_the_prompt_saves_the_session(shop: Shop) -> None:
    window, clock, config, sink = shop.window, shop.clock, shop.config, shop.sink
    prompt = window.still_there.prompt
    idle, countdown = config.kiosk.idle_timeout_s, config.kiosk.still_there_s
    session_id = start_session(window)
    wait(window, clock, idle - countdown - 0.5)
    assert not prompt.isVisible() and steps(sink) == []
    wait(window, clock, 1.0)
    assert prompt.isVisible() and prompt.seconds_left() == round(countdown - 0.5)
    (shown,) = sink.of_type("session.prompt")
    assert shown.session_id == session_id and shown.page == "welcome"
    assert shown.payload == {
        "prompt": "still-there",
        "step": "shown",
        "countdown_s": countdown,
        "authored": False,
    }
    wait(window, clock, 2.0)
    QTest.mouseClick(prompt, Qt.MouseButton.LeftButton, pos=prompt.rect().center())
    assert not prompt.isVisible()
    # past the moment the session would have ended, it goes on
    wait(window, clock, countdown)
    assert window.session.session_id == session_id and window.page.id == "welcome"
    kept = sink.of_type("session.prompt")[1]
    assert kept.session_id == session_id
    assert kept.payload == {"prompt": "still-there", "step": "kept", "by": "touch", "after_s": 2.5}
    assert sink.of_type("session.end") == []
    assert steps(sink) == ["shown", "kept"]
    # idle again: the prompt comes back the same way, counted from the tap
    wait(window, clock, idle - 2 * countdown + 0.5)
    assert prompt.isVisible() and steps(sink) == ["shown", "kept", "shown"]


def test_ignored_the_prompt_ends_the_session_on_time(shop: Shop) -> None:
    window, clock, config, sink = shop.window, shop.clock, shop.config, shop.sink
    prompt = window.still_there.prompt
    idle, countdown = config.kiosk.idle_timeout_s, config.kiosk.still_there_s
    session_id = start_session(window)
    wait(window, clock, idle - 0.25)
    assert prompt.isVisible() and window.session.session_id == session_id
    assert prompt.seconds_left() == 1
    wait(window, clock, 0.25)
    assert not prompt.isVisible()
    assert window.state == SessionState.ATTRACT and window.page.id == "attract-1"
    types = [e.type for e in sink.events if e.type in ("session.prompt", "session.end")]
    assert types == ["session.prompt", "session.prompt", "session.end"]
    expired = sink.of_type("session.prompt")[1]
    assert expired.session_id == session_id
    assert expired.payload == {
        "prompt": "still-there",
        "step": "expired",
        "reason": "idle",
        "after_s": countdown,
    }
    (end,) = sink.of_type("session.end")
    assert end.payload["reason"] == "idle" and end.payload["duration_s"] == idle


def test_someone_seen_at_the_kiosk_answers_the_prompt(shop: Shop) -> None:
    window, clock, config, sink = shop.window, shop.clock, shop.config, shop.sink
    session_id = start_session(window)
    wait(window, clock, config.kiosk.idle_timeout_s - 1.0)
    assert window.still_there.prompt.isVisible()
    state = PresenceState(zone=Zone.ENGAGED, distance_m=0.6, people=1, looking=None, timestamp=0.0)
    window.on_presence(state)
    assert not window.still_there.prompt.isVisible()
    assert steps(sink) == ["shown", "kept"]
    assert sink.of_type("session.prompt")[1].payload["by"] == "presence"
    wait(window, clock, 5.0)
    assert window.session.session_id == session_id


def test_the_artists_still_there_page_is_the_prompt(shop: Shop, tmp_path: Path) -> None:
    window, clock, config, sink = shop.window, shop.clock, shop.config, shop.sink
    drawn = tmp_path / "shop.drawio"
    text = drawn.read_text(encoding="utf-8").replace("</mxfile>", PROMPT_PAGE + "</mxfile>")
    drawn.write_text(text, encoding="utf-8")
    experience = load_experience(drawn)
    codes = {f.code for f in validate(experience) if f.page == "still-there"}
    assert codes == set()  # shown by the kiosk itself: not an unreachable page
    window.activate_experience(drawn, experience)
    start_session(window)
    wait(window, clock, config.kiosk.idle_timeout_s - 8.0)
    assert window.page.id == "welcome"  # the page underneath stays
    image = window.grab().toImage()
    assert image.pixelColor(5, 5) == QColor(PROMPT_BACKGROUND)
    box = window.rect().adjusted(860, 500, -860, -380)  # the countdown's box at 1920 x 1080
    yellow = QColor(COUNTDOWN_COLOUR)

    def digits() -> set[tuple[int, int]]:
        shot = window.grab().toImage()
        return {
            (x, y)
            for x in range(box.left(), box.right(), 2)
            for y in range(box.top(), box.bottom(), 2)
            if shot.pixelColor(x, y) == yellow
        }

    eight = digits()
    assert eight, "the seconds left are drawn in the countdown's box"
    wait(window, clock, 5.0)
    three = digits()
    assert three and three != eight
    assert sink.of_type("session.prompt")[0].payload["authored"] is True
    QTest.mouseClick(window.still_there.prompt, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert steps(sink) == ["shown", "kept"]
    assert window.grab().toImage().pixelColor(5, 5) != QColor(PROMPT_BACKGROUND)


def test_no_prompt_when_it_is_switched_off(shop: Shop) -> None:
    shop.config.kiosk.still_there_s = 0.0
    start_session(shop.window)
    wait(shop.window, shop.clock, shop.config.kiosk.idle_timeout_s)
    assert shop.window.state == SessionState.ATTRACT
    assert shop.sink.of_type("session.prompt") == []
    assert shop.sink.of_type("session.end")[0].payload["reason"] == "idle"


def test_a_shopper_the_sensor_saw_leave_gets_no_prompt(
    config: KioskConfig, clock: FakeClock
) -> None:
    machine = SessionMachine(config.kiosk, clock=clock)
    assert machine.presence("engaged")
    machine.presence("away")
    ended = None
    for _ in range(int(config.kiosk.presence_grace_s * 4) + 2):
        assert machine.prompt_since is None
        clock.advance(0.25)
        ended = machine.tick()
        if ended is not None:
            break
    assert ended is not None and ended.reason == "shopper left" and not ended.prompted


def test_the_countdown_is_at_most_half_the_idle_time(
    config: KioskConfig, clock: FakeClock, tmp_path: Path
) -> None:
    config.kiosk.idle_timeout_s = 8.0  # set at run time: the machine caps the countdown
    machine = SessionMachine(config.kiosk, clock=clock)
    assert machine.prompt_length() == 4.0
    machine.touch()
    clock.advance(3.9)
    machine.tick()
    assert not machine.prompting
    clock.advance(0.2)
    machine.tick()
    assert machine.prompting and machine.prompt_left() == pytest.approx(3.9)
    written = tmp_path / "kiosk.toml"
    written.write_text("[kiosk]\nidle_timeout_s = 10\nstill_there_s = 6\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"still_there_s = 6\.0 must be at most half"):
        load_config(written)


def test_the_validator_names_prompt_pages_that_cannot_work(tmp_path: Path) -> None:
    linked = PROMPT_PAGE.replace('id="count"', 'id="count" link="data:page/id,welcome"', 1)
    first = page_xml("first", "still-there", "")  # before the welcome page: it would be it
    pages = [page_xml("attract", "attract", ""), first, page_xml("welcome", "Welcome", "")]
    drawn = write_drawio(tmp_path / "prompts.drawio", [*pages, linked])
    findings = validate(load_experience(drawn))
    found = {(f.code, f.severity, f.page, f.cell_id) for f in findings if "still" in f.code}
    assert found == {
        ("still-there-start-page", "error", "still-there", None),
        ("still-there-twice", "warning", "still-there", None),
    }
    drawn = write_drawio(tmp_path / "linked.drawio", [*pages[::2], linked])
    findings = validate(load_experience(drawn))
    (link,) = [f for f in findings if "still" in f.code]
    assert (link.code, link.cell_id, link.label) == ("still-there-link", "count", "99")


def test_a_finger_on_a_touch_screen_answers_the_prompt(shop: Shop) -> None:
    window = shop.window
    session_id = start_session(window)
    wait(window, shop.clock, shop.config.kiosk.idle_timeout_s - 1.0)
    assert window.still_there.prompt.isVisible()
    device = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
    QTest.touchEvent(window, device).press(0, QPoint(300, 300), window).commit()
    QTest.touchEvent(window, device).release(0, QPoint(300, 300), window).commit()
    assert not window.still_there.prompt.isVisible()
    assert steps(shop.sink) == ["shown", "kept"]
    wait(window, shop.clock, 2.0)
    assert window.session.session_id == session_id
