"""Where the tests' real draw.io files come from: the whole shared corpus where it exists, the
curated set inside the repository where it does not.

The shared corpus (156 public files, ``../shared/corpus/drawio`` beside the repository) is on the
development machines only. A fresh clone has just ``tests/fixtures/corpus/drawio``: 48 of those
files, unchanged, with their licence and origin (its README.md). A test that runs over "the corpus"
takes the ``drawio_corpus`` fixture and states what it expects of each set with
``DrawioCorpus.at_least``, so it checks real files either way instead of skipping.

``KIOSK_TEST_CORPUS`` chooses explicitly: ``curated`` for the in-repository set even when the
shared one exists (to try what a fresh clone runs), or the path of another folder of files.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "drawio"
CURATED_CORPUS = REPO / "tests" / "fixtures" / "corpus" / "drawio"
CORPUS_VARIABLE = "KIOSK_TEST_CORPUS"


class CorpusChoiceError(Exception):
    """``KIOSK_TEST_CORPUS`` names a folder that is not there."""


class DrawioCorpus(list[Path]):
    """The sorted files of one corpus folder (a list, as the fixture always gave), plus which set
    it is: ``full`` for the shared corpus (or a folder named in ``KIOSK_TEST_CORPUS``), not full
    for the curated set."""

    def __init__(self, folder: Path, *, full: bool, reason: str) -> None:
        super().__init__(sorted(p for p in folder.iterdir() if p.is_file()))
        self.folder = folder
        self.full = full
        self.reason = reason

    def at_least(self, *, full: int, curated: int) -> int:
        """The figure a test expects: ``full`` over the whole corpus, ``curated`` over the
        in-repository set (both measured, not guessed: see the calling test)."""
        return full if self.full else curated

    def describe(self) -> str:
        """One line for pytest's header: which files the corpus tests run over, and why."""
        kind = "full corpus" if self.full else "curated corpus"
        return f"draw.io {kind}: {len(self)} files in {self.folder} ({self.reason})"


def choose_corpus() -> DrawioCorpus:
    """The corpus this run uses (see the module's docstring)."""
    asked = os.environ.get(CORPUS_VARIABLE, "").strip()
    if asked == "curated":
        return DrawioCorpus(CURATED_CORPUS, full=False, reason=f"{CORPUS_VARIABLE}=curated")
    if asked:
        folder = Path(asked).expanduser().resolve()
        if not folder.is_dir():
            raise CorpusChoiceError(
                f"{CORPUS_VARIABLE}={asked}: no such folder (use 'curated' or a folder of "
                ".drawio files)"
            )
        return DrawioCorpus(folder, full=True, reason=f"{CORPUS_VARIABLE}={asked}")
    if SHARED_CORPUS.is_dir():
        return DrawioCorpus(SHARED_CORPUS, full=True, reason="the shared corpus beside the clone")
    return DrawioCorpus(
        CURATED_CORPUS, full=False, reason=f"{SHARED_CORPUS} is absent: the in-repository set"
    )
