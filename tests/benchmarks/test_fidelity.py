"""``python -m benchmarks.fidelity``: scores a page against a reference picture, writes the
side-by-side pictures and the JSON line, and says clearly when the corpus is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import fidelity

REPO = Path(__file__).resolve().parents[2]
DRAWING = (
    '<mxfile host="test" compressed="false"><diagram id="p" name="shapes"><mxGraphModel '
    'page="1" pageWidth="800" pageHeight="600"><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
    '<mxCell id="a" style="fillColor=#dae8fc;strokeColor=#6c8ebf;" vertex="1" parent="1">'
    '<mxGeometry x="40" y="40" width="200" height="100" as="geometry"/></mxCell>'
    '<mxCell id="b" style="ellipse;fillColor=#f8cecc;strokeColor=#b85450;" vertex="1" '
    'parent="1"><mxGeometry x="320" y="160" width="120" height="120" as="geometry"/></mxCell>'
    "</root></mxGraphModel></diagram></mxfile>"
)


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "drawio").mkdir(parents=True)
    (corpus / "drawio-reference").mkdir()
    (corpus / "drawio" / "two.drawio").write_text(DRAWING, encoding="utf-8")
    return corpus


def _reference_from_kiosk(qapp: object, corpus: Path, size: tuple[int, int]) -> Path:
    """The kiosk's own drawing of the page as the reference (so the score must be ~1)."""
    from designer_import import load_experience
    from kiosk.screen.render import PageScene, drawing_rect, render_page

    page = load_experience(corpus / "drawio" / "two.drawio").pages[0]
    scene = PageScene(page)
    path = corpus / "drawio-reference" / "two.drawio-0.png"
    assert render_page(scene, *size, drawing_rect(scene)).save(str(path))
    return path


def test_a_page_against_its_own_drawing_scores_one(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tmp_path)
    # a different size than the kiosk would pick: cropping and scaling make them alike
    _reference_from_kiosk(qapp, corpus, (500, 300))
    out = tmp_path / "out"
    assert fidelity.main(["--corpus", str(corpus), "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    line = json.loads(lines[-1])
    assert line["benchmark"] == "fidelity" and line["unit"] == "SSIM"
    assert line["baseline"] == 1.0 and line["pages"] == 1
    assert line["value"] == line["ratio"] and line["value"] > 0.97
    assert line["under_0_5"] == 0 and line["under_0_6"] == 0
    assert (out / "two.drawio-0.png").is_file()
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    assert scores["two.drawio-0"]["ssim"] > 0.97


def test_a_different_picture_scores_low(qapp: object, tmp_path: Path) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    corpus = _corpus(tmp_path)
    # what the kiosk should not draw: one black box where the two shapes are
    image = QImage(460, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.fillRect(QRectF(20, 20, 300, 100), QColor("#000000"))
    painter.fillRect(QRectF(140, 150, 20, 140), QColor("#000000"))
    painter.end()
    assert image.save(str(corpus / "drawio-reference" / "two.drawio-0.png"))
    scores = fidelity.score_pages(fidelity.pages_to_compare(corpus, "*"), tmp_path, progress=False)
    assert len(scores) == 1 and scores[0].ssim < 0.6


def test_files_and_limit_pick_a_subset(qapp: object, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    _reference_from_kiosk(qapp, corpus, (400, 300))
    shutil.copy(corpus / "drawio" / "two.drawio", corpus / "drawio" / "other.drawio")
    shutil.copy(
        corpus / "drawio-reference" / "two.drawio-0.png",
        corpus / "drawio-reference" / "other.drawio-0.png",
    )
    assert len(fidelity.pages_to_compare(corpus, "*")) == 2
    assert [s.name for s, _i, _r in fidelity.pages_to_compare(corpus, "oth*")] == ["other.drawio"]


def test_without_the_corpus_it_says_so_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fidelity.main(["--corpus", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "corpus" in err
