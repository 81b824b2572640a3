"""Large text / high contrast mode: each page in its large-text form while it is on.

A tap on a ``kiosk-action=large-text`` shape turns it on (and off again); the session's end
turns it off. While it is on, a page whose artist drew a large-text page for it (named
``NAME@a11y``) shows that page instead; any other page shows with its text enlarged and in
black or white (``designer_import.readability``). Plain Python: the window asks, the view
shows.
"""

from __future__ import annotations

from designer_import.model import Experience, Page
from designer_import.readability import a11y_page, large_text
from kiosk.models.shopper_mode import ShopperMode

#: The kiosk action that turns large text mode on and off.
LARGE_TEXT = "large-text"
#: Pages in their large-text form kept at most (more: another experience's).
KEPT_PAGES = 256


class LargeTextMode(ShopperMode):
    """Whether large text mode is on, and each page as it shows in it (UI thread)."""

    def __init__(self) -> None:
        super().__init__()
        #: The page each page shows as, by page id: (the page, what shows).
        self._pages: dict[str, tuple[Page, Page]] = {}

    def page(self, page: Page, experience: Experience) -> Page:
        """What shows for ``page``: itself when the mode is off; else its ``@a11y`` page,
        or itself with large, high-contrast text (the same object each time)."""
        if not self.on:
            return page
        kept = self._pages.get(page.id)
        if kept is not None and kept[0] is page:
            return kept[1]
        if len(self._pages) >= KEPT_PAGES:
            self._pages.clear()
        shown = a11y_page(experience, page) or large_text(page)
        self._pages[page.id] = (page, shown)
        return shown
