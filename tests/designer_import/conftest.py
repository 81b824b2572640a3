"""Paths to the hand-made draw.io fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "drawio"


@pytest.fixture
def fixtures() -> Path:
    """The folder of hand-made draw.io files (features.drawio and its variants, ...)."""
    return FIXTURES
