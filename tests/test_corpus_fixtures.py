"""The curated draw.io corpus inside the repository is complete, unchanged and attributed, and the
corpus fixture falls back to it when the shared corpus is not beside the clone."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from tests.corpus import CURATED_CORPUS, REPO, DrawioCorpus

ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<repo>jgraph/drawio(?:-diagrams)?) \| `(?P<path>[^`]+)` \| "
    r"`(?P<sha>[0-9a-f]{64})` \|$"
)


def _manifest() -> dict[str, tuple[str, str, str]]:
    text = (CURATED_CORPUS.parent / "README.md").read_text(encoding="utf-8")
    rows = [ROW.match(line) for line in text.splitlines() if line.startswith("| `")]
    assert all(rows), [line for line in text.splitlines() if line.startswith("| `")]
    return {m["file"]: (m["repo"], m["path"], m["sha"]) for m in rows if m}


def test_every_curated_file_is_listed_with_its_origin_and_unchanged() -> None:
    manifest = _manifest()
    on_disk = {p.name for p in CURATED_CORPUS.iterdir()}
    assert on_disk == set(manifest), on_disk ^ set(manifest)
    for name, (repo, path, sha) in manifest.items():
        data = (CURATED_CORPUS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, name
        # the name is the path in its repository with "/" written "__"
        assert path == name.replace("__", "/"), name
        assert (repo == "jgraph/drawio") == path.startswith("src/main/webapp/"), name
    licence = (CURATED_CORPUS.parent / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    notice = (CURATED_CORPUS.parent / "NOTICE").read_text(encoding="utf-8")
    assert "jgraph/drawio-diagrams" in notice and "jgraph/drawio " in notice


def test_the_curated_corpus_holds_the_files_tests_name(curated_corpus: DrawioCorpus) -> None:
    names = {p.name for p in curated_corpus}
    for needed in (
        "blog__story-map.drawio",  # admin/test_content
        "diagrams__flowchart.drawio.svg",  # designer_import/test_fuzz
        "templates__basic__orgchart.xml",
        "src__main__webapp__templates__basic__placeholder.xml",
    ):
        assert needed in names
    assert any("aws" in name for name in names)  # designer_import/test_validate
    assert not curated_corpus.full and curated_corpus.folder == CURATED_CORPUS


def test_without_the_shared_corpus_the_fixture_gives_the_curated_set(tmp_path: Path) -> None:
    """A copy of the tests package alone in a folder (nothing beside it) chooses the curated set;
    run in a fresh interpreter so the copy's own paths are used."""
    copy = tmp_path / "clone"
    (copy / "tests").mkdir(parents=True)
    for name in ("__init__.py", "corpus.py"):
        (copy / "tests" / name).write_bytes((REPO / "tests" / name).read_bytes())
    (copy / "tests" / "fixtures" / "corpus" / "drawio").mkdir(parents=True)
    (copy / "tests" / "fixtures" / "corpus" / "drawio" / "one.drawio").write_bytes(
        (CURATED_CORPUS / "blog__story-map.drawio").read_bytes()
    )
    script = (
        "import os; os.environ.pop('KIOSK_TEST_CORPUS', None)\n"
        "from tests.corpus import choose_corpus\n"
        "c = choose_corpus(); print(c.full, len(c), c.at_least(full=150, curated=1))\n"
        "print(c.describe())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "False 1 1"
    assert "curated corpus: 1 files" in out[1] and "is absent" in out[1]
