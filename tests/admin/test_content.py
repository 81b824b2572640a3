"""Content (manager): find a drawing in the incoming folder, check it, activate, roll back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from designer_import import load_experience
from kiosk.admin import tasks
from kiosk.admin.controller import AdminController
from kiosk.admin.library import ContentLibrary
from kiosk.services import KioskServices
from settings import KioskConfig
from tests.admin.conftest import MANAGER_PIN, FakeClock, Recorded, log_in

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "drawio"


class ShownExperience:
    """What the kiosk's composition root does on activate: load the file, or keep the old
    experience and raise."""

    def __init__(self, path: Path) -> None:
        self.current = load_experience(path)
        self.loads: list[Path] = []

    def activate(self, path: Any) -> None:
        self.current = load_experience(Path(path))
        self.loads.append(Path(path))


def test_content_activate_and_roll_back(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    tmp_path: Path,
    drawio_corpus: list[Path],
) -> None:
    shown = ShownExperience(FIXTURES / "features.drawio")
    services = KioskServices(
        config=config,
        record=recorded,
        experience=lambda: shown.current,
        activate_experience=shown.activate,
    )
    library = ContentLibrary(tmp_path / "content")
    library.incoming.mkdir(parents=True)
    new = next(p for p in drawio_corpus if p.name == "blog__story-map.drawio")
    shutil.copy(new, library.incoming / new.name)
    shutil.copy(FIXTURES / "billion-laughs.drawio", library.incoming / "broken.drawio")
    (library.incoming / "notes.txt").write_text("not a drawing", encoding="utf-8")
    admin = AdminController(window, services, clock=clock, library=library)
    try:
        log_in(qtbot, admin, window, clock, MANAGER_PIN)
        assert admin.show_page("content")
        page = admin.page_widgets["content"]
        assert "features.drawio" in page.active_label.text()
        assert not page.rollback_button.isEnabled()  # nothing shown before yet

        page.scan()
        qtbot.waitUntil(lambda: tasks.pending() == 0 and page.drawings.count() > 0, timeout=10_000)
        names = [page.drawings.item(i).text().split("\n")[0] for i in range(page.drawings.count())]
        assert names == ["blog__story-map.drawio", "broken.drawio"]

        # a drawing the importer refuses gives one clear line and cannot be activated
        page.check(library.incoming / "broken.drawio")
        qtbot.waitUntil(lambda: tasks.pending() == 0 and not page.busy, timeout=10_000)
        assert page.message.text().startswith("⚠ cannot use this drawing")
        assert not page.activate_button.isEnabled()

        page.check(library.incoming / new.name)
        qtbot.waitUntil(lambda: tasks.pending() == 0 and not page.busy, timeout=20_000)
        assert page.candidate is not None, page.message.text()
        assert page.activate_button.isEnabled()
        assert page.findings.count() >= 1
        assert page.thumbs.layout().count() == min(12, len(page.candidate.experience.pages))
        copied = page.candidate.path
        assert copied.parent.parent == library.root / "imported"
        assert copied.read_bytes() == new.read_bytes()

        page.activate()
        assert shown.loads == [copied]
        assert shown.current.source_path == copied
        assert "blog__story-map" in page.active_label.text()
        assert "features.drawio" in page.previous_label.text()
        activated = [p for t, p in recorded.events if t == "admin.content_activate"]
        assert activated[-1]["role"] == "manager" and activated[-1]["path"] == str(copied)

        page.roll_back()
        assert shown.current.source_path == FIXTURES / "features.drawio"
        assert "features.drawio" in page.active_label.text()
        assert "admin.content_rollback" in recorded.types()
        assert [e.role for e in library.history()] == ["config", "manager", "manager"]
    finally:
        admin.shutdown()


def test_pictures_beside_a_drawing_come_along(tmp_path: Path) -> None:
    from kiosk.admin.content import prepare_candidate

    stick = tmp_path / "stick" / "summer"
    stick.mkdir(parents=True)
    shutil.copy(FIXTURES / "features.drawio", stick / "summer.drawio")
    shutil.copy(FIXTURES / "logo.png", stick / "logo.png")
    (stick / "notes.txt").write_text("not a picture", encoding="utf-8")
    library = ContentLibrary(tmp_path / "content")
    candidate = prepare_candidate(library, stick / "summer.drawio")
    assert (candidate.path.parent / "logo.png").read_bytes() == (FIXTURES / "logo.png").read_bytes()
    assert not (candidate.path.parent / "notes.txt").exists()
    assert not any("logo.png" in f.message for f in candidate.findings)
    assert (
        library.import_drawing(stick / "summer.drawio") == candidate.path
    )  # same content, same place


def test_a_failed_activation_keeps_the_old_experience(
    qtbot: Any,
    window: QWidget,
    config: KioskConfig,
    recorded: Recorded,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    shown = ShownExperience(FIXTURES / "features.drawio")
    library = ContentLibrary(tmp_path / "content")
    library.record(tmp_path / "gone.drawio", "manager")
    library.record(FIXTURES / "features.drawio", "manager")
    services = KioskServices(
        config=config,
        record=recorded,
        experience=lambda: shown.current,
        activate_experience=shown.activate,
    )
    admin = AdminController(window, services, clock=clock, library=library)
    try:
        log_in(qtbot, admin, window, clock, MANAGER_PIN)
        admin.show_page("content")
        page = admin.page_widgets["content"]
        page.roll_back()
        assert page.message.text().startswith("⚠ not activated")
        assert shown.current.source_path == FIXTURES / "features.drawio"
        assert "admin.content_rollback" not in recorded.types()
    finally:
        admin.shutdown()
