"""The shopper's screen: the window that shows the experience, follows touches, runs the
session machine and records every interaction through ``KioskServices.record``.

Never broken in front of a shopper: an experience that cannot be loaded shows a built-in
"back soon" page (or the last good copy), escape keys do nothing, and the composition
root sends any exception escaping a slot to :meth:`KioskWindow.recover`, which goes back
to attract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QVBoxLayout, QWidget

from designer_import import DrawioError, load_experience, validate
from designer_import.links import cells_for_action
from designer_import.model import (
    ActionLink,
    Element,
    Experience,
    Geometry,
    Label,
    NavigateLink,
    Page,
    ShapeKind,
    Style,
)
from kiosk.models.session import SessionMachine, SessionState
from kiosk.screen.fonts import load_web_fonts
from kiosk.screen.pageview import Hit, PageView
from kiosk.services import KioskServices

if TYPE_CHECKING:
    from kiosk.admin.library import ContentLibrary as ContentHistory

log = logging.getLogger(__name__)

#: How often the session machine checks its timeouts.
TICK_MS = 250
#: A changed file is reloaded after it has been quiet this long (editors write in bursts).
RELOAD_SETTLE_MS = 250
#: The experience file is also looked at this often (network shares send no events).
POLL_MS = 1000
#: While the "back soon" page shows, the experience is tried again this often.
RETRY_MS = 15_000
#: Pages one touch away rendered ahead of time (fewer than the view keeps).
CACHE_AHEAD = 8
#: Kiosk actions the screen itself carries out.
BACK_ACTIONS = frozenset({"back", "go-back"})
HOME_ACTIONS = frozenset({"home", "go-home"})
#: Keys that would leave or close the kiosk on a desktop.
ESCAPE_KEYS = (
    QKeySequence.StandardKey.Close,
    QKeySequence.StandardKey.Quit,
    QKeySequence.StandardKey.Cancel,
)
BACK_SOON_ID = "back-soon"


def is_escape_key(event: QKeyEvent) -> bool:
    """Esc, Ctrl+W, Ctrl+Q, Alt+F4 and the platform's close/quit keys."""
    if any(event.matches(key) for key in ESCAPE_KEYS):
        return True
    key, modifiers = event.key(), event.modifiers()
    alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
    ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
    # the platform theme may map Close/Quit to nothing: name the usual ones too
    return (
        key == Qt.Key.Key_Escape
        or (alt and key == Qt.Key.Key_F4)
        or (ctrl and key in (Qt.Key.Key_W, Qt.Key.Key_Q, Qt.Key.Key_F4))
    )


def back_soon_experience(source: Path | None = None) -> Experience:
    """The built-in page shown when the experience cannot be loaded."""

    def text(element_id: str, body: str, y: float, size: float, colour: str) -> Element:
        style = Style(font_size=size, font_color=colour, fill=None, stroke=None, wrap=True)
        style.font_family = "DejaVu Sans"
        return Element(
            id=element_id,
            kind=ShapeKind.TEXT,
            shape="text",
            geometry=Geometry(160.0, y, 1600.0, size * 2.2),
            style=style,
            label=Label(text=body, is_html=False, plain=body),
        )

    def shape(element_id: str, kind: ShapeKind, box: Geometry, fill: str, stroke: str) -> Element:
        style = Style(fill=fill, stroke=stroke, stroke_width=10.0, rounded=True, arc_size=20.0)
        return Element(id=element_id, kind=kind, shape=kind.value, geometry=box, style=style)

    # a clock face: the kiosk is resting, not broken
    face = shape(
        "face", ShapeKind.ELLIPSE, Geometry(890.0, 150.0, 140.0, 140.0), "#1d5866", "#7fc4cf"
    )
    hand = shape(
        "hand", ShapeKind.RECTANGLE, Geometry(955.0, 175.0, 10.0, 50.0), "#ffd166", "#ffd166"
    )
    hand2 = shape(
        "hand2", ShapeKind.RECTANGLE, Geometry(955.0, 215.0, 45.0, 10.0), "#ffd166", "#ffd166"
    )
    page = Page(
        id=BACK_SOON_ID,
        name="Back soon",
        role="attract",
        width=1920.0,
        height=1080.0,
        background="#0f3b46",
        elements=[
            face,
            hand,
            hand2,
            text("title", "We'll be back soon", 380.0, 110.0, "#ffffff"),
            text("subtitle", "This screen is taking a short break.", 640.0, 44.0, "#b8d8de"),
            shape(
                "band",
                ShapeKind.RECTANGLE,
                Geometry(0.0, 960.0, 1920.0, 120.0),
                "#0b2f38",
                "#0b2f38",
            ),
            text("staff", "Staff: the admin panel says what went wrong.", 985.0, 28.0, "#7fa9b2"),
        ],
    )
    return Experience(
        pages=[page],
        source_path=source or Path("back-soon"),
        source_hash="",
        source_format="builtin",
    )


def file_signature(path: Path | None) -> tuple[int, int] | None:
    """(mtime ns, size) of a file, None when it is not there: what "changed" means."""
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def load_error(source: Path, exc: Exception) -> str:
    """One line for an experience that did not load: a ``DrawioError`` says it all; any
    other error is the importer's own bug, logged with its traceback for the developers."""
    if isinstance(exc, DrawioError):
        return str(exc)
    log.error("loading %s failed unexpectedly", source, exc_info=exc)
    return f"{source}: cannot be read ({type(exc).__name__}: {exc})"


def last_good_folder(services: KioskServices) -> Path | None:
    """Where the last experience that loaded is kept as a bundle."""
    data_dir = services.config.paths.data_dir
    return None if data_dir is None else data_dir / "experience-last-good"


class _Loaded(QObject):
    """Carries a background load's result to the UI thread."""

    done = Signal(object, object)  # (Experience | None, error text | None)


class KioskWindow(QWidget):
    """The full-screen shopper window."""

    #: The page shown changed (page id).
    page_changed = Signal(str)
    #: The experience on screen changed (a load, a reload, the "back soon" page).
    experience_changed = Signal()

    def __init__(
        self,
        services: KioskServices,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.settings = services.config.kiosk
        self.clock = clock
        self.setWindowTitle("Retail Edge Kiosk")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view = PageView(self)
        self.view.swipe_enabled = self.settings.swipe
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.session = SessionMachine(self.settings, clock=clock)
        self.experience: Experience = back_soon_experience()
        # per experience, worked out once: its goodbye page, each page's neighbours
        self._goodbye: tuple[Experience, Page | None] | None = None
        self._neighbours_of: Experience | None = None
        self._neighbour_cache: dict[str, tuple[Page, list[Page]]] = {}
        self.findings: list[Any] = []
        self.broken: str | None = None
        #: Why a stand-in (the last good copy, the configured file) shows instead of the
        #: experience staff activated; None when the chosen one shows.
        self.fallback: str | None = None
        self._restart = False
        self.page: Page | None = None
        self.page_since = clock()
        self.history: list[str] = []
        self._to_prepare: list[Page] = []
        self._goodbye_until: float | None = None
        self._last_error: str | None = None
        self.attract_index = 0
        #: Per page, the cells' own visibility flags as changed by show/hide/toggle.
        self._flags: dict[str, dict[str, bool]] = {}
        self.allow_close = False
        self.view.tapped.connect(self.on_tap)
        self.view.swiped.connect(self.on_swipe)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        self._watcher: QFileSystemWatcher | None = None
        self._watched: Path | None = None
        self._signature: tuple[int, int] | None = None
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_SETTLE_MS)
        self._reload_timer.timeout.connect(self.reload_in_background)
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(RETRY_MS)
        self._retry_timer.timeout.connect(self.reload_in_background)
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="experience-load")
        # copies of the last good experience are written on their own thread, so that a
        # reload never waits behind one
        self._keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="experience-keep")
        self._loaded = _Loaded(self)
        self._loaded.done.connect(self._apply_loaded)
        self._loading = False
        self._again = False
        self.reloads = 0
        self.source: Path | None = None
        services.experience = lambda: None if self.broken else self.experience
        services.findings = lambda: list(self.findings)
        services.current_page = lambda: self.page.id if self.page else None
        services.session_state = lambda: self.session.state.value
        services.experience_error = lambda: self.broken or self.fallback
        services.touch_targets = self.touch_targets
        services.activate_experience = self.activate_experience
        services.restart_experience = self.restart_experience

    # --- the experience --------------------------------------------------------------------

    def start(
        self, configured: Path, *, watch: bool = False, history: ContentHistory | None = None
    ) -> None:
        """Show what staff activated or rolled back to last (``history.active()``, the
        Content page's record), else ``configured``, from its attract page. When it cannot
        be loaded: the last good copy, else the configured file, else the "back soon" page;
        the reason shows red on the admin panel and the file is tried again until it loads."""
        entry = history.active() if history is not None else None
        if entry is not None and entry.role == "config":
            entry = None  # the history began with a config's file: the config says now
        source = Path(entry.path) if entry is not None else configured
        if entry is not None and source != configured:
            log.info(
                "showing %s, activated by the %s (the config names %s)",
                source,
                entry.role,
                configured,
            )
        self.source = source
        try:
            experience = load_experience(source)
            self._use(experience, keep_page=False)
        except Exception as exc:  # DrawioError, or what the importer did not foresee
            self._load_failed_at_start(source, configured, load_error(source, exc))
        else:
            self._keep_last_good(source, experience)
        if watch:
            self.watch(source)

    def _load_failed_at_start(self, source: Path, configured: Path, error: str) -> None:
        log.error("experience %s cannot be loaded: %s", source, error)
        fallbacks = [(last_good_folder(self.services), "the last good copy")]
        if configured != source:
            fallbacks.append((configured, "the configured experience"))
        for path, what in fallbacks:
            if path is None or not path.exists():
                continue
            try:
                experience = load_experience(path)
            except Exception as exc:
                log.error("%s %s cannot be loaded either: %s", what, path, load_error(path, exc))
                continue
            log.warning("showing %s (%s) until %s loads again", what, path, source)
            self._use(experience, keep_page=False)
            self.fallback = f"{error}; showing {what}"
            self._retry_timer.start()
            return
        self._use(back_soon_experience(source), keep_page=False)
        self.broken = error
        self._retry_timer.start()

    def _keep_last_good(self, source: Path, experience: Experience) -> None:
        folder = last_good_folder(self.services)
        if folder is None or experience.source_format == "bundle":
            return
        from designer_import import build_bundle

        def keep() -> None:
            try:
                build_bundle(source, folder, experience=experience, findings=self.findings)
            except Exception as exc:  # DrawioError names the cause; nothing else may vanish
                log.warning(
                    "cannot keep a copy of the experience in %s: %s",
                    folder,
                    load_error(source, exc),
                )

        self._keeper.submit(keep)

    def activate_experience(self, path: Any, experience: Experience) -> None:
        """Show ``experience``, loaded from ``path`` off the UI thread (the Content page's
        checked drawing), from attract; ``path`` is what hot reload and restart read."""
        source = Path(path)
        self.source = source
        self._use(experience, keep_page=False)
        self._keep_last_good(source, experience)
        if self._watcher is not None:
            self.watch(source)

    def restart_experience(self) -> None:
        """Reload the experience from disk off the UI thread, then go back to attract
        (staff command); when it cannot be loaded the one on screen stays."""
        if self.source is None:
            return
        self._restart = True
        self.reload_in_background()

    def _use(self, experience: Experience, *, keep_page: bool) -> None:
        current = self.page.id if (keep_page and self.page is not None) else None
        try:
            self.findings = validate(experience)
        except Exception:
            log.exception("validating %s failed", experience.source_path)
            self.findings = []
        self.experience = experience
        load_web_fonts(experience)  # before any page of it is drawn
        self.broken = None
        self.fallback = None
        self._retry_timer.stop()
        self.view.forget_pages()
        self._to_prepare = []
        self._flags.clear()
        self.experience_changed.emit()
        page = experience.page(current) if current else None
        if page is not None:
            self.page = None
            self.history = [p for p in self.history if experience.page(p) is not None]
            self._show(page, transition=False)
        else:
            self.go_attract("reload" if keep_page else "load")

    # --- hot reload ------------------------------------------------------------------------

    def watch(self, source: Path) -> None:
        """Reload when ``source`` (a file, or a bundle's manifest) changes."""
        target = source / "manifest.json" if source.is_dir() else source
        if self._watcher is None:
            self._watcher = QFileSystemWatcher(self)
            self._watcher.fileChanged.connect(lambda _p: self._reload_timer.start())
            self._watcher.directoryChanged.connect(lambda _p: self._reload_timer.start())
            # file-system events do not cross network shares: a cheap look every second
            self._poll = QTimer(self)
            self._poll.setInterval(POLL_MS)
            self._poll.timeout.connect(self._poll_source)
            self._poll.start()
        self._watched = target
        self._signature = file_signature(target)
        # editors and build_bundle replace the file: watch its folder to see it come back
        wanted = {str(target.parent)} | ({str(target)} if target.exists() else set())
        watched = set(self._watcher.files()) | set(self._watcher.directories())
        for old in watched - wanted:
            self._watcher.removePath(old)
        # only what is not watched yet: taking a watch off and on again loses events
        missing = sorted(wanted - watched)
        if missing:
            self._watcher.addPaths(missing)

    def _poll_source(self) -> None:
        signature = file_signature(self._watched)
        if signature != self._signature:
            self._signature = signature
            self._reload_timer.start()

    def reload_in_background(self) -> None:
        """Load the source again off the UI thread; shown when ready, current page kept."""
        if self.source is None:
            return
        if self._loading:
            # a change while a load runs: load again when it is done, so none is missed
            self._again = True
            return
        self._loading = True
        self._again = False
        source = self.source
        self._loader.submit(self._load_job, source)

    def _load_job(self, source: Path) -> None:
        self._signature = file_signature(self._watched)
        try:
            experience: Experience | None = load_experience(source)
            error = None
        except Exception as exc:  # DrawioError names the cause; nothing may take the kiosk down
            experience, error = None, load_error(source, exc)
        self._loaded.done.emit(experience, error)

    def _apply_loaded(self, experience: Experience | None, error: str | None) -> None:
        self._loading = False
        restart, self._restart = self._restart, False
        if self._again:
            self._reload_timer.start()
        if self._watcher is not None and self.source is not None:
            self.watch(self.source)
        if experience is None:
            # the same error again (the retry while "back soon" shows) is not news
            level = logging.DEBUG if error == self._last_error and not restart else logging.WARNING
            log.log(level, "reload: %s (still showing the previous experience)", error)
            self._last_error = error
            if restart:
                self.go_attract("restart")
            return
        self._last_error = None
        if (
            experience.source_hash
            and experience.source_hash == self.experience.source_hash
            and not self.broken
            and not self.fallback
            and not restart
        ):
            return
        self.reloads += 1
        log.info("experience reloaded from %s", experience.source_path)
        self._use(experience, keep_page=not restart)
        if self.source is not None:
            self._keep_last_good(self.source, experience)

    # --- navigation ------------------------------------------------------------------------

    def _attract_pages(self) -> list[Page]:
        return self.experience.attract_pages or self.experience.pages[:1]

    def welcome_page(self) -> Page | None:
        """The page a session starts on: the welcome page, else the first other page."""
        welcome = self.experience.welcome_page
        if welcome is not None:
            return welcome
        others = [p for p in self.experience.pages if p.role != "attract"]
        return others[0] if others else None

    def go_attract(self, reason: str) -> None:
        """End any session (recorded with ``reason``) and show the attract loop from its
        first page."""
        self._goodbye_until = None
        self._end_session(reason)
        self.history.clear()
        self._reset_flags()
        self.attract_index = 0
        pages = self._attract_pages()
        if pages:
            self._show(pages[0], transition=self.page is not None)

    def navigate(self, page_id: str, *, direction: int = 1, push: bool = True) -> bool:
        """Go to ``page_id`` (with the configured transition); False when there is no such
        page."""
        page = self.experience.page(page_id)
        if page is None:
            log.warning("link to a page that does not exist: %s", page_id)
            return False
        if self.page is not None and page.id == self.page.id:
            return True
        if push and self.page is not None:
            self.history.append(self.page.id)
            del self.history[:-50]
        self._show(page, transition=True, direction=direction)
        return True

    def open_page(self, page_id_or_name: str) -> bool:
        """Show a page by id or name (staff, artists, screenshots); False when none."""
        page = self.experience.page(page_id_or_name) or next(
            (p for p in self.experience.pages if p.name == page_id_or_name), None
        )
        if page is None:
            return False
        if page.role != "attract" and self.session.session_id is None:
            self.session.touch()
            self._record_session_start("staff")
        return self.navigate(page.id)

    def go_back(self) -> None:
        """The previous page of this session (home when there is none)."""
        while self.history:
            previous = self.history.pop()
            if self.experience.page(previous) is not None:
                self.navigate(previous, direction=-1, push=False)
                return
        self.go_home()

    def go_home(self) -> None:
        """The welcome page."""
        welcome = self.welcome_page()
        if welcome is not None:
            self.navigate(welcome.id, direction=-1)

    def _show(self, page: Page, *, transition: bool, direction: int = 1) -> None:
        self._record_page_left()
        kind = self.settings.transition if transition else "off"
        self.view.show_page(page, kind, self.settings.transition_ms)
        self.view.set_slide_direction(direction)
        self.page = page
        self.page_since = self.clock()
        self.session.page_viewed()
        self._apply_flags(page, fade=False)
        self.page_changed.emit(page.id)
        QTimer.singleShot(0, self._prepare_neighbours)

    def _record_page_left(self) -> None:
        page = self.page
        if page is None or self.session.session_id is None or page.role == "attract":
            return
        dwell = max(0.0, self.clock() - self.page_since)
        payload: dict[str, Any] = {"dwell_ms": round(dwell * 1000), "name": page.name}
        sku = page.properties.get("sku")
        if sku:
            payload["sku"] = sku
        self.services.record("page.view", page=page.id, payload=payload)

    def _prepare_neighbours(self) -> None:
        """Queue the pages one touch away for rendering, so that going there is a blit."""
        page = self.page
        if page is None or not self.isVisible():
            return
        self._to_prepare = list(self._neighbours(page))
        self._prepare_next()

    def _neighbours(self, page: Page) -> list[Page]:
        """The pages one touch away from ``page`` (the welcome page first), at most
        CACHE_AHEAD; worked out once per page of an experience (each page switch asks)."""
        experience = self.experience
        if self._neighbours_of is not experience:
            self._neighbour_cache.clear()  # another experience: its pages only
            self._neighbours_of = experience
        cached = self._neighbour_cache.get(page.id)
        if cached is not None and cached[0] is page:
            return cached[1]
        targets = [t for t in (self.welcome_page(),) if t is not None]
        for element in page.elements:
            link = element.link
            if isinstance(link, NavigateLink):
                found = experience.page(link.page_id)
                if found is not None and found not in targets:
                    targets.append(found)
        del targets[CACHE_AHEAD:]
        self._neighbour_cache[page.id] = (page, targets)
        return targets

    def _prepare_next(self) -> None:
        # one page per turn of the event loop: a touch arriving meanwhile is not kept waiting
        if not self._to_prepare:
            return
        self.view.prepare(self._to_prepare.pop(0))
        if self._to_prepare:
            QTimer.singleShot(0, self._prepare_next)

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

    # --- touches ---------------------------------------------------------------------------

    def on_tap(self, hit: Hit) -> None:
        """A tap: start a session if needed, record it, and do what the shape says."""
        page = self.page
        if page is None or self.broken:
            return
        started = self.session.touch()
        if started:
            self._record_session_start("touch")
        element = hit.element
        payload: dict[str, Any] = {}
        if hit.nx is not None and hit.ny is not None:
            payload["x"], payload["y"] = round(hit.nx, 4), round(hit.ny, 4)
        if element is not None:
            sku = element.properties.get("sku")
            if sku:
                payload["sku"] = sku
        self.services.record(
            "touch", page=page.id, element=element.id if element else None, payload=payload
        )
        followed = self._act(page, element) if element is not None else False
        resting = page.role == "attract" or page is self.goodbye_page()
        if started and not followed and self.page is page and resting:
            # a touch on the attract (or goodbye) page starts on the welcome page
            welcome = self.welcome_page()
            if welcome is not None:
                self.navigate(welcome.id)

    def _act(self, page: Page, element: Element) -> bool:
        """Carry out the element's kiosk action and link; True when the page changed.
        A page link the artist drew wins over ``back``/``home`` (it is what draw.io shows)."""
        action = element.kiosk_action
        link = page.link_for(element.id)
        if action is not None:
            payload: dict[str, Any] = {"action": action.name, **action.params}
            self.services.record("action", page=page.id, element=element.id, payload=payload)
            if action.name in BACK_ACTIONS and not isinstance(link, NavigateLink):
                self.go_back()
                return True
            if action.name in HOME_ACTIONS and not isinstance(link, NavigateLink):
                self.go_home()
                return True
        if isinstance(link, NavigateLink):
            return self.navigate(link.page_id)
        if isinstance(link, ActionLink):
            self.run_actions(page, link)
        return False

    def on_swipe(self, direction: int) -> None:
        """A swipe: the next (+1) or previous (-1) sibling page."""
        page = self.page
        if page is None or self.broken:
            return
        if self.session.touch():
            self._record_session_start("touch")
        self.services.record(
            "touch", page=page.id, payload={"gesture": "swipe", "direction": direction}
        )
        siblings = self.siblings()
        if not siblings:
            return
        index = siblings.index(page) + direction
        if 0 <= index < len(siblings):
            self.navigate(siblings[index].id, direction=direction, push=False)

    # --- in-page actions -------------------------------------------------------------------

    def run_actions(self, page: Page, link: ActionLink) -> None:
        """Run show/hide/toggle steps in order, fading what changes."""
        flags = self._flags.setdefault(page.id, {})
        for step in link.actions:
            for element in cells_for_action(page, step):
                element_id = element.id
                current = flags.get(element_id, element.self_visible)
                flags[element_id] = (
                    True
                    if step.action == "show"
                    else False
                    if step.action == "hide"
                    else not current
                )
        self._apply_flags(page, fade=True)

    def shown(self, page: Page, element: Element) -> bool:
        """Whether ``element`` shows now, given the show/hide/toggle steps run on ``page``."""
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

    def _apply_flags(self, page: Page, *, fade: bool) -> None:
        if page.id not in self._flags:
            return
        for element in page.elements:
            self.view.set_shown(element.id, self.shown(page, element), fade=fade)

    def _reset_flags(self) -> None:
        pages = [self.experience.page(p) for p in self._flags]
        self._flags.clear()
        current = self.view.scene
        for page in pages:
            if page is None:
                continue
            scene = self.view.scene_for(page)
            self.view.scene = scene
            for element in page.elements:
                self.view.set_shown(element.id, element.visible, fade=False)
        self.view.scene = current

    # --- sessions --------------------------------------------------------------------------

    def _record_session_start(self, trigger: str) -> None:
        self.services.record(
            "session.start", page=self.page.id if self.page else None, payload={"trigger": trigger}
        )

    def _end_session(self, reason: str) -> None:
        if self.session.session_id is None:
            return
        self._record_page_left()
        session_id = self.session.session_id
        ended = self.session.end(reason)
        if ended is not None:
            self.services.record(
                "session.end",
                page=self.page.id if self.page else None,
                payload={
                    "reason": ended.reason,
                    "duration_s": ended.duration_s,
                    "touches": ended.touches,
                    "pages": ended.pages,
                },
                session_id=session_id,
                simulated=ended.simulated,
            )

    def tick(self) -> None:
        """Timeouts and the attract loop (every ``TICK_MS``; tests call it directly)."""
        if self._goodbye_until is not None:
            if self.session.session_id is None and self.clock() < self._goodbye_until:
                return
            self._goodbye_until = None
            if self.session.session_id is None:
                self.go_attract("goodbye")
                return
        ended = self.session.tick()
        if ended is not None:
            self._record_ended(ended)
            return
        if self.session.attract_due():
            pages = self._attract_pages()
            if len(pages) > 1:
                self.attract_index = (self.attract_index + 1) % len(pages)
                self._show(pages[self.attract_index], transition=True)

    def _record_ended(self, ended: Any) -> None:
        """A session the machine ended by itself: record it and go back to attract."""
        page = self.page
        if page is not None and page.role != "attract":
            dwell = max(0.0, self.clock() - self.page_since)
            self.services.record(
                "page.view",
                page=page.id,
                payload={"dwell_ms": round(dwell * 1000), "name": page.name},
                session_id=ended.session_id,
                simulated=ended.simulated,
            )
        self.services.record(
            "session.end",
            page=page.id if page else None,
            payload={
                "reason": ended.reason,
                "duration_s": ended.duration_s,
                "touches": ended.touches,
                "pages": ended.pages,
            },
            session_id=ended.session_id,
            simulated=ended.simulated,
        )
        goodbye = self.goodbye_page()
        if goodbye is not None and self.settings.goodbye_s > 0:
            # a thank-you before the attract loop; a touch meanwhile starts a new session
            self.history.clear()
            self._reset_flags()
            self._show(goodbye, transition=True)
            self._goodbye_until = self.clock() + self.settings.goodbye_s
            return
        self.go_attract(ended.reason)

    def goodbye_page(self) -> Page | None:
        """The page shown for ``goodbye_s`` when a session ends: named or tagged
        "goodbye"; None when the experience has none."""
        experience = self.experience
        cached = self._goodbye
        if cached is not None and cached[0] is experience:
            return cached[1]
        found = next(
            (
                page
                for page in experience.pages
                if page.name.strip().lower() == "goodbye" or "goodbye" in page.tags
            ),
            None,
        )
        self._goodbye = (experience, found)  # asked on every tap: found once per experience
        return found

    def on_presence(self, state: Any) -> None:
        """A presence report from the sensor (``sensors.PresenceState``), on the UI thread."""
        zone = getattr(state.zone, "value", str(state.zone))
        previous = self.session.zone
        staff = self.session.staff_at_kiosk  # staff's presence is not a shopper's
        simulated = bool(state.simulated)
        started = False if self.broken else self.session.presence(zone, simulated=simulated)
        if zone != previous and not staff:
            self.services.record(
                "presence.change",
                page=self.page.id if self.page else None,
                payload={
                    "zone": zone,
                    "previous": previous,
                    "people": state.people,
                    "distance_m": state.distance_m,
                    "looking": state.looking,
                },
                simulated=simulated,
            )
        if started:
            self._record_session_start("presence")
            welcome = self.welcome_page()
            if welcome is not None:
                self.navigate(welcome.id)

    def recover(self) -> None:
        """After an unexpected error: back to attract, as if the session had timed out."""
        try:
            self.view.forget_pages()
            self.page = None
            self.go_attract("error")
        except Exception:
            log.exception("could not go back to attract after an error")

    # --- for the control socket, the admin panel and tests ---------------------------------

    def touch_targets(self) -> list[dict[str, Any]]:
        """Where a shopper can touch on the page shown now, in window pixels."""
        page = self.page
        if page is None or self.view.scene is None:
            return []
        targets = []
        for element in page.elements:
            link = page.link_for(element.id)
            action = element.kiosk_action
            if link is None and action is None:
                continue
            if isinstance(link, NavigateLink):
                kind, target = "link", link.page_id
            elif action is not None:
                kind, target = "action", action.name
            elif isinstance(link, ActionLink):
                kind, target = "action", "+".join(a.action for a in link.actions)
            else:
                continue
            point = self.view.touch_point(element.id)
            if point is None:
                continue
            at = self.view.mapTo(self, point)
            targets.append(
                {
                    "page": page.id,
                    "element": element.id,
                    "kind": kind,
                    "x": at.x(),
                    "y": at.y(),
                    "target": target,
                }
            )
        return targets

    @property
    def state(self) -> SessionState:
        """The session machine's state."""
        return self.session.state

    # --- staying put -----------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape, Ctrl+W, Ctrl+Q, Alt+F4 do nothing for shoppers."""
        event.accept()

    def event(self, event: Any) -> bool:
        """Swallow the shortcuts that would close the window before Qt acts on them."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and is_escape_key(event)
        ):
            event.accept()
            return True
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Refuse to close unless the kiosk itself is stopping."""
        if self.allow_close:
            event.accept()
        else:
            log.info("close request ignored (only staff can leave the kiosk)")
            event.ignore()

    def shutdown(self) -> None:
        """Stop timers and background loads; the window may close."""
        self._ticker.stop()
        self._reload_timer.stop()
        self._retry_timer.stop()
        if self._watcher is not None:
            self._poll.stop()
        if self.session.session_id is not None:
            self._end_session("exit")
        self._loader.shutdown(wait=True, cancel_futures=True)
        self._keeper.shutdown(wait=True, cancel_futures=True)
        self.allow_close = True
