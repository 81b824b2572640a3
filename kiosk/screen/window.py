"""The shopper's screen: the window that shows the experience and follows touches.

A thin Qt view over the Qt-free models in ``kiosk.models``: the session machine says when a
session starts and ends, ``Navigation`` which page to show, ``Visibility`` what shows on it,
``ExperienceSource`` which experience and how its loads went, and ``EventRecorder`` turns
each interaction into an event. This module shows pages, runs the timers and the file
watcher, and sends slow work (loading an experience, keeping its last good copy) to the
composition root's ``TaskRunner``.

Never broken in front of a shopper: an experience that cannot be loaded shows a built-in
"back soon" page (or the last good copy), escape keys do nothing, and the composition
root sends any exception escaping a slot to :meth:`KioskWindow.recover`, which goes back
to attract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from PySide6.QtCore import QEvent, QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeyEvent, QKeySequence, QPalette, QResizeEvent
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from designer_import import Finding, load_experience
from designer_import.languages import LANGUAGE_PARAM, SET_LANGUAGE
from designer_import.model import ActionLink, Element, Experience, NavigateLink, Page
from kiosk.models.experience_source import (
    ActivationHistory,
    ExperienceSource,
    Loaded,
    back_soon_experience,
    findings_of,
    keep_last_good,
    load_error,
    load_for_reload,
)
from kiosk.models.interactions import EventRecorder
from kiosk.models.languages import SessionLanguage
from kiosk.models.large_text import LARGE_TEXT, LargeTextMode
from kiosk.models.navigation import BACK_ACTIONS, HOME_ACTIONS, Navigation
from kiosk.models.reach import REACH, ReachMode
from kiosk.models.session import SessionEnd, SessionMachine, SessionState
from kiosk.models.shopper_screen import TouchTarget
from kiosk.models.visibility import Visibility
from kiosk.screen.fonts import load_web_fonts
from kiosk.screen.overlay import ShopperModels
from kiosk.screen.pageview import Hit, PageView
from kiosk.screen.still_there import StillThere
from kiosk.screen.take_home import TakeHome
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from storage import JsonObject

if TYPE_CHECKING:
    from sensors import PresenceState

log = logging.getLogger(__name__)

#: How often the session machine checks its timeouts.
TICK_MS = 250
#: A changed file is reloaded after it has been quiet this long (editors write in bursts).
RELOAD_SETTLE_MS = 250
#: The experience file is also looked at this often (network shares send no events).
POLL_MS = 1000
#: While a stand-in shows, the experience is tried again this often.
RETRY_MS = 15_000
#: The task runner's lanes: experience loads run one at a time; copies of the last good
#: one on a lane of their own, so that a reload never waits behind one.
LOAD_LANE = "experience-load"
KEEP_LANE = "experience-keep"
#: The window's colour above the page in reach mode.
REACH_BACKDROP = "#1d2733"
#: Keys that would leave or close the kiosk on a desktop.
ESCAPE_KEYS = (
    QKeySequence.StandardKey.Close,
    QKeySequence.StandardKey.Quit,
    QKeySequence.StandardKey.Cancel,
)


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


class KioskWindow(QWidget):
    """The full-screen shopper window (it implements ``ShopperScreen`` for staff's parts)."""

    #: The page shown changed (page id).
    page_changed = Signal(str)
    #: The experience on screen changed (a load, a reload, the "back soon" page).
    experience_changed = Signal()

    def __init__(
        self,
        *,
        config: KioskConfig,
        recorder: EventRecorder,
        tasks: TaskRunner,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = config.kiosk
        self.recorder = recorder
        self.tasks = tasks
        self.clock = clock
        self.session = SessionMachine(self.settings, clock=clock)
        self.navigation = Navigation(back_soon_experience())
        self.visibility = Visibility()
        #: The shopper's language: every page and event in it until the session ends.
        self.language = SessionLanguage(config.languages)
        recorder.language = self.language.recorded
        #: Reach mode: the page in the screen's lower part, every target within reach.
        self.reach = ReachMode(config.reach)
        #: Large text / high contrast mode: pages in their large-text form.
        self.large_text = LargeTextMode()
        self.experience_source = ExperienceSource(config.paths.data_dir)
        #: What the validator said about the experience on screen.
        self.findings: list[Finding] = []
        self.page_since = clock()
        self.allow_close = False
        self._goodbye_until: float | None = None
        self._watcher: QFileSystemWatcher | None = None
        self._poll: QTimer | None = None
        self.setWindowTitle("Retail Edge Kiosk")
        self._paint_backdrop()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view = PageView(self, tasks=tasks)
        self.view.swipe_enabled = self.settings.swipe
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.view)
        #: The kiosk's own reach button ([reach] button), None when not configured.
        self.reach_button: QPushButton | None = None
        if config.reach.button:
            self.reach_button = self._make_reach_button()
        self.view.tapped.connect(self.on_tap)
        self.view.swiped.connect(self.on_swipe)
        models = ShopperModels(self.session, recorder, self.navigation, self.language)
        self.still_there = StillThere(self, models)
        self.take_home = TakeHome(self, models, config=config, tasks=tasks)
        # in reach mode the kiosk's own screens come down with the page
        self.still_there.prompt.follow(self.view)
        self.take_home.screen.follow(self.view)
        self._ticker = self._timer(TICK_MS, self.tick)
        self._ticker.start()
        self._reload_timer = self._timer(RELOAD_SETTLE_MS, self.reload_in_background)
        self._reload_timer.setSingleShot(True)
        self._retry_timer = self._timer(RETRY_MS, self.reload_in_background)

    def _paint_backdrop(self) -> None:
        """What shows above the page in reach mode: a calm dark band, not the desktop
        grey."""
        backdrop = self.palette()
        backdrop.setColor(QPalette.ColorRole.Window, QColor(REACH_BACKDROP))
        self.setPalette(backdrop)
        self.setAutoFillBackground(True)

    def _timer(self, interval_ms: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        return timer

    # --- the models' state, read by the app, the admin panel and tests ----------------------

    @property
    def experience(self) -> Experience:
        """The experience on screen (the "back soon" page's while nothing loaded)."""
        return self.navigation.experience

    @property
    def page(self) -> Page | None:
        """The page on screen."""
        return self.navigation.page

    @property
    def history(self) -> list[str]:
        """The way back: ids of the pages this session came through."""
        return self.navigation.history

    @property
    def broken(self) -> str | None:
        """Why nothing could be loaded (the "back soon" page shows), else None."""
        return self.experience_source.broken

    @property
    def fallback(self) -> str | None:
        """Why a stand-in shows instead of the experience staff chose, else None."""
        return self.experience_source.fallback

    @property
    def reloads(self) -> int:
        """Reloads that changed what is shown."""
        return self.experience_source.reloads

    @property
    def source(self) -> Path | None:
        """What hot reload, the retry and a restart read."""
        return self.experience_source.source

    @property
    def state(self) -> SessionState:
        """The session machine's state."""
        return self.session.state

    # --- ShopperScreen: what the admin panel and the control socket ask ---------------------

    def shown_experience(self) -> Experience | None:
        """The experience shoppers see; None while the "back soon" page stands in."""
        return None if self.broken else self.experience

    def experience_findings(self) -> list[Finding]:
        """What the validator said about the experience on screen (a copy)."""
        return list(self.findings)

    def experience_error(self) -> str | None:
        """Why the chosen experience does not show, None when it does."""
        return self.broken or self.fallback

    def current_page(self) -> str | None:
        """The id of the page on screen."""
        return self.page.id if self.page else None

    def session_state(self) -> SessionState:
        """Where the shopper is."""
        return self.session.state

    # --- the experience --------------------------------------------------------------------

    def start(
        self, configured: Path, *, watch: bool = False, history: ActivationHistory | None = None
    ) -> None:
        """Show what staff activated or rolled back to last (``history.active()``, the
        Content page's record), else ``configured``, from its attract page. When it cannot
        be loaded: the last good copy, else the configured file, else the "back soon" page;
        the reason shows red on the admin panel and the file is tried again until it loads."""
        source = self.experience_source.choose(configured, history)
        try:
            experience = load_experience(source)
        except Exception as exc:  # DrawioError, or what the importer did not foresee
            stand_in = self.experience_source.stand_in(configured, load_error(source, exc))
            self._use(stand_in, keep_page=False, chosen=False)
        else:
            self._use(experience, keep_page=False)
            self._keep_last_good(source, experience)
        if watch:
            self.watch(source)

    def activate_experience(self, path: Path, experience: Experience) -> None:
        """Show ``experience``, loaded from ``path`` off the UI thread (the Content page's
        checked drawing), from attract; ``path`` is what hot reload and restart read."""
        source = Path(path)
        self.experience_source.source = source
        self._use(experience, keep_page=False)
        self._keep_last_good(source, experience)
        if self._watcher is not None:
            self.watch(source)

    def restart_experience(self) -> None:
        """Reload the experience from disk off the UI thread, then go back to attract
        (staff command); when it cannot be loaded the one on screen stays."""
        self.reload_in_background(restart=True)

    def _use(
        self,
        experience: Experience,
        *,
        keep_page: bool,
        chosen: bool = True,
        findings: list[Finding] | None = None,
    ) -> None:
        """Show ``experience`` (``chosen``: the one staff chose, not a stand-in), with the
        validator's ``findings`` when a worker already has them."""
        self.findings = findings_of(experience) if findings is None else findings
        load_web_fonts(experience)  # before any page of it is drawn
        if chosen:
            self.experience_source.shown()
            self._retry_timer.stop()
        else:
            self._retry_timer.start()
        self.view.forget_pages()
        self.visibility.reset()
        self.language.use(experience)
        page = self.navigation.use(experience, keep_page=keep_page)
        self.experience_changed.emit()
        if page is not None:
            self._show(page, transition=False)
        else:
            self.go_attract("reload" if keep_page else "load")

    def _keep_last_good(self, source: Path, experience: Experience) -> None:
        folder = self.experience_source.last_good
        if folder is None or experience.source_format == "bundle":
            return
        findings = list(self.findings)  # read here, on the UI thread

        def failed(error: Exception) -> None:
            log.warning("cannot keep a copy of the experience in %s: %s", folder, error)

        self.tasks.run(
            lambda: keep_last_good(source, folder, experience, findings),
            name="keep the last good experience",
            lane=KEEP_LANE,
        ).on_failure(failed)

    # --- hot reload ------------------------------------------------------------------------

    def watch(self, source: Path) -> None:
        """Reload when ``source`` (a file, or a bundle's manifest) changes."""
        target = self.experience_source.watch(source)
        if self._watcher is None:
            self._watcher = QFileSystemWatcher(self)
            self._watcher.fileChanged.connect(lambda _p: self._reload_timer.start())
            self._watcher.directoryChanged.connect(lambda _p: self._reload_timer.start())
            # file-system events do not cross network shares: a cheap look every second
            self._poll = self._timer(POLL_MS, self._poll_source)
            self._poll.start()
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
        if self.experience_source.changed_on_disk():
            self._reload_timer.start()

    def reload_in_background(self, *, restart: bool = False) -> None:
        """Load the source again off the UI thread; shown when ready, current page kept
        (``restart``: from attract)."""
        source = self.experience_source.begin_reload(restart=restart)
        if source is None:
            return
        watched = self.experience_source.watched

        def failed(error: Exception) -> None:
            self._apply_loaded(Loaded(None, load_error(source, error), None))

        self.tasks.run(
            lambda: load_for_reload(source, watched), name=f"load {source}", lane=LOAD_LANE
        ).on_success(self._apply_loaded).on_failure(failed)

    def _apply_loaded(self, loaded: Loaded) -> None:
        if self.allow_close:
            return  # the kiosk is stopping: nothing more is shown
        outcome = self.experience_source.finish_reload(loaded, self.experience)
        if outcome.again:
            self._reload_timer.start()
        source = self.experience_source.source
        if self._watcher is not None and source is not None:
            self.watch(source)
        if outcome.show is None:
            if outcome.restart:
                self.go_attract("restart")
            return
        self._use(outcome.show, keep_page=not outcome.restart, findings=list(loaded.findings))
        if source is not None:
            self._keep_last_good(source, outcome.show)

    # --- navigation ------------------------------------------------------------------------

    def welcome_page(self) -> Page | None:
        """The page a session starts on: the welcome page, else the first other page."""
        return self.navigation.welcome_page()

    def goodbye_page(self) -> Page | None:
        """The page shown for ``goodbye_s`` when a session ends (None when none)."""
        return self.navigation.goodbye_page()

    def siblings(self) -> list[Page]:
        """The pages a swipe moves between (see ``Navigation.siblings``)."""
        return self.navigation.siblings()

    def go_attract(self, reason: str) -> None:
        """End any session (recorded with ``reason``) and show the attract loop from its
        first page."""
        self._goodbye_until = None
        self._end_session(reason)
        self._reset_flags()
        first = self.navigation.restart_attract()
        if first is not None:
            self._show(first, transition=self.page is not None)

    def navigate(self, page_id: str, *, direction: int = 1, push: bool = True) -> bool:
        """Go to ``page_id`` (with the configured transition); False when there is no such
        page."""
        page = self.experience.page(page_id)
        if page is None:
            log.warning("link to a page that does not exist: %s", page_id)
            return False
        if self.page is not None and page.id == self.page.id:
            return True
        if push:
            self.navigation.push_current()
        self._show(page, transition=True, direction=direction)
        return True

    def open_page(self, page_id_or_name: str) -> bool:
        """Show a page by id or name (staff, artists, screenshots); False when none."""
        page = self.navigation.find(page_id_or_name)
        if page is None:
            return False
        if page.role != "attract" and self.session.session_id is None:
            self.session.touch()
            self.recorder.session_start("staff", self.page)
        return self.navigate(page.id)

    def go_back(self) -> None:
        """The previous page of this session (home when there is none)."""
        previous = self.navigation.pop_back()
        if previous is not None:
            self.navigate(previous.id, direction=-1, push=False)
        else:
            self.go_home()

    def go_home(self) -> None:
        """The welcome page."""
        welcome = self.welcome_page()
        if welcome is not None:
            self.navigate(welcome.id, direction=-1)

    def _show(self, page: Page, *, transition: bool, direction: int = 1) -> None:
        self._record_page_left()
        self.take_home.close()
        kind = self.settings.transition if transition else "off"
        self.view.show_page(self.presented(page), kind, self.settings.transition_ms)
        self.view.set_slide_direction(direction)
        self.navigation.arrive(page)
        self.page_since = self.clock()
        self.session.page_viewed()
        self._apply_flags(page, fade=False)
        self.page_changed.emit(page.id)
        QTimer.singleShot(0, self._prepare_neighbours)

    def _record_page_left(self) -> None:
        page = self.page
        if page is None or self.session.session_id is None or page.role == "attract":
            return
        self.recorder.page_view(page, self.clock() - self.page_since)

    def _prepare_neighbours(self) -> None:
        """Render the pages one touch away ahead (the view does it off the UI thread), so
        that going there is a blit."""
        page = self.page
        if page is None or not self.isVisible():
            return
        self.view.render_ahead(self.presented(p) for p in self.navigation.within_reach())

    # --- touches ---------------------------------------------------------------------------

    def on_tap(self, hit: Hit) -> None:
        """A tap: start a session if needed, record it, and do what the shape says."""
        page = self.page
        if page is None or self.broken:
            return
        started = self.session.touch()
        if started:
            self.recorder.session_start("touch", page)
        self.still_there.sync()
        element = hit.element
        payload: JsonObject = {}
        if hit.nx is not None and hit.ny is not None:
            payload["x"], payload["y"] = round(hit.nx, 4), round(hit.ny, 4)
        if element is not None:
            sku = element.properties.get("sku")
            if sku:
                payload["sku"] = sku
        self.recorder.touch(page, element.id if element else None, payload)
        followed = self._act(self.presented(page), element) if element is not None else False
        if started and not followed and self.page is page and self.navigation.resting(page):
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
            self.recorder.action(page, element.id, action.name, action.params)
            if self.take_home.act(page, element, action, linked=isinstance(link, NavigateLink)):
                return True
            if action.name == SET_LANGUAGE:
                self.set_language(action.params.get(LANGUAGE_PARAM, ""))
            if action.name == REACH:
                self.reach.toggle()
                self._apply_reach()
            if action.name == LARGE_TEXT:
                self.large_text.toggle()
                self._relabel()
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

    def presented(self, page: Page) -> Page:
        """``page`` as the shopper sees it: its large-text form in large text mode (its
        ``@a11y`` page, else larger text), in the session's language."""
        return self.language.page(self.large_text.page(page, self.experience))

    def set_language(self, language: str) -> None:
        """Show every page in ``language`` (a shopper's picker) until the session ends."""
        if self.language.pick(language):
            self._relabel()
        elif self.language.current != language.strip().lower():
            log.warning("set-language: %r is not a language code", language)

    def _relabel(self) -> None:
        """The language or large text mode changed: the pages kept or rendered ahead are in
        the old form, so they are let go and the page shown is drawn again (as the shopper
        left it)."""
        self.view.forget_pages()
        page = self.page
        if page is None:
            return
        self.view.show_page(self.presented(page), "off", 0)
        self._apply_flags(page, fade=False)
        if self.reach_button is not None:
            self.reach_button.setText(self.language.text("reach", "Reach"))
        QTimer.singleShot(0, self._prepare_neighbours)

    def _back_to_session_defaults(self) -> None:
        """The session is over: the next shopper starts in the config's language, with
        the page on the whole screen and large text off."""
        if self.language.reset() | self.large_text.off():
            self._relabel()
        if self.reach.off():
            self._apply_reach()

    # --- reach mode ------------------------------------------------------------------------

    def _make_reach_button(self) -> QPushButton:
        button = QPushButton(self.language.text("reach", "Reach"), self)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(self._reach_tapped)
        return button

    def _reach_tapped(self) -> None:
        """The kiosk's own reach button: a touch like any other, then reach on or off."""
        page = self.page
        if page is None or self.broken:
            return
        self._touched(page)
        on = self.reach.toggle()
        self.recorder.action(page, "kiosk-reach-button", REACH, {"on": on})
        self._apply_reach()

    def _apply_reach(self) -> None:
        """Put the page in the reach band (or back on the whole screen): the view gets the
        window's part below the reach line and fits the page in it."""
        self._layout.setContentsMargins(0, self.reach.line(self.height()), 0, 0)
        self._layout.activate()
        button = self.reach_button
        if button is not None:
            side = max(64, round(min(self.width(), self.height()) * 0.08))
            button.setGeometry(side // 4, self.height() - side - side // 4, side * 2, side)
            button.setStyleSheet(
                "QPushButton { background: #0b6a9e; color: white; border-radius: 12px;"
                f" font-weight: bold; font-size: {side // 3}px; }}"
            )
            button.setText(self.language.text("reach", "Reach"))
            button.raise_()
        QTimer.singleShot(0, self._prepare_neighbours)

    def _touched(self, page: Page) -> None:
        """A touch that is not a tap on the page (a swipe, the kiosk's own button): the
        session starts or goes on, and a "Still there?" prompt is answered."""
        if self.session.touch():
            self.recorder.session_start("touch", page)
        self.still_there.sync()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The reach line and the reach button follow the window's size."""
        super().resizeEvent(event)
        self._apply_reach()

    def on_swipe(self, direction: int) -> None:
        """A swipe: the next (+1) or previous (-1) sibling page."""
        page = self.page
        if page is None or self.broken:
            return
        self._touched(page)
        self.recorder.touch(page, None, {"gesture": "swipe", "direction": direction})
        target = self.navigation.sibling(direction)
        if target is not None:
            self.navigate(target.id, direction=direction, push=False)

    # --- in-page actions -------------------------------------------------------------------

    def run_actions(self, page: Page, link: ActionLink) -> None:
        """Run show/hide/toggle steps in order, fading what changes."""
        self.visibility.run(page, link)
        self._apply_flags(page, fade=True)

    def shown(self, page: Page, element: Element) -> bool:
        """Whether ``element`` shows now, given the show/hide/toggle steps run on ``page``."""
        return self.visibility.shown(page, element)

    def _apply_flags(self, page: Page, *, fade: bool) -> None:
        if not self.visibility.changed(page):
            return
        for element_id, shown in self.visibility.states(page).items():
            self.view.set_shown(element_id, shown, fade=fade)

    def _reset_flags(self) -> None:
        pages = [self.experience.page(p) for p in self.visibility.reset()]
        current = self.view.scene
        for page in pages:
            if page is None:
                continue
            self.view.scene = self.view.scene_for(self.presented(page))
            for element in page.elements:
                self.view.set_shown(element.id, element.visible, fade=False)
        self.view.scene = current

    # --- sessions --------------------------------------------------------------------------

    def _end_session(self, reason: str) -> None:
        if self.session.session_id is None:
            return
        self._record_page_left()
        ended = self.session.end(reason)
        if ended is not None:
            self.still_there.ended(ended, by_itself=False)
            self.recorder.session_end(ended, self.page)
        self._back_to_session_defaults()

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
        self.still_there.sync()
        if self.session.attract_due():
            page = self.navigation.next_attract()
            if page is not None:
                self._show(page, transition=True)

    def _record_ended(self, ended: SessionEnd) -> None:
        """A session the machine ended by itself: record it and go back to attract."""
        page = self.page
        if page is not None and page.role != "attract":
            self.recorder.page_view(page, self.clock() - self.page_since, ended=ended)
        self.still_there.ended(ended, by_itself=True)
        self.recorder.session_end(ended, page)
        self._back_to_session_defaults()
        goodbye = self.goodbye_page()
        if goodbye is not None and self.settings.goodbye_s > 0:
            # a thank-you before the attract loop; a touch meanwhile starts a new session
            self.navigation.history.clear()
            self._reset_flags()
            self._show(goodbye, transition=True)
            self._goodbye_until = self.clock() + self.settings.goodbye_s
            return
        self.go_attract(ended.reason)

    def on_presence(self, state: PresenceState) -> None:
        """A presence report from the sensor, on the UI thread."""
        zone = str(state.zone.value)
        previous = self.session.zone
        staff = self.session.staff_at_kiosk  # staff's presence is not a shopper's
        simulated = bool(state.simulated)
        started = False if self.broken else self.session.presence(zone, simulated=simulated)
        self.still_there.sync()
        if zone != previous and not staff:
            payload: JsonObject = {
                "zone": zone,
                "previous": previous,
                "people": state.people,
                "distance_m": state.distance_m,
                "looking": state.looking,
            }
            self.recorder.presence_change(self.page, payload, simulated=simulated)
        if started:
            self.recorder.session_start("presence", self.page)
            welcome = self.welcome_page()
            if welcome is not None:
                self.navigate(welcome.id)

    def recover(self) -> None:
        """After an unexpected error: back to attract, as if the session had timed out."""
        try:
            self.view.forget_pages()
            self.navigation.forget_page()
            self.go_attract("error")
        except Exception:
            log.exception("could not go back to attract after an error")

    def touch_targets(self) -> list[TouchTarget]:
        """Where a shopper can touch on the page shown now, in window pixels."""
        page = self.page
        if page is None or self.view.scene is None:
            return []
        targets = []
        for element in page.elements:
            aim = touch_aim(page, element)
            point = self.view.touch_point(element.id) if aim is not None else None
            if aim is None or point is None:
                continue
            at = self.view.mapTo(self, point)
            targets.append(TouchTarget(page.id, element.id, aim[0], at.x(), at.y(), aim[1]))
        return targets

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
        """Stop the timers and end the session; the window may close (a load still
        running is no longer shown: the task runner is the composition root's to stop)."""
        self._ticker.stop()
        self._reload_timer.stop()
        self._retry_timer.stop()
        if self._poll is not None:
            self._poll.stop()
        if self.session.session_id is not None:
            self._end_session("exit")
        self.allow_close = True


def touch_aim(page: Page, element: Element) -> tuple[Literal["link", "action"], str] | None:
    """What touching ``element`` does: ("link", page id) or ("action", what it runs); None
    when nothing."""
    link = page.link_for(element.id)
    action = element.kiosk_action
    if isinstance(link, NavigateLink):
        return "link", link.page_id
    if action is not None:
        return "action", action.name
    if isinstance(link, ActionLink):
        return "action", "+".join(a.action for a in link.actions)
    return None
