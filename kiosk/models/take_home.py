"""The shopper's list to take home: what "Add to my list" kept in this session, and the link
its QR code carries.

``kiosk-action=add-to-list`` (with the product's ``sku`` in Edit Data) puts a product on the
list of the session it happens in; ``kiosk-action=show-list`` shows it (the screen draws
the list and the QR code). A new session starts with an empty list. The link comes from
``[take_home] url_template``: ``{skus}`` is the SKUs, comma-separated and URL-quoted.

Plain Python over ``designer_import`` models: the shopper window asks it, tests drive it
without a display.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from designer_import.model import Experience
from settings import KioskConfig

log = logging.getLogger(__name__)

#: The kiosk actions of the list.
ADD_TO_LIST = "add-to-list"
SHOW_LIST = "show-list"


@dataclass(frozen=True, slots=True)
class ListItem:
    """One product on the list: its SKU and the name the shopper saw (its page's name, the
    SKU itself when no page of the experience carries it)."""

    sku: str
    name: str


def list_url(config: KioskConfig, skus: list[str]) -> str:
    """The link for ``skus`` from ``[take_home] url_template`` (placeholders checked when
    the config was loaded): each SKU URL-quoted (a comma in one too), joined by commas."""
    return config.take_home.url_template.format(
        skus=",".join(quote(sku, safe="") for sku in skus),
        store_id=quote(config.kiosk.store_id, safe=""),
        kiosk_id=quote(config.kiosk.kiosk_id, safe=""),
    )


def product_names(experience: Experience) -> dict[str, str]:
    """Each SKU's name as the experience shows it: the name of the first page whose Edit
    Data carries that ``sku``."""
    names: dict[str, str] = {}
    for page in experience.pages:
        sku = page.properties.get("sku", "").strip()
        if sku and sku not in names:
            names[sku] = page.name
    return names


class TakeHomeList:
    """The products the shopper of one session put on their list, in the order added."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        #: The session the list belongs to (another session sees an empty list).
        self.session_id: str | None = None
        self._skus: list[str] = []

    def add(self, session_id: str, sku: str) -> bool:
        """Put ``sku`` on ``session_id``'s list; False when it was there already or the list
        is full (logged: the shopper's tap did nothing)."""
        self._own(session_id)
        sku = sku.strip()
        if not sku or sku in self._skus:
            return False
        if len(self._skus) >= self.max_items:
            log.warning(
                "the list to take home is full (%d items, [take_home] max_items): %s not added",
                self.max_items,
                sku,
            )
            return False
        self._skus.append(sku)
        return True

    def skus(self, session_id: str | None) -> list[str]:
        """The SKUs on ``session_id``'s list, oldest first (empty for any other session)."""
        if session_id is None or session_id != self.session_id:
            return []
        return list(self._skus)

    def items(self, session_id: str | None, experience: Experience) -> list[ListItem]:
        """The list of ``session_id`` with the names ``experience`` gives the products."""
        names = product_names(experience)
        return [ListItem(sku, names.get(sku, sku)) for sku in self.skus(session_id)]

    def _own(self, session_id: str) -> None:
        if session_id != self.session_id:
            self.session_id = session_id
            self._skus = []
