"""The validator names page, shape, problem and fix for each kind of problem."""

from __future__ import annotations

from pathlib import Path

from designer_import import load_experience, load_experience_bytes, validate
from designer_import.validate import Finding, summary


def codes(findings: list[Finding]) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for finding in findings:
        out.setdefault(finding.code, set()).add(finding.cell_id)
    return out


def test_every_problem_in_problems_drawio_is_found(fixtures: Path) -> None:
    findings = validate(load_experience(fixtures / "problems.drawio"))
    found = codes(findings)
    assert found["dangling-page-link"] == {"dangling"}
    assert found["missing-image"] == {"missing-file", "broken-data"}
    assert found["rejected-link"] == {"script", "bad-action"}
    assert found["small-touch-target"] == {"tiny"}
    assert found["external-font"] == {"webfont"}
    assert found["math-label"] == {"formula"}
    assert found["library-stencil"] == {"aws"}
    assert found["action-without-sku"] == {"no-sku"}
    assert found["oversized-image"] == {"huge"}
    assert found["label-link"] == {"html-link"}
    assert found["web-image"] == {"html-link"}
    assert found["no-attract-page"] == {None}
    assert found["unreachable-page"] == {None}
    assert [f.page for f in findings if f.code == "unreachable-page"] == ["Orphan"]
    # the huge picture makes the page's content twice the screen: its 12 px labels show at 6
    assert {f.cell_id for f in findings if f.code == "small-text"} == {
        "dangling", "missing-file", "broken-data", "script", "tiny", "webfont", "formula",
        "aws", "no-sku", "html-link", "bad-action",
    }  # fmt: skip
    assert summary(findings) == (6, 20)
    # Errors come first.
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_findings_name_page_cell_label_and_fix(fixtures: Path) -> None:
    findings = validate(load_experience(fixtures / "problems.drawio"))
    (dangling,) = [f for f in findings if f.code == "dangling-page-link"]
    assert (dangling.page, dangling.cell_id, dangling.label) == ("Home", "dangling", "Go nowhere")
    assert "no-such-page" in dangling.message
    line = dangling.format()
    assert line.startswith('error: page "Home", shape "Go nowhere" (id dangling): ')
    assert "Fix: " in line and "\n" not in line


def test_touch_target_scales_with_the_target_screen(fixtures: Path) -> None:
    experience = load_experience(fixtures / "problems.drawio")
    # The page is 3840 wide: at 3840x2160 the 60 px button stays 60 px.
    assert "small-touch-target" not in codes(validate(experience, target=(3840, 2160)))


def test_features_drawio_warns_only_about_what_it_uses(fixtures: Path) -> None:
    findings = validate(load_experience(fixtures / "features.drawio"))
    assert summary(findings)[0] == 0
    found = codes(findings)
    assert set(found) == {
        "external-link",
        "ignored-link-step",
        "web-image",
        "small-text",
    }
    # draw.io's connector labels are 11 px by default: below the 12 px a kiosk needs
    assert found["small-text"] == {"e1-label", "e2"}
    assert found["web-image"] == {"webpic", "libpic"}


def test_stencils_are_grouped_per_page(tmp_path: Path) -> None:
    # library shapes the kiosk does not draw: one finding per shape name and page, with the
    # count of the others; a drawn library shape (floorplan.xml's plant) has none
    def cell(i: int, shape: str) -> str:
        return (
            f'<mxCell id="c{i}" style="shape={shape};" vertex="1" parent="1">'
            '<mxGeometry width="80" height="80" as="geometry"/></mxCell>'
        )

    def page(name: str, shapes: list[str]) -> str:
        cells = "".join(cell(i, shape) for i, shape in enumerate(shapes))
        return (
            f'<diagram id="{name}" name="{name}"><mxGraphModel><root><mxCell id="0"/>'
            f'<mxCell id="1" parent="0"/>{cells}</root></mxGraphModel></diagram>'
        )

    lean = "mxgraph.lean_mapping.kaizen_lightening_burst"
    drawing = tmp_path / "stencils.drawio"
    drawing.write_text(
        "<mxfile>"
        + page("One", [lean, lean, lean, "mxgraph.gcp2.admob", "mxgraph.floorplan.plant"])
        + page("Two", [lean])
        + "</mxfile>"
    )
    findings = [f for f in validate(load_experience(drawing)) if f.code == "library-stencil"]
    named = sorted((f.page, f.message.split('"')[1]) for f in findings)
    assert named == [("One", "mxgraph.gcp2.admob"), ("One", lean), ("Two", lean)]
    (three,) = [f for f in findings if f.page == "One" and lean in f.message]
    assert "(and 2 more)" in three.message


def test_only_attract_pages_is_an_error() -> None:
    from designer_import import load_experience_bytes

    experience = load_experience_bytes(
        b'<mxfile><diagram id="a" name="attract"/></mxfile>', "idle.drawio"
    )
    found = codes(validate(experience))
    assert "no-welcome-page" in found and "no-attract-page" not in found


def test_custom_link_steps_naming_absent_shapes_or_tags_in_step_order() -> None:
    # Two steps naming shapes and tags this page lacks: the findings follow the steps (a
    # step's shapes, then its tags), each naming the step's action; tags match in any case.
    link = (
        '{"actions":[{"show":{"cells":["gone","here"],"tags":["Sale","nope"]}},'
        '{"hide":{"cells":["away"]}}]}'
    ).replace('"', "&quot;")
    drawing = (
        '<mxfile><diagram id="p1" name="Home"><mxGraphModel><root>'
        '<mxCell id="0"/><mxCell id="1" parent="0"/>'
        f'<UserObject id="btn" label="Open" link="data:action/json,{link}">'
        '<mxCell vertex="1" parent="1" style="rounded=1;">'
        '<mxGeometry x="10" y="10" width="200" height="100" as="geometry"/></mxCell>'
        "</UserObject>"
        '<UserObject id="here" label="Here" tags="sale">'
        '<mxCell vertex="1" parent="1" style="rounded=1;">'
        '<mxGeometry x="300" y="10" width="200" height="100" as="geometry"/></mxCell>'
        "</UserObject>"
        "</root></mxGraphModel></diagram></mxfile>"
    ).encode()
    findings = validate(load_experience_bytes(drawing, "steps.drawio"))
    steps = [(f.code, f.cell_id, f.message) for f in findings if f.code.startswith("action-")]
    assert steps == [
        ("action-missing-cells", "btn", '"show" names shapes not on this page: gone'),
        ("action-unknown-tags", "btn", '"show" uses tags no shape here carries: nope'),
        ("action-missing-cells", "btn", '"hide" names shapes not on this page: away'),
    ]
