"""The shipped stencil libraries (draw.io's stencil XML, gzip-compressed): a damaged file is
reported with its name and yields no shapes, never an exception."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from designer_import.stencils import read_library

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
