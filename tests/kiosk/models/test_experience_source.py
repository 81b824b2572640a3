"""The experience source's bookkeeping without a display: what a finished load means for the
screen, a change during a load, the same error again, a restart, the stand-ins at start."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from designer_import import load_experience
from kiosk.models.experience_source import (
    BACK_SOON_ID,
    ExperienceSource,
    Loaded,
    file_signature,
    load_for_reload,
)
from tests.support.drawings import FEATURES


def test_a_load_reports_the_signature_it_read_and_the_ui_side_keeps_it(tmp_path: Path) -> None:
    drawing = shutil.copy(FEATURES, tmp_path / "shop.drawio")
    source = ExperienceSource(tmp_path / "data")
    source.source = Path(drawing)
    watched = source.watch(Path(drawing))
    # the worker's part: a value, nothing written anywhere
    loaded = load_for_reload(Path(drawing), watched)
    assert loaded.experience is not None and loaded.error is None
    assert loaded.signature == file_signature(watched)
    source.signature = None
    assert source.begin_reload() == Path(drawing)
    outcome = source.finish_reload(loaded, load_experience(FEATURES))
    assert source.signature == loaded.signature
    assert outcome.show is None  # the same drawing (same hash) is not shown again
    assert not source.changed_on_disk()


def test_a_change_during_a_load_loads_again_once(tmp_path: Path) -> None:
    source = ExperienceSource(None)
    source.source = FEATURES
    shown = load_experience(FEATURES)
    assert source.begin_reload() == FEATURES
    assert source.begin_reload() is None  # a load runs: asked again afterwards
    assert source.begin_reload() is None
    outcome = source.finish_reload(Loaded(None, "broken", None), shown)
    assert outcome.again and outcome.show is None
    assert source.begin_reload() == FEATURES
    assert not source.finish_reload(Loaded(None, "broken", None), shown).again


def test_the_same_error_again_is_not_news(caplog: pytest.LogCaptureFixture) -> None:
    source = ExperienceSource(None)
    source.source = FEATURES
    shown = load_experience(FEATURES)
    with caplog.at_level(logging.DEBUG, logger="kiosk.models.experience_source"):
        for _ in range(3):
            source.begin_reload()
            source.finish_reload(Loaded(None, "shop.drawio: not a drawing", None), shown)
    levels = [r.levelno for r in caplog.records if "not a drawing" in r.getMessage()]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_a_restart_shows_even_the_same_drawing_from_attract() -> None:
    source = ExperienceSource(None)
    source.source = FEATURES
    shown = load_experience(FEATURES)
    assert source.begin_reload(restart=True) == FEATURES
    outcome = source.finish_reload(Loaded(load_experience(FEATURES), None, None), shown)
    assert outcome.restart and outcome.show is not None
    assert source.reloads == 1
    # consumed: the next reload keeps the page again
    source.begin_reload()
    assert not source.finish_reload(Loaded(None, "gone", None), shown).restart


def test_stand_ins_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    source = ExperienceSource(data)
    broken = tmp_path / "broken.drawio"
    broken.write_text("not a drawing", encoding="utf-8")
    source.choose(broken, None)
    # nothing to stand in: the back-soon page, and why
    back_soon = source.stand_in(broken, "broken.drawio: not a drawing")
    assert back_soon.pages[0].id == BACK_SOON_ID
    assert source.broken == "broken.drawio: not a drawing" and source.fallback is None
    # the configured file stands in for what staff activated
    source = ExperienceSource(data)
    source.choose(FEATURES, None)
    source.source = broken
    stand_in = source.stand_in(FEATURES, "broken.drawio: not a drawing")
    assert stand_in.source_path == FEATURES
    assert source.fallback == "broken.drawio: not a drawing; showing the configured experience"
    assert source.broken is None and source.standing_in
    source.shown()
    assert not source.standing_in
