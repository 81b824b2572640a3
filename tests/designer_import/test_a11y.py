"""The validator's readability warnings on files made for the test: text too small on the
kiosk's screen, and text whose contrast with what is behind it is under WCAG's 4.5:1."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer_import import load_experience, validate
from designer_import.readability import contrast_ratio, relative_luminance
from tests.support.drawings import page_xml, write_drawio


def cell(cell_id: str, label: str, style: str, x: int, y: int, w: int = 400, h: int = 100) -> str:
    return (
        f'<mxCell id="{cell_id}" value="{label}" style="{style}" vertex="1" parent="1">'
        f'<mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" as="geometry"/></mxCell>'
    )


#: A 1920 x 1080 page (fitted 1:1 to a 1920 x 1080 screen) on a light background.
PAGE = page_xml(
    "home",
    "Home",
    # size: 11 px is too small, 12 px is enough
    cell("tiny", "Small print", "text;fontSize=11;fontColor=#000000;", 0, 0)
    + cell("twelve", "Just enough", "text;fontSize=12;fontColor=#000000;", 0, 120)
    # contrast on its own fill: #777777 on white is 4.48:1 (under), #767676 is 4.54:1
    + cell("grey-box", "Grey", "rounded=1;fillColor=#ffffff;fontColor=#777777;", 500, 0)
    + cell("ok-box", "Fine", "rounded=1;fillColor=#ffffff;fontColor=#767676;", 500, 120)
    # a text shape over a dark panel drawn before it: the panel is behind it
    + cell("panel", "", "rounded=0;fillColor=#1d2733;strokeColor=none;", 1000, 0, 800, 400)
    + cell("on-panel", "White on navy", "text;fontSize=24;fontColor=#ffffff;", 1100, 50)
    + cell("faint", "Navy on navy", "text;fontSize=24;fontColor=#2a3a4a;", 1100, 200)
    # a text shape on the page: the page's cream background is behind it
    + cell("on-page", "Yellow on cream", "text;fontSize=24;fontColor=#ffcc00;", 0, 600)
    # its label background wins over the page
    + cell(
        "label-bg",
        "On its own background",
        "text;fontSize=24;fontColor=#ffcc00;labelBackgroundColor=#000000;",
        0,
        800,
    ),
    "#fff8ec",
)


def found(tmp_path: Path, code: str, target: tuple[int, int] = (1920, 1080)) -> set[str | None]:
    experience = load_experience(write_drawio(tmp_path / "a11y.drawio", [PAGE]))
    return {f.cell_id for f in validate(experience, target) if f.code == code}


def test_wcag_luminance_and_ratio() -> None:
    assert relative_luminance("#000000") == 0.0
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    # WCAG's well-known threshold greys
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_text_below_12_px_on_the_kiosks_screen(tmp_path: Path) -> None:
    assert found(tmp_path, "small-text") == {"tiny"}
    # on a screen half the size every label is drawn at half its size
    half = found(tmp_path, "small-text", target=(960, 540))
    assert {"tiny", "twelve", "grey-box", "ok-box"} <= half and "on-panel" not in half


def test_contrast_under_4_5_to_1_against_what_is_behind_the_text(tmp_path: Path) -> None:
    assert found(tmp_path, "low-contrast") == {"grey-box", "faint", "on-page"}


def test_the_finding_names_both_colours_and_the_ratio(tmp_path: Path) -> None:
    experience = load_experience(write_drawio(tmp_path / "a11y.drawio", [PAGE]))
    (finding,) = [f for f in validate(experience) if f.cell_id == "on-page"]
    assert finding.severity == "warning"
    assert "#ffcc00 on #fff8ec" in finding.message and "4.5:1" in finding.message
