"""The validator's ``bad-schedule`` rule: a page's own attract window (``kiosk-schedule`` in
its Edit Data) that is not ``HH:MM-HH:MM`` is named with its page."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer_import import load_experience
from designer_import.validate import validate
from tests.support.drawings import button, page_xml, write_drawio


def with_window(tmp_path: Path, window: str) -> Path:
    attract = page_xml("offer", "breakfast offer", "").replace(
        '<mxCell id="0"/>',
        f'<object label="" tags="attract" kiosk-schedule="{window}" id="0"><mxCell/></object>',
    )
    welcome = page_xml("welcome", "Welcome", button("go", "Go", "data:page/id,offer", 10, 10))
    return write_drawio(tmp_path / "offer.drawio", [attract, welcome])


@pytest.mark.parametrize("window", ["7:00-11:00", "07:00 to 11:00", "25:00-26:00", "07:00"])
def test_a_malformed_page_window_is_an_error_naming_the_page(tmp_path: Path, window: str) -> None:
    findings = [f for f in validate(load_experience(with_window(tmp_path, window)))
                if f.code == "bad-schedule"]  # fmt: skip
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == "error" and finding.page == "breakfast offer"
    assert finding.cell_id is None and repr(window) in finding.message
    assert "HH:MM-HH:MM" in finding.fix


@pytest.mark.parametrize("window", ["07:00-11:00", "22:00-02:00", "18:00-24:00", " 06:30-09:15 "])
def test_a_well_formed_page_window_is_fine(tmp_path: Path, window: str) -> None:
    findings = validate(load_experience(with_window(tmp_path, window)))
    assert [f for f in findings if f.code == "bad-schedule"] == []
