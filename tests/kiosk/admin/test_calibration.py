"""Calibration: the live depth image, ROI and zones applied at once, saved to the config
file with its comments, undoable."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.calibration import SAVE_LANE
from kiosk.admin.configfile import Calibration, CalibrationWriter, save_calibration
from kiosk.tasks import TaskRunner
from sensors import Frame, PresenceService, ScriptedSensor
from sensors.scenes import SCENES, SceneRenderer
from settings import KioskConfig, load_config
from settings.model import ZonesSection
from tests.support.admin import STAFF_PIN, Recorded, log_in
from tests.support.clock import FakeClock

NEW = Calibration((0.2, 0.15, 0.7, 0.9), passing_m=3.0, approaching_m=1.8, engaged_m=0.9)


def test_save_keeps_comments_and_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '# staff notes stay\n[kiosk]\nkiosk_id = "k7"\n\n[sensors]\ntype = "none"\n'
        "roi = [0.1, 0.1, 0.9, 0.95]   # where people stand\n\n"
        "[sensors.zones]\npassing_m = 3.5  # the aisle\n",
        encoding="utf-8",
    )
    save_calibration(path, NEW)
    text = path.read_text(encoding="utf-8")
    assert "# staff notes stay" in text and "# where people stand" in text and "# the aisle" in text
    doc = tomllib.loads(text)
    assert doc["kiosk"]["kiosk_id"] == "k7"
    assert doc["sensors"]["type"] == "none"
    assert doc["sensors"]["roi"] == [0.2, 0.15, 0.7, 0.9]
    assert doc["sensors"]["zones"] == {"passing_m": 3.0, "approaching_m": 1.8, "engaged_m": 0.9}
    assert load_config(path, env={}).sensors.zones.engaged_m == 0.9


def test_save_adds_missing_tables_and_survives_odd_layouts(tmp_path: Path) -> None:
    bare = tmp_path / "bare.toml"
    bare.write_text('[kiosk]\nkiosk_id = "k1"\n', encoding="utf-8")
    save_calibration(bare, NEW)
    doc = tomllib.loads(bare.read_text(encoding="utf-8"))
    assert doc["kiosk"]["kiosk_id"] == "k1" and doc["sensors"]["roi"] == [0.2, 0.15, 0.7, 0.9]
    odd = tmp_path / "odd.toml"  # dotted keys and an inline table: rewritten whole, values kept
    odd.write_text('sensors.type = "none"\nsensors.zones = { passing_m = 4.0 }\n', encoding="utf-8")
    save_calibration(odd, NEW)
    doc = tomllib.loads(odd.read_text(encoding="utf-8"))
    assert doc["sensors"]["type"] == "none"
    assert doc["sensors"]["zones"]["passing_m"] == 3.0
    assert not list(tmp_path.glob(".*partial"))


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
    """Once the save lane is done, the page says saved and the config file holds ``roi``
    and ``engaged_m``."""
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    assert "saved to" in page.save_state.text()
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
        assert "# nearest person closer than this: PASSING" in config.source.read_text()
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
    path = tmp_path / "kiosk.toml"
    path.write_text("[sensors]\nroi = [0.1, 0.1, 0.9, 0.95]\n", encoding="utf-8")
    writer = CalibrationWriter(path)
    older = Calibration((0.1, 0.1, 0.8, 0.9), passing_m=3.0, approaching_m=2.0, engaged_m=1.0)
    writer.want(older)
    writer.want(NEW)
    assert writer.write_wanted() == NEW
    assert writer.write_wanted() is None  # the write queued for the older one: nothing left
    assert load_config(path, env={}).sensors.roi == list(NEW.roi)


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


def test_a_change_the_config_file_cannot_take_is_said_not_saved(
    qtbot: Any, config: KioskConfig, tasks: TaskRunner, staff_on_calibration: tuple[Any, Any]
) -> None:
    """The config file was damaged after the kiosk read it: the change still applies, the
    page says in red it is not saved and names the file; the file is left as it was."""
    _admin, page = staff_on_calibration
    assert config.source is not None
    config.source.write_text("[sensors\nroi = ", encoding="utf-8")
    page.engaged.slider.setValue(18)
    page.commit()
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    assert page.save_state.text().startswith(
        f"⚠ NOT SAVED: {config.source}: cannot read the config to update it"
    )
    assert config.sensors.zones.engaged_m == 0.9  # applied all the same
    assert config.source.read_text(encoding="utf-8") == "[sensors\nroi = "
