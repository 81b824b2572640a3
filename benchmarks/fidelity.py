"""Render fidelity: each corpus page as the kiosk draws it, against draw.io's own drawing.

For every page of every file in ``../shared/corpus/drawio`` that has a reference PNG in
``../shared/corpus/drawio-reference/<file>-<page index>.png`` (drawn by draw.io's viewer,
cropped to the drawing), the kiosk's renderer draws the page framed on the drawing's bounds
(``kiosk preview --fit drawing``) at the reference's size. Both pictures are cropped to what
is drawn on them (pixels that differ from their background), scaled to the same size and
compared in grey levels with scikit-image's ``structural_similarity`` (SSIM, 1.0 = the same
picture). A side-by-side PNG per page (draw.io left, kiosk right) goes to ``--out`` for
people to look at; the worst pages are printed; the JSON line's value is the median SSIM
(baseline 1.0, so the ratio is the median too). Goal: median >= 0.85, no page under 0.5.

``python -m benchmarks.fidelity [--files GLOB] [--limit N] [--out DIR] [--worst N]``
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from numpy.typing import NDArray

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from benchmarks.harness import begin

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
#: Longest side of the compared pictures: larger crops are scaled down (both alike).
MAX_SIDE = 1200
#: A grey level this far from the background (0..1) counts as drawn.
INK = 0.04
#: Space between the two halves of a side-by-side picture.
GUTTER = 12
#: Why the JSON line comes from one pass: it is a score, not a timing.
ONE_ROUND = (
    "a score, not a timing: the same pages draw the same pixels on every pass, so more "
    "rounds would repeat the same SSIM"
)

Gray = NDArray[np.float64]
Rgb = NDArray[np.uint8]


@dataclass(slots=True)
class PageScore:
    """One page's comparison."""

    name: str
    ssim: float
    side_by_side: Path | None
    #: Why the page scored 0 without a comparison (cannot load or draw), else "".
    failure: str = ""
    #: Elements the renderer could not draw (``PageScene.errors``).
    draw_errors: int = 0


def qimage_rgb(image: QImage) -> Rgb:
    """A QImage as an H x W x 3 uint8 array."""
    from PySide6.QtGui import QImage

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def load_rgb(path: Path) -> Rgb:
    """A PNG as an H x W x 3 uint8 array (transparency composed onto white)."""
    from PIL import Image

    with Image.open(path) as image:
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(white, rgba).convert("RGB")).copy()
        return np.asarray(image.convert("RGB")).copy()


def gray(rgb: Rgb) -> Gray:
    """Grey levels 0..1 (ITU-R 601 luma, as scikit-image's rgb2gray)."""
    from skimage.color import rgb2gray

    return np.asarray(rgb2gray(rgb), dtype=np.float64)


def content_box(levels: Gray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels that differ from the background (the most
    common grey of the picture's border); the whole picture when nothing is drawn."""
    border = np.concatenate([levels[0], levels[-1], levels[:, 0], levels[:, -1]])
    values, counts = np.unique(np.round(border, 2), return_counts=True)
    background = float(values[int(np.argmax(counts))])
    ink = np.abs(levels - background) > INK
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return 0, levels.shape[0], 0, levels.shape[1]
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def common_shape(reference: tuple[int, int]) -> tuple[int, int]:
    """The size both crops are scaled to: the reference crop's, at most MAX_SIDE long and
    at least 7 pixels (SSIM's window) on each side."""
    h, w = reference
    scale = min(1.0, MAX_SIDE / max(h, w))
    return max(7, round(h * scale)), max(7, round(w * scale))


def scaled(rgb: Rgb, shape: tuple[int, int]) -> Rgb:
    """``rgb`` resized to ``shape`` (anti-aliased)."""
    from skimage.transform import resize

    if rgb.shape[:2] == shape:
        return rgb
    out = resize(rgb, shape, order=1, anti_aliasing=True, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def compare(reference: Rgb, ours: Rgb) -> tuple[float, Rgb, Rgb]:
    """SSIM of the two pictures cropped to their content and scaled alike; and the two
    pictures as compared."""
    from skimage.metrics import structural_similarity

    t, b, lft, r = content_box(gray(reference))
    ref_crop = reference[t:b, lft:r]
    t, b, lft, r = content_box(gray(ours))
    our_crop = ours[t:b, lft:r]
    shape = common_shape(ref_crop.shape[:2])
    ref_scaled, our_scaled = scaled(ref_crop, shape), scaled(our_crop, shape)
    score = structural_similarity(gray(ref_scaled), gray(our_scaled), data_range=1.0)
    return float(score), ref_scaled, our_scaled


def write_side_by_side(path: Path, reference: Rgb, ours: Rgb) -> None:
    """draw.io's picture left, the kiosk's right, a grey gutter between."""
    from PIL import Image

    h = reference.shape[0]
    gutter = np.full((h, GUTTER, 3), 128, dtype=np.uint8)
    Image.fromarray(np.concatenate([reference, gutter, ours], axis=1)).save(path)


def pages_to_compare(corpus: Path, pattern: str) -> list[tuple[Path, int, Path]]:
    """(drawing file, page index, reference PNG) for every reference whose file matches
    ``pattern`` (a glob on the file name), in file and page order."""
    drawings = corpus / "drawio"
    references = corpus / "drawio-reference"
    found = []
    for source in sorted(p for p in drawings.iterdir() if p.is_file()):
        if not fnmatch.fnmatch(source.name, pattern):
            continue
        index = 0
        while (references / f"{source.name}-{index}.png").is_file():
            found.append((source, index, references / f"{source.name}-{index}.png"))
            index += 1
    return found


def score_pages(
    todo: list[tuple[Path, int, Path]], out_dir: Path, *, progress: bool
) -> list[PageScore]:
    """Render and compare every page of ``todo``; side-by-side PNGs into ``out_dir``."""
    from PySide6.QtWidgets import QApplication

    from designer_import import DrawioError, load_experience
    from designer_import.model import Experience
    from kiosk.screen.fonts import load_web_fonts
    from kiosk.screen.render import PageScene, drawing_rect, render_page

    _app = QApplication.instance() or QApplication(["fidelity"])
    loaded: dict[Path, Experience | str] = {}
    scores: list[PageScore] = []
    for n, (source, index, reference_path) in enumerate(todo, 1):
        name = f"{source.name}-{index}"
        if source not in loaded:
            try:
                loaded[source] = load_experience(source)
                load_web_fonts(loaded[source])  # type: ignore[arg-type]
            except DrawioError as exc:
                loaded[source] = f"cannot load: {exc}"
        experience = loaded[source]
        if isinstance(experience, str):
            scores.append(PageScore(name, 0.0, None, experience))
            continue
        page = next((p for p in experience.pages if p.index == index), None)
        if page is None:
            scores.append(PageScore(name, 0.0, None, "the importer has no such page"))
            continue
        reference = load_rgb(reference_path)
        height, width = reference.shape[:2]
        scene = PageScene(page)
        ours = qimage_rgb(render_page(scene, width, height, drawing_rect(scene)))
        score, ref_scaled, our_scaled = compare(reference, ours)
        picture = out_dir / f"{name}.png"
        write_side_by_side(picture, ref_scaled, our_scaled)
        errors = len(scene.errors)
        scores.append(PageScore(name, score, picture, draw_errors=errors))
        if progress:
            print(f"[{n}/{len(todo)}] {score:.3f} {name}", file=sys.stderr, flush=True)
    return scores


def main(argv: list[str] | None = None) -> int:
    """Run the comparison, print the worst pages and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fidelity", description=__doc__)
    add = parser.add_argument
    add("--corpus", type=Path, default=CORPUS, metavar="DIR",
        help="folder with drawio/ and drawio-reference/ (default ../shared/corpus)")  # fmt: skip
    add("--files", default="*", metavar="GLOB",
        help="only drawing files whose name matches GLOB, e.g. 'blog__*'")  # fmt: skip
    add("--limit", type=int, default=0, metavar="N",
        help="only the first N pages (0 = all)")  # fmt: skip
    add("--out", type=Path, default=None, metavar="DIR",
        help="folder for the side-by-side PNGs and scores.json "
        "(default: a new folder under the temporary directory)")  # fmt: skip
    add("--worst", type=int, default=20, metavar="N",
        help="how many of the worst pages to list (default 20)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no per-page progress lines")
    args = parser.parse_args(argv)
    machine = begin("fidelity")

    for needed in (args.corpus / "drawio", args.corpus / "drawio-reference"):
        if not needed.is_dir():
            print(
                f"fidelity: {needed} does not exist: the benchmark needs the draw.io corpus "
                "and draw.io's reference drawings (../shared/corpus next to the repository, "
                "or --corpus DIR)",
                file=sys.stderr,
            )
            return 2
    todo = pages_to_compare(args.corpus, args.files)
    if args.limit > 0:
        todo = todo[: args.limit]
    if not todo:
        print(f"fidelity: no reference page matches --files {args.files!r}", file=sys.stderr)
        return 2
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="kiosk-fidelity-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    scores = score_pages(todo, out_dir, progress=not args.quiet)
    seconds = time.perf_counter() - start
    values = [s.ssim for s in scores]
    median = statistics.median(values)
    (out_dir / "scores.json").write_text(
        json.dumps(
            {
                s.name: {
                    "ssim": round(s.ssim, 4),
                    "failure": s.failure,
                    "draw_errors": s.draw_errors,
                }
                for s in scores
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(scores)} pages in {seconds:.1f} s; side by side (draw.io | kiosk) in {out_dir}")
    print(f"worst {min(args.worst, len(scores))}:")
    for s in sorted(scores, key=lambda s: s.ssim)[: args.worst]:
        note = s.failure or (f"{s.draw_errors} drawing errors" if s.draw_errors else "")
        print(f"  {s.ssim:.3f}  {s.name}  {note}")
    failed = [s for s in scores if s.failure or s.draw_errors]
    line = {
        "benchmark": "fidelity",
        "value": round(median, 4),
        "unit": "SSIM",
        "baseline": 1.0,
        "ratio": round(median, 4),
        "pages": len(scores),
        "under_0_6": sum(v < 0.6 for v in values),
        "under_0_5": sum(v < 0.5 for v in values),
        "mean": round(statistics.fmean(values), 4),
        "pages_with_errors": len(failed),
        "goal": "median >= 0.85, no page under 0.5",
        **machine.json_fields(),
        "rounds": 1,
        "one_round": ONE_ROUND,
    }
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
