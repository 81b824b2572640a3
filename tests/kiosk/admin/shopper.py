"""A stand-in for the shopper screen (``ShopperScreen``), to check what the admin panel asks
of it; the real window is in the tests that start a whole kiosk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from designer_import import load_experience, validate
from kiosk.models.session import SessionState
from kiosk.models.shopper_screen import TouchTarget


class ShopperScreenDouble:
    """Shows ``path``'s experience (or nothing); remembers what it was asked to show and how
    often to restart. ``refuse`` makes ``activate_experience`` raise it (a drawing the
    screen cannot show)."""

    def __init__(self, path: Path | None = None) -> None:
        self.current: Any = load_experience(path) if path is not None else None
        self.findings: list[Any] = validate(self.current) if self.current is not None else []
        self.error: str | None = None
        self.loads: list[Path] = []
        self.restarts = 0
        self.refuse: Exception | None = None

    def shown_experience(self) -> Any:
        return self.current

    def experience_findings(self) -> list[Any]:
        return list(self.findings)

    def experience_error(self) -> str | None:
        return self.error

    def activate_experience(self, path: Path, experience: Any) -> None:
        if self.refuse is not None:
            raise self.refuse
        assert experience.source_path == Path(path)
        self.current = experience
        self.loads.append(Path(path))

    def restart_experience(self) -> None:
        self.restarts += 1

    def current_page(self) -> str | None:
        return None

    def session_state(self) -> SessionState:
        return SessionState.ATTRACT

    def touch_targets(self) -> list[TouchTarget]:
        return []
