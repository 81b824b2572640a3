"""What shows on a page after its show/hide/toggle steps ran (draw.io's in-page actions).

Per page, each cell's own visibility flag as the steps left it; whether a cell shows also
depends on its ancestors (a hidden group hides its children) and, for a connector, on both
ends. Plain Python: the shopper window asks :meth:`Visibility.shown` and fades the shapes.
"""

from __future__ import annotations

from designer_import.links import cells_for_action
from designer_import.model import ActionLink, Element, Page


class Visibility:
    """The show/hide/toggle state of the pages whose steps ran since the last reset."""

    def __init__(self) -> None:
        self._flags: dict[str, dict[str, bool]] = {}

    def run(self, page: Page, link: ActionLink) -> None:
        """Run ``link``'s steps on ``page``, in order."""
        flags = self._flags.setdefault(page.id, {})
        for step in link.actions:
            for element in cells_for_action(page, step):
                if step.action == "show":
                    flags[element.id] = True
                elif step.action == "hide":
                    flags[element.id] = False
                else:
                    flags[element.id] = not flags.get(element.id, element.self_visible)

    def changed(self, page: Page) -> bool:
        """Whether steps ran on ``page`` since the last reset."""
        return page.id in self._flags

    def shown(self, page: Page, element: Element) -> bool:
        """Whether ``element`` shows now, given the steps run on ``page``."""
        flags = self._flags.get(page.id, {})

        def own(e: Element) -> bool:
            return flags.get(e.id, e.self_visible)

        # hidden for good by things actions do not change (a hidden layer, a folded box)
        by_flags = element.self_visible and all(
            (a := page.element(i)) is None or a.self_visible for i in element.ancestors
        )
        if not element.visible and by_flags and element.edge is None:
            return False
        if not own(element):
            return False
        for ancestor_id in element.ancestors:
            ancestor = page.element(ancestor_id)
            if ancestor is not None and not own(ancestor):
                return False
        edge = element.edge
        if edge is not None:
            for end_id in (edge.source_id, edge.target_id):
                end = page.element(end_id) if end_id else None
                if end is not None and not self.shown(page, end):
                    return False
        return True

    def states(self, page: Page) -> dict[str, bool]:
        """Every element of ``page``: whether it shows now."""
        return {element.id: self.shown(page, element) for element in page.elements}

    def reset(self) -> list[str]:
        """Forget every step run (a new session, a new experience); the ids of the pages
        that had some, whose shapes go back to how the drawing shows them."""
        changed = list(self._flags)
        self._flags.clear()
        return changed
