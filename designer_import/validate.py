"""What an artist should fix before a drawing goes on a kiosk.

Each ``Finding`` names the page, the cell id, a snippet of the label, the problem and the fix.
Errors stop a kiosk showing the experience as designed (a link to nowhere, a missing image);
warnings are things that will look or behave differently than in draw.io.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from designer_import.connector_limits import connector_limits
from designer_import.fonts import fallback, first_family
from designer_import.languages import (
    LABEL_PREFIX,
    LANGUAGE_PARAM,
    SET_LANGUAGE,
    picked_language,
    untranslated,
)
from designer_import.model import (
    ActionLink,
    Element,
    Experience,
    ExternalLink,
    NavigateLink,
    Page,
    RejectedLink,
    ShapeKind,
)
from designer_import.readability import is_a11y_page, readability_problems
from designer_import.stencils import is_drawn, left_out_options, library_name

log = logging.getLogger(__name__)

Severity = Literal["error", "warning"]
#: Touch targets smaller than this (in screen pixels at the target resolution) are flagged.
MIN_TOUCH_PX = 48.0
#: Embedded images above this many bytes, or this many pixels on a side, are flagged.
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_IMAGE_SIDE_FACTOR = 2.0
_SNIPPET = 40
_HTML_LINK = re.compile(r"<a\s[^>]*href", re.IGNORECASE)
_HTML_WEB_IMAGE = re.compile(r"<img\s[^>]*src\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)
#: A page's ``kiosk-schedule`` window: ``HH:MM-HH:MM`` (``24:00`` only as the end).
_PAGE_WINDOW = re.compile(r"([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)")
#: The page the kiosk shows as its "Still there?" prompt: named, or tagged, so.
STILL_THERE = "still-there"
#: Edit Data key of the shape on the prompt page in which the kiosk draws the seconds left.
COUNTDOWN_KEY = "kiosk-countdown"
_EMBED_FIX = "embed the image (draw.io: Edit Image -> embedded) or put the file next to the drawing"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a drawing."""

    severity: Severity
    #: A stable code per kind of problem, e.g. "dangling-page-link".
    code: str
    page: str | None
    cell_id: str | None
    #: The start of the shape's label, to find it in draw.io.
    label: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return asdict(self)

    def format(self) -> str:
        """One human line: ``error: page "Home", shape "Buy" (id 7): ... Fix: ...``."""
        where = []
        if self.page is not None:
            where.append(f'page "{self.page}"')
        if self.cell_id is not None:
            shape = f'shape "{self.label}" ' if self.label else "shape "
            where.append(f"{shape}(id {self.cell_id})")
        prefix = ", ".join(where)
        head = f"{self.severity}: {prefix}: " if prefix else f"{self.severity}: "
        return f"{head}{self.message}. Fix: {self.fix}"


def still_there_pages(experience: Experience) -> list[Page]:
    """The pages named or tagged ``still-there``, in file order (the kiosk shows the first
    as its "Still there?" prompt)."""
    return [
        page
        for page in experience.pages
        if page.name.strip().lower() == STILL_THERE
        or STILL_THERE in (tag.lower() for tag in page.tags)
    ]


def snippet(element: Element) -> str:
    """The first words of an element's label, on one line."""
    if element.label is None:
        return ""
    text = " ".join(element.label.plain.split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


def validate(experience: Experience, target: tuple[int, int] = (1920, 1080)) -> list[Finding]:
    """Every finding for ``experience`` shown on a ``target`` (width, height) screen,
    errors first, then in page order."""
    findings: list[Finding] = []
    pages_by_id = {page.id: page for page in experience.pages}
    if not experience.pages:
        findings.append(
            Finding(
                "error",
                "no-pages",
                None,
                None,
                "",
                "the drawing has no pages",
                "add a page in draw.io",
            )
        )
        return findings
    if not experience.attract_pages:
        findings.append(
            Finding(
                "warning",
                "no-attract-page",
                None,
                None,
                "",
                "no attract page: the kiosk will idle on the welcome page",
                'name a page "attract" (or tag it attract in Edit Data) for the idle loop',
            )
        )
    if experience.welcome_page is None:
        findings.append(
            Finding(
                "error",
                "no-welcome-page",
                None,
                None,
                "",
                "every page is an attract page: shoppers have no page to start on",
                "add a page that is not named or tagged attract",
            )
        )
    for page in experience.pages:
        try:
            findings.extend(_page_findings(page, pages_by_id, target))
        except Exception as exc:  # odd input the checks did not foresee: said, not raised
            findings.append(_unchecked(page.name, exc))
    try:
        findings.extend(_unreachable(experience))
    except Exception as exc:
        findings.append(_unchecked(None, exc))
    for more in (_missing_fonts, _still_there_findings, _show_list_findings, _language_findings):
        findings.extend(more(experience))
    for page in experience.pages:
        findings.extend(_drawing_effects(page))
    order = {"error": 0, "warning": 1}
    page_order = {page.name: page.index for page in experience.pages}
    findings.sort(key=lambda f: (order[f.severity], page_order.get(f.page or "", -1)))
    return findings


#: draw.io style effects the kiosk draws plainly: style key, values that are "off", what it is.
_EFFECTS = (
    ("sketch", ("", "0"), "sketch (hand-drawn) lines and fills"),
    ("comic", ("", "0"), "comic (wobbly) lines"),
    ("glass", ("", "0"), "glass highlight"),
    ("fillStyle", ("", "solid", "auto"), "patterned fill (fillStyle)"),
)
_EFFECT_KEYS = frozenset(key for key, _off, _what in _EFFECTS)


def _drawing_effects(page: Page) -> list[Finding]:
    """One finding per page and effect the kiosk does not draw, naming the first shape and
    how many use it."""
    users: dict[str, list[Element]] = {}
    for element in page.elements:
        values = element.style.values
        if _EFFECT_KEYS.isdisjoint(values):
            continue  # the common case, checked in one pass
        for key, off, _what in _EFFECTS:
            raw = values.get(key)
            if raw is not None and raw.strip() not in off:
                users.setdefault(key, []).append(element)
    out = []
    for key, _off, what in _EFFECTS:
        if key in users:
            first = users[key][0]
            out.append(
                Finding(
                    "warning",
                    "drawing-effect",
                    page.name,
                    first.id,
                    snippet(first),
                    f"{len(users[key])} shape(s) use {what} ({key}={first.style.values[key]}): "
                    "the kiosk draws them with straight lines and plain fills",
                    f"Edit Style: remove {key} (draw.io: Format panel, untick Sketch/Glass, "
                    "fill pattern solid) to see what the kiosk shows",
                )
            )
    return out


def _missing_fonts(experience: Experience) -> list[Finding]:
    """One finding per web font the kiosk does not have, at its first use."""
    out = []
    for font in experience.fonts:
        if font.data is not None:
            continue
        use = next(
            (
                (page, element)
                for page in experience.pages
                for element in page.elements
                if element.style.font_source
                and first_family(element.style.font_family).lower() == font.family.lower()
            ),
            None,
        )
        page, element = use if use is not None else (None, None)
        out.append(
            Finding(
                "warning",
                "external-font",
                page.name if page is not None else None,
                element.id if element is not None else None,
                snippet(element) if element is not None else "",
                f'web font "{font.family}" is not available offline (the drawing\'s folder '
                f"holds no font file for it): the kiosk draws it with {fallback(font.family)}",
                f"put the font file next to the drawing or in fonts/ beside it (e.g. "
                f'"{font.family.replace(" ", "")}-Regular.ttf"), or pick a standard font',
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _PageCheck:
    """What the rules of one page share: the page, its lookups and the findings so far."""

    page: Page
    pages_by_id: Mapping[str, Page]
    target: tuple[int, int]
    #: Screen pixels per drawing unit when the page fills the target screen.
    scale: float
    #: The page's elements by id (the first of an id, as ``Page.element`` finds it).
    by_id: Mapping[str, Element]
    #: Every tag a shape of the page carries, lower case (draw.io ignores case).
    tags: frozenset[str]
    out: list[Finding]
    #: Whether the kiosk draws a ``shape`` style value (``is_drawn``), asked once per page.
    drawn: dict[str, bool]

    @classmethod
    def of(cls, page: Page, pages_by_id: Mapping[str, Page], target: tuple[int, int]) -> _PageCheck:
        """The shared state for checking ``page`` on a ``target`` screen."""
        viewport = page.viewport
        if viewport.width > 0 and viewport.height > 0:
            scale = min(target[0] / viewport.width, target[1] / viewport.height)
        else:
            scale = 1.0
        # reversed: the first element of an id is the one kept, as Page.element finds it
        by_id = {e.id: e for e in reversed(page.elements)}
        tags = frozenset(tag.lower() for e in page.elements for tag in e.tags)
        return cls(page, pages_by_id, target, scale, by_id, tags, [], {})

    def is_drawn(self, shape: str) -> bool:
        """``stencils.is_drawn``, remembered for the page (the rules ask twice per shape)."""
        drawn = self.drawn.get(shape)
        if drawn is None:
            drawn = self.drawn[shape] = is_drawn(shape)
        return drawn

    def add(
        self, severity: Severity, code: str, element: Element | None, message: str, fix: str
    ) -> None:
        """Record one finding on this page, about ``element`` or the page itself."""
        self.out.append(
            Finding(
                severity,
                code,
                self.page.name,
                element.id if element else None,
                snippet(element) if element else "",
                message,
                fix,
            )
        )


def _page_findings(
    page: Page, pages_by_id: Mapping[str, Page], target: tuple[int, int]
) -> list[Finding]:
    """The findings of one page: the page's own, then each element's rules in order, then
    the shapes the kiosk does not draw."""
    check = _PageCheck.of(page, pages_by_id, target)
    _page_schedule(check)
    _background_picture(check)
    for element in page.elements:
        _element_findings(element, check)
    _undrawn_shapes(check)
    for problem in readability_problems(page, target):  # small-text, low-contrast
        check.add("warning", problem.code, problem.element, problem.message, problem.fix)
    return check.out


def _page_schedule(check: _PageCheck) -> None:
    """bad-schedule: the page's own attract window (``kiosk-schedule`` in Edit Data)."""
    value = check.page.properties.get("kiosk-schedule")
    if value is not None and not _PAGE_WINDOW.fullmatch(value.strip()):
        check.add(
            "error",
            "bad-schedule",
            None,
            f"kiosk-schedule={value!r} is not a window like 07:00-11:00: the page would show "
            "in the attract loop at any time",
            "Edit Data of the page: write kiosk-schedule as HH:MM-HH:MM in 24-hour time "
            "(22:00-02:00 crosses midnight, 24:00 ends the day)",
        )


def _background_picture(check: _PageCheck) -> None:
    """missing-image, background-page: the page's background picture."""
    background = check.page.background_image
    if background is None:
        return
    if not background.available:
        check.add(
            "error",
            "missing-image",
            None,
            f"page background picture unavailable, {background.unavailable}",
            _EMBED_FIX,
        )
    elif background.source.startswith("data:page/"):
        check.add(
            "warning",
            "background-page",
            None,
            "the page's background is another page of the drawing: the kiosk does not draw "
            "it (the page shows its own shapes on its background colour)",
            "copy the background page's shapes onto this page (in a locked layer at the "
            "back), or use a picture as the page background",
        )


def _link_target(element: Element, check: _PageCheck) -> None:
    """dangling-page-link (a page id the drawing does not have), external-link (a web
    link, which a kiosk does not follow), rejected-link (a link the importer could not
    take): one per element, as an element has one link."""
    link = element.link
    if isinstance(link, NavigateLink):
        if link.page_id not in check.pages_by_id:
            check.add(
                "error",
                "dangling-page-link",
                element,
                f"links to a page that does not exist (page id {link.page_id})",
                "Edit Link and pick an existing page",
            )
    elif isinstance(link, ExternalLink):
        check.add(
            "warning",
            "external-link",
            element,
            f"links to {link.url[:80]}: a kiosk does not browse, the link is ignored",
            "link to a page of the drawing instead, or remove the link",
        )
    elif isinstance(link, RejectedLink):
        check.add(
            "error",
            "rejected-link",
            element,
            f"link rejected: {link.reason}",
            "Edit Link: use a page link or a show/hide/toggle custom link",
        )


def _action_targets(element: Element, check: _PageCheck) -> None:
    """action-missing-cells, action-unknown-tags: a custom link's steps naming shapes or
    tags the page does not have (one check per step, both codes in step order)."""
    link = element.link
    if not isinstance(link, ActionLink):
        return
    for action in link.actions:
        missing = [c for c in action.cells if c not in check.by_id]
        unknown_tags = [t for t in action.tags if t.lower() not in check.tags]
        if missing:
            check.add(
                "warning",
                "action-missing-cells",
                element,
                f'"{action.action}" names shapes not on this page: {", ".join(missing[:5])}',
                "Edit Link and pick shapes of this page",
            )
        if unknown_tags:
            check.add(
                "warning",
                "action-unknown-tags",
                element,
                f'"{action.action}" uses tags no shape here carries: {", ".join(unknown_tags[:5])}',
                "tag the shapes (Edit Data -> Tags) or fix the tag name",
            )


def _connector_limits(element: Element, check: _PageCheck) -> None:
    """connector-*: what the kiosk draws differently on a connector (``connector_limits``)."""
    if element.edge is None:
        return
    for code, message, fix in connector_limits(element, check.page, check.by_id):
        check.add("warning", code, element, message, fix)


def _ignored_link_steps(element: Element, check: _PageCheck) -> None:
    """ignored-link-step: custom link steps the importer left out (its load notes)."""
    for note in element.load_notes:
        check.add(
            "warning",
            "ignored-link-step",
            element,
            note,
            "use only show, hide and toggle steps in custom links",
        )


def _action_without_sku(element: Element, check: _PageCheck) -> None:
    """action-without-sku: a show-product kiosk action that names no product."""
    kiosk_action = element.kiosk_action
    if (
        kiosk_action is not None
        and kiosk_action.name == "show-product"
        and not kiosk_action.params.get("sku")
    ):
        check.add(
            "error",
            "action-without-sku",
            element,
            'kiosk-action "show-product" without a "sku" property',
            "Edit Data: add a sku property with the product's code",
        )


def _unavailable_picture(element: Element, check: _PageCheck) -> None:
    """missing-image (error), web-image (warning, a web picture): a shape's picture that
    the kiosk cannot show."""
    image = element.image
    if image is None or image.available:
        return
    reason = image.unavailable or "unavailable"
    web_only = "not available offline" in reason
    check.add(
        "warning" if web_only else "error",
        "web-image" if web_only else "missing-image",
        element,
        f"picture unavailable, {reason}: {image.source[:80]}; drawn as a plain shape",
        _EMBED_FIX,
    )


def _oversized_picture(element: Element, check: _PageCheck) -> None:
    """oversized-image: an embedded picture too heavy or too large for the target screen."""
    image = element.image
    if image is None or not image.available or image.data is None:
        return
    side = max(image.pixel_width or 0, image.pixel_height or 0)
    limit = MAX_IMAGE_SIDE_FACTOR * max(check.target)
    if len(image.data) > MAX_IMAGE_BYTES or side > limit:
        check.add(
            "warning",
            "oversized-image",
            element,
            f"image is {len(image.data) // 1024} KB, {image.pixel_width}x{image.pixel_height} px: "
            "slow to load on a kiosk",
            f"scale it to at most {int(limit)} px and compress it",
        )


def _library_shape_option(element: Element, check: _PageCheck) -> None:
    """library-shape-option: a library shape the kiosk draws without some of its options."""
    if element.kind is not ShapeKind.STENCIL or not element.visible:
        return
    shape = element.style.get("shape") or ""
    if check.is_drawn(shape) and (left_out := left_out_options(shape, element.style.values)):
        check.add(
            "warning",
            "library-shape-option",
            element,
            f'library shape "{shape}" is drawn without {", ".join(left_out)}',
            "use the plain outline (rectOutline=single, no folded corners), or an "
            "embedded image of the shape",
        )


#: What an HTML label may hold that a kiosk does not show as draw.io does: the pattern that
#: finds it, then the warning's code, message and fix, in the order they are listed.
_LABEL_MARKUP = (
    (
        _HTML_LINK,
        "label-link",
        "a link inside the text is not followed on a kiosk",
        "remove the link from the text and use Edit Link on the shape",
    ),
    (
        _HTML_WEB_IMAGE,
        "web-image",
        "a web picture inside the text is not available offline",
        _EMBED_FIX,
    ),
)


def _label_markup(element: Element, check: _PageCheck) -> None:
    """label-link, web-image: a link or a web picture inside an HTML label."""
    label = element.label
    if label is None or not label.is_html:
        return
    for pattern, code, message, fix in _LABEL_MARKUP:
        if pattern.search(label.text):
            check.add("warning", code, element, message, fix)


def _label_missing_picture(element: Element, check: _PageCheck) -> None:
    """missing-image: a picture inside an HTML label that is not there (web pictures are
    ``_label_markup``'s)."""
    label = element.label
    if label is None or not label.is_html:
        return
    for picture in label.images:
        web = picture.source.lower().startswith(("http:", "https:", "//"))
        if not picture.available and not web:
            check.add(
                "error",
                "missing-image",
                element,
                f"picture {picture.source[:80]!r} in the text unavailable, {picture.unavailable}",
                _EMBED_FIX,
            )


def _math_label(element: Element, check: _PageCheck) -> None:
    """math-label: a formula in a label on a page with math typesetting on."""
    if check.page.math and element.label is not None and _has_math(element.label.text):
        check.add(
            "warning",
            "math-label",
            element,
            "math typesetting is not supported: the formula shows as plain text",
            "turn the formula into an image, or write it as plain text",
        )


def _small_touch_target(element: Element, check: _PageCheck) -> None:
    """small-touch-target: a linked shape smaller than a fingertip on the target screen."""
    if not _is_touch_target(element):
        return
    short = min(element.geometry.width, element.geometry.height) * check.scale
    if short < MIN_TOUCH_PX:
        width, height = check.target
        check.add(
            "warning",
            "small-touch-target",
            element,
            f"touch target is {short:.0f} px at {width}x{height} (minimum {MIN_TOUCH_PX:.0f} px)",
            "make the shape bigger, or link a bigger transparent shape around it",
        )


def _element_findings(element: Element, check: _PageCheck) -> None:
    """Run the element rules in the order their findings are listed, each behind a test of
    the part of the element it reads (one call per rule and element made the validator a
    sixth slower)."""
    if element.link is not None:
        _link_target(element, check)
        _action_targets(element, check)
    if element.edge is not None:
        _connector_limits(element, check)
    if element.load_notes:
        _ignored_link_steps(element, check)
    if element.kiosk_action is not None:
        _action_without_sku(element, check)
    if element.image is not None:
        _unavailable_picture(element, check)
        _oversized_picture(element, check)
    if element.kind is ShapeKind.STENCIL:
        _library_shape_option(element, check)
    if element.label is not None:
        _label_markup(element, check)
        _label_missing_picture(element, check)
        _math_label(element, check)
    if element.link is not None or element.kiosk_action is not None:
        _small_touch_target(element, check)


def _undrawn_shapes(check: _PageCheck) -> None:
    """library-stencil, unsupported-shape: one finding per shape the kiosk does not draw,
    at its first use, counting the others."""
    undrawn: dict[str, list[Element]] = {}
    for element in check.page.elements:
        if element.kind is not ShapeKind.STENCIL or not element.visible:
            continue
        if not check.is_drawn(element.style.get("shape") or ""):
            undrawn.setdefault(element.stencil or element.shape, []).append(element)
    for name, elements in undrawn.items():
        first = elements[0]
        more = f" (and {len(elements) - 1} more)" if len(elements) > 1 else ""
        if name.startswith("mxgraph."):
            check.add(
                "warning",
                "library-stencil",
                first,
                f'library shape "{name}" (library "{library_name(name)}") is not one the '
                f"kiosk draws: a plain outline stands in for it{more}",
                "use a shape from a library the kiosk draws (authoring guide, Library "
                "shapes), a basic shape or an embedded image",
            )
        else:
            check.add(
                "warning",
                "unsupported-shape",
                first,
                f'shape "{name}" is drawn as a plain labelled rectangle{more}',
                "use a basic shape or an embedded image instead",
            )


def _unchecked(page: str | None, exc: Exception) -> Finding:
    """The finding for a check that failed on input it did not foresee (the validator's own
    bug): the artist is told what was not checked; the traceback goes to the log."""
    log.warning("validating page %r failed", page, exc_info=exc)
    return Finding(
        "error",
        "not-checked",
        page,
        None,
        "",
        f"the validator could not check this {'page' if page else 'drawing'} "
        f"({type(exc).__name__}: {exc})",
        "send the drawing to the kiosk's developers; meanwhile look at the page previews",
    )


def _has_math(text: str) -> bool:
    return "$$" in text or "`" in text or "\\(" in text


def _is_touch_target(element: Element) -> bool:
    if not element.visible or element.is_edge:
        return False
    return element.link is not None or element.kiosk_action is not None


def _unreachable(experience: Experience) -> list[Finding]:
    # the kiosk shows the prompt, and a page's large-text page, by itself
    prompts = still_there_pages(experience)
    prompts += [p for p in experience.pages if is_a11y_page(experience, p)]
    starts = [p for p in experience.pages if p.role in ("attract", "welcome")]
    reached = {p.id for p in starts}
    queue = deque(starts)
    by_id = {p.id: p for p in experience.pages}
    while queue:
        page = queue.popleft()
        for element in page.elements:
            if isinstance(element.link, NavigateLink):
                target = by_id.get(element.link.page_id)
                if target is not None and target.id not in reached:
                    reached.add(target.id)
                    queue.append(target)
    return [
        Finding(
            "warning",
            "unreachable-page",
            page.name,
            None,
            "",
            "no link leads to this page from the welcome page",
            "link a shape on another page to it (Edit Link -> page), or delete the page",
        )
        for page in experience.pages
        if page.id not in reached and page not in prompts
    ]


def _still_there_findings(experience: Experience) -> list[Finding]:
    """The ``still-there`` page: one only, not a page shoppers start on, no links or
    actions (a tap anywhere on the prompt keeps the session)."""
    pages = still_there_pages(experience)
    findings = [
        Finding(
            "warning",
            "still-there-twice",
            page.name,
            None,
            "",
            f'another "{STILL_THERE}" page comes first: the kiosk shows that one as its prompt',
            f'keep one page named or tagged "{STILL_THERE}"',
        )
        for page in pages[1:]
    ]
    for page in pages[:1]:
        if page.role != "page":
            findings.append(
                Finding(
                    "error",
                    "still-there-start-page",
                    page.name,
                    None,
                    "",
                    f'the "{STILL_THERE}" prompt page is the {page.role} page: shoppers would '
                    "see it outside the prompt",
                    "move it after the welcome page and take the attract name or tag off it",
                )
            )
        findings.extend(
            Finding(
                "warning",
                "still-there-link",
                page.name,
                element.id,
                snippet(element),
                "a tap anywhere on the prompt keeps the session going: this shape's link or "
                "action is not followed",
                "remove the link or kiosk-action from the shape",
            )
            for element in page.elements
            if element.link is not None or element.kiosk_action is not None
        )
    return findings


def _show_list_findings(experience: Experience) -> list[Finding]:
    """``show-list`` without any ``add-to-list``, and ``add-to-list`` without a SKU."""
    shows: list[tuple[Page, Element]] = []
    adds = 0
    findings = []
    for page in experience.pages:
        for element in page.elements:
            action = element.kiosk_action
            if action is None:
                continue
            if action.name == "show-list":
                shows.append((page, element))
            elif action.name == "add-to-list":
                adds += 1
                if not action.params.get("sku", "").strip():
                    findings.append(
                        Finding(
                            "error",
                            "add-to-list-without-sku",
                            page.name,
                            element.id,
                            snippet(element),
                            'kiosk-action "add-to-list" without a "sku" property: nothing is added',
                            "Edit Data: add a sku property with the product's code",
                        )
                    )
    if adds == 0:
        findings.extend(
            Finding(
                "warning",
                "show-list-without-add",
                page.name,
                element.id,
                snippet(element),
                'no shape in the drawing has kiosk-action "add-to-list": the list it shows '
                "is always empty",
                'give the products an "Add to my list" shape with kiosk-action=add-to-list '
                "and their sku",
            )
            for page, element in shows
        )
    return findings


def _language_findings(experience: Experience) -> list[Finding]:
    """set-language-without-lang (a picker that picks no language) and, per language,
    missing-translation (a shape whose label has no ``label_XX``: shown as drawn)."""
    findings = [
        Finding(
            "error",
            "set-language-without-lang",
            page.name,
            element.id,
            snippet(element),
            f"kiosk-action={SET_LANGUAGE} needs {LANGUAGE_PARAM}= a language code (e.g. fr, "
            f"pt-br), it has {element.kiosk_action.params.get(LANGUAGE_PARAM)!r}",
            f"add {LANGUAGE_PARAM}=fr (the language's code) to the shape's Edit Data",
        )
        for page in experience.pages
        for element in page.elements
        if element.kiosk_action is not None
        and element.kiosk_action.name == SET_LANGUAGE
        and picked_language(element) is None
    ]
    findings.extend(
        Finding(
            "warning",
            "missing-translation",
            gap.page.name,
            gap.element.id,
            snippet(gap.element),
            f'no "{gap.language}" label: shoppers who picked {gap.language} read it as drawn',
            f"add {LABEL_PREFIX}{gap.language} to the shape's Edit Data (draw.io: "
            "?translate-diagram=1 shows it)",
        )
        for gap in untranslated(experience)
    )
    return findings


def summary(findings: list[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(1 for f in findings if f.severity == "error")
    return errors, len(findings) - errors
