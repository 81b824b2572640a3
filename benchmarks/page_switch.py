"""Page switch: from a touch on a link to the new page painted, first visits included, against
painting a cached full-screen pixmap.

A 1920x1080 kiosk window (offscreen platform, transitions off) shows an experience: the demo
(else the hand-made feature fixture) with one more page, a 3840x2160 photograph (a JPEG of
about 3 MB, the largest picture the validator lets through for a 1920x1080 screen without a
warning), linked from the welcome page and back. Each round starts with nothing rendered or
built (the view forgets every page) and follows every page-to-page link once, in page order:
the first switch to each page is its first visit.

Between two touches the shopper looks at the page for ``--think-ms`` (the event loop runs:
whatever the kiosk does ahead of the next touch happens then, on the UI thread or beside it).
Each switch is timed from the moment the touch is due, not from when the event loop gave the
touch its turn: a touch that arrives while the UI thread is busy (rendering a page ahead, say)
waits, and that wait counts. Then press + release go through Qt's touch path, hit-testing,
session bookkeeping, event recording and navigation, to the end of a synchronous repaint.

The limit, measured in the same run and the same way: ``repaint()`` of a window the same size
whose paint event draws one cached full-screen pixmap. Nothing that shows a new full-screen
picture can do less. Switches and limit paints alternate, so both see the same load. The JSON
line's ratio is the median over the rounds of each round's median switch over its median
blit; ``first_visit_ratio`` is the same for the first visits alone. Goal: both <= 1.5.

``python -m benchmarks.page_switch [--rounds N] [--think-ms MS] [--experience FILE]``
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import kiosk  # noqa: F401  (PySide6 work-around first)
from benchmarks.harness import Machine, Rounds, add_rounds_argument, begin, report_rounds
from designer_import import load_experience
from designer_import.model import Experience, NavigateLink
from kiosk.screen.frameprobe import percentile

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "pet-store.drawio"
FIXTURE = REPO / "tests" / "fixtures" / "drawio" / "features.drawio"
WIDTH, HEIGHT = 1920, 1080
#: The photograph's page: its size in pixels (4K UHD, 2 x 1920 wide: the validator's limit).
PHOTO_WIDTH, PHOTO_HEIGHT = 3840, 2160
PHOTO_PAGE = "photo-wall"
#: How long a shopper looks at a page before the next touch, by default.
THINK_MS = 400


def link_cycle(experience: Experience) -> list[tuple[str, str, str]]:
    """(page, element, target) for every distinct page-to-page link of the experience, in
    page order: the switches a round makes."""
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


def photograph_jpeg(width: int, height: int) -> bytes:
    """A photograph-like JPEG: smooth colour fields with grain (it compresses like a photo,
    not like a flat test card)."""
    import numpy as np
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QImageWriter

    rng = np.random.default_rng(22)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.empty((height, width, 4), dtype=np.uint8)
    fields = (
        128 + 100 * np.sin(x / 370.0) * np.cos(y / 290.0),
        128 + 100 * np.sin((x + y) / 510.0),
        128 + 100 * np.cos(x / 230.0 - y / 410.0),
    )
    for channel, field in enumerate(fields):
        grain = rng.normal(0.0, 18.0, size=(height, width))
        pixels[..., 2 - channel] = np.clip(field + grain, 0, 255).astype(np.uint8)
    pixels[..., 3] = 255
    image = QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGB32)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"jpeg"))
    writer.setQuality(85)
    if not writer.write(image):
        raise RuntimeError(f"page_switch: cannot encode the photograph: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def with_photo_page(source: Path, folder: Path, home: str) -> Path:
    """A copy of ``source`` (an uncompressed .drawio) with the photograph's page, linked from
    the page ``home`` and back to it."""
    text = source.read_text(encoding="utf-8")
    marker = f'<diagram id="{home}"'
    start = text.find(marker)
    end = text.find("</root>", start)
    if start < 0 or end < 0 or 'compressed="true"' in text:
        raise SystemExit(f"page_switch: {source} has no uncompressed page {home!r} to link from")
    link = (
        f'<object label="Photo wall" link="data:page/id,{PHOTO_PAGE}" id="to-{PHOTO_PAGE}">'
        '<mxCell style="rounded=1;whiteSpace=wrap;html=1;fillColor=#333333;fontColor=#ffffff;" '
        'vertex="1" parent="1"><mxGeometry x="1700" y="20" width="200" height="60" '
        'as="geometry"/></mxCell></object>'
    )
    text = text[:end] + link + text[end:]
    photo = base64.b64encode(photograph_jpeg(PHOTO_WIDTH, PHOTO_HEIGHT)).decode("ascii")
    page = (
        f'<diagram id="{PHOTO_PAGE}" name="Photo wall"><mxGraphModel page="1" '
        'pageWidth="1920" pageHeight="1080"><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        f'<mxCell id="photo" value="" style="shape=image;imageAspect=0;image=data:image/jpeg,'
        f'{photo};" vertex="1" parent="1"><mxGeometry x="0" y="0" width="1920" height="1080" '
        'as="geometry"/></mxCell>'
        f'<object label="Back" link="data:page/id,{home}" id="photo-back">'
        '<mxCell style="rounded=1;whiteSpace=wrap;html=1;" vertex="1" parent="1">'
        '<mxGeometry x="40" y="980" width="200" height="80" as="geometry"/></mxCell></object>'
        "</root></mxGraphModel></diagram>"
    )
    text = text.replace("</mxfile>", page + "</mxfile>")
    target = folder / f"{source.stem}-with-photo.drawio"
    target.write_text(text, encoding="utf-8")
    return target


@dataclass
class RoundResult:
    """One round: every switch's time (s), whether it was a first visit, the photograph
    page's switch and the limit blits."""

    times: list[float]
    first: list[bool]
    photo: float
    limit: list[float]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_switch", description=__doc__)
    add_rounds_argument(parser)
    parser.add_argument("--think-ms", type=int, default=THINK_MS)
    parser.add_argument("--experience", type=Path, default=None)
    args = parser.parse_args(argv)
    machine = begin("page_switch")

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
    folder = Path(tempfile.mkdtemp(prefix="page-switch-"))
    base = args.experience or (DEMO if DEMO.exists() else FIXTURE)
    home = "welcome" if base == DEMO else load_experience(base).pages[0].id
    source = with_photo_page(base, folder, home)
    config = load_config(None)
    config.paths.data_dir = folder
    config.kiosk.transition = "off"
    config.kiosk.fullscreen = False
    recorder = EventRecorder(config, MemorySink())
    tasks = TaskRunner()
    window = KioskWindow(config=config, recorder=recorder, tasks=tasks)
    recorder.session_id = lambda: window.session.session_id
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.start(source)
    experience = load_experience(source)
    cycle = link_cycle(experience)
    if not any(target == PHOTO_PAGE for _, _, target in cycle):
        print(f"page_switch: the photograph's page is not linked in {source}", file=sys.stderr)
        return 2
    device = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
    points: dict[tuple[str, str], QPoint] = {}
    think = args.think_ms / 1000

    def look(seconds: float) -> float:
        """The shopper looks for ``seconds``: the event loop runs; returns when the touch
        is due (the moment a switch is timed from)."""
        due = time.perf_counter() + seconds
        while (left := due - time.perf_counter()) > 0:
            app.processEvents()
            # wake at the due time, not up to a millisecond after it: that sleep would be
            # counted in the switch (a touch wakes a real event loop at once)
            time.sleep(min(0.001, max(0.0, left)))
        return due

    def switch(page_id: str, element_id: str, due: float) -> float:
        point = points[(page_id, element_id)]
        QTest.touchEvent(window, device).press(0, point, window).commit()
        QTest.touchEvent(window, device).release(0, point, window).commit()
        window.repaint()
        return time.perf_counter() - due

    def be_on(page_id: str) -> None:
        # the walk may not close on itself: get to the step's page outside the timing
        if window.page is None or window.page.id != page_id:
            window.navigate(page_id)
            app.processEvents()

    # where each link is touched (worked out once, outside every round)
    reachable = []
    for page_id, element_id, target in cycle:
        be_on(page_id)
        point = window.view.touch_point(element_id)
        if point is None:
            continue  # covered by another linked shape that leads to the same page
        points[(page_id, element_id)] = window.view.mapTo(window, point)
        reachable.append((page_id, element_id, target))
    cycle = reachable

    # the limit: a page as one picture, painted by a window the same size
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

    def one_round() -> RoundResult:
        # the experience activated anew: nothing rendered or built, first visits are first
        window.activate_experience(source, experience)
        app.processEvents()
        visited = {window.page.id} if window.page is not None else set()
        be_on(cycle[0][0])
        visited.add(cycle[0][0])
        result = RoundResult([], [], 0.0, [])
        for page_id, element_id, target in cycle:
            be_on(page_id)
            visited.add(page_id)
            # a shopper's session never times out in the middle of the run
            window.session.last_touch = window.clock()
            taken = switch(page_id, element_id, look(think))
            if window.page is None or window.page.id != target:
                raise SystemExit(f"page_switch: {page_id}/{element_id} did not reach {target}")
            result.times.append(taken)
            result.first.append(target not in visited)
            visited.add(target)
            if target == PHOTO_PAGE:
                result.photo = taken
            result.limit.append(paint_limit())
            app.processEvents()
        return result

    results = [one_round() for _ in range(args.rounds)]
    window.shutdown()
    tasks.shutdown()
    return _report(machine, results, source.name, args.think_ms)


def _report(machine: Machine, results: list[RoundResult], name: str, think_ms: int) -> int:
    """Print the figures of every round and the JSON line."""
    switch = Rounds(tuple(statistics.median(r.times) * 1000 for r in results))
    limit = Rounds(tuple(statistics.median(r.limit) * 1000 for r in results))

    def firsts(r: RoundResult) -> list[float]:
        return [t for t, first in zip(r.times, r.first, strict=True) if first]

    first = Rounds(tuple(statistics.median(firsts(r)) * 1000 for r in results))
    first_ratio = Rounds(
        tuple(statistics.median(firsts(r)) / statistics.median(r.limit) for r in results)
    )
    photo = Rounds(tuple(r.photo * 1000 for r in results))
    every = [t for r in results for t in r.times]
    p99 = percentile(every, 0.99) * 1000
    print(
        f"experience     {name}: {len(results[0].times)} switches a round, "
        f"{sum(results[0].first)} of them first visits, {think_ms} ms between touches"
    )
    print(f"touch -> paint {switch.describe('ms')}; p99 of every switch {p99:.3f} ms")
    print(f"first visits   {first.describe('ms')}")
    print(f"photo page     {photo.describe('ms')} (first visit, {PHOTO_WIDTH}x{PHOTO_HEIGHT} JPEG)")
    print(f"pixmap blit    {limit.describe('ms')}")
    report_rounds(
        "page_switch",
        machine,
        switch,
        "ms",
        "repaint of one cached 1920x1080 pixmap, same window size, same run",
        limit,
        first_visit_ms=round(first.median, 3),
        first_visit_ratio=round(first_ratio.median, 3),
        first_visit_ratio_spread=round(first_ratio.spread, 4),
        photo_page_ms=round(photo.median, 3),
        p99_ms=round(p99, 3),
        switches_per_round=len(results[0].times),
        first_visits_per_round=sum(results[0].first),
        think_ms=think_ms,
        experience=name,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
