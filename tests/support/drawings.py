"""Hand-made draw.io files and the repository's drawings the tests open."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "drawio"
FEATURES = FIXTURES / "features.drawio"
DEMO = REPO / "resources" / "demo" / "pet-store.drawio"


def page_xml(page_id: str, name: str, cells: str, background: str = "#ffffff") -> str:
    """One draw.io page with ``cells`` (mxCell/UserObject XML) on layer 1."""
    return (
        f'<diagram id="{page_id}" name="{name}"><mxGraphModel page="1" pageWidth="1920" '
        f'pageHeight="1080" background="{background}"><root><mxCell id="0"/>'
        f'<mxCell id="1" parent="0"/>{cells}</root></mxGraphModel></diagram>'
    )


def button(cell_id: str, label: str, link: str, x: int, y: int, extra: str = "") -> str:
    """A rounded rectangle linked to ``link`` (a draw.io link value)."""
    return (
        f'<UserObject label="{label}" link="{link}" id="{cell_id}" {extra}>'
        '<mxCell style="rounded=1;whiteSpace=wrap;html=1;fillColor=#dae8fc;" vertex="1" '
        f'parent="1"><mxGeometry x="{x}" y="{y}" width="300" height="120" as="geometry"/>'
        "</mxCell></UserObject>"
    )


def write_drawio(path: Path, pages: list[str]) -> Path:
    """A hand-made .drawio file."""
    path.write_text(
        '<mxfile host="test" compressed="false">' + "".join(pages) + "</mxfile>",
        encoding="utf-8",
    )
    return path
