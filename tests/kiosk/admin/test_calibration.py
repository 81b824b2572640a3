"""Calibration: the live depth image, ROI and zones applied at once, kept in staff's overlay
in the data folder (the config file is never written), undoable, and there after a restart
with the config file read-only."""

from __future__ import annotations

import os
import subprocess
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.calibration import SAVE_LANE
from kiosk.admin.configfile import Calibration, StaffChanges
from kiosk.app import Kiosk
from kiosk.tasks import TaskRunner
from sensors import Frame, PresenceService, ScriptedSensor
from sensors.scenes import SCENES, SceneRenderer
from settings import KioskConfig, load_config
from settings.model import ZonesSection
from settings.overlay import STAFF_OVERLAY_NAME, StaffOverlay
from tests.support.admin import STAFF_PIN, Recorded, log_in
from tests.support.clock import FakeClock

NEW = Calibration((0.2, 0.15, 0.7, 0.9), passing_m=3.0, approaching_m=1.8, engaged_m=0.9)


class SpyPresence(PresenceService):
    """The real presence service, noting the calibrations it was given (dispatch check)."""

    calls: list[tuple[Any, Any]]

    def update_calibration(
        self, *, roi: Sequence[float] | None = None, zones: ZonesSection | None = None
    ) -> None:
        self.calls.append((list(roi) if roi is not None else None, zones))
        super().update_calibration(roi=roi, zones=zones)


@pytest.fixture
def presence(config: KioskConfig) -> Iterator[SpyPresence]:
    renderer = SceneRenderer(SCENES["approach-leave"], width=212, height=120)
    frames = [Frame(timestamp=t, depth=image) for t, image in renderer.frames(30)][:90]
    sensor = ScriptedSensor(frames, realtime=True, hold_last=True)
    service = SpyPresence(
        sensor, on_state=lambda _s: None, on_health=lambda _h: None, settings=config.sensors
    )
    service.calls = []
    service.start()
    yield service
    service.stop()


def assert_saved(
    qtbot: Any,
    tasks: TaskRunner,
    page: Any,
    config: KioskConfig,
    *,
    roi: list[float],
    engaged_m: float,
) -> None:
    """Once the save lane is done, the page says saved and the config loaded again (the
    file with staff's overlay over it) holds ``roi`` and ``engaged_m``."""
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    assert page.save_state.text() == f"saved (kept in {config.data_path(STAFF_OVERLAY_NAME)})"
    saved = load_config(config.source, env={})
    assert saved.sensors.roi == roi
    assert saved.sensors.zones.engaged_m == engaged_m


def test_calibration_page_applies_saves_and_undoes(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    presence: SpyPresence,
    make_admin: Any,
    tasks: TaskRunner,
) -> None:
    assert config.source is not None
    written = config.source.read_text(encoding="utf-8")
    admin = make_admin(presence=presence)
    try:
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        assert admin.show_page("calibration")
        page = admin.pages["calibration"]
        # the live depth image arrives (about 5 a second) and is drawn colour-mapped
        qtbot.waitUntil(lambda: page.frames_shown >= 2, timeout=10_000)
        assert page.image.image is not None and page.image.image.dtype == np.float32
        assert not page.no_image.isVisible()

        # drag the rectangle: applied at once, saved when the drag ends
        page.roi.setPos([0.2, 0.15], finish=False)
        page.roi.setSize([0.5, 0.75], finish=True)
        assert presence.calls[-1][0] == [0.2, 0.15, 0.7, 0.9]
        page.engaged.slider.setValue(18)  # 0.90 m
        assert presence.calls[-1][1].engaged_m == 0.9
        page.commit()
        assert_saved(qtbot, tasks, page, config, roi=[0.2, 0.15, 0.7, 0.9], engaged_m=0.9)
        assert config.source.read_text(encoding="utf-8") == written  # never written
        kinds = [e for e in recorded.events if e[0] == "admin.calibration"]
        assert kinds and kinds[-1][1]["role"] == "staff"
        assert kinds[-1][1]["roi"] == [0.2, 0.15, 0.7, 0.9]

        # a zone can never pass its neighbour: engaged stops below approaching
        page.engaged.slider.setValue(100)  # 5 m asked
        assert page.engaged.value() == pytest.approx(1.9)

        # undo goes back to what the file held before, in the service and on disk
        page.commit()
        page.undo()
        page.undo()
        assert_saved(qtbot, tasks, page, config, roi=[0.1, 0.1, 0.9, 0.95], engaged_m=1.0)
        assert presence.calls[-1][0] == [0.1, 0.1, 0.9, 0.95]
        assert page.roi.pos().x() == pytest.approx(0.1)
        assert "admin.calibration_undo" in recorded.types()
        assert not page.undo_button.isEnabled()

        # leaving the page stops the preview (the image is shown, never kept)
        admin.show_page("status")
        frames = page.frames_shown
        qtbot.wait(600)
        assert page.frames_shown == frames
        assert page.image.image is None
    finally:
        admin.shutdown()


def test_the_newest_calibration_wins_whatever_order_writes_run_in(tmp_path: Path) -> None:
    path = tmp_path / STAFF_OVERLAY_NAME
    writer = StaffChanges(path)
    older = Calibration((0.1, 0.1, 0.8, 0.9), passing_m=3.0, approaching_m=2.0, engaged_m=1.0)
    writer.want(older.values())
    writer.want(NEW.values())
    assert writer.write_wanted() == NEW.values()
    assert writer.write_wanted() == {}  # the write queued for the older one: nothing left
    assert StaffOverlay.open(path).values == NEW.values()


def test_one_page_s_save_keeps_what_another_page_saved(tmp_path: Path) -> None:
    """The calibration page and the hours page each write the overlay: neither write loses
    the other's values."""
    path = tmp_path / STAFF_OVERLAY_NAME
    calibration, hours = StaffChanges(path), StaffChanges(path)
    calibration.want(NEW.values())
    calibration.write_wanted()
    hours.want({"schedule.monday": ["09:00-18:00"]})
    hours.write_wanted()
    calibration.want({"sensors.zones.engaged_m": 1.2})
    calibration.write_wanted()
    assert StaffOverlay.open(path).values == {
        **NEW.values(),
        "sensors.zones.engaged_m": 1.2,
        "schedule.monday": ["09:00-18:00"],
    }


@pytest.fixture
def staff_on_calibration(
    qtbot: Any, window: QWidget, clock: FakeClock, make_admin: Any
) -> tuple[Any, Any]:
    """A panel without a camera, staff logged in, on the Calibration page: (admin, page)."""
    admin = make_admin()
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert admin.show_page("calibration")
    return admin, admin.pages["calibration"]


def test_a_change_still_queued_when_the_kiosk_stops_is_saved(
    config: KioskConfig, tasks: TaskRunner, staff_on_calibration: tuple[Any, Any]
) -> None:
    """The task runner drops queued work at a stop: the page writes the newest calibration
    itself as the kiosk stops."""
    import threading

    admin, page = staff_on_calibration
    lane_busy = threading.Event()
    tasks.run(lambda: lane_busy.wait(10), name="a slow write before", lane=SAVE_LANE)
    try:
        page.engaged.slider.setValue(18)  # 0.90 m, queued behind the slow write
        page.commit()
        assert load_config(config.source, env={}).sensors.zones.engaged_m == 1.0
        admin.shutdown()
        assert load_config(config.source, env={}).sensors.zones.engaged_m == 0.9
    finally:
        lane_busy.set()


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """``paths`` read-only for real: chmod, and for root (whom modes do not stop) the
    immutable attribute; restored afterwards."""
    modes = {path: path.stat().st_mode & 0o777 for path in paths}
    as_root = os.geteuid() == 0
    try:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
            if as_root:
                subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
        yield
    finally:
        for path in reversed(paths):
            if as_root:
                subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
            path.chmod(modes[path])


def test_a_calibration_saved_with_the_config_read_only_survives_a_restart(
    qtbot: Any, window: QWidget, config: KioskConfig, tasks: TaskRunner, clock: FakeClock,
    make_admin: Any,
) -> None:  # fmt: skip
    """An installed kiosk: its config file and folder cannot be written. The calibration
    staff save is kept in the data folder, a new Kiosk loading the same paths runs with it,
    and the zones (keys the fleet sets too) are handed to the shadow."""
    source = config.source
    assert source is not None
    noted: list[tuple[str, Any]] = []
    config.data_path(STAFF_OVERLAY_NAME).parent.mkdir(parents=True)  # the installer makes it
    with read_only(source, source.parent):
        admin = make_admin(note_change=lambda key, value: noted.append((key, value)))
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        assert admin.show_page("calibration")
        page = admin.pages["calibration"]
        page.roi.setPos([0.2, 0.15], finish=False)
        page.roi.setSize([0.5, 0.75], finish=True)
        page.engaged.slider.setValue(18)  # 0.90 m
        page.commit()
        qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
        assert page.save_state.text().startswith("saved (kept in")
        admin.shutdown()

        restarted = Kiosk(load_config(source, env={}))
        assert restarted.config.sensors.roi == [0.2, 0.15, 0.7, 0.9]
        assert restarted.config.sensors.zones.engaged_m == 0.9
        restarted.tasks.shutdown()
    overlay = tomllib.loads(config.data_path(STAFF_OVERLAY_NAME).read_text(encoding="utf-8"))
    assert overlay["config"]["sensors"]["roi"] == [0.2, 0.15, 0.7, 0.9]
    assert set(overlay["changed_at"]) >= {"sensors.roi", "sensors.zones.engaged_m"}
    assert ("sensors.zones.engaged_m", 0.9) in noted
    assert not [key for key, _ in noted if key == "sensors.roi"]  # not a key the fleet sets


def test_a_change_the_data_folder_cannot_take_is_said_not_saved(
    qtbot: Any, config: KioskConfig, tasks: TaskRunner, staff_on_calibration: tuple[Any, Any]
) -> None:
    """The data folder cannot be written: the change still applies, the page says in red
    it is not saved and names the file; nothing is left half-written."""
    _admin, page = staff_on_calibration
    data_dir = config.paths.data_dir
    assert data_dir is not None
    data_dir.mkdir(parents=True, exist_ok=True)
    with read_only(data_dir):
        page.engaged.slider.setValue(18)
        page.commit()
        qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    overlay = config.data_path(STAFF_OVERLAY_NAME)
    assert page.save_state.text().startswith(f"⚠ NOT SAVED: {overlay}: cannot be written (")
    assert config.sensors.zones.engaged_m == 0.9  # applied all the same
    assert not overlay.exists() and not list(data_dir.glob(".*tmp-*"))
