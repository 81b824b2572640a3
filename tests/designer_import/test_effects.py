"""Style effects the kiosk draws plainly (sketch, comic, glass, fill patterns) are named by the
validator, once per page and effect."""

from __future__ import annotations

from pathlib import Path

from designer_import import load_experience, validate


def test_sketch_and_patterns_are_findings(tmp_path: Path) -> None:
    cells = "".join(
        f'<mxCell id="{i}" value="Box {i}" style="{style}" vertex="1" parent="1">'
        f'<mxGeometry x="{10 + 100 * n}" y="10" width="80" height="40" as="geometry"/></mxCell>'
        for n, (i, style) in enumerate(
            [
                ("s1", "sketch=1;fillColor=#ff0000;"),
                ("s2", "sketch=1;fillStyle=hachure;"),
                ("plain", "sketch=0;fillStyle=solid;"),
            ]
        )
    )
    path = tmp_path / "fx.drawio"
    path.write_text(
        '<mxfile><diagram id="p" name="Home"><mxGraphModel><root><mxCell id="0"/>'
        f'<mxCell id="1" parent="0"/>{cells}</root></mxGraphModel></diagram></mxfile>',
        encoding="utf-8",
    )
    found = [f for f in validate(load_experience(path)) if f.code == "drawing-effect"]
    assert [(f.cell_id, f.page) for f in found] == [("s1", "Home"), ("s2", "Home")]
    assert "2 shape(s) use sketch" in found[0].message
    assert "1 shape(s) use patterned fill (fillStyle)" in found[1].message
