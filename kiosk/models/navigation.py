"""Where the shopper is in the experience: the page shown, the way back, and the pages the
screen picks by itself (the attract loop, the welcome and goodbye pages, the siblings a swipe
moves between, the pages one touch away to render ahead).

Dayparting narrows the attract loop: while a daypart with ``attract_pages`` applies
(``daypart_pages``, set by the schedule runner) only those pages show, and a page whose Edit
Data carries ``kiosk-schedule=HH:MM-HH:MM`` shows only inside that window of the local day
(``time_of_day``). When nothing is left the experience's own attract pages show.

Plain Python over ``designer_import`` models: the shopper window asks it which page to show
and shows it; tests drive it without a display.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from designer_import.model import Experience, NavigateLink, Page

log = logging.getLogger(__name__)

#: Pages kept in the way back (the oldest are dropped).
HISTORY_KEEP = 50
#: Pages one touch away rendered ahead of time (fewer than the view keeps).
CACHE_AHEAD = 8
#: The Edit Data key of a page's own window in the attract loop.
PAGE_SCHEDULE_KEY = "kiosk-schedule"
#: Kiosk actions the screen itself carries out (when the element has no page link: a link
#: the artist drew wins, as draw.io shows it).
BACK_ACTIONS = frozenset({"back", "go-back"})
HOME_ACTIONS = frozenset({"home", "go-home"})


def page_window_holds(text: str, now: dt.time) -> bool:
    """Whether ``now`` lies in a page's ``kiosk-schedule`` window ``"HH:MM-HH:MM"`` (an end
    at or before the start crosses midnight, ``24:00`` is the end of the day). Raises
    ValueError for any other shape (the validator's ``bad-schedule`` names it)."""
    start_text, end_text = text.strip().split("-")
    start = dt.time.fromisoformat(start_text.strip())
    end_text = end_text.strip()
    end = dt.time(0, 0) if end_text == "24:00" else dt.time.fromisoformat(end_text)
    if end <= start:
        return now >= start or now < end
    return start <= now < end


class Navigation:
    """The page shown, the pages before it in this session and the attract loop's turn."""

    def __init__(self, experience: Experience) -> None:
        self.experience = experience
        #: The page on screen (None before the first one is shown).
        self.page: Page | None = None
        #: Ids of the pages the shopper came through, oldest first (``back`` pops them).
        self.history: list[str] = []
        #: Which attract page shows in the attract loop.
        self.attract_index = 0
        # per experience, worked out once: its goodbye page, each page's neighbours
        self._goodbye: tuple[Page | None] | None = None
        self._neighbours: dict[str, tuple[Page, list[Page]]] = {}
        #: The daypart's attract pages (ids or names); empty: the experience's own.
        self.daypart_pages: tuple[str, ...] = ()
        #: The local time of day, for pages with their own window; None: every page shows.
        self.time_of_day: Callable[[], dt.time] | None = None
        self._unknown_said: set[tuple[str, str]] = set()

    def use(self, experience: Experience, *, keep_page: bool) -> Page | None:
        """Navigate ``experience`` from now on. With ``keep_page``, the page of the same id
        in it (to show again; the way back keeps the pages it still has), else None."""
        current = self.page.id if (keep_page and self.page is not None) else None
        self.experience = experience
        self._goodbye = None
        self._neighbours = {}
        page = experience.page(current) if current else None
        if page is not None:
            self.page = None
            self.history = [p for p in self.history if experience.page(p) is not None]
        return page

    # --- the pages the screen picks ---------------------------------------------------------

    def attract_pages(self) -> list[Page]:
        """The pages of the attract loop (the first page when none is marked attract): the
        daypart's, if it names any this experience has, then only those inside their own
        ``kiosk-schedule`` window; the experience's own when that leaves none."""
        own = self.experience.attract_pages or self.experience.pages[:1]
        pages = self._daypart_pages() or own
        if self.time_of_day is not None:
            now = self.time_of_day()
            pages = [page for page in pages if self._in_own_window(page, now)]
        return pages or own

    def _daypart_pages(self) -> list[Page]:
        pages = []
        for wanted in self.daypart_pages:
            page = self.find(wanted)
            if page is not None:
                pages.append(page)
            elif (self.experience.source_hash, wanted) not in self._unknown_said:
                self._unknown_said.add((self.experience.source_hash, wanted))
                log.warning(
                    "daypart attract page %r: no page of that id or name in %s; ignored",
                    wanted,
                    self.experience.source_path,
                )
        return pages

    def _in_own_window(self, page: Page, now: dt.time) -> bool:
        window = page.properties.get(PAGE_SCHEDULE_KEY, "").strip()
        if not window:
            return True
        try:
            return page_window_holds(window, now)
        except ValueError:
            key = (self.experience.source_hash, page.id)
            if key not in self._unknown_said:
                self._unknown_said.add(key)
                log.warning(
                    "page %r: %s=%r is not HH:MM-HH:MM; shown at any time",
                    page.name,
                    PAGE_SCHEDULE_KEY,
                    window,
                )
            return True

    def welcome_page(self) -> Page | None:
        """The page a session starts on: the welcome page, else the first other page."""
        welcome = self.experience.welcome_page
        if welcome is not None:
            return welcome
        others = [p for p in self.experience.pages if p.role != "attract"]
        return others[0] if others else None

    def goodbye_page(self) -> Page | None:
        """The page shown for ``goodbye_s`` when a session ends: named or tagged
        "goodbye"; None when the experience has none (found once: asked on every tap)."""
        if self._goodbye is None:
            found = next(
                (
                    page
                    for page in self.experience.pages
                    if page.name.strip().lower() == "goodbye" or "goodbye" in page.tags
                ),
                None,
            )
            self._goodbye = (found,)
        return self._goodbye[0]

    def resting(self, page: Page) -> bool:
        """Whether ``page`` is shown while no one is browsing (attract or goodbye)."""
        return page.role == "attract" or page is self.goodbye_page()

    def find(self, page_id_or_name: str) -> Page | None:
        """A page by id, else by name (staff, artists, screenshots)."""
        return self.experience.page(page_id_or_name) or next(
            (p for p in self.experience.pages if p.name == page_id_or_name), None
        )

    # --- moving -----------------------------------------------------------------------------

    def arrive(self, page: Page) -> None:
        """``page`` is on screen now."""
        self.page = page

    def forget_page(self) -> None:
        """Nothing is on screen any more (after an unexpected error)."""
        self.page = None

    def push_current(self) -> None:
        """Remember the page on screen as the way back (before going forward)."""
        if self.page is not None:
            self.history.append(self.page.id)
            del self.history[:-HISTORY_KEEP]

    def pop_back(self) -> Page | None:
        """The previous page of this session that the experience still has (taken off the
        way back), None when there is none."""
        page = self._way_back()
        if page is None:
            self.history.clear()
            return None
        del self.history[len(self.history) - 1 - self.history[::-1].index(page.id) :]
        return page

    def restart_attract(self) -> Page | None:
        """Forget the way back and start the attract loop over; its first page."""
        self.history.clear()
        self.attract_index = 0
        pages = self.attract_pages()
        return pages[0] if pages else None

    def next_attract(self) -> Page | None:
        """The attract loop's next page, None when it has only one."""
        pages = self.attract_pages()
        if len(pages) <= 1:
            return None
        self.attract_index = (self.attract_index + 1) % len(pages)
        return pages[self.attract_index]

    # --- around the page shown --------------------------------------------------------------

    def siblings(self) -> list[Page]:
        """The pages a swipe moves between: the pages the previous page links to, in the
        order they appear on it (e.g. the products of a category); else none."""
        if self.page is None or not self.history:
            return []
        parent = self.experience.page(self.history[-1])
        if parent is None:
            return []
        ordered: list[Page] = []
        for element in parent.elements:
            link = element.link
            if isinstance(link, NavigateLink):
                target = self.experience.page(link.page_id)
                if target is not None and target not in ordered and target.id != parent.id:
                    ordered.append(target)
        return ordered if self.page in ordered else []

    def sibling(self, direction: int) -> Page | None:
        """The next (+1) or previous (-1) sibling of the page shown, None at either end."""
        siblings = self.siblings()
        if not siblings or self.page is None:
            return None
        index = siblings.index(self.page) + direction
        return siblings[index] if 0 <= index < len(siblings) else None

    def neighbours(self, page: Page) -> list[Page]:
        """The pages one touch away from ``page`` (the welcome page first), at most
        CACHE_AHEAD; worked out once per page of an experience (each page switch asks)."""
        cached = self._neighbours.get(page.id)
        if cached is not None and cached[0] is page:
            return cached[1]
        targets = [t for t in (self.welcome_page(),) if t is not None]
        for element in page.elements:
            link = element.link
            if isinstance(link, NavigateLink):
                found = self.experience.page(link.page_id)
                if found is not None and found not in targets:
                    targets.append(found)
        del targets[CACHE_AHEAD:]
        self._neighbours[page.id] = (page, targets)
        return targets

    def within_reach(self) -> list[Page]:
        """Every page one touch on the page shown can lead to, nearest first, at most
        CACHE_AHEAD: the welcome page, the way back when the page has a back button, the
        pages a swipe reaches, then its links (``neighbours``). What the screen keeps
        ready; empty while no page is shown."""
        page = self.page
        if page is None:
            return []
        linked = self.neighbours(page)
        reach: list[Page | None] = [*linked[:1]]
        if self._has_back_button(page):
            reach.append(self._way_back())
        reach += (self.sibling(-1), self.sibling(+1), *linked[1:])
        found: dict[str, Page] = {}  # by id: pages compare field by field, ids at once
        for target in reach:
            if target is not None and target.id != page.id:
                found.setdefault(target.id, target)
        return list(found.values())[:CACHE_AHEAD]

    def _has_back_button(self, page: Page) -> bool:
        return any(
            element.kiosk_action is not None
            and element.kiosk_action.name in BACK_ACTIONS
            and not isinstance(page.link_for(element.id), NavigateLink)
            for element in page.elements
        )

    def _way_back(self) -> Page | None:
        """The page ``pop_back`` would return (the way back itself unchanged)."""
        for page_id in reversed(self.history):
            page = self.experience.page(page_id)
            if page is not None:
                return page
        return None
