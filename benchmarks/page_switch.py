"""Page switch: from a touch on a link to the new page painted, against painting a cached
full-screen pixmap.

A 1920x1080 kiosk window (offscreen platform, transitions off) shows an experience (the
demo when it exists, else the hand-made feature fixture). Each switch is timed from just
before a synthetic touch (press + release through Qt's touch path, as a touch screen
delivers it) on a link of the page shown, through hit-testing, session bookkeeping, event
recording and navigation, to the end of a synchronous repaint of the window. The links
are followed round a cycle of pages, many times.

The limit, measured in the same run and the same way: ``repaint()`` of a window the same
size whose paint event draws one cached full-screen pixmap (the page shown last). Nothing
that shows a new full-screen picture can do less. Switches and limit paints alternate, so
both see the same load on a shared machine. Goal: median ratio <= 2 (p99 ratio reported).

``python -m benchmarks.page_switch [--switches N] [--experience FILE]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import kiosk  # noqa: F401  (PySide6 work-around first)
from benchmarks.report import report
from designer_import import load_experience
from designer_import.model import Experience, NavigateLink
from kiosk.screen.frameprobe import percentile

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "pet-store.drawio"
FIXTURE = REPO / "tests" / "fixtures" / "drawio" / "features.drawio"
WIDTH, HEIGHT = 1920, 1080


def link_cycle(experience: Experience) -> list[tuple[str, str, str]]:
    """(page, element, target) for every distinct page-to-page link of the experience, in
    page order: the switches a run repeats."""
    steps: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for page in experience.pages:
        for element in page.elements:
            link = page.link_for(element.id)
            if (
                element.visible
                and isinstance(link, NavigateLink)
                and link.page_id != page.id
                and experience.page(link.page_id) is not None
                and (page.id, link.page_id) not in seen
            ):
                seen.add((page.id, link.page_id))
                steps.append((page.id, element.id, link.page_id))
    return steps


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_switch", description=__doc__)
    parser.add_argument("--switches", type=int, default=400)
    parser.add_argument("--experience", type=Path, default=None)
    args = parser.parse_args(argv)
    source = args.experience or (DEMO if DEMO.exists() else FIXTURE)

    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPainter, QPaintEvent, QPixmap, QPointingDevice
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from kiosk.models.interactions import EventRecorder, MemorySink
    from kiosk.screen.window import KioskWindow
    from kiosk.tasks import TaskRunner
    from settings.loader import load_config

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    config = load_config(None)
    config.paths.data_dir = Path(tempfile.mkdtemp(prefix="page-switch-"))
    config.kiosk.transition = "off"
    config.kiosk.fullscreen = False
    sink = MemorySink()
    recorder = EventRecorder(config, sink)
    tasks = TaskRunner()
    window = KioskWindow(config=config, recorder=recorder, tasks=tasks)
    recorder.session_id = lambda: window.session.session_id
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.start(source)
    experience = load_experience(source)
    cycle = link_cycle(experience)
    if not cycle:
        print(f"page_switch: {source} has no page links to follow", file=sys.stderr)
        return 2
    device = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
    points: dict[tuple[str, str], QPoint] = {}

    def switch(page_id: str, element_id: str) -> float:
        point = points[(page_id, element_id)]
        started = time.perf_counter()
        QTest.touchEvent(window, device).press(0, point, window).commit()
        QTest.touchEvent(window, device).release(0, point, window).commit()
        window.repaint()
        return time.perf_counter() - started

    # warm up: every page of the cycle built, rendered and its link located once
    window.navigate(cycle[0][0])

    def be_on(page_id: str) -> None:
        # the walk may not close on itself: get to the step's page outside the timing
        if window.page is None or window.page.id != page_id:
            window.navigate(page_id)
            app.processEvents()

    reachable = []
    for page_id, element_id, target in cycle:
        be_on(page_id)
        point = window.view.touch_point(element_id)
        if point is None:
            continue  # covered by another linked shape that leads to the same page
        points[(page_id, element_id)] = window.view.mapTo(window, point)
        switch(page_id, element_id)
        app.processEvents()
        assert window.page is not None and window.page.id == target, (page_id, element_id)
        reachable.append((page_id, element_id, target))
    cycle = reachable

    # the limit: the page shown last, as one picture, painted by a window the same size
    pixmap: QPixmap = window.grab()

    class Blit(QWidget):
        def paintEvent(self, event: QPaintEvent) -> None:
            QPainter(self).drawPixmap(0, 0, pixmap)

    blit = Blit()
    blit.resize(WIDTH, HEIGHT)
    blit.show()
    app.processEvents()

    def paint_limit() -> float:
        started = time.perf_counter()
        blit.repaint()
        return time.perf_counter() - started

    # switches and limit paints interleaved, so that both see the same machine load
    times: list[float] = []
    limit: list[float] = []
    while len(times) < args.switches:
        for page_id, element_id, target in cycle:
            be_on(page_id)
            times.append(switch(page_id, element_id))
            app.processEvents()
            if window.page is None or window.page.id != target:
                print(f"page_switch: {page_id}/{element_id} did not reach {target}")
                return 1
            # a shopper's session never times out in the middle of the run
            window.session.last_touch = window.clock()
            limit.append(paint_limit())
            app.processEvents()

    median, p99 = statistics.median(times), percentile(times, 0.99)
    limit_median, limit_p99 = statistics.median(limit), percentile(limit, 0.99)
    print(f"experience     {source.name}: {len(cycle)} links followed, {len(times)} switches")
    print(f"touch -> paint median {median * 1000:.3f} ms, p99 {p99 * 1000:.3f} ms")
    print(f"pixmap blit    median {limit_median * 1000:.3f} ms, p99 {limit_p99 * 1000:.3f} ms")
    print(f"events recorded {recorder.recorded}")
    window.shutdown()
    tasks.shutdown()
    report(
        "page_switch",
        median * 1000,
        "ms",
        "repaint of one cached 1920x1080 pixmap, same window size, same run",
        limit_median * 1000,
        p99_ms=round(p99 * 1000, 3),
        limit_p99_ms=round(limit_p99 * 1000, 3),
        p99_ratio=round(p99 / limit_p99, 3) if limit_p99 else None,
        switches=len(times),
        experience=source.name,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
