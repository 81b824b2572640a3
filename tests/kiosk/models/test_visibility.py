"""Show/hide/toggle steps without a display: what shows after each step, with groups and
connectors following what they hang on (real draw.io files, no Qt)."""

from __future__ import annotations

from pathlib import Path

from designer_import import load_experience
from designer_import.model import ActionLink, Page
from kiosk.models.visibility import Visibility
from tests.support.drawings import action_button, page_xml, tagged, write_drawio


def group(cell_id: str, x: int) -> str:
    return (
        f'<mxCell id="{cell_id}" style="group" vertex="1" connectable="0" parent="1">'
        f'<mxGeometry x="{x}" y="700" width="400" height="200" as="geometry"/></mxCell>'
    )


def edge(cell_id: str, source: str, target: str) -> str:
    return (
        f'<mxCell id="{cell_id}" style="endArrow=classic;" edge="1" parent="1" '
        f'source="{source}" target="{target}"><mxGeometry relative="1" as="geometry"/>'
        "</mxCell>"
    )


def one_page(tmp_path: Path, cells: str) -> Page:
    experience = load_experience(
        write_drawio(tmp_path / "v.drawio", [page_xml("home", "H", cells)])
    )
    return experience.pages[0]


def run(visibility: Visibility, page: Page, button_id: str) -> None:
    link = page.link_for(button_id)
    assert isinstance(link, ActionLink), button_id
    visibility.run(page, link)


def test_show_hide_toggle_by_tag_and_cell(tmp_path: Path) -> None:
    cells = "".join(
        [
            tagged("food", "dog food", 100),
            tagged("toy", "dog toy", 300),
            tagged("secret", "", 500, hidden=True),
            action_button("hide-food", '{"actions":[{"hide":{"tags":["FOOD","dog"]}}]}', 100),
            action_button("show-secret", '{"actions":[{"show":{"cells":["secret"]}}]}', 400),
            action_button("toggle-dog", '{"actions":[{"toggle":{"tags":["dog"]}}]}', 700),
        ]
    )
    page = one_page(tmp_path, cells)
    visibility = Visibility()
    assert not visibility.changed(page)
    assert visibility.states(page)["secret"] is False
    run(visibility, page, "hide-food")
    assert visibility.changed(page)
    states = visibility.states(page)
    assert states["food"] is False and states["toy"] is True
    run(visibility, page, "show-secret")
    secret = page.element("secret")
    assert secret is not None and visibility.shown(page, secret)
    run(visibility, page, "toggle-dog")
    states = visibility.states(page)
    assert states["food"] is True and states["toy"] is False
    assert visibility.reset() == ["home"]
    assert not visibility.changed(page)
    assert visibility.states(page)["toy"] is True and visibility.states(page)["secret"] is False


def test_a_hidden_group_hides_its_children(tmp_path: Path) -> None:
    cells = "".join(
        [
            group("panel", 100),
            tagged("inside", "", 10, parent="panel"),
            action_button("hide-panel", '{"actions":[{"hide":{"cells":["panel"]}}]}', 100),
            action_button("show-panel", '{"actions":[{"show":{"cells":["panel"]}}]}', 400),
        ]
    )
    page = one_page(tmp_path, cells)
    visibility = Visibility()
    run(visibility, page, "hide-panel")
    states = visibility.states(page)
    assert states["panel"] is False and states["inside"] is False
    run(visibility, page, "show-panel")
    assert visibility.states(page)["inside"] is True


def test_a_connector_goes_with_either_end(tmp_path: Path) -> None:
    cells = "".join(
        [
            tagged("a", "", 100),
            tagged("b", "", 600),
            edge("a-to-b", "a", "b"),
            action_button("hide-b", '{"actions":[{"hide":{"cells":["b"]}}]}', 100),
        ]
    )
    page = one_page(tmp_path, cells)
    visibility = Visibility()
    assert visibility.states(page)["a-to-b"] is True
    run(visibility, page, "hide-b")
    states = visibility.states(page)
    assert states["b"] is False and states["a-to-b"] is False and states["a"] is True


def test_steps_on_one_page_leave_other_pages_alone(tmp_path: Path) -> None:
    cells = tagged("x", "t", 100) + action_button(
        "hide-t", '{"actions":[{"hide":{"tags":["t"]}}]}', 100
    )
    pages = [page_xml("one", "One", cells), page_xml("two", "Two", cells)]
    experience = load_experience(write_drawio(tmp_path / "two.drawio", pages))
    one, two = experience.pages
    visibility = Visibility()
    run(visibility, one, "hide-t")
    assert visibility.states(one)["x"] is False
    assert visibility.states(two)["x"] is True and not visibility.changed(two)
