"""The shipped stencil libraries (draw.io's stencil XML, gzip-compressed): a damaged file is
reported with its name and yields no shapes, never an exception."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from designer_import.stencils import read_library

LIBRARY = Path(__file__).resolve().parents[2] / "designer_import" / "stencil_libraries"


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"not gzip at all",
        lambda data: gzip.compress(b"<shapes><shape name='x'>"),  # bad XML
    ],
)
def test_a_damaged_library_file_is_reported_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage
) -> None:
    original = LIBRARY / "floorplan.xml.gz"
    broken = tmp_path / "floorplan.xml.gz"
    broken.write_bytes(damage(original.read_bytes()))
    assert read_library(broken, "floorplan.xml") == {}
    assert "stencil library floorplan.xml cannot be read" in caplog.text
    assert len(read_library(original, "floorplan.xml")) > 20
