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


def tagged(cell_id: str, tags: str, x: int, *, parent: str = "1", hidden: bool = False) -> str:
    """A plain box carrying draw.io ``tags`` (what show/hide/toggle steps pick)."""
    visible = ' visible="0"' if hidden else ""
    return (
        f'<UserObject label="{cell_id}" tags="{tags}" id="{cell_id}">'
        f'<mxCell style="rounded=0;fillColor=#ffe6cc;" vertex="1" parent="{parent}"{visible}>'
        f'<mxGeometry x="{x}" y="500" width="150" height="100" as="geometry"/></mxCell>'
        "</UserObject>"
    )


def action_button(cell_id: str, actions: str, x: int) -> str:
    """A button whose link runs draw.io in-page ``actions`` (the JSON of a custom link)."""
    link = "data:action/json," + actions.replace('"', "&quot;")
    return (
        f'<UserObject label="{cell_id}" link="{link}" id="{cell_id}">'
        '<mxCell style="rounded=1;fillColor=#dae8fc;" vertex="1" parent="1">'
        f'<mxGeometry x="{x}" y="100" width="200" height="100" as="geometry"/></mxCell>'
        "</UserObject>"
    )


def with_goodbye_page(source: Path, target: Path) -> Path:
    """A copy of ``source`` with an empty page named "Goodbye" (id ``bye``) at the end."""
    goodbye = '<diagram id="bye" name="Goodbye"><mxGraphModel><root><mxCell id="0"/>'
    target.write_text(
        source.read_text(encoding="utf-8").replace(
            "</mxfile>", goodbye + "</root></mxGraphModel></diagram></mxfile>"
        ),
        encoding="utf-8",
    )
    return target
