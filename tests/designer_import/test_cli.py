"""kiosk-import validate/build/watch as an artist runs them."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from designer_import import DrawioError
from designer_import.cli import main, watch
from designer_import.model import Experience
from designer_import.validate import Finding


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kiosk-import", path=str(Path(sys.executable).parent))
    assert exe
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def test_validate_exit_codes_0_1_2(fixtures: Path) -> None:
    clean = run("validate", str(fixtures / "features.drawio"))
    assert clean.returncode == 0, clean.stderr
    assert "0 error(s)" in clean.stdout
    problems = run("validate", str(fixtures / "problems.drawio"))
    assert problems.returncode == 1
    assert 'error: page "Home", shape "Go nowhere" (id dangling)' in problems.stdout
    for name in ("xxe.drawio", "logo.png", "missing.drawio"):
        unreadable = run("validate", str(fixtures / name))
        assert unreadable.returncode == 2, name
        lines = unreadable.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kiosk-import: "), unreadable.stderr
        assert "Traceback" not in unreadable.stderr


def test_validate_json(fixtures: Path, capsys) -> None:
    assert main(["validate", "--json", str(fixtures / "problems.drawio")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 6
    assert {"severity", "code", "page", "cell_id", "label", "message", "fix"} <= set(
        report["findings"][0]
    )
    assert [p["role"] for p in report["pages"]] == ["welcome", "page", "page"]


def test_build_refuses_errors_unless_forced(fixtures: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bundle"
    assert main(["build", str(fixtures / "problems.drawio"), "-o", str(out)]) == 1
    assert not out.exists()
    assert main(["build", str(fixtures / "problems.drawio"), "-o", str(out), "--allow-errors"]) == 1
    assert (out / "manifest.json").is_file()
    assert main(["build", str(fixtures / "features.drawio"), "-o", str(out)]) == 0
    assert "built" in capsys.readouterr().out


def test_watch_rebuilds_on_save(fixtures: Path, tmp_path: Path) -> None:
    drawing = tmp_path / "shop.drawio"
    shutil.copy(fixtures / "bare-model.xml", drawing)
    out = tmp_path / "bundle"
    results: queue.Queue[Experience | DrawioError] = queue.Queue()
    stop = threading.Event()

    def on_result(result: Experience | DrawioError, findings: list[Finding]) -> None:
        results.put(result)

    worker = threading.Thread(
        target=watch, args=(drawing, out), kwargs={"on_result": on_result, "stop": stop,
                                                   "interval": 0.05}, daemon=True
    )  # fmt: skip
    worker.start()
    try:
        first = results.get(timeout=30)
        assert isinstance(first, Experience) and first.pages[0].name == "Page-1"
        drawing.write_bytes(b"<mxfile><diagram")  # a half-saved file
        broken = results.get(timeout=30)
        assert isinstance(broken, DrawioError)
        assert (out / "manifest.json").is_file()  # the last good bundle stays
        shutil.copy(fixtures / "features.drawio", drawing)
        (tmp_path / "logo.png").write_bytes((fixtures / "logo.png").read_bytes())
        fixed = results.get(timeout=30)
        assert isinstance(fixed, Experience) and len(fixed.pages) == 3
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
