"""Admin panel fixtures: a real config file in tmp_path with PINs, a shopper window, a clock
the test moves, and services whose ``record`` keeps what it was given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.controller import AdminController
from kiosk.admin.library import ContentLibrary
from kiosk.services import KioskServices
from settings import KioskConfig, load_config
from tests.support.admin import WINDOW, Recorded, write_config
from tests.support.clock import FakeClock


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return load_config(write_config(tmp_path / "etc"), env={})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def services(config: KioskConfig, recorded: Recorded) -> KioskServices:
    return KioskServices(config=config, record=recorded)


@pytest.fixture
def window(qtbot: Any) -> QWidget:
    widget = QWidget()
    widget.setStyleSheet("background: #0f3b46;")
    widget.resize(*WINDOW)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def admin(
    window: QWidget, services: KioskServices, clock: FakeClock, tmp_path: Path
) -> Iterator[AdminController]:
    controller = AdminController(
        window, services, clock=clock, library=ContentLibrary(tmp_path / "content")
    )
    yield controller
    controller.shutdown()
