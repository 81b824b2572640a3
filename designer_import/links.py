"""draw.io links -> typed kiosk links.

- ``data:page/id,<pageId>`` (Edit Link -> page): navigate.
- ``data:action/json,{"actions": [...]}`` (draw.io custom links): in-page show/hide/toggle of
  cells (``"*"`` = all) or cells carrying all the listed tags, less ``excludeCells``
  (``cells_for_action``); other draw.io action steps are reported and ignored.
- ``javascript:``: rejected. Anything else (web, mail, ...): reported, never followed.
"""

from __future__ import annotations

import json
import logging
import re
from typing import cast

from designer_import.model import (
    ActionLink,
    ActionVerb,
    Element,
    ExternalLink,
    InPageAction,
    Link,
    NavigateLink,
    Page,
    RejectedLink,
)

log = logging.getLogger(__name__)

PAGE_PREFIX = "data:page/id,"
ACTION_PREFIX = "data:action/json,"
_VERBS: tuple[ActionVerb, ...] = ("show", "hide", "toggle")
_STEP_ORDER = {"toggle": 0, "show": 1, "hide": 2}
# Browsers ignore control characters and spaces inside a scheme: so do we, to catch tricks.
_SCHEME_NOISE = re.compile(r"[\x00-\x20]+")


def parse_link(url: str) -> tuple[Link | None, list[str]]:
    """The typed link and notes about what was ignored. An empty URL is no link."""
    text = url.strip()
    if not text:
        return None, []
    if text.startswith(PAGE_PREFIX):
        page_id = text[len(PAGE_PREFIX) :].strip()
        if not page_id:
            return RejectedLink(text, "page link without a page id"), []
        return NavigateLink(page_id), []
    if text.startswith(ACTION_PREFIX):
        return _parse_actions(text)
    scheme = _SCHEME_NOISE.sub("", text[:32]).lower()
    if scheme.startswith(("javascript:", "vbscript:")):
        return RejectedLink(text, "script links are never run on a kiosk"), []
    if scheme.startswith("data:"):
        return RejectedLink(text, "unsupported data link"), []
    return ExternalLink(text), []


def _parse_actions(text: str) -> tuple[Link | None, list[str]]:
    body = text[len(ACTION_PREFIX) :]
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return RejectedLink(text, f"malformed action JSON ({exc})"), []
    if not isinstance(document, dict) or not isinstance(document.get("actions"), list):
        return RejectedLink(text, 'action JSON without an "actions" list'), []
    actions: list[InPageAction] = []
    notes: list[str] = []
    for step in document["actions"]:
        if not isinstance(step, dict):
            notes.append("an action step that is not an object was ignored")
            continue
        # draw.io runs a step's toggle, then show, then hide, whatever the JSON's key order
        for key, value in sorted(step.items(), key=lambda item: _STEP_ORDER.get(item[0], 3)):
            if key in _VERBS:
                action, problem = _parse_target(cast(ActionVerb, key), value)
                if action is None:
                    notes.append(f'action "{key}" {problem}; ignored')
                else:
                    actions.append(action)
            elif key == "open" and isinstance(value, str) and value.startswith(PAGE_PREFIX):
                notes.append(
                    'action "open" of a page inside a custom link is ignored; '
                    "link the shape to the page instead"
                )
            else:
                notes.append(f'action "{key}" is not supported on the kiosk; ignored')
    if not actions:
        return RejectedLink(text, "no show/hide/toggle action the kiosk can run"), notes
    return ActionLink(actions), notes


def _parse_target(verb: ActionVerb, value: object) -> tuple[InPageAction | None, str]:
    """The step's action, or None and what is wrong with it (draw.io writes
    ``{"cells": [ids], "tags": [names]}``; anything else is the artist's hand edit)."""
    if not isinstance(value, dict):
        return None, 'is not an object with "cells" or "tags"'
    lists: dict[str, list[str]] = {}
    for key in ("cells", "tags"):
        items = value.get(key, [])
        if not isinstance(items, list):
            return None, f'has "{key}" that is not a list of names ({type(items).__name__})'
        lists[key] = [str(item) for item in items if isinstance(item, str | int)]
    if not lists["cells"] and not lists["tags"]:
        return None, 'has no "cells" or "tags"'
    exclude = value.get("excludeCells", [])
    if not isinstance(exclude, list):
        return None, f'has "excludeCells" that is not a list of ids ({type(exclude).__name__})'
    excluded = [str(item) for item in exclude if isinstance(item, str | int)]
    return InPageAction(verb, lists["cells"], lists["tags"], excluded), ""


def cells_for_action(page: Page, step: InPageAction) -> list[Element]:
    """The elements a show/hide/toggle step changes, as draw.io's viewer picks them
    (``Graph.getCellsForAction``): the named cells (``"*"``: every cell under the first
    layer), then every cell carrying all the listed tags (case ignored), less
    ``excludeCells``. A cell may appear twice, as in draw.io (a toggle then flips it twice)."""
    found: list[Element] = []
    first_layer = page.layer_ids[0] if page.layer_ids else None
    for cell_id in step.cells:
        if cell_id == "*":
            found.extend(e for e in page.elements if e.layer_id == first_layer)
        else:
            element = page.element(cell_id)
            if element is not None:
                found.append(element)
    if step.tags:
        found.extend(e for e in page.elements if has_all_tags(e.tags, step.tags))
    exclude = set(step.exclude)
    return [e for e in found if e.id not in exclude]


def has_all_tags(carried: list[str], wanted: list[str]) -> bool:
    """draw.io's tag match (``Graph.getCellsForTags``): the cell carries every wanted tag,
    case ignored; a cell without tags matches only an empty list."""
    if not carried:
        return not wanted
    lookup = {t.lower() for t in wanted if t}
    needed = sum(1 for t in wanted if t)
    have = [t.lower() for t in carried]
    if len(have) < len(wanted):
        return False
    return sum(1 for t in have if t in lookup) >= needed
