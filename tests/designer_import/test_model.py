"""features.drawio, feature by feature: what the renderer gets from the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer_import import load_experience
from designer_import.model import (
    ActionLink,
    Element,
    Experience,
    ExternalLink,
    Geometry,
    InPageAction,
    NavigateLink,
    Page,
    Point,
    ShapeKind,
)


@pytest.fixture
def experience(fixtures: Path) -> Experience:
    return load_experience(fixtures / "features.drawio")


@pytest.fixture
def home(experience: Experience) -> Page:
    page = experience.page("home")
    assert page is not None
    return page


def element(page: Page, element_id: str) -> Element:
    found = page.element(element_id)
    assert found is not None, element_id
    return found


def test_pages_roles_sizes_backgrounds(experience: Experience) -> None:
    assert [(p.id, p.name, p.role) for p in experience.pages] == [
        ("attract", "attract", "attract"),
        ("home", "Home", "welcome"),
        ("offers", "Offers", "page"),
    ]
    assert experience.attract_pages[0].background == "#102030"
    assert experience.welcome_page is experience.pages[1]
    assert experience.pages[1].background is None
    assert (experience.pages[0].width, experience.pages[0].height) == (1920, 1080)
    assert len(experience.source_hash) == 64


def test_page_tagged_attract_is_attract(tmp_path: Path) -> None:
    drawing = tmp_path / "tagged.drawio"
    drawing.write_text(
        '<mxfile><diagram id="a" name="Intro"><mxGraphModel><root>'
        '<object id="0" tags="attract loop"><mxCell/></object><mxCell id="1" parent="0"/>'
        '</root></mxGraphModel></diagram><diagram id="b" name="Start"/>'
        '<diagram id="c" name="More"/></mxfile>'
    )
    experience = load_experience(drawing)
    assert [p.role for p in experience.pages] == ["attract", "welcome", "page"]
    assert experience.pages[0].tags == ["attract", "loop"]


def test_z_order_is_depth_first_in_file_order(home: Page) -> None:
    ids = [e.id for e in home.elements]
    assert ids.index("grp") < ids.index("grp-child") < ids.index("box")
    assert ids.index("box") < ids.index("box-child") < ids.index("port")
    assert ids.index("e1") < ids.index("e1-label")
    # The hidden layer comes after the default layer: drawn last.
    assert ids[-1] == "secret"


def test_absolute_geometry_through_groups_containers_relative(home: Page) -> None:
    assert element(home, "grp-child").geometry == Geometry(510, 120, 50, 60)
    assert element(home, "box-child").geometry == Geometry(820, 140, 100, 50)
    # relative="1": x=1, y=0.5 of the parent box, then the offset.
    assert element(home, "port").geometry == Geometry(915, 160, 10, 10)
    assert element(home, "grp-child").parent_id == "grp"
    assert element(home, "port").ancestors == ["box-child", "box"]
    assert element(home, "grp").parent_id is None
    assert element(home, "grp").layer_id == "1"


def test_visibility_hidden_cells_layers_collapsed(home: Page) -> None:
    hidden = element(home, "hidden-cell")
    assert (hidden.visible, hidden.self_visible) == (False, False)
    secret = element(home, "secret")
    assert (secret.visible, secret.self_visible, secret.layer_id) == (False, True, "hidden-layer")
    folded = element(home, "folded")
    assert folded.collapsed and folded.visible and folded.container
    assert not element(home, "folded-child").visible
    assert element(home, "box").container
    # draw.io does not draw a connector to a hidden shape.
    to_hidden = element(home, "e3")
    assert to_hidden.self_visible and not to_hidden.visible
    assert [e.id for e in home.subtree("box")] == ["box", "box-child", "port"]


def test_wrapper_id_label_tooltip_properties_tags(home: Page) -> None:
    button = element(home, "btn-offers")
    assert button.tooltip == "See the offers"
    assert button.label is not None
    assert button.label.is_html and button.label.text == "<b>Offers</b><br>this week"
    assert button.label.plain == "Offers\nthis week"
    card = element(home, "product-card")
    assert card.properties == {"kiosk-action": "show-product", "sku": "DOG-042"}
    assert card.tags == ["product", "featured"]
    assert card.kiosk_action is not None
    assert (card.kiosk_action.name, card.kiosk_action.params) == (
        "show-product",
        {"sku": "DOG-042"},
    )
    assert [e.id for e in home.tagged("featured")] == ["product-card"]


def test_placeholders_cell_ancestors_root_and_globals(home: Page) -> None:
    label = element(home, "greeting").label
    assert label is not None and not label.is_html
    assert label.text == "Welcome to Riverside (Home, page 2 of 3) %store% stays"


def test_links_navigate_actions_external(experience: Experience, home: Page) -> None:
    assert element(home, "btn-offers").link == NavigateLink("offers")
    toggle = element(home, "toggle-btn")
    assert toggle.link == ActionLink(
        [InPageAction("toggle", [], ["details"]), InPageAction("show", ["hidden-cell"], [])]
    )
    assert toggle.load_notes == ['action "highlight" is not supported on the kiosk; ignored']
    offers = experience.page("offers")
    assert offers is not None
    assert element(offers, "web").link == ExternalLink("https://example.com/offers")
    # A touch on a group's child follows the group's link.
    assert home.link_for("grp-child") == NavigateLink("offers")
    assert home.link_for("box-child") is None


def test_images_embedded_file_web_library(home: Page, fixtures: Path) -> None:
    for element_id in ("photo", "photo-b64"):
        image = element(home, element_id).image
        assert image is not None and image.available, element_id
        assert image.mime == "image/png"
        assert (image.pixel_width, image.pixel_height) == (4, 4)
        assert image.data is not None and image.data.startswith(b"\x89PNG")
    logo = element(home, "logo").image
    assert logo is not None and logo.path == (fixtures / "logo.png").resolve()
    assert logo.data == (fixtures / "logo.png").read_bytes()
    web = element(home, "webpic").image
    assert web is not None and not web.available and "web image" in (web.unavailable or "")
    library = element(home, "libpic").image
    assert library is not None and "library" in (library.unavailable or "")
    assert element(home, "photo").kind is ShapeKind.IMAGE
    assert not element(home, "photo").style.image_aspect


def test_edges_points_terminals_arrows_labels(home: Page) -> None:
    edge = element(home, "e1")
    assert edge.kind is ShapeKind.EDGE and edge.edge is not None
    path = edge.edge
    assert (path.source_id, path.target_id) == ("btn-offers", "product-card")
    assert path.points == [Point(400, 160), Point(450, 160), Point(450, 450), Point(300, 450)]
    assert (path.start_arrow, path.end_arrow, path.end_fill) == ("oval", "block", False)
    assert (path.start_size, path.end_size) == (8, 6)
    assert path.edge_style == "orthogonalEdgeStyle"
    label = element(home, "e1-label")
    assert label.kind is ShapeKind.TEXT
    # x=-0.5: a quarter along the 490-long route, on the vertical leg.
    assert label.label_anchor == Point(450, 232.5)
    free = element(home, "e2")
    assert free.edge is not None
    assert free.edge.points == [Point(100, 1000), Point(300, 1000)]
    assert free.edge.end_arrow is None
    assert free.label_anchor == Point(200, 1000)


def test_typed_style_fields(home: Page) -> None:
    style = element(home, "styled").style
    assert style.fill == "#00ff00"  # last duplicate wins
    assert style.stroke is None  # strokeColor=none removes the default
    assert style.gradient is not None
    assert (style.gradient.color, style.gradient.direction) == ("#ffffff", "east")
    assert style.opacity == 0.5
    assert style.dashed and style.dash_pattern == [8, 4]
    assert style.shadow and style.rounded and style.flip_h and not style.flip_v
    assert style.rotation == 30 and element(home, "styled").rotation == 30
    assert (style.font_color, style.font_family) == ("#000080", "Verdana")
    assert (style.bold, style.italic, style.underline, style.strikethrough) == (
        True, True, True, False,
    )  # fmt: skip
    assert (style.align, style.vertical_align, style.label_position) == ("left", "bottom", "right")
    assert (style.text_insets.top, style.text_insets.left) == (4, 10)
    bare = element(home, "bare-style").style
    assert bare.values == {"fillColor": "#123456"}
    assert bare.stroke is None and bare.font_color is None
    button = element(home, "btn-offers").style
    assert button.wrap and button.html and button.arc_size == 20
    assert (button.font_size, button.bold, button.italic) == (24, True, True)


def test_shape_kinds_and_stencils(home: Page) -> None:
    assert element(home, "product-card").kind is ShapeKind.ELLIPSE
    assert element(home, "grp").kind is ShapeKind.GROUP
    assert element(home, "box").kind is ShapeKind.SWIMLANE
    assert element(home, "greeting").kind is ShapeKind.TEXT
    assert element(home, "btn-offers").kind is ShapeKind.RECTANGLE
    hexagon = element(home, "hexa")
    assert hexagon.kind is ShapeKind.HEXAGON and hexagon.style.fill == "#ffcc00"
    stencil = element(home, "stencil")
    assert stencil.kind is ShapeKind.STENCIL
    assert stencil.stencil == "mxgraph.aws4.lambda" and stencil.style.fill == "#ed7100"


def test_content_bounds_cover_visible_elements(home: Page) -> None:
    bounds = home.content_bounds
    assert bounds.x == 100 and bounds.y == 20
    assert bounds.right == 1860  # bare-style ends at 1700 + 160; hidden "secret" ignored


def test_viewport_is_the_page_frame_or_the_content(experience: Experience, tmp_path: Path) -> None:
    assert experience.pages[1].viewport == Geometry(0, 0, 1920, 1080)
    drawing = tmp_path / "frameless.drawio"
    drawing.write_text(
        '<mxfile><diagram id="a" name="A"><mxGraphModel page="0"><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/><mxCell id="2" vertex="1" parent="1">'
        '<mxGeometry x="-50" y="10" width="100" height="40" as="geometry"/></mxCell>'
        "</root></mxGraphModel></diagram></mxfile>"
    )
    page = load_experience(drawing).pages[0]
    assert not page.page_view
    assert page.viewport == Geometry(-50, 10, 100, 40)
