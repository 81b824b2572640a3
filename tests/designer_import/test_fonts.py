"""Web fonts: found next to the drawing (or in fonts/), carried into a bundle, and named with
their fallback by the validator when missing."""

from __future__ import annotations

import base64
from pathlib import Path

from designer_import import load_experience, validate
from designer_import.bundle import build_bundle
from designer_import.fonts import DEFAULT_FONT, FONT_SUBSTITUTES, fallback

#: Stand-in font bytes: the validator and the bundle only move them; kiosk/ tests draw them.
FONT_BYTES = b"\x00\x01\x00\x00" + bytes(range(256)) * 4


def _drawing(path: Path, family: str = "Shop Hand", source: str = "") -> Path:
    source = source or "https%3A%2F%2Ffonts.googleapis.com%2Fcss%3Ffamily%3DShop%2BHand"
    style = f"text;html=1;fontFamily={family};fontSource={source};"
    path.write_text(
        '<mxfile><diagram id="p" name="Home"><mxGraphModel><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/>'
        f'<mxCell id="hand" value="Hello" style="{style}" vertex="1" parent="1">'
        '<mxGeometry x="10" y="10" width="120" height="30" as="geometry"/></mxCell>'
        "</root></mxGraphModel></diagram></mxfile>",
        encoding="utf-8",
    )
    return path


def test_a_missing_web_font_is_named_with_its_fallback(tmp_path: Path) -> None:
    experience = load_experience(_drawing(tmp_path / "shop.drawio"))
    [font] = experience.fonts
    assert font.family == "Shop Hand" and font.data is None
    assert "fonts.googleapis.com" in font.source
    [finding] = [f for f in validate(experience) if f.code == "external-font"]
    assert finding.cell_id == "hand" and finding.page == "Home"
    assert '"Shop Hand"' in finding.message and DEFAULT_FONT in finding.message
    assert "ShopHand-Regular.ttf" in finding.fix


def test_a_font_file_next_to_the_drawing_or_in_fonts_is_used(tmp_path: Path) -> None:
    drawing = _drawing(tmp_path / "shop.drawio")
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "ShopHand-Bold.ttf").write_bytes(b"bold" + FONT_BYTES)
    (tmp_path / "fonts" / "ShopHand-Regular.ttf").write_bytes(FONT_BYTES)
    experience = load_experience(drawing)
    [font] = experience.fonts
    assert font.file == "ShopHand-Regular.ttf" and font.data == FONT_BYTES
    assert not [f for f in validate(experience) if f.code == "external-font"]


def test_a_font_in_a_data_uri_is_used(tmp_path: Path) -> None:
    uri = "data:font/ttf;base64," + base64.b64encode(FONT_BYTES).decode("ascii")
    experience = load_experience(_drawing(tmp_path / "shop.drawio", source=uri))
    [font] = experience.fonts
    assert font.data == FONT_BYTES and font.source == ""
    assert not [f for f in validate(experience) if f.code == "external-font"]


def test_the_bundle_carries_the_web_font(tmp_path: Path) -> None:
    folder = tmp_path / "art"
    folder.mkdir()
    drawing = _drawing(folder / "shop.drawio")
    (folder / "Shop Hand.otf").write_bytes(FONT_BYTES)
    bundle = build_bundle(drawing, tmp_path / "bundle")
    (folder / "Shop Hand.otf").unlink()  # the bundle must not need the artist's folder
    experience = load_experience(bundle)
    [font] = experience.fonts
    assert font.family == "Shop Hand" and font.data == FONT_BYTES
    assert font.asset is not None and font.asset.endswith(".otf")


def test_draw_io_families_map_to_one_font_each() -> None:
    assert fallback("Helvetica") == fallback("Arial") == "Liberation Sans"
    assert fallback("Times New Roman") == "Liberation Serif"
    assert fallback("Courier New") == "Liberation Mono"
    assert fallback("Verdana") == "DejaVu Sans"
    assert fallback("'Some Handwriting', cursive") == DEFAULT_FONT
    assert all(v in {"Liberation Sans", "Liberation Serif", "Liberation Mono", "DejaVu Sans"}
               for v in FONT_SUBSTITUTES.values())  # fmt: skip
