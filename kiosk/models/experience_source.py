"""Which experience the shopper screen shows and what became of its loads: the file chosen
at start (what staff activated last, else the configured one), the stand-ins when it cannot
be loaded (the last good copy, the configured file, the built-in "back soon" page), the
reload bookkeeping (a change during a load loads again; the same error again is not news)
and the last good copy kept as a bundle.

The state lives on the UI thread. :func:`load_for_reload` and :func:`keep_last_good` are
what runs on a worker (through ``kiosk.tasks``): they read only their arguments and return
or raise; the UI thread applies their outcome with :meth:`ExperienceSource.finish_reload`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from designer_import import DrawioError, Finding, build_bundle, load_experience, validate
from designer_import.model import Element, Experience, Geometry, Label, Page, ShapeKind, Style

log = logging.getLogger(__name__)

BACK_SOON_ID = "back-soon"
#: The folder (under the data directory) the last experience that loaded is kept in.
LAST_GOOD_FOLDER = "experience-last-good"

#: (mtime ns, size) of a file: what "changed" means for hot reload.
Signature = tuple[int, int]


class ActivationEntry(Protocol):
    """One record of the activation history (``kiosk.admin.library.ContentEntry``)."""

    @property
    def path(self) -> str:
        """The drawing or bundle folder activated."""
        ...

    @property
    def role(self) -> str:
        """Who put it there: "config", "activated", "rollback", ..."""
        ...


class ActivationHistory(Protocol):
    """What staff activated, in order (``kiosk.admin.library.ContentLibrary``)."""

    def active(self) -> ActivationEntry | None:
        """The entry to show now, None when the history is empty."""
        ...


@dataclass(frozen=True, slots=True)
class Loaded:
    """A background load's outcome: the experience, or why there is none."""

    experience: Experience | None
    error: str | None
    #: The watched file's signature, taken before it was read.
    signature: Signature | None
    #: What the validator said about ``experience`` (validated on the worker too).
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What the screen does with a finished reload."""

    #: The experience to show (None: keep the one on screen).
    show: Experience | None
    #: A staff restart: from attract (even when nothing new loaded).
    restart: bool
    #: The file changed again during the load: load it once more.
    again: bool


def file_signature(path: Path | None) -> Signature | None:
    """(mtime ns, size) of a file, None when it is not there."""
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


def load_for_reload(source: Path, watched: Path | None) -> Loaded:
    """Load ``source`` again (on a worker); a file that cannot be loaded is an answer, not
    an exception."""
    signature = file_signature(watched)
    try:
        experience = load_experience(source)
    except Exception as exc:  # DrawioError names the cause; nothing may take the kiosk down
        return Loaded(None, load_error(source, exc), signature)
    return Loaded(experience, None, signature, tuple(findings_of(experience)))


def findings_of(experience: Experience) -> list[Finding]:
    """What the validator says about ``experience``; a validator bug is logged, not raised
    (the experience is shown all the same)."""
    try:
        return validate(experience)
    except Exception:
        log.exception("validating %s failed", experience.source_path)
        return []


def keep_last_good(
    source: Path, folder: Path, experience: Experience, findings: list[Finding]
) -> None:
    """Write ``experience`` as a bundle to ``folder`` (on a worker); a file-system problem
    is logged as a warning, anything else raises."""
    try:
        build_bundle(source, folder, experience=experience, findings=findings)
    except DrawioError as exc:  # it names the cause (disk full, no permission)
        log.warning("cannot keep a copy of the experience in %s: %s", folder, exc)


class ExperienceSource:
    """Where the experience comes from and how its loads went (UI thread)."""

    def __init__(self, data_dir: Path | None) -> None:
        #: What hot reload, the retry and a restart read (None before start).
        self.source: Path | None = None
        #: The file whose changes mean "reload" (a bundle's manifest, or the drawing).
        self.watched: Path | None = None
        self.signature: Signature | None = None
        #: Why nothing could be loaded (the "back soon" page shows), else None.
        self.broken: str | None = None
        #: Why a stand-in (the last good copy, the configured file) shows instead of the
        #: experience staff activated; None when the chosen one shows.
        self.fallback: str | None = None
        #: Reloads that changed what is shown.
        self.reloads = 0
        self.last_good = None if data_dir is None else data_dir / LAST_GOOD_FOLDER
        self._loading = False
        self._again = False
        self._restart = False
        self._last_error: str | None = None

    def choose(self, configured: Path, history: ActivationHistory | None) -> Path:
        """The source to show at start: what staff activated or rolled back to last, else
        ``configured``."""
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
        return source

    def stand_in(self, configured: Path, error: str) -> Experience:
        """The source did not load at start (``error``): the last good copy, else the
        configured file, else the "back soon" page; the reason is kept for the admin panel."""
        source = self.source or configured
        log.error("experience %s cannot be loaded: %s", source, error)
        fallbacks = [(self.last_good, "the last good copy")]
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
            self.fallback = f"{error}; showing {what}"
            return experience
        self.broken = error
        return back_soon_experience(source)

    def shown(self) -> None:
        """The chosen experience shows now (a load, a reload, an activation)."""
        self.broken = None
        self.fallback = None

    @property
    def standing_in(self) -> bool:
        """Whether a stand-in shows (the retry timer runs while it does)."""
        return self.broken is not None or self.fallback is not None

    def watch(self, source: Path) -> Path:
        """Watch ``source`` (a file, or a bundle's manifest) from now on; the file watched."""
        self.watched = source / "manifest.json" if source.is_dir() else source
        self.signature = file_signature(self.watched)
        return self.watched

    def changed_on_disk(self) -> bool:
        """Whether the watched file changed since last asked (the poll's question)."""
        signature = file_signature(self.watched)
        if signature == self.signature:
            return False
        self.signature = signature
        return True

    def begin_reload(self, *, restart: bool = False) -> Path | None:
        """The source to load now, None when there is none or a load runs (then it loads
        again when that one is done, so no change is missed)."""
        if self.source is None:
            return None
        self._restart = self._restart or restart
        if self._loading:
            self._again = True
            return None
        self._loading = True
        self._again = False
        return self.source

    def finish_reload(self, loaded: Loaded, current: Experience) -> ReloadOutcome:
        """Take a finished load's outcome (UI thread): what to show, whether to load again."""
        self._loading = False
        restart, self._restart = self._restart, False
        again = self._again
        self.signature = loaded.signature
        experience = loaded.experience
        if experience is None:
            # the same error again (the retry while "back soon" shows) is not news
            news = loaded.error != self._last_error or restart
            log.log(
                logging.WARNING if news else logging.DEBUG,
                "reload: %s (still showing the previous experience)",
                loaded.error,
            )
            self._last_error = loaded.error
            return ReloadOutcome(None, restart, again)
        self._last_error = None
        if (
            experience.source_hash
            and experience.source_hash == current.source_hash
            and not self.standing_in
            and not restart
        ):
            return ReloadOutcome(None, False, again)
        self.reloads += 1
        log.info("experience reloaded from %s", experience.source_path)
        return ReloadOutcome(experience, restart, again)


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

    hand = "#ffd166"
    page = Page(
        id=BACK_SOON_ID,
        name="Back soon",
        role="attract",
        width=1920.0,
        height=1080.0,
        background="#0f3b46",
        elements=[
            # a clock face: the kiosk is resting, not broken
            shape(
                "face",
                ShapeKind.ELLIPSE,
                Geometry(890.0, 150.0, 140.0, 140.0),
                "#1d5866",
                "#7fc4cf",
            ),
            shape("hand", ShapeKind.RECTANGLE, Geometry(955.0, 175.0, 10.0, 50.0), hand, hand),
            shape("hand2", ShapeKind.RECTANGLE, Geometry(955.0, 215.0, 45.0, 10.0), hand, hand),
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
