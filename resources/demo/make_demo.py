"""Generate ``resources/demo/pet-store.drawio``, the kiosk's demo experience.

Run ``python -m resources.demo.make_demo`` (or ``python resources/demo/make_demo.py``) from the
repository root. ``--output PATH`` writes elsewhere, ``--check`` only compares with the file on
disk (exit status 1 when it differs). The output is plain, uncompressed draw.io XML and the
same bytes on every run, so diffs of the drawing are readable.

The drawing is an ordinary draw.io file an artist can open and keep editing: three attract
pages (tagged ``attract``), the welcome page, one page per category, one page per product, the
offers page. Pictures are original flat-style SVG drawn in ``artwork.py`` and embedded as
data URIs. Every page has a "Call staff" button (``kiosk-action=call-staff``) whose
confirmation appears in place through a draw.io custom link.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__:
    from resources.demo import artwork as art
else:  # run as a file: its own folder is on sys.path
    import artwork as art  # type: ignore[no-redef]

OUTPUT = Path(__file__).resolve().parent / "pet-store.drawio"
WIDTH = 1920
HEIGHT = 1080
FONT = "Helvetica"
STORE = "Happy Paws"
HEADER_H = 150
DARK_CORAL = "#C63A46"
DARK_TEAL = "#0B6463"
DEEP_BLUE = "#245C9E"


# --- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    """One product page."""

    sku: str
    art: str
    name: str
    category: str
    price: str
    blurb: str
    details: tuple[str, ...]
    aisle: int
    side: str
    #: The offer line when the product is on offer this week.
    offer: str | None = None
    was: str | None = None

    @property
    def page_id(self) -> str:
        """The draw.io page id of the product's page."""
        return f"product-{self.sku.lower()}"


@dataclass(frozen=True)
class Category:
    """One category page."""

    key: str
    title: str
    tagline: str
    art: Callable[[], str]
    colour: str

    @property
    def page_id(self) -> str:
        """The draw.io page id of the category's page."""
        return f"category-{self.key}"


CATEGORIES = (
    Category("dogs", "Dogs", "Food, toys and walks", art.category_dogs, art.ORANGE),
    Category("cats", "Cats", "Climb, play and nap", art.category_cats, art.LAVENDER),
    Category(
        "small-pets",
        "Small pets & fish",
        "Hamsters, birds and fish",
        art.category_small_pets,
        art.TEAL_LIGHT,
    ),
)

PRODUCTS = (
    Product(
        "DOG-101",
        "dog-food",
        "Happy Trails Adult Dog Food 12 kg",
        "dogs",
        "$54.99",
        "Chicken and brown rice kibble for adult dogs of every size. No artificial colours.",
        (
            "Real chicken is the first ingredient",
            "Omega-3 for a shiny coat",
            "Resealable bag keeps it fresh",
            "About 6 weeks for a 20 kg dog",
        ),
        1,
        "on the left",
    ),
    Product(
        "DOG-214",
        "chew-toy",
        "Knotty Rope Bone & Ball",
        "dogs",
        "$12.99",
        "A tough cotton rope bone and a bouncy ball for tug, fetch and chewing.",
        (
            "Natural cotton rope, flosses teeth",
            "Ball floats in water",
            "For medium and large dogs",
            "Machine washable",
        ),
        2,
        "on the right",
        offer="2 for $20",
    ),
    Product(
        "DOG-330",
        "leash",
        "Glow Walk Reflective Leash 1.8 m",
        "dogs",
        "$24.99",
        "A padded leash with a reflective stripe, so you are seen on evening walks.",
        (
            "Soft padded handle",
            "Reflective stitching both sides",
            "Strong swivel clip",
            "Length 1.8 m, width 2.5 cm",
        ),
        2,
        "on the left",
    ),
    Product(
        "CAT-120",
        "cat-tree",
        "Summit Cat Tree 150 cm",
        "cats",
        "$99.00",
        "Three levels of climbing, a cosy hideaway and sisal posts for scratching.",
        (
            "Height 150 cm, base 60 x 45 cm",
            "Sisal rope scratching posts",
            "Hideaway cubby and top lookout",
            "Tools included, builds in 20 minutes",
        ),
        3,
        "at the end",
        offer="Save $30",
        was="$129.00",
    ),
    Product(
        "CAT-205",
        "feather-wand",
        "Flutter Feather Wand",
        "cats",
        "$8.49",
        "Bright feathers on a flexible wand: wakes the hunter in every cat.",
        (
            "Wand 90 cm, string 60 cm",
            "Refill feathers sold separately",
            "Play together, store out of reach",
        ),
        3,
        "on the right",
    ),
    Product(
        "CAT-318",
        "donut-bed",
        "Cloud Donut Cat Bed",
        "cats",
        "$39.99",
        "A plush round bed with a raised rim your cat can snuggle into.",
        (
            "60 cm across",
            "Non-slip base",
            "Machine washable at 30 degrees",
            "Also loved by small dogs",
        ),
        4,
        "on the left",
    ),
    Product(
        "AQU-060",
        "aquarium",
        "Reef Start 60 L Aquarium Kit",
        "small-pets",
        "$119.00",
        "Everything to start: tank, lid with LED light, quiet filter and heater.",
        (
            "60 litres, 61 x 32 x 38 cm",
            "LED light with day and night modes",
            "Quiet filter and 50 W heater",
            "Ask us about water testing",
        ),
        5,
        "on the right",
        offer="Save $30",
        was="$149.00",
    ),
    Product(
        "SMP-140",
        "hamster-wheel",
        "Silent Spin Wheel 28 cm",
        "small-pets",
        "$22.99",
        "A whisper-quiet exercise wheel on a steady stand, for hamsters and gerbils.",
        (
            "28 cm across, solid running floor",
            "Ball-bearing axle, no squeak",
            "Stands alone or clips to a cage",
        ),
        6,
        "on the left",
    ),
    Product(
        "BRD-210",
        "bird-cage",
        "Songbird Home Bird Cage",
        "small-pets",
        "$79.99",
        "A bright domed cage with perches, a swing and a pull-out tray for easy cleaning.",
        (
            "For canaries, finches and budgies",
            "46 x 36 x 70 cm",
            "Two feeders, perch and swing included",
            "Pull-out tray",
        ),
        6,
        "on the right",
    ),
)


# --- draw.io XML -------------------------------------------------------------------------------


def style(*names: str, **values: str | float) -> str:
    """A draw.io style string: named styles (``text``, ``ellipse``) first, then keyword
    values (``fill_color`` -> ``fillColor``)."""
    parts = list(names)
    for key, value in values.items():
        head, *rest = key.split("_")
        name = head + "".join(word.capitalize() for word in rest)
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={text}")
    return ";".join(parts) + ";"


def data_uri(svg: str) -> str:
    """An SVG as draw.io embeds pictures in styles: base64 without ``;base64`` (a ``;`` would
    end the style value)."""
    return "data:image/svg+xml," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def esc(text: str) -> str:
    """Plain text for an HTML label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_UNIT = re.compile(r" (\d+(?:\.\d+)?) (cm|kg|m|L)\b")


def product_name(name: str) -> str:
    """A product name for an HTML label; a size never breaks from its unit ("150 cm")."""
    return _UNIT.sub(lambda m: f" {m.group(1)}&nbsp;{m.group(2)}", esc(name))


def actions(*steps: tuple[str, list[str]]) -> str:
    """A draw.io custom link running show/hide/toggle steps on tagged shapes. draw.io picks
    the shapes that carry *all* of a step's tags, so hiding two groups takes two steps."""
    body = {"actions": [{verb: {"tags": tags}} for verb, tags in steps]}
    return "data:action/json," + json.dumps(body, separators=(",", ":"))


def page_link(page_id: str) -> str:
    """A draw.io link to another page."""
    return f"data:page/id,{page_id}"


@dataclass
class PageBuilder:
    """The cells of one draw.io page, in z-order."""

    id: str
    name: str
    background: str = art.CREAM
    tags: str = ""
    #: The page's own Edit Data (a product page's ``sku`` goes with its page views).
    props: dict[str, str] = field(default_factory=dict)
    cells: list[ET.Element] = field(default_factory=list)
    _count: int = 0

    def add(
        self,
        style_text: str,
        x: float,
        y: float,
        w: float,
        h: float,
        label: str = "",
        *,
        cell_id: str | None = None,
        link: str | None = None,
        props: dict[str, str] | None = None,
        tags: str = "",
        hidden: bool = False,
        tooltip: str | None = None,
    ) -> str:
        """Add a vertex; returns its id."""
        self._count += 1
        cid = cell_id or f"{self.id}-{self._count}"
        wrapped = bool(link or props or tags or tooltip)
        # attributes in the order draw.io writes them
        attrs = {} if wrapped else {"id": cid, "value": label}
        attrs.update(style=style_text, vertex="1", parent="1")
        if hidden:
            attrs["visible"] = "0"
        cell = ET.Element("mxCell", attrs)
        ET.SubElement(
            cell,
            "mxGeometry",
            {"x": _num(x), "y": _num(y), "width": _num(w), "height": _num(h), "as": "geometry"},
        )
        if not wrapped:
            self.cells.append(cell)
            return cid
        wrapper = ET.Element("UserObject", {"label": label, **(props or {})})
        if tooltip:
            wrapper.set("tooltip", tooltip)
        if link:
            wrapper.set("link", link)
        if tags:
            wrapper.set("tags", tags)
        wrapper.set("id", cid)
        wrapper.append(cell)
        self.cells.append(wrapper)
        return cid

    def xml(self) -> ET.Element:
        """The ``<diagram>`` element."""
        diagram = ET.Element("diagram", {"id": self.id, "name": self.name})
        model = ET.SubElement(
            diagram,
            "mxGraphModel",
            {
                "dx": "0",
                "dy": "0",
                "grid": "0",
                "gridSize": "10",
                "guides": "1",
                "tooltips": "1",
                "connect": "0",
                "arrows": "0",
                "fold": "1",
                "page": "1",
                "pageScale": "1",
                "pageWidth": str(WIDTH),
                "pageHeight": str(HEIGHT),
                "background": self.background,
                "math": "0",
                "shadow": "0",
            },
        )
        root = ET.SubElement(model, "root")
        if self.tags or self.props:
            attrs = {"label": "", **self.props}
            if self.tags:
                attrs["tags"] = self.tags
            wrapper = ET.SubElement(root, "object", {**attrs, "id": "0"})
            ET.SubElement(wrapper, "mxCell")
        else:
            ET.SubElement(root, "mxCell", {"id": "0"})
        ET.SubElement(root, "mxCell", {"id": "1", "parent": "0"})
        root.extend(self.cells)
        return diagram


def _num(value: float) -> str:
    return f"{value:g}"


# --- reusable pieces ----------------------------------------------------------------------------


def text_style(
    size: float,
    colour: str = art.INK,
    *,
    bold: bool = False,
    align: str = "left",
    valign: str = "middle",
) -> str:
    """A wrapped HTML text label."""
    return style(
        "text",
        html=1,
        white_space="wrap",
        font_family=FONT,
        font_size=size,
        font_color=colour,
        font_style=1 if bold else 0,
        align=align,
        vertical_align=valign,
        spacing=0,
    )


def box_style(
    fill: str,
    *,
    stroke: str = "none",
    arc: float = 24,
    shadow: bool = False,
    opacity: float | None = None,
    stroke_width: float = 1,
) -> str:
    """A rounded box."""
    values: dict[str, str | float] = {
        "rounded": 1,
        "arc_size": arc,
        "absolute_arc_size": 1,
        "fill_color": fill,
        "stroke_color": stroke,
        "stroke_width": stroke_width,
        "html": 1,
        "white_space": "wrap",
    }
    if shadow:
        values["shadow"] = 1
    if opacity is not None:
        values["opacity"] = opacity
    return style(**values)


def image_style(svg: str) -> str:
    """An embedded SVG picture keeping its proportions."""
    return style(
        shape="image",
        html=1,
        fill_color="none",
        stroke_color="none",
        image_aspect=1,
        aspect="fixed",
        vertical_label_position="bottom",
        vertical_align="top",
        image=data_uri(svg),
    )


def button_style(
    fill: str, icon: str, *, colour: str = art.WHITE, size: float = 40, stroke: str = "none"
) -> str:
    """A big rounded button with an icon on its left (draw.io's "label" shape)."""
    return style(
        shape="label",
        rounded=1,
        arc_size=70,
        absolute_arc_size=1,
        fill_color=fill,
        stroke_color=stroke,
        stroke_width=4,
        html=1,
        white_space="wrap",
        font_family=FONT,
        font_size=size,
        font_color=colour,
        font_style=1,
        align="center",
        vertical_align="middle",
        image=data_uri(icon),
        image_width=64,
        image_height=64,
        spacing=16,
        # draw.io's label shape puts its picture at spacing + 5 and does not move the text
        # for it: the text starts after the picture (21 + 64) and a gap
        spacing_left=96,
    )


def plain_button_style(
    fill: str, *, colour: str = art.WHITE, size: float = 40, stroke: str = "none"
) -> str:
    """A big rounded button with text only."""
    return style(
        rounded=1,
        arc_size=70,
        absolute_arc_size=1,
        fill_color=fill,
        stroke_color=stroke,
        stroke_width=4,
        html=1,
        white_space="wrap",
        font_family=FONT,
        font_size=size,
        font_color=colour,
        font_style=1,
        align="center",
        vertical_align="middle",
    )


STAFF_TAG = "staff-called"


def header(page: PageBuilder, title: str | None, *, nav: bool) -> None:
    """The top bar every shopper page shares: the logo (welcome) or Back and Home, the title,
    the call-staff button.

    Back and Home are kiosk actions, not page links: Back returns to wherever the shopper came
    from (a product opened from the offers goes back to the offers), and pages linked only by
    Back/Home do not join the swipe order of a category's products."""
    page.add(style(fill_color=art.WHITE, stroke_color="none", html=1), 0, 0, WIDTH, HEADER_H)
    page.add(style(fill_color=art.TEAL, stroke_color="none", html=1), 0, HEADER_H - 8, WIDTH, 8)
    x = 40
    if nav:
        page.add(
            button_style(art.INK, art.icon_back()),
            x,
            15,
            270,
            120,
            "Back",
            cell_id=f"{page.id}-back",
            props={"kiosk-action": "back"},
        )
        x += 300
        page.add(
            button_style(art.INK, art.icon_home()),
            x,
            15,
            270,
            120,
            "Home",
            cell_id=f"{page.id}-home",
            props={"kiosk-action": "home"},
        )
        x += 300
    else:
        page.add(image_style(art.logo()), 40, 20, 110, 110)
        page.add(text_style(52, art.INK, bold=True), 170, 20, 500, 110, STORE)
        x = 680
    if title:
        page.add(
            text_style(56, art.INK, bold=True, align="center"), x, 15, 1500 - x, 120, esc(title)
        )
    call_staff(page)


def call_staff(page: PageBuilder) -> None:
    """The call-staff button; its confirmation is added last by ``staff_confirmation``.
    It keeps clear of the top-right corner, where staff tap to open the admin panel."""
    page.add(
        button_style(DARK_CORAL, art.icon_bell()),
        1400,
        15,
        360,
        120,
        "Call staff",
        cell_id=f"{page.id}-call-staff",
        link=actions(("show", [STAFF_TAG])),
        props={"kiosk-action": "call-staff"},
        tooltip="Ask a member of staff to come to this screen",
    )


def staff_confirmation(page: PageBuilder) -> None:
    """The in-place confirmation of "Call staff": a dimmed page and a friendly card; touching
    anywhere closes it. Hidden until the button is touched."""
    close = actions(("hide", [STAFF_TAG]))
    page.add(
        style(fill_color=art.INK, stroke_color="none", opacity=55, html=1),
        0,
        0,
        WIDTH,
        HEIGHT,
        cell_id=f"{page.id}-staff-dim",
        link=close,
        tags=STAFF_TAG,
        hidden=True,
    )
    page.add(
        box_style(art.WHITE, arc=40, shadow=True),
        460,
        250,
        1000,
        580,
        cell_id=f"{page.id}-staff-card",
        tags=STAFF_TAG,
        hidden=True,
    )
    page.add(
        image_style(art.icon_bell_coloured()),
        870,
        290,
        180,
        180,
        cell_id=f"{page.id}-staff-bell",
        tags=STAFF_TAG,
        hidden=True,
    )
    page.add(
        text_style(60, art.INK, bold=True, align="center"),
        500,
        480,
        920,
        90,
        "Someone is on the way!",
        cell_id=f"{page.id}-staff-title",
        tags=STAFF_TAG,
        hidden=True,
    )
    page.add(
        text_style(38, art.INK, align="center"),
        520,
        570,
        880,
        100,
        "Please stay at this screen. A team member will be with you in about two minutes.",
        cell_id=f"{page.id}-staff-text",
        tags=STAFF_TAG,
        hidden=True,
    )
    page.add(
        plain_button_style(art.TEAL),
        760,
        690,
        400,
        120,
        "OK, thanks",
        cell_id=f"{page.id}-staff-ok",
        link=close,
        tags=STAFF_TAG,
        hidden=True,
    )


def product_tile(
    page: PageBuilder, product: Product, x: float, y: float, w: float, h: float, *, colour: str
) -> None:
    """A product card: picture, name, price, offer ribbon; one touch target over all of it."""
    page.add(box_style(art.WHITE, arc=36, shadow=True), x, y, w, h)
    page.add(box_style(colour, arc=28, opacity=35), x + 20, y + 20, w - 40, h - 270)
    pic = min(w - 80, h - 310)
    page.add(image_style(art.PRODUCT_ART[product.art]()), x + (w - pic) / 2, y + 40, pic, pic)
    page.add(
        text_style(38, art.INK, bold=True, align="center"),
        x + 24,
        y + h - 236,
        w - 48,
        110,
        product_name(product.name),
    )
    page.add(
        text_style(52, DARK_TEAL, bold=True, align="center"),
        x + 24,
        y + h - 120,
        w - 48,
        80,
        esc(product.price),
    )
    if product.offer:
        page.add(
            plain_button_style(art.YELLOW, colour=art.INK, size=32),
            x + 30,
            y + 36,
            220,
            70,
            esc(product.offer),
        )
    page.add(
        style(fill_color="none", stroke_color="none", html=1),
        x,
        y,
        w,
        h,
        cell_id=f"{page.id}-tile-{product.sku.lower()}",
        link=page_link(product.page_id),
        props={"kiosk-action": "show-product", "sku": product.sku},
        tooltip=product.name,
    )


def offers_banner(page: PageBuilder, y: float) -> None:
    """A wide yellow banner that leads to the offers page."""
    page.add(
        button_style(art.YELLOW, art.icon_tag(), colour=art.INK, size=44),
        80,
        y,
        1760,
        130,
        "This week&#39;s offers: save up to $30 &rsaquo;",
        cell_id=f"{page.id}-offers",
        link=page_link("offers"),
    )


# --- pages ---------------------------------------------------------------------------------------


def hero_picture(page: PageBuilder, hero: str) -> None:
    """A big picture on the right of a full-screen page, on a soft glow."""
    page.add(
        style("ellipse", fill_color=art.WHITE, stroke_color="none", opacity=12, html=1),
        1000,
        -200,
        1200,
        1200,
    )
    page.add(image_style(hero), 1060, 110, 820, 820)


def attract_page(
    key: str,
    name: str,
    background: str,
    hero: str,
    headline: str,
    sub: str,
    text_colour: str,
    *,
    target: str = "welcome",
    invitation: str = "Touch to start",
) -> PageBuilder:
    """An idle-loop page: a big picture, a headline and an invitation to touch that leads to
    ``target``."""
    page = PageBuilder(f"attract-{key}", name, background=background, tags="attract")
    hero_picture(page, hero)
    page.add(image_style(art.logo()), 110, 90, 120, 120)
    page.add(text_style(56, text_colour, bold=True), 250, 90, 700, 120, STORE)
    page.add(
        text_style(44, text_colour, valign="middle"),
        110,
        240,
        900,
        540,
        f'<div style="font-size:92px;font-weight:bold">{esc(headline)}</div>'
        f'<div style="margin-top:36px">{esc(sub)}</div>',
    )
    page.add(
        plain_button_style(art.WHITE, colour=art.INK, size=52),
        110,
        820,
        620,
        150,
        f"{esc(invitation)} &rsaquo;",
        cell_id=f"{page.id}-start",
        link=page_link(target),
    )
    # the whole screen is the touch target: an idle shopper may touch anywhere
    page.add(
        style(fill_color="none", stroke_color="none", html=1),
        0,
        0,
        WIDTH,
        HEIGHT,
        cell_id=f"{page.id}-anywhere",
        link=page_link(target),
    )
    return page


def welcome_page() -> PageBuilder:
    """The first page a shopper sees: three big category tiles and the offers banner."""
    page = PageBuilder("welcome", "Welcome")
    header(page, None, nav=False)
    my_list_button(page, 1010, 15)
    page.add(
        text_style(64, art.INK, bold=True, align="center"),
        80,
        175,
        1760,
        90,
        "Hello! What are you shopping for today?",
    )
    page.add(
        text_style(38, art.INK, align="center"), 80, 260, 1760, 60, "Touch a picture to explore"
    )
    for index, category in enumerate(CATEGORIES):
        x = 80 + index * 600
        y = 340
        w, h = 560, 540
        page.add(box_style(art.WHITE, arc=40, shadow=True), x, y, w, h)
        page.add(box_style(category.colour, arc=32, opacity=45), x + 20, y + 20, w - 40, 380)
        page.add(image_style(category.art()), x + 110, y + 40, 340, 340)
        page.add(
            text_style(52, art.INK, bold=True, align="center"),
            x + 20,
            y + 410,
            w - 40,
            70,
            esc(category.title),
        )
        page.add(
            text_style(34, art.INK, align="center"),
            x + 20,
            y + 470,
            w - 40,
            50,
            esc(category.tagline),
        )
        page.add(
            style(fill_color="none", stroke_color="none", html=1),
            x,
            y,
            w,
            h,
            cell_id=f"welcome-{category.key}",
            link=page_link(category.page_id),
            props={"kiosk-action": "open-category", "category": category.key},
            tooltip=category.title,
        )
    offers_banner(page, 920)
    staff_confirmation(page)
    return page


def category_page(category: Category) -> PageBuilder:
    """A category: its products as big tiles, each leading to the product page."""
    page = PageBuilder(category.page_id, category.title)
    products = [p for p in PRODUCTS if p.category == category.key]
    page.add(text_style(40, art.INK, align="center"), 80, 165, 1760, 60, esc(category.tagline))
    # the tiles come before the header's links: a swipe on a product page moves between the
    # pages its category links to, in the order they appear
    for index, product in enumerate(products):
        product_tile(page, product, 80 + index * 600, 240, 560, 640, colour=category.colour)
    header(page, category.title, nav=True)
    offers_banner(page, 920)
    staff_confirmation(page)
    return page


def product_page(product: Product) -> PageBuilder:
    """A product: picture, name, price, text, add-to-list / show-me-where / details."""
    category = next(c for c in CATEGORIES if c.key == product.category)
    page = PageBuilder(product.page_id, product.name, props={"sku": product.sku})
    header(page, category.title, nav=True)
    # picture card
    page.add(box_style(art.WHITE, arc=40, shadow=True), 60, 185, 840, 850)
    page.add(box_style(category.colour, arc=32, opacity=35), 80, 205, 800, 810)
    page.add(
        image_style(art.PRODUCT_ART[product.art]()),
        100,
        230,
        760,
        760,
        cell_id=f"{page.id}-picture",
    )
    if product.offer:
        page.add(
            style(
                "ellipse",
                fill_color=art.YELLOW,
                stroke_color=art.WHITE,
                stroke_width=8,
                html=1,
                white_space="wrap",
                font_family=FONT,
                font_size=40,
                font_color=art.INK,
                font_style=1,
            ),
            85,
            200,
            190,
            190,
            esc(product.offer),
        )
    # text column
    page.add(
        text_style(64, art.INK, bold=True, valign="bottom"),
        960,
        190,
        900,
        170,
        product_name(product.name),
    )
    page.add(text_style(96, DARK_TEAL, bold=True), 960, 360, 560, 120, esc(product.price))
    if product.was:
        page.add(
            style(
                "text",
                html=1,
                font_family=FONT,
                font_size=44,
                font_color="#5B6573",
                font_style=8,
                align="left",
                vertical_align="middle",
                spacing=0,
            ),
            1530,
            380,
            300,
            90,
            f"was {esc(product.was)}",
        )
    page.add(text_style(40, art.INK, valign="top"), 960, 490, 900, 160, esc(product.blurb))
    sku = {"sku": product.sku}
    page.add(
        button_style(art.TEAL, art.icon_list(), size=40),
        960,
        690,
        440,
        140,
        "Add to my list",
        cell_id=f"{page.id}-add",
        link=actions(("hide", ["where"]), ("hide", ["details"]), ("show", ["added"])),
        props={"kiosk-action": "add-to-list", **sku},
    )
    page.add(
        button_style(art.INK, art.icon_pin(), size=40),
        1420,
        690,
        440,
        140,
        "Show me where",
        cell_id=f"{page.id}-where",
        link=actions(("hide", ["details"]), ("hide", ["added"]), ("show", ["where"])),
        props={"kiosk-action": "show-me-where", **sku},
    )
    page.add(
        button_style(art.WHITE, art.icon_info(), colour=art.INK, size=40, stroke=art.INK),
        960,
        860,
        900,
        140,
        "More details",
        cell_id=f"{page.id}-details",
        link=actions(("hide", ["where"]), ("hide", ["added"]), ("toggle", ["details"])),
        props={"kiosk-action": "product-details", **sku},
    )
    # in-place panels over the picture card, hidden until asked for
    _details_panel(page, product)
    _where_panel(page, product)
    _added_panel(page, product)
    staff_confirmation(page)
    return page


def _panel(page: PageBuilder, tag: str, title: str) -> None:
    page.add(
        box_style(art.WHITE, arc=40, stroke=art.INK, stroke_width=4),
        60,
        185,
        840,
        850,
        cell_id=f"{page.id}-{tag}-panel",
        tags=tag,
        hidden=True,
    )
    page.add(
        text_style(52, art.INK, bold=True),
        110,
        215,
        740,
        90,
        esc(title),
        cell_id=f"{page.id}-{tag}-title",
        tags=tag,
        hidden=True,
    )


def _close_button(page: PageBuilder, tag: str, y: float = 890) -> None:
    page.add(
        plain_button_style(art.INK, size=38),
        280,
        y,
        400,
        120,
        "Close",
        cell_id=f"{page.id}-{tag}-close",
        link=actions(("hide", [tag])),
        tags=tag,
        hidden=True,
    )


def _details_panel(page: PageBuilder, product: Product) -> None:
    tag = "details"
    _panel(page, tag, "Good to know")
    facts = "".join(f'<li style="margin-bottom:18px">{esc(f)}</li>' for f in product.details)
    page.add(
        text_style(40, art.INK, valign="top"),
        110,
        320,
        740,
        520,
        f'<ul style="margin-left:0px">{facts}</ul>',
        cell_id=f"{page.id}-details-facts",
        tags=tag,
        hidden=True,
    )
    page.add(
        text_style(30, "#5B6573"),
        110,
        800,
        740,
        60,
        f"Product code {product.sku}",
        cell_id=f"{page.id}-details-sku",
        tags=tag,
        hidden=True,
    )
    _close_button(page, tag)


def _where_panel(page: PageBuilder, product: Product) -> None:
    tag = "where"
    _panel(page, tag, f"Aisle {product.aisle}, {product.side}")
    page.add(
        image_style(art.store_map(product.aisle)),
        110,
        320,
        740,
        494,
        cell_id=f"{page.id}-where-map",
        tags=tag,
        hidden=True,
    )
    page.add(
        text_style(30, art.INK, align="center"),
        110,
        820,
        740,
        50,
        "The dot is this screen. Follow the dashes!",
        cell_id=f"{page.id}-where-hint",
        tags=tag,
        hidden=True,
    )
    _close_button(page, tag)


def _added_panel(page: PageBuilder, product: Product) -> None:
    tag = "added"
    page.add(
        box_style(art.TEAL, arc=40, shadow=True),
        60,
        185,
        840,
        850,
        cell_id=f"{page.id}-added-panel",
        tags=tag,
        hidden=True,
    )
    page.add(
        image_style(art.check_badge()),
        330,
        250,
        300,
        300,
        cell_id=f"{page.id}-added-check",
        tags=tag,
        hidden=True,
    )
    page.add(
        text_style(60, art.WHITE, bold=True, align="center"),
        100,
        580,
        760,
        90,
        "Added to your list!",
        cell_id=f"{page.id}-added-title",
        tags=tag,
        hidden=True,
    )
    page.add(
        text_style(38, art.WHITE, align="center", valign="top"),
        110,
        680,
        740,
        150,
        f"{esc(product.name)}. Take your list home: touch My list and scan it with your phone.",
        cell_id=f"{page.id}-added-text",
        tags=tag,
        hidden=True,
    )
    my_list_button(page, 500, 880, tag=tag)
    page.add(
        plain_button_style(art.WHITE, colour=DARK_TEAL, size=38),
        110,
        880,
        350,
        120,
        "Great",
        cell_id=f"{page.id}-added-close",
        link=actions(("hide", [tag])),
        tags=tag,
        hidden=True,
    )


def my_list_button(page: PageBuilder, x: float, y: float, *, tag: str = "") -> None:
    """The "My list" button: the shopper's list with a QR code to take it home (the kiosk
    draws it: ``kiosk-action=show-list``)."""
    page.add(
        plain_button_style(art.WHITE, colour=DARK_TEAL, size=38, stroke=DARK_TEAL),
        x,
        y,
        350,
        120,
        "My list",
        cell_id=f"{page.id}-my-list",
        props={"kiosk-action": "show-list"},
        tags=tag,
        hidden=bool(tag),
    )


def still_there_page() -> PageBuilder:
    """The "Still there?" prompt the kiosk shows in the last seconds of an idle session (a
    page named ``still-there``); the kiosk draws the seconds left in the ``kiosk-countdown``
    shape, and a touch anywhere keeps the session."""
    page = PageBuilder("still-there", "still-there", background=art.TEAL)
    hero_picture(page, art.hero_friends())
    page.add(text_style(96, art.WHITE, bold=True), 110, 180, 900, 160, "Still there?")
    page.add(
        text_style(48, art.WHITE, valign="top"),
        110,
        360,
        880,
        200,
        "Touch anywhere to keep browsing. Otherwise we start again in:",
    )
    page.add(
        style("ellipse", fill_color=art.WHITE, stroke_color="none", html=1), 110, 600, 300, 300
    )
    page.add(
        text_style(140, DARK_TEAL, bold=True, align="center"),
        110,
        600,
        300,
        300,
        "10",
        cell_id="still-there-countdown",
        props={"kiosk-countdown": "seconds"},
    )
    return page


def offers_page() -> PageBuilder:
    """This week's offers: the products on offer, each leading to its page."""
    page = PageBuilder("offers", "Offers")
    header(page, "This week's offers", nav=True)
    on_offer = [p for p in PRODUCTS if p.offer]
    page.add(
        text_style(40, art.INK, align="center"),
        80,
        165,
        1760,
        60,
        "Prices good until Sunday. Touch an offer to see it.",
    )
    for index, product in enumerate(on_offer):
        category = next(c for c in CATEGORIES if c.key == product.category)
        product_tile(page, product, 80 + index * 600, 240, 560, 640, colour=category.colour)
    page.add(box_style(art.INK, arc=40), 80, 920, 1760, 130)
    page.add(image_style(art.logo()), 110, 935, 100, 100)
    page.add(
        text_style(40, art.WHITE, bold=True),
        240,
        920,
        1560,
        130,
        "Pet club members: 10% off all food. Ask at the counter!",
    )
    staff_confirmation(page)
    return page


def pages() -> list[PageBuilder]:
    """Every page, in file order (attract pages first, then welcome)."""
    result = [
        attract_page(
            "friends",
            "Attract: best friends",
            art.TEAL,
            art.hero_friends(),
            "Everything for your best friend",
            "Food, toys and cosy beds for dogs, cats and small pets.",
            art.WHITE,
        ),
        attract_page(
            "treats",
            "Attract: offers",
            art.YELLOW,
            art.hero_treats(),
            "Save up to $30 this week",
            "On cat trees, aquariums and toys for dogs. Touch to see this week's offers.",
            art.INK,
            target="offers",
            invitation="See the offers",
        ),
        attract_page(
            "small-pets",
            "Attract: small pets",
            DEEP_BLUE,
            art.hero_aquatic(),
            "Happy homes for small pets",
            "Cages, wheels and aquariums. Ask us anything: we love pets.",
            art.WHITE,
        ),
        welcome_page(),
    ]
    result += [category_page(c) for c in CATEGORIES]
    result += [product_page(p) for p in PRODUCTS]
    result.append(offers_page())
    result.append(still_there_page())
    return result


def render() -> bytes:
    """The whole drawing as uncompressed draw.io XML bytes."""
    mxfile = ET.Element(
        "mxfile",
        {"host": "resources/demo/make_demo.py", "version": "24.7.17", "compressed": "false"},
    )
    for page in pages():
        mxfile.append(page.xml())
    ET.indent(mxfile, space="  ")
    return ET.tostring(mxfile, encoding="utf-8", xml_declaration=False) + b"\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the demo drawing."""
    parser = argparse.ArgumentParser(prog="make_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare with the file on disk; exit 1 when it differs",
    )
    args = parser.parse_args(argv)
    data = render()
    if args.check:
        try:
            same = args.output.read_bytes() == data
        except OSError:
            same = False
        if not same:
            print(
                f"{args.output}: out of date; run python -m resources.demo.make_demo",
                file=sys.stderr,
            )
            return 1
        print(f"{args.output}: up to date")
        return 0
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
