"""The composition root: builds every service from the config, starts them in order and
stops them with one call. The only module that wires the kiosk's parts together: each part
gets its typed collaborators as constructor arguments.

Order: task runner -> (fleet bundles recovered) -> shopper window (its first page painted)
-> event log -> presence service -> uplink -> fleet shadow -> fleet jobs -> admin panel ->
schedule -> control socket. The shopper sees the first page before storage, the camera and
the uplink start (issue 17: a kiosk restarted by systemd is back on screen at once): ``run``
starts them right after the first paint, on the task runner's boot lane, and the
interactions recorded meanwhile are kept in memory and written to the event log once it is
up. Each optional part that fails to start is logged and left out (a kiosk without storage,
camera or uplink still serves shoppers); ``Kiosk.stop()`` stops what started, in reverse
order, including parts still starting.
"""

from __future__ import annotations

import functools
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QApplication

from kiosk.admin.library import ContentLibrary
from kiosk.models.interactions import EventRecorder, MemorySink
from kiosk.screen.window import KioskWindow
from kiosk.service_watchdog import start_service_watchdog
from kiosk.tasks import TaskRunner
from kiosk.ui_gc import UiGarbageCollector
from settings import KioskConfig

if TYPE_CHECKING:
    from fleet.bundles import BundleStore
    from fleet.shadow import ShadowAgent
    from kiosk.admin.controller import AdminController
    from kiosk.control import ControlServer
    from kiosk.fleet_link import FleetJobs
    from kiosk.models.experience_source import ActivationHistory
    from kiosk.schedule_runner import ScheduleRunner
    from sensors import PresenceSensor, PresenceService, PresenceState, SensorHealth
    from storage import Event, EventLog, Outbox
    from uplink import UplinkService

#: At a graceful stop, how long a connected uplink may take to send the last events.
UPLINK_DRAIN_S = 3.0
#: At a stop, how long background tasks (an experience load, a copy) may take to finish.
TASKS_STOP_S = 5.0
#: How often the UI thread checks whether Python's cyclic garbage collection is due.
GC_INTERVAL_S = 0.5
#: The task runner's lane the parts behind the first page start on, one after the other.
BOOT_LANE = "boot"
#: The exit code of a restart the fleet asked for: systemd's unit (Restart=always) starts the
#: kiosk again, and its record-stop notes a clean stop, not a crash (no crash loop counted).
RESTART_EXIT_CODE = 0

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BackgroundParts:
    """The parts that start behind the first page, off the UI thread; each None when it is
    not configured or did not start (logged)."""

    event_log: EventLog | None = None
    sensor: PresenceSensor | None = None
    presence: PresenceService | None = None
    uplink: UplinkService | None = None
    outbox: Outbox | None = None
    shadow: ShadowAgent | None = None
    jobs: FleetJobs | None = None


class Kiosk:
    """Every running part of one kiosk, built from its config."""

    def __init__(self, config: KioskConfig, *, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        #: The one way to run work off the UI thread; a failure nobody handled is logged
        #: and shown on the admin panel's Kiosk tile (``TaskRunner.unhandled_failure``).
        self.tasks = TaskRunner(failure_handler=self._on_task_failure)
        self.recorder = EventRecorder(config, MemorySink())
        self.event_log: EventLog | None = None
        self.presence: PresenceService | None = None
        self.sensor: PresenceSensor | None = None
        self.uplink: UplinkService | None = None
        self.shadow: ShadowAgent | None = None
        #: ``[fleet] jobs``: the bundles (recovered before the first page) and the jobs agent
        self.bundles: BundleStore | None = None
        self.jobs: FleetJobs | None = None
        #: what a fleet restart job calls (UI thread): ends the process for systemd to restart
        self.restart: Callable[[str], None] = self.restart_process
        self.admin: AdminController | None = None
        self.control: ControlServer | None = None
        self.window: KioskWindow | None = None
        self.schedule: ScheduleRunner | None = None
        self.started_at = time.time()
        self._health: SensorHealth | None = None
        self._state: PresenceState | None = None
        self._stopped = False
        self._outbox: Outbox | None = None
        #: Parts started on the boot lane and not yet taken in by the UI thread; guarded by
        #: ``_boot_lock`` with ``_stopping``, so that a stop during the start misses none.
        self._unadopted: BackgroundParts | None = None
        self._stopping = False
        self._boot_lock = threading.Lock()
        #: True once every part has started (or was left out) and the admin panel is in.
        self.started = False

    # --- start -----------------------------------------------------------------------------

    def open_event_log(self) -> EventLog | None:
        """``storage.EventLog``, keeping the dashboards' day rollups in each batch's
        transaction; None when it cannot even start (logged: events stay in memory). Runs on
        the boot lane: no Qt here."""
        from storage import EventLog
        from storage.rollups import DayRollups

        try:
            rollups = DayRollups(self.config.storage.retention_days)
            event_log = EventLog(self.config, batch_hooks=[rollups])
            event_log.start()
        except Exception:
            log.exception("the event log did not start: interactions are kept in memory only")
            return None
        return event_log

    def open_presence(self, parts: BackgroundParts) -> None:
        """The presence service for the configured sensor (none for a touch-only kiosk), into
        ``parts``. Its reports arrive on the sensor thread and are posted to the UI thread."""
        try:
            from sensors import PresenceService, build_sensor

            sensor = build_sensor(self.config.sensors)
            service = PresenceService(
                sensor,
                on_state=self.report_state,
                on_health=self.report_health,
                settings=self.config.sensors,
            )
            service.start()
        except Exception:
            log.exception("the presence sensor did not start: touch only")
            return
        parts.sensor, parts.presence = sensor, service

    def open_uplink(self, parts: BackgroundParts) -> None:
        """The uplink to the cloud, into ``parts``, when ``[uplink] enabled`` and storage is
        running."""
        if not self.config.uplink.enabled:
            return
        if parts.event_log is None:
            log.warning("uplink enabled but storage is not running: no uplink")
            return
        try:
            import storage
            import uplink

            parts.outbox = storage.Outbox(parts.event_log.database)
            service = uplink.UplinkService(self.config, parts.outbox)
            service.start()
        except Exception:
            log.exception("the uplink did not start: events stay in the outbox")
            return
        parts.uplink = service

    def _open_shadow(self, parts: BackgroundParts) -> ShadowAgent | None:
        """The fleet's Device Shadow agent when ``[fleet] shadow`` is on; any failure is
        logged and the kiosk runs without it (the parts already started must still be taken
        in, or the interactions kept meanwhile would never reach the event log)."""
        assert parts.event_log is not None
        try:
            from kiosk.fleet_shadow import start_shadow

            return start_shadow(
                self.config, parts.event_log, parts.outbox, self.tasks.post, self.bundles
            )
        except Exception:
            log.exception("the fleet shadow did not start: the kiosk runs without it")
            return None

    def _open_jobs(self) -> FleetJobs | None:
        """The fleet's jobs agent when ``[fleet] jobs`` is on; any failure is logged and the
        kiosk runs without it."""
        window, bundles = self.window, self.bundles
        if window is None or bundles is None:
            return None
        try:
            from kiosk.fleet_link import start_jobs

            return start_jobs(
                self.config, window=window, tasks=self.tasks, bundles=bundles,
                restart=lambda reason: self.restart(reason),
            )  # fmt: skip
        except Exception:
            log.exception("the fleet's jobs did not start: the kiosk runs without them")
            return None

    def start_parts(self) -> BackgroundParts:
        """Start the event log, the presence service and the uplink, in that order (any
        thread: the boot lane in ``run``); each that fails is logged and left out. They are
        the UI thread's once :meth:`adopt` takes them, and :meth:`stop` stops them either
        way; when the kiosk is stopping already, they are stopped here at once."""
        parts = BackgroundParts(event_log=self.open_event_log())
        self.open_presence(parts)
        self.open_uplink(parts)
        if parts.event_log is not None:
            parts.shadow = self._open_shadow(parts)
        parts.jobs = self._open_jobs()
        with self._boot_lock:
            late = self._stopping
            if not late:
                self._unadopted = parts
        if late:
            log.info("the kiosk stopped while its parts were starting: stopping them")
            self._take(parts)
            self._stop_all(self._stop_parts())
        return parts

    def adopt(self) -> BackgroundParts | None:
        """Take in the parts :meth:`start_parts` started (UI thread): the interactions kept
        in memory meanwhile go to the event log, in order, before any new one. None when
        there is nothing to take (already taken, or stopped)."""
        with self._boot_lock:
            parts, self._unadopted = self._unadopted, None
        if parts is not None:
            self._take(parts)
        return parts

    def _take(self, parts: BackgroundParts) -> None:
        self.sensor, self.presence = parts.sensor, parts.presence
        self.uplink, self._outbox = parts.uplink, parts.outbox
        self.shadow, self.jobs = parts.shadow, parts.jobs
        event_log = parts.event_log
        if event_log is None:
            return
        self.event_log = event_log
        kept = self.recorder.sink
        self.recorder.sink = event_log
        if isinstance(kept, MemorySink):
            write_kept_events(list(kept.events), event_log)
            kept.events.clear()

    def start_window(self) -> KioskWindow:
        """The shopper window, showing the configured experience."""
        window = KioskWindow(
            config=self.config, recorder=self.recorder, tasks=self.tasks, clock=self.clock
        )
        self.window = window
        session = window.session
        # admin events belong to no shopper; a session simulated presence started or joined
        # is simulated in every event, and so is everything while a generator drives the kiosk
        self.recorder.session_id = lambda: None if session.staff else session.session_id
        self.recorder.simulated = lambda: self.simulated or session.simulated
        if self._health is not None:
            session.sensor_online(self._health.online)
        self._show_window(window)
        # what a manager activated on the Content page outlives a restart or a power cut, and
        # so does the fleet's active bundle (a deployment killed half-way is undone first)
        kiosk = self.config.kiosk
        history: ActivationHistory = ContentLibrary.for_config(self.config)
        if self.config.fleet.jobs:
            from kiosk.fleet_link import recover_bundles

            self.bundles, history = recover_bundles(self.config)
        window.start(kiosk.experience, watch=kiosk.watch, history=history)
        window.activateWindow()
        window.setFocus()
        return window

    def _show_window(self, window: KioskWindow) -> None:
        kiosk = self.config.kiosk
        window.resize(1280, 720)
        if kiosk.fullscreen:
            window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
            screens = QGuiApplication.screens()
            if screens:
                screen = screens[min(kiosk.screen, len(screens) - 1)]
                window.setScreen(screen)
                window.setGeometry(screen.geometry())
            window.showFullScreen()
        else:
            window.show()
        if kiosk.hide_cursor:
            window.setCursor(QCursor(Qt.CursorShape.BlankCursor))

    def install_admin(self) -> None:
        """The hidden staff panel (its own package); a broken panel never stops the kiosk."""
        window = self.window
        assert window is not None
        try:
            from kiosk.admin import install_admin

            self.admin = install_admin(
                window,
                config=self.config,
                screen=window,
                record=self.recorder.record,
                tasks=self.tasks,
                event_log=self.event_log,
                uplink=self.uplink,
                presence=self.presence,
                exit_kiosk=self.exit,
                started_at=self.started_at,
                note_change=self.shadow.note_local_change if self.shadow is not None else None,
                schedule=lambda: self.schedule,
            )
            self.admin.stateChanged.connect(self._on_admin_state)
        except ImportError as exc:
            log.warning("admin panel not available: %s", exc)
        except Exception:
            log.exception("admin panel failed to install; the kiosk runs without it")

    def start_schedule(self) -> None:
        """Opening hours and dayparting (``[schedule] enabled``): the screen off and the
        camera and Redis mirror idle while closed, the daypart's attract pages."""
        window = self.window
        assert window is not None
        if not self.config.schedule.enabled:
            return
        import datetime as dt

        from kiosk.models.schedule import Schedule, ScheduleWatch
        from kiosk.schedule_runner import Idler, ScheduleRunner

        idlers = []
        if self.presence is not None:
            idlers.append(Idler("camera", self.presence.pause, self.presence.resume))
        event_log = self.event_log
        if event_log is not None:
            idlers.append(Idler("Redis mirror", event_log.pause_mirror, event_log.resume_mirror))
        watch = ScheduleWatch(
            Schedule(self.config.schedule), lambda: dt.datetime.now(dt.UTC), time.monotonic
        )
        self.schedule = ScheduleRunner(
            watch=watch,
            window=window,
            tasks=self.tasks,
            check_s=self.config.schedule.check_s,
            idlers=idlers,
            parent=window,
        )
        self.schedule.start()

    def start_control(self, path: Path) -> None:
        """The local control socket ``python -m simulation`` drives the kiosk through."""
        window = self.window
        assert window is not None
        from kiosk.control import ControlError, ControlServer

        server = ControlServer(
            path,
            window=window,
            screen=window,
            recorder=self.recorder,
            sensor=self.sensor,
            presence=self.presence,
            event_log=self.event_log,
            uplink=self.uplink,
        )
        try:
            server.start()
        except ControlError as exc:
            log.error("%s", exc)
            return
        self.control = server

    def start(self, *, control: Path | None = None) -> KioskWindow:
        """Start everything in order, each part before the next, on this thread (tests and
        tools); returns the window. ``run`` starts the same parts behind the first page."""
        window = self.start_window()
        self.start_parts()
        self.finish_start(control=control)
        return window

    def start_behind(self, *, control: Path | None = None) -> None:
        """The shopper window is painted: start the event log, presence and uplink on the
        boot lane, then (back on the UI thread) take them in and add the admin panel, the
        schedule and the control socket. The UI thread never waits for them."""
        if self._stopped:
            return  # stopped before its first page was painted: nothing more starts
        task = self.tasks.run(self.start_parts, name="start the kiosk's parts", lane=BOOT_LANE)
        task.on_success(lambda _parts: self.finish_start(control=control))

        def failed(error: Exception) -> None:
            # its traceback is in the log; the parts it started are taken in all the same
            log.error("starting the kiosk's parts failed: %s", error)
            self.finish_start(control=control)

        task.on_failure(failed)

    def finish_start(self, *, control: Path | None = None) -> None:
        """UI thread, once the parts have started: take them in, then add the admin panel,
        the schedule and the control socket (``started`` then)."""
        if self._stopped:
            return
        self.adopt()
        self.install_admin()
        self.start_schedule()
        if control is not None:
            self.start_control(control)
        self.started = True
        log.info(
            "kiosk parts: event log %s, presence %s, uplink %s",
            *("on" if part is not None else "off" for part in self.parts()),
        )

    def parts(self) -> tuple[EventLog | None, PresenceService | None, UplinkService | None]:
        """The event log, presence service and uplink (None: not running, or not yet)."""
        return self.event_log, self.presence, self.uplink

    @property
    def simulated(self) -> bool:
        """True while the session generator drives the kiosk: its events are simulated."""
        return self.control is not None and self.control.simulated

    # --- sensor reports: made on the sensor thread, handled on the UI thread ---------------

    def report_state(self, state: PresenceState) -> None:
        """A presence report (any thread): handed to the UI thread."""
        self.tasks.post(functools.partial(self._on_state, state))

    def report_health(self, health: SensorHealth) -> None:
        """A sensor health report (any thread): handed to the UI thread."""
        self.tasks.post(functools.partial(self._on_health, health))

    @property
    def sensor_health(self) -> SensorHealth | None:
        """The sensor's last reported health (None before its first report)."""
        return self._health

    @property
    def presence_state(self) -> PresenceState | None:
        """What the sensor last saw (None while it sees nothing it can vouch for)."""
        return self._state

    def _on_state(self, state: PresenceState) -> None:
        self._state = state
        if self.schedule is not None and self.schedule.closed:
            return  # no shoppers while the shop is closed (a report already on its way)
        if self.window is not None:
            self.window.on_presence(state)

    def _on_health(self, health: SensorHealth) -> None:
        if self._health is None or health.status != self._health.status:
            log.info("sensor: %s %s", health.status, health.message)
        self._health = health
        if not health.online:
            self._state = None  # what it last saw is no longer true
        if self.window is not None:
            # unplugged, failed or ended: touch-only timing from now on
            self.window.session.sensor_online(health.online)

    def _on_task_failure(self, name: str, error: Exception) -> None:
        """A background task failed and its caller gave no ``on_failure``: a bug. Its
        traceback is in the log already; this says so once more by name, and the admin
        panel's Kiosk tile shows it (``TaskRunner.unhandled_failure``)."""
        log.error(
            "background task %r failed and nothing handled it (shown to staff): %s", name, error
        )

    def _on_admin_state(self, state: str) -> None:
        """The admin pad or panel opened or closed: while it is up, whoever is at the kiosk
        is staff (the shopper's session ends; no presence events, no sessions)."""
        window = self.window
        if window is None:
            return
        staff = state != "closed"
        if staff and not window.session.staff:
            window.go_attract("staff")
            window.session.staff_arrived()
            log.info("admin %s: presence is staff's until they leave", state)
        elif not staff and window.session.staff:
            window.session.staff_left()

    # --- stop ------------------------------------------------------------------------------

    def restart_process(self, reason: str) -> None:
        """The fleet asked for a restart (UI thread): quit the event loop with
        :data:`RESTART_EXIT_CODE`; ``run`` stops every part and systemd starts the kiosk
        again (a kiosk run by hand just ends)."""
        log.warning("restarting the kiosk: %s", reason)
        app = QApplication.instance()
        if app is not None:
            app.exit(RESTART_EXIT_CODE)

    def exit(self) -> None:
        """Leave the kiosk (staff): stop everything and quit the event loop."""
        self.stop()
        app = QApplication.instance()
        if app is not None:
            app.exit(0)

    def stop(self) -> None:
        """Stop every part that started, in reverse order; safe to call twice. Parts still
        starting on the boot lane are waited for (with the background tasks) and stopped;
        one that starts even later stops itself (``start_parts``)."""
        if self._stopped:
            return
        self._stopped = True
        with self._boot_lock:
            self._stopping = True
        self._stop_all(self._front_stop_steps())
        self.adopt()  # started, not taken in yet: their kept interactions are written too
        self._stop_all(self._stop_parts())

    @staticmethod
    def _stop_all(steps: list[tuple[str, Callable[[], Any]]]) -> None:
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("stopping the %s failed", name)

    def _front_stop_steps(self) -> list[tuple[str, Callable[[], Any]]]:
        steps: list[tuple[str, Callable[[], Any]]] = []
        if self.control is not None:
            steps.append(("control socket", self.control.close))
        if self.admin is not None:
            steps.append(("admin panel", self.admin.shutdown))
        if self.schedule is not None:
            steps.append(("schedule", self.schedule.stop))
        if self.jobs is not None:  # before the window: a job may be asking it something
            steps.append(("fleet jobs", self.jobs.stop))
        if self.window is not None:
            steps.append(("window", self._close_window))
        steps.append(("background tasks", lambda: self.tasks.shutdown(TASKS_STOP_S)))
        return steps

    def _stop_parts(self) -> list[tuple[str, Callable[[], Any]]]:
        steps: list[tuple[str, Callable[[], Any]]] = []
        uplink, event_log = self.uplink, self.event_log
        if self.presence is not None:
            steps.append(("presence sensor", self.presence.stop))
        if self.shadow is not None:
            steps.append(("fleet shadow", self.shadow.stop))
        if self.jobs is not None:  # taken in after the window closed: safe twice
            steps.append(("fleet jobs", self.jobs.stop))
        # the log first: the last events (a session ended by the stop) reach the outbox,
        # and a connected uplink gets a moment to send them before it stops too
        if event_log is not None:
            steps.append(("event log", lambda: event_log.stop(timeout=5.0)))
        if uplink is not None:
            steps.append(("uplink", lambda: self._stop_uplink(uplink)))
        return steps

    def _stop_uplink(self, uplink: UplinkService, drain_s: float = UPLINK_DRAIN_S) -> None:
        """Let a connected uplink send what is left in the outbox (up to ``drain_s``), then
        stop it; whatever is still unsent goes on the next start."""
        deadline = time.monotonic() + drain_s
        try:
            while time.monotonic() < deadline and uplink.status().connected:
                if self._outbox is None or self._outbox.backlog().events == 0:
                    break
                time.sleep(0.05)
        except Exception:
            log.exception("could not read the uplink backlog before stopping")
        uplink.stop(timeout=5.0)

    def _close_window(self) -> None:
        assert self.window is not None
        self.window.shutdown()
        self.window.close()


def write_kept_events(events: list[Event], event_log: EventLog) -> None:
    """Hand ``event_log`` the interactions kept in memory while it started, oldest first.
    One it refuses is logged with the reason (the log would have refused it all the same)."""
    from storage import EventRejected

    for event in events:
        try:
            event_log.append(event)
        except EventRejected as exc:
            log.warning("an interaction recorded before the event log started: %s", exc)
    if events:
        log.info("%d interactions recorded before the event log started: written", len(events))


def install_excepthook(kiosk: Kiosk) -> None:
    """An exception escaping a slot is logged and the shopper goes back to attract: no
    traceback dialog, no crash."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("unexpected error; back to attract", exc_info=(kind, value, tb))
        if kiosk.window is not None:
            kiosk.window.recover()

    sys.excepthook = hook


def run(
    config: KioskConfig,
    *,
    log_file: Path | None = None,
    screenshot: Path | None = None,
    screenshot_delay_s: float = 3.0,
    control: Path | None = None,
    start_page: str | None = None,
) -> int:
    """Run the kiosk until it is told to stop (SIGTERM/SIGINT); returns the exit code."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setApplicationName("Retail Edge Kiosk")
    # Python's cyclic garbage collector runs in whichever thread happens to allocate: on the
    # event log writer, the sensor or the experience loader it would destroy Qt objects
    # (pages, timers, animations caught in reference cycles) off the UI thread, leaving
    # their timers registered, and the next timer event crashes the process. Automatic
    # collection is switched off and done on a UI-thread timer instead.
    collector = UiGarbageCollector(GC_INTERVAL_S)
    kiosk = Kiosk(config)
    install_excepthook(kiosk)
    window = kiosk.start_window()
    # under systemd (Type=notify): READY=1 once the first page is painted, then the watchdog
    # is petted from this thread's event loop, so a frozen screen is restarted; storage, the
    # camera, the uplink and the admin panel start right after READY=1, behind the first page
    watchdog = start_service_watchdog(
        window.view,
        lambda: f"showing {window.current_page()}",
        then=lambda: kiosk.start_behind(control=control),
    )
    if start_page is not None:
        open_start_page(window, start_page)

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        # exit(), not quit(): quit() asks the windows first, and the shopper window says no
        app.exit(0)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # Python runs signal handlers only when it holds the interpreter; this timer gives it
    # that chance while Qt's event loop runs in C++.
    wake = QTimer()
    wake.start(200)
    wake.timeout.connect(lambda: None)
    if screenshot is not None:
        QTimer.singleShot(int(screenshot_delay_s * 1000), lambda: save_screenshot(screenshot))
    log.info("kiosk started (log file %s)", log_file)
    try:
        code = app.exec()
    finally:
        watchdog.stopping()
        kiosk.stop()
        collector.stop()
        gc.collect()  # still on the UI thread
    log.info("kiosk stopped")
    return int(code)


def open_start_page(window: KioskWindow, page: str) -> None:
    """``--start-page``: open ``page`` (id or name) instead of attract; a page the experience
    does not have is logged with the ones it has."""
    if not window.open_page(page):
        log.error(
            "--start-page %s: no such page (ids and names: %s)",
            page,
            ", ".join(f"{p.id} {p.name!r}" for p in window.experience.pages),
        )


def save_screenshot(path: Path) -> None:
    """Grab the whole primary screen (what a shopper sees) into a PNG file."""
    screen = QApplication.primaryScreen()
    pixmap = screen.grabWindow(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if pixmap.save(str(partial), "PNG"):
        partial.replace(path)  # whoever waits for the file never sees half a PNG
        log.info("screenshot saved to %s", path)
    else:
        log.error("could not save the screenshot to %s", path)
