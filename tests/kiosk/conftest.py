"""Fixtures for the shopper screen: a window on a real draw.io file, a hand-driven clock,
and the events it recorded."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from kiosk.models.interactions import EventRecorder, MemorySink
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from settings.loader import load_config
from tests.support.clock import FakeClock
from tests.support.drawings import FEATURES, button, page_xml, write_drawio


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Two attract pages, a welcome page, a category with three products and back/home."""
    products = "".join(
        button(f"to-p{i}", f"Product {i}", f"data:page/id,p{i}", 100 + 400 * i, 400)
        for i in range(1, 4)
    )
    pages = [
        page_xml(
            "attract-1",
            "attract",
            button("a1", "Touch me", "data:page/id,welcome", 800, 480),
            "#102030",
        ),
        page_xml("attract-2", "attract 2", "", "#334455").replace(
            '<mxCell id="0"/>', '<object label="" tags="attract" id="0"><mxCell/></object>'
        ),
        page_xml("welcome", "Welcome", button("to-cat", "Dogs", "data:page/id,cat", 100, 100)),
        page_xml("cat", "Dogs", products),
    ]
    for i in range(1, 4):
        back = (
            f'<object label="Back" kiosk-action="back" id="back-{i}"><mxCell style="rounded=1;" '
            'vertex="1" parent="1"><mxGeometry x="40" y="900" width="200" height="100" '
            'as="geometry"/></mxCell></object>'
            f'<object label="Buy" kiosk-action="show-product" sku="DOG-{i}" colour="red" '
            f'id="buy-{i}"><mxCell style="ellipse;fillColor=#1ba1e2;fontColor=#ffffff;'
            'fontSize=48;" vertex="1" parent="1"><mxGeometry x="800" '
            'y="400" width="300" height="300" as="geometry"/></mxCell></object>'
            f'<object label="Home" kiosk-action="home" id="home-{i}"><mxCell style="rounded=1;" '
            'vertex="1" parent="1"><mxGeometry x="1600" y="900" width="200" height="100" '
            'as="geometry"/></mxCell></object>'
        )
        pages.append(page_xml(f"p{i}", f"Product {i}", back))
    return write_drawio(tmp_path / "shop.drawio", pages)


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    """The default config with data in tmp_path, no sensor, no Redis, instant transitions."""
    loaded = load_config(None)
    loaded.paths.data_dir = tmp_path / "data"
    loaded.paths.log_dir = tmp_path / "logs"
    loaded.storage.database = tmp_path / "data" / "events.sqlite"  # derived at load: set too
    loaded.kiosk.fullscreen = False
    loaded.kiosk.transition = "off"
    loaded.redis.enabled = False
    return loaded


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
def sink() -> MemorySink:
    """Where the window's events go."""
    return MemorySink()


@pytest.fixture
def tasks(qtbot: object) -> Iterator[TaskRunner]:
    """The background task runner the composition root would own."""
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(timeout=30.0), "a background task did not finish"


@pytest.fixture
def open_window(
    qtbot: object, config: KioskConfig, clock: FakeClock, sink: MemorySink, tasks: TaskRunner
) -> Iterator[Callable[..., KioskWindow]]:
    """``open_window(path, size=(1920, 1080), watch=False)``: a shown shopper window."""
    windows: list[KioskWindow] = []

    def make(path: Path, size: tuple[int, int] = (1920, 1080), watch: bool = False) -> KioskWindow:
        recorder = EventRecorder(config, sink)
        window = KioskWindow(config=config, recorder=recorder, tasks=tasks, clock=clock)
        recorder.session_id = lambda: window.session.session_id
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.resize(*size)
        window.show()
        window.start(path, watch=watch)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture
def features_copy(tmp_path: Path) -> Path:
    """features.drawio copied where a test may change it."""
    target = tmp_path / "features.drawio"
    shutil.copy(FEATURES, target)
    return target
