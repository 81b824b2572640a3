"""The shipped stencil libraries (draw.io's stencil XML, gzip-compressed): a damaged file is
reported with its name and yields no shapes, never an exception."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from designer_import import load_experience, validate
from designer_import.stencils import (
    _library,
    library_names,
    read_library,
    scan_library_names,
    shipped_library_files,
)

LIBRARY = Path(__file__).resolve().parents[2] / "designer_import" / "stencil_libraries"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"not gzip at all",
        lambda data: gzip.compress(b"<shapes><shape name='x'>"),  # bad XML
    ],
)
def test_a_damaged_library_file_is_reported_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage
) -> None:
    original = LIBRARY / "floorplan.xml.gz"
    broken = tmp_path / "floorplan.xml.gz"
    broken.write_bytes(damage(original.read_bytes()))
    assert read_library(broken, "floorplan.xml") == {}
    assert "stencil library floorplan.xml cannot be read" in caplog.text
    assert len(read_library(original, "floorplan.xml")) > 20


def test_validator_names_options_a_drawn_library_shape_leaves_out(tmp_path: Path) -> None:
    from designer_import import load_experience, validate

    def cell(cell_id: str, style: str) -> str:
        return (
            f'<mxCell id="{cell_id}" style="{style}" vertex="1" parent="1">'
            '<mxGeometry width="80" height="80" as="geometry"/></mxCell>'
        )

    drawing = tmp_path / "options.drawio"
    drawing.write_text(
        '<mxfile><diagram id="p" name="Shapes"><mxGraphModel><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/>'
        + cell("double", "shape=mxgraph.basic.rect;rectOutline=double;fillColor2=#ff0000;")
        + cell("transaction", "shape=mxgraph.bpmn.task;bpmnShapeType=transaction;")
        + cell("plain", "shape=mxgraph.basic.rect;rectStyle=rounded;")
        + "</root></mxGraphModel></diagram></mxfile>"
    )
    findings = {
        f.cell_id: f.message
        for f in validate(load_experience(drawing))
        if f.code == "library-shape-option"
    }
    assert set(findings) == {"double", "transaction"}
    assert "rectOutline=double" in findings["double"]
    assert "fillColor2=#ff0000" in findings["double"]
    assert "bpmnShapeType=transaction" in findings["transaction"]


def _shipped_library_files() -> list[str]:
    return sorted(shipped_library_files())


@pytest.mark.parametrize("filename", _shipped_library_files())
def test_the_names_index_holds_the_shapes_the_library_holds(filename: str) -> None:
    # The validator asks library_names (a scan of the start tags); the kiosk draws from
    # read_library's parsed shapes: every shipped file gives both the same keys.
    assert library_names(filename) == frozenset(read_library(LIBRARY / f"{filename}.gz", filename))


def test_the_names_scan_reads_tags_as_an_xml_parser_does(tmp_path: Path) -> None:
    # Single quotes, entities, a newline in a name, a set without a name, a nameless shape.
    xml = (
        b"<stencils><shapes name='mxgraph.Test'><shape name=\"Fish &amp; Chips\" w='1'/>"
        b"<shape h='2' name='Two\nWords'></shape><shape w='3'/></shapes>"
        b"<shapes><shape name='Loose'/></shapes></stencils>"
    )
    library = tmp_path / "test.xml.gz"
    library.write_bytes(gzip.compress(xml))
    parsed = frozenset(read_library(library, "test.xml"))
    assert parsed == {"mxgraph.test.fish_&_chips", "mxgraph.test.two_words", ".loose"}
    assert scan_library_names(xml) == parsed


def test_validating_reads_no_library_shapes(fixtures: Path) -> None:
    # Boot time: validating a drawing with library shapes asks only for their names; the
    # shapes' drawings (the parsed library files) are read when the kiosk draws them.
    library_names.cache_clear()
    _library.cache_clear()
    experience = load_experience(fixtures / "stencils-library.drawio")
    validate(experience)
    assert library_names.cache_info().currsize > 0  # it did ask for library shapes
    assert _library.cache_info().currsize == 0
