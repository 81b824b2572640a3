"""The admin panel's pages: what a page is to the controller (:class:`AdminPage`) and the
registry the controller reads its side bar from (:class:`PageRegistry`).

A new page is a widget that implements :class:`AdminPage` and one ``register`` call in
:func:`kiosk.admin.pages.standard_pages`; the controller has no page names in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kiosk.admin.pins import Role

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

#: Both roles: what every member of staff may open.
EVERY_ROLE: tuple[Role, ...] = ("staff", "manager")
#: The manager alone.
MANAGER_ONLY: tuple[Role, ...] = ("manager",)


class AdminPage(Protocol):
    """One page of the staff panel, as the controller drives it.

    Its title and the roles that see it are given where it is registered
    (:meth:`PageRegistry.register`): the side bar needs them before any page is built, and a
    page a role may not see is never built for it.

    Lifecycle, every call on the UI thread: the page is built (its registry entry's
    ``build``) the first time a role that may see it logs in, and kept until the kiosk
    stops. Then :meth:`on_show` each time it comes on screen, :meth:`refresh` once a second
    while it is on screen, :meth:`on_hide` when another page replaces it or the panel closes,
    and :meth:`shutdown` once when the kiosk stops (whether or not it was ever shown).

    No method waits on I/O (slow work goes to the kiosk's ``TaskRunner``) and none raises
    for a failure of what it shows: the page says what failed on itself and logs it. An
    exception that escapes anyway is a bug; it reaches the app's excepthook.
    """

    def widget(self) -> QWidget:
        """The widget the panel shows (a page that is a widget returns itself)."""
        ...

    def on_show(self) -> None:
        """The page came on screen: start what it shows live (a camera preview)."""
        ...

    def on_hide(self) -> None:
        """The page left the screen (another page, or the panel closed): keep what staff
        changed and stop what it showed live."""
        ...

    def refresh(self) -> None:
        """Once a second while on screen: ask for fresh figures and show the latest."""
        ...

    def shutdown(self) -> None:
        """The kiosk stops: finish pending writes and end the page's own work."""
        ...


@dataclass(frozen=True, slots=True)
class PageEntry:
    """A registered page: its name (what the record calls it), the side bar's button text,
    the roles that see it, and how to build it."""

    name: str
    title: str
    roles: tuple[Role, ...]
    build: Callable[[], AdminPage]


class PageRegistry:
    """The panel's pages by name, in side-bar order (the order they were registered)."""

    def __init__(self) -> None:
        self._entries: dict[str, PageEntry] = {}

    def register(
        self, name: str, *, title: str, roles: tuple[Role, ...], build: Callable[[], AdminPage]
    ) -> None:
        """Add page ``name`` at the end of the side bar. Raises ValueError when the name is
        taken or no role may see the page."""
        if name in self._entries:
            raise ValueError(f"admin page {name!r} is registered twice")
        if not roles:
            raise ValueError(f"admin page {name!r}: no role may see it (roles is empty)")
        self._entries[name] = PageEntry(name, title, tuple(roles), build)

    def entry(self, name: str) -> PageEntry:
        """The entry of page ``name``; raises KeyError naming the pages there are."""
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"no admin page {name!r} (registered: {', '.join(self._entries)})"
            ) from None

    def names_for(self, role: Role) -> list[str]:
        """The pages ``role`` may open, in side-bar order."""
        return [name for name, entry in self._entries.items() if role in entry.roles]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[PageEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
