"""Bundles: manifest + content-addressed assets, written atomically, read back whole."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from designer_import import DrawioError, build_bundle, load_bundle, load_experience
from designer_import.model import SCHEMA_VERSION
from designer_import.serialize import to_json


def test_build_then_load_gives_the_same_model(fixtures: Path, tmp_path: Path) -> None:
    source = load_experience(fixtures / "features.drawio")
    out = build_bundle(fixtures / "features.drawio", tmp_path / "bundle")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["source"] == {
        "name": "features.drawio",
        "sha256": hashlib.sha256((fixtures / "features.drawio").read_bytes()).hexdigest(),
        "format": "drawio",
    }
    styles = [e["style"]["values"] for p in manifest["experience"]["pages"] for e in p["elements"]]
    assert not any(v.startswith("data:image") for values in styles for v in values.values())
    loaded = load_experience(out)
    assert loaded.source_format == "bundle" and loaded.source_path == out
    expected = to_json(source)
    actual = to_json(loaded)
    for key in ("source_path", "source_format"):
        expected.pop(key)
        actual.pop(key)
    # Assets are named once written; everything else is identical.
    for page in expected["pages"]:
        for element in page["elements"]:
            if element["image"] is not None:
                element["image"]["asset"] = None
    for page in actual["pages"]:
        for element in page["elements"]:
            if element["image"] is not None:
                element["image"]["asset"] = None
    assert actual == expected
    home = loaded.page("home")
    assert home is not None
    photo = home.element("photo")
    assert photo is not None and photo.image is not None and photo.image.data is not None
    assert photo.image.data.startswith(b"\x89PNG")


def test_assets_are_content_addressed_and_deduplicated(fixtures: Path, tmp_path: Path) -> None:
    out = build_bundle(fixtures / "features.drawio", tmp_path / "bundle")
    assets = sorted((out / "assets").iterdir())
    # photo and photo-b64 hold the same bytes; logo.png is the other file.
    assert len(assets) == 2
    for asset in assets:
        assert asset.name == hashlib.sha256(asset.read_bytes()).hexdigest() + ".png"


def test_rebuild_replaces_and_leaves_no_temporary_folders(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    build_bundle(fixtures / "features.drawio", out)
    build_bundle(fixtures / "bare-model.xml", out)
    assert load_experience(out).pages[0].name == "Page-1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_refuses_to_replace_a_folder_that_is_not_a_bundle(fixtures: Path, tmp_path: Path) -> None:
    precious = tmp_path / "photos"
    precious.mkdir()
    (precious / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(DrawioError, match="not an experience bundle"):
        build_bundle(fixtures / "features.drawio", precious)
    assert (precious / "holiday.jpg").exists()


def test_failed_build_leaves_the_old_bundle(fixtures: Path, tmp_path: Path) -> None:
    out = build_bundle(fixtures / "features.drawio", tmp_path / "bundle")
    with pytest.raises(DrawioError):
        build_bundle(fixtures / "xxe.drawio", out)
    assert len(load_experience(out).pages) == 3


def test_damaged_bundles_are_clear_errors(fixtures: Path, tmp_path: Path) -> None:
    out = build_bundle(fixtures / "features.drawio", tmp_path / "bundle")
    asset = next((out / "assets").iterdir())
    asset.write_bytes(b"tampered")
    with pytest.raises(DrawioError, match="damaged"):
        load_bundle(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["schema_version"] = 999
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DrawioError, match="schema version 999"):
        load_bundle(out)
    manifest["schema_version"] = SCHEMA_VERSION
    manifest["experience"]["pages"][0]["role"] = "boss"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DrawioError, match="malformed"):
        load_bundle(out)
