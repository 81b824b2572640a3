"""Loading an experience never takes the kiosk down and never blocks the shopper's screen:
drawings with odd content start like any other, and a staff restart reads the file off the
UI thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.models.experience_source import BACK_SOON_ID
from kiosk.screen.window import KEEP_LANE, KioskWindow
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from tests.support.drawings import FIXTURES, page_xml, write_drawio

ATTRACT = page_xml("attract", "attract", "")


def odd_link(cell_id: str, link: str) -> str:
    return (
        f'<UserObject id="{cell_id}" label="Tap" link="{link}"><mxCell vertex="1" parent="1">'
        '<mxGeometry x="10" y="10" width="300" height="120" as="geometry"/></mxCell></UserObject>'
    )


def test_the_issue_drawings_start_on_their_attract_page(
    open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    """A custom link whose "cells" is a number (a TypeError in the importer) and a page
    background nested 100,000 deep (a RecursionError) crashed the kiosk at start."""
    cells_a_number = odd_link(
        "odd", "data:action/json,{&quot;actions&quot;:[{&quot;show&quot;:{&quot;cells&quot;:5}}]}"
    )
    deep = "[" * 100_000 + "]" * 100_000
    drawings = [
        write_drawio(tmp_path / "link.drawio", [ATTRACT, page_xml("home", "Home", cells_a_number)]),
        write_drawio(
            tmp_path / "background.drawio",
            [
                ATTRACT,
                page_xml("home", "Home", "").replace(
                    "<mxGraphModel ", f'<mxGraphModel backgroundImage="{deep}" '
                ),
            ],
        ),
    ]
    for path in drawings:
        window = open_window(path)
        assert window.broken is None and window.page is not None
        assert window.page.id == "attract", path.name
        assert any(f.severity == "error" for f in window.findings), path.name
        window.shutdown()


def test_a_restart_reads_the_file_off_the_ui_thread(
    qtbot: Any, open_window: Callable[..., KioskWindow], features_copy: Path
) -> None:
    window = open_window(features_copy)
    window.navigate("home")
    before = window.experience
    text = features_copy.read_text(encoding="utf-8")
    features_copy.write_text(text.replace('label="Back"', 'label="Go back"'), encoding="utf-8")
    window.restart_experience()
    # nothing was read on the UI thread: the result arrives through the event loop
    assert window.experience is before and window.page.id == "home"
    qtbot.waitUntil(lambda: window.experience is not before, timeout=10_000)
    assert window.page.role == "attract"
    assert window.experience.page("offers").element("back").label.plain == "Go back"
    # the same file again still goes back to attract (a restart is asked for, not a reload)
    window.navigate("home")
    again = window.experience
    window.restart_experience()
    qtbot.waitUntil(lambda: window.experience is not again, timeout=10_000)
    assert window.page.role == "attract"
    # a file that no longer loads: the experience on screen stays, back to attract
    features_copy.write_text("<mxfile><diagram>half", encoding="utf-8")
    window.navigate("home")
    shown = window.experience
    window.restart_experience()
    qtbot.waitUntil(lambda: window.page.role == "attract", timeout=10_000)
    assert window.experience is shown and window.page.id != BACK_SOON_ID


def test_the_last_good_copy_keeps_the_findings_of_its_own_load(
    qtbot: Any,
    open_window: Callable[..., KioskWindow],
    tasks: TaskRunner,
    config: KioskConfig,
) -> None:
    """The copy is written on a worker from what the UI thread handed it: the window's
    findings changing meanwhile (the next load) do not leak into it (the keeper thread
    used to read them from the window)."""
    release = threading.Event()
    tasks.run(lambda: release.wait(30), name="hold the keep lane", lane=KEEP_LANE)
    window = open_window(FIXTURES / "problems.drawio")
    expected = [finding.code for finding in window.findings]
    assert expected
    window.findings = []  # what the UI thread holds after the next load
    release.set()
    manifest = config.paths.data_dir / "experience-last-good" / "manifest.json"
    qtbot.waitUntil(manifest.exists, timeout=20_000)
    kept = json.loads(manifest.read_text(encoding="utf-8"))["findings"]
    assert [finding["code"] for finding in kept] == expected


def test_a_reload_is_validated_off_the_ui_thread(
    qtbot: Any,
    open_window: Callable[..., KioskWindow],
    features_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The validator walks every shape of a drawing: on a reload it runs on the loader's
    worker with the load, and the window shows what it found."""
    import kiosk.models.experience_source as experience_source

    window = open_window(features_copy)
    validated_on: list[int] = []
    real_validate = experience_source.validate

    def validate(experience: Any) -> Any:
        validated_on.append(threading.get_ident())
        return real_validate(experience)

    monkeypatch.setattr(experience_source, "validate", validate)
    window.restart_experience()
    qtbot.waitUntil(lambda: window.reloads == 1, timeout=20_000)
    assert validated_on and threading.get_ident() not in validated_on
    assert [f.code for f in window.findings] == [f.code for f in real_validate(window.experience)]
