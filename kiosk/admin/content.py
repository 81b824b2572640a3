"""The content page (manager): what is showing, what came before, and new drawings.

Staff put a .drawio file in the library's ``incoming`` folder or plug in a USB stick, tap
"Look for drawings", pick one, read the validator's findings and the page previews, then
activate it. Roll back returns to the experience shown before. Copying, loading and
validating run off the UI thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.admin import theme
from kiosk.admin.audit import AdminAudit
from kiosk.admin.library import ContentEntry, ContentLibrary, find_drawings, usb_folders
from kiosk.models.shopper_screen import ShopperScreen
from kiosk.tasks import TaskRunner

if TYPE_CHECKING:
    from designer_import import Finding
    from designer_import.model import Experience

log = logging.getLogger(__name__)

THUMB_SIZE = (384, 216)
THUMBS_MAX = 12


@dataclass
class Candidate:
    """A drawing staff picked, copied into the library, loaded and validated."""

    source: Path
    path: Path
    experience: Experience
    findings: list[Finding]

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(1 for f in self.findings if f.severity == "error")


def prepare_candidate(library: ContentLibrary, source: Path) -> Candidate:
    """Copy ``source`` into the library, load and validate it (worker thread).
    Raises ``designer_import.DrawioError`` or ``OSError`` with a clear message."""
    from designer_import import load_experience, validate

    path = library.import_drawing(source)
    experience = load_experience(path)
    return Candidate(source, path, experience, validate(experience))


def load_drawing(path: Path) -> Experience:
    """Load the drawing or bundle at ``path`` (worker thread)."""
    from designer_import import load_experience

    return load_experience(path)


class ContentPage(QWidget):
    """List, import, preview, activate and roll back experiences.

    Each activation or roll back is recorded through ``audit``.
    """

    def __init__(
        self,
        *,
        screen: ShopperScreen,
        library: ContentLibrary,
        tasks: TaskRunner,
        audit: AdminAudit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._screen = screen
        self._tasks = tasks
        self.library = library
        self._audit = audit
        self.role = "manager"
        self.candidate: Candidate | None = None
        self.busy = False

        self.active_label = theme.label("", theme.FONT_VALUE, bold=True)
        self.previous_label = theme.label("", theme.FONT_BODY, colour=theme.MUTED)
        self.problem_label = theme.label("", theme.FONT_BODY, colour=theme.COLOURS["bad"])
        self.problem_label.hide()
        self._previous: ContentEntry | None = None
        self.rollback_button = theme.button("Roll back")
        self.rollback_button.clicked.connect(self.roll_back)
        self.scan_button = theme.button("Look for drawings (folder, USB)")
        self.scan_button.clicked.connect(self.scan)
        self.drawings = QListWidget()
        self.drawings.itemClicked.connect(self._picked)
        theme.touch_scroll(self.drawings)
        self.message = theme.label("", theme.FONT_BODY)
        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        theme.touch_scroll(self.findings)
        self.activate_button = theme.button("Activate this experience")
        self.activate_button.setEnabled(False)
        self.activate_button.clicked.connect(self.activate)
        self.thumbs = QWidget()
        self._thumbs_layout = QHBoxLayout(self.thumbs)
        self._thumbs_layout.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self._lay_out()
        self.show_current()

    def _lay_out(self) -> None:
        """What is showing and the drawings found on the left; the picked drawing's
        previews, findings and the activate button on the right."""
        scroll = QScrollArea()
        scroll.setWidget(self.thumbs)
        scroll.setWidgetResizable(True)
        scroll.setFixedHeight(THUMB_SIZE[1] + 80)
        left = QVBoxLayout()
        left.addWidget(theme.label("Showing now", theme.FONT_BODY, colour=theme.MUTED))
        left.addWidget(self.active_label)
        left.addWidget(self.problem_label)
        left.addWidget(self.previous_label)
        left.addWidget(self.rollback_button)
        left.addSpacing(20)
        left.addWidget(self.scan_button)
        left.addWidget(self.drawings, 1)
        right = QVBoxLayout()
        right.addWidget(self.message)
        right.addWidget(scroll)
        right.addWidget(self.findings, 1)
        right.addWidget(self.activate_button)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Content"))
        layout.addLayout(body, 1)

    # -- AdminPage --------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Show what is on screen now and what roll back goes to."""
        self.show_current()

    def on_hide(self) -> None:
        """Nothing to stop: a check or activation under way finishes and shows its result."""

    def refresh(self) -> None:
        """Nothing changes by the second here (the page is brought up to date on show and
        after each action)."""

    def shutdown(self) -> None:
        """Nothing of its own to stop (its work runs on the kiosk's task runner)."""

    # -- what is showing --------------------------------------------------------------------

    def show_current(self) -> None:
        """Show what is on screen now (and why, when it is a stand-in), then what roll back
        goes to, read from the history off the UI thread."""
        experience = self._screen.shown_experience()
        problem = self._screen.experience_error()
        if experience is not None:
            self.active_label.setText(f"{shown_name(experience)} ({len(experience.pages)} pages)")
        else:
            self.active_label.setText("nothing loaded: shoppers see the back-soon page")
        self.problem_label.setText(f"⚠ {problem}" if problem else "")
        self.problem_label.setVisible(bool(problem))
        library = self.library
        # the experience the kiosk started with is where the history begins (not a stand-in)
        started = experience if experience is not None and not problem else None

        def read() -> ContentEntry | None:
            if started is not None:
                library.ensure_started(started.source_path, started.source_hash)
            return library.previous()

        self._tasks.run(read, name="content history read").on_success(
            self._history_read
        ).on_failure(self._history_unreadable)

    def _history_read(self, previous: ContentEntry | None) -> None:
        self.previous_label.setText(f"before: {previous.name}" if previous else "before: none")
        self._set_previous(previous)

    def _history_unreadable(self, error: Exception) -> None:
        log.warning("content history unreadable: %s", error)
        self.previous_label.setText(f"before: unknown ({error})")
        self._set_previous(None)

    def _set_previous(self, previous: ContentEntry | None) -> None:
        self._previous = previous
        self.rollback_button.setEnabled(previous is not None and not self.busy)

    # -- new drawings -----------------------------------------------------------------------

    def scan(self) -> None:
        """Look for drawings in the incoming folder and on USB sticks (worker thread)."""
        incoming = self.library.incoming
        self._set_busy(True, "looking for drawings…")

        def look() -> list[Path]:
            incoming.mkdir(parents=True, exist_ok=True)
            return find_drawings([incoming, *usb_folders()])

        self._tasks.run(look, name="content scan").on_success(self._scanned).on_failure(
            self._scan_failed
        )

    def _scan_failed(self, error: Exception) -> None:
        self._set_busy(False)
        self.drawings.clear()
        self.message.setText(f"⚠ cannot look for drawings: {error}")

    def _scanned(self, found: list[Path]) -> None:
        self._set_busy(False)
        self.drawings.clear()
        for path in found:
            item = QListWidgetItem(f"{path.name}\n{path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.drawings.addItem(item)
        self.message.setText(
            f"{len(found)} drawings found; tap one to check it"
            if found
            else f"no drawings: put a .drawio file in {self.library.incoming} or plug in a stick"
        )

    def _picked(self, item: QListWidgetItem) -> None:
        self.check(Path(item.data(Qt.ItemDataRole.UserRole)))

    def check(self, source: Path) -> None:
        """Copy, load and validate ``source``; show its findings and page previews."""
        self.candidate = None
        self.activate_button.setEnabled(False)
        self._set_busy(True, f"checking {source.name}…")
        library = self.library
        self._tasks.run(
            lambda: prepare_candidate(library, source), name="content check"
        ).on_success(self._checked).on_failure(self._unusable)

    def _unusable(self, error: Exception) -> None:
        self._set_busy(False)
        self.findings.clear()
        self._clear_thumbs()
        self.message.setText(f"⚠ cannot use this drawing: {error}")

    def _checked(self, candidate: Candidate) -> None:
        self._set_busy(False)
        self.findings.clear()
        self._clear_thumbs()
        self.candidate = candidate
        pages = len(candidate.experience.pages)
        warnings = len(candidate.findings) - candidate.errors
        self.message.setText(
            f"{candidate.source.name}: {_count(pages, 'page')}, "
            f"{_count(candidate.errors, 'error')}, {_count(warnings, 'warning')}"
        )
        for finding in candidate.findings:
            item = QListWidgetItem(finding.format())
            colour = theme.COLOURS["bad" if finding.severity == "error" else "warn"]
            item.setForeground(Qt.GlobalColor.white)
            item.setBackground(QColor(colour))
            self.findings.addItem(item)
        if not candidate.findings:
            self.findings.addItem("the validator found nothing to fix")
        self._show_thumbs(candidate.experience)
        self.activate_button.setEnabled(True)

    def _show_thumbs(self, experience: Experience) -> None:
        try:
            from kiosk.screen.render import PageScene, render_page
        except ImportError as exc:
            log.info("page previews unavailable: %s", exc)
            return
        for page in experience.pages[:THUMBS_MAX]:
            try:
                image = render_page(PageScene(page), *THUMB_SIZE)
            except Exception:
                log.exception("preview of page %r failed", page.name)
                continue
            box = QVBoxLayout()
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(image))
            holder = QWidget()
            holder.setLayout(box)
            box.addWidget(picture)
            box.addWidget(theme.label(page.name, 18, wrap=False))
            self._thumbs_layout.addWidget(holder)

    def _clear_thumbs(self) -> None:
        while self._thumbs_layout.count():
            item = self._thumbs_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    # -- activate and roll back -------------------------------------------------------------

    def activate(self) -> None:
        """Show the checked drawing to shoppers (the copy already loaded and validated: no
        second parse) and remember it for the next start."""
        if self.candidate is None or self.busy:
            return
        candidate = self.candidate
        self.candidate = None
        self.activate_button.setEnabled(False)
        self._switch_to(candidate.path, candidate.experience, "content_activate")

    def roll_back(self) -> None:
        """Go back to the experience shown before the active one (loaded off the UI
        thread; when it cannot be loaded, the one on screen stays)."""
        previous = self._previous
        if previous is None or self.busy:
            return
        path = Path(previous.path)
        self._set_busy(True, f"loading {path.name}…")

        def loaded(experience: Experience) -> None:
            self._set_busy(False)
            self._switch_to(path, experience, "content_rollback")

        def unloadable(error: Exception) -> None:
            self._set_busy(False)
            self.message.setText(f"⚠ not activated: {error}")
            log.warning("rolling back to %s failed: %s", path, error)

        self._tasks.run(lambda: load_drawing(path), name="content roll back").on_success(
            loaded
        ).on_failure(unloadable)

    def _switch_to(self, path: Path, experience: Experience, what: str) -> None:
        current = self._screen.shown_experience()
        try:
            self._screen.activate_experience(path, experience)
        except Exception as exc:  # a drawing the screen cannot show: the kiosk recovers
            log.exception("showing %s failed", path)
            self.message.setText(f"⚠ not activated: {path.name} cannot be shown ({exc})")
            return
        source_hash = experience.source_hash
        self._audit(
            what,
            path=str(path),
            source_hash=source_hash,
            replaced=str(current.source_path) if current else None,
        )
        self._set_busy(True, f"now showing {path.name}; remembering it…")
        library, role = self.library, self.role

        def remembered(_entry: ContentEntry) -> None:
            self._set_busy(False)
            self.message.setText(f"now showing {path.name}")
            self.show_current()

        def forgotten(error: Exception) -> None:
            self._set_busy(False)
            log.error("activated %s but could not remember it: %s", path, error)
            self.message.setText(
                f"⚠ now showing {path.name}, but after a restart the kiosk will show "
                f"the one before: the content history cannot be written ({error})"
            )
            self.show_current()

        self._tasks.run(
            lambda: library.record(path, role, source_hash), name="content history write"
        ).on_success(remembered).on_failure(forgotten)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        if text:
            self.message.setText(text)
        self.scan_button.setEnabled(not busy)
        self.drawings.setEnabled(not busy)
        self.rollback_button.setEnabled(not busy and self._previous is not None)


def shown_name(experience: Experience) -> str:
    """The file staff know an experience by; a kept copy (the last good bundle) names the
    drawing it was made from."""
    if experience.source_format == "bundle" and experience.globals.get("filename"):
        return f"{experience.globals['filename']} (kept copy)"
    return str(experience.source_path.name)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
