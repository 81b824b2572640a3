"""What the staff-facing parts (the admin panel, the control socket) may ask of the shopper
screen, and nothing more: a ``Protocol`` the shopper window implements.

Every method is called on the UI thread and returns at once; whatever reads files happens
before (the Content page loads a drawing off the UI thread, then calls
:meth:`ShopperScreen.activate_experience`) or after (a restart reloads in the background).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from kiosk.models.session import SessionState

if TYPE_CHECKING:
    from designer_import import Finding
    from designer_import.model import Experience


@dataclass(frozen=True, slots=True)
class TouchTarget:
    """A place a shopper can touch on the page shown now, in window pixels."""

    page: str
    element: str
    #: "link" goes to another page (``target`` is its id); "action" runs a kiosk action or
    #: show/hide/toggle steps (``target`` names them).
    kind: Literal["link", "action"]
    #: A point inside the shape.
    x: int
    y: int
    target: str

    def to_json_dict(self) -> dict[str, Any]:
        """The target as a JSON-ready dict (the control socket's ``state`` answer)."""
        return asdict(self)


class ShopperScreen(Protocol):
    """The shopper screen as the admin panel and the control socket see it (UI thread)."""

    def shown_experience(self) -> Experience | None:
        """The experience shoppers see now; None while the "back soon" page stands in."""
        ...

    def experience_findings(self) -> list[Finding]:
        """What the validator said about the experience on screen (a copy)."""
        ...

    def experience_error(self) -> str | None:
        """Why the chosen experience does not show (one line): it cannot be loaded, or a
        stand-in (the last good copy, the configured file) shows; None when it shows."""
        ...

    def activate_experience(self, path: Path, experience: Experience) -> None:
        """Show ``experience``, already loaded from ``path`` off the UI thread, from attract;
        ``path`` is what hot reload and restart read from then on."""
        ...

    def restart_experience(self) -> None:
        """Reload the experience from disk off the UI thread, then go back to attract; when
        it cannot be loaded the one on screen stays."""
        ...

    def current_page(self) -> str | None:
        """The id of the page shown now (None before the first page)."""
        ...

    def session_state(self) -> SessionState:
        """Where the shopper is: attract, welcome or browsing."""
        ...

    def touch_targets(self) -> list[TouchTarget]:
        """Where a shopper can touch on the page shown now."""
        ...
