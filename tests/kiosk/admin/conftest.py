"""Admin panel fixtures: a real config file in tmp_path with PINs, a shopper window, a
stand-in shopper screen, and a ``record`` that keeps what it was given (the clock the test
moves and the kiosk's task runner are tests/kiosk/conftest.py's)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin import install_admin
from kiosk.admin.controller import AdminController
from kiosk.admin.library import ContentLibrary
from kiosk.tasks import TaskRunner
from settings import KioskConfig, load_config
from tests.kiosk.admin.shopper import ShopperScreenDouble
from tests.support.admin import WINDOW, Recorded, write_config
from tests.support.clock import FakeClock


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return load_config(write_config(tmp_path / "etc"), env={})


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def screen() -> ShopperScreenDouble:
    return ShopperScreenDouble()


@pytest.fixture
def window(qtbot: Any) -> QWidget:
    widget = QWidget()
    widget.setStyleSheet("background: #0f3b46;")
    widget.resize(*WINDOW)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _no_exit() -> None:
    raise AssertionError("the kiosk was told to exit")


@pytest.fixture
def make_admin(
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    tasks: TaskRunner,
    screen: ShopperScreenDouble,
    tmp_path: Path,
) -> Iterator[Callable[..., AdminController]]:
    """Builds the panel as the composition root does (``install_admin``); keyword arguments
    replace its collaborators (``event_log``, ``uplink``, ``presence``, ``screen``,
    ``library``, ``exit_kiosk``, ``config``, ``clock``)."""
    built: list[AdminController] = []

    def make(**given: Any) -> AdminController:
        wiring: dict[str, Any] = dict(
            config=config,
            screen=screen,
            record=recorded,
            tasks=tasks,
            event_log=None,
            uplink=None,
            presence=None,
            exit_kiosk=_no_exit,
            started_at=time.time(),
            library=ContentLibrary(tmp_path / "content"),
            clock=clock,
        )
        wiring.update(given)
        admin = install_admin(window, **wiring)
        built.append(admin)
        return admin

    yield make
    for admin in built:
        admin.shutdown()


@pytest.fixture
def admin(make_admin: Callable[..., AdminController]) -> AdminController:
    return make_admin()
