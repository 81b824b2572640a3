"""Every real public diagram in the shared corpus loads and validates."""

from __future__ import annotations

from pathlib import Path

from designer_import import load_experience, validate
from designer_import.model import Experience
from tests.corpus import DrawioCorpus


def test_every_corpus_file_loads_and_validates(drawio_corpus: DrawioCorpus) -> None:
    assert len(drawio_corpus) >= drawio_corpus.at_least(full=150, curated=48)
    element_count = 0
    for path in drawio_corpus:
        experience = load_experience(path)
        assert isinstance(experience, Experience), path
        assert experience.pages, path
        for finding in validate(experience):
            assert finding.message and finding.fix, (path, finding)
        element_count += sum(len(page.elements) for page in experience.pages)
        for page in experience.pages:
            for element in page.elements:
                g = element.geometry
                assert all(v == v for v in (g.x, g.y, g.width, g.height)), (path, element.id)
    # The corpus is large and varied: a loader that silently skipped cells would show here.
    # (measured: 5,140 in the curated set)
    assert element_count > drawio_corpus.at_least(full=10_000, curated=5_000)


def test_corpus_roles_follow_the_conventions(drawio_corpus: list[Path]) -> None:
    for path in drawio_corpus:
        experience = load_experience(path)
        roles = [page.role for page in experience.pages]
        non_attract = [r for r in roles if r != "attract"]
        if non_attract:
            assert non_attract[0] == "welcome", path
            assert non_attract.count("welcome") == 1, path
