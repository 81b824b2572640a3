"""Every container format draw.io writes, and clean errors for everything else."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from designer_import import DrawioError, load_experience, load_experience_bytes
from designer_import.serialize import to_json

VARIANTS = [
    ("features-compressed.drawio", "drawio"),
    ("features.drawio.svg", "svg"),
    ("features-uri.drawio.svg", "svg"),
    ("features.drawio.png", "png"),
    ("features-twice.drawio.png", "png"),
    ("features-ztxt.drawio.png", "png"),
]


def _model(path: Path) -> dict:
    data = to_json(load_experience(path))
    for key in ("source_path", "source_hash", "globals"):
        data.pop(key)
    data.pop("source_format")
    return data


@pytest.mark.parametrize(("name", "fmt"), VARIANTS)
def test_every_container_gives_the_same_model(fixtures: Path, name: str, fmt: str) -> None:
    experience = load_experience(fixtures / name)
    assert experience.source_format == fmt
    assert _model(fixtures / name) == _model(fixtures / "features.drawio")


def test_bare_graph_model_is_one_page(fixtures: Path) -> None:
    experience = load_experience(fixtures / "bare-model.xml")
    assert experience.source_format == "mxGraphModel"
    assert [p.name for p in experience.pages] == ["Page-1"]
    (element,) = experience.pages[0].elements
    assert element.label is not None and element.label.text == "An old file"
    assert element.style.fill == "#ffff00"


def test_compressed_attribute_on_mxfile_is_ignored(tmp_path: Path, fixtures: Path) -> None:
    # features-compressed.drawio says compressed="false" and is compressed; here the reverse.
    text = (fixtures / "features.drawio").read_text()
    assert 'compressed="false"' in text
    changed = tmp_path / "x.drawio"
    changed.write_text(text.replace('compressed="false"', 'compressed="true"', 1))
    assert len(load_experience(changed).pages) == 3


@pytest.mark.parametrize("name", ["xxe.drawio", "billion-laughs.drawio"])
def test_entity_tricks_are_refused(fixtures: Path, name: str) -> None:
    with pytest.raises(DrawioError, match="entities"):
        load_experience(fixtures / name)


def _compressed_page(payload: bytes) -> bytes:
    text = base64.b64encode(payload).decode()
    return f'<mxfile><diagram id="a" name="P">{text}</diagram></mxfile>'.encode()


def _deflate(data: bytes) -> bytes:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello world", "not a draw.io file"),
        (b"<html><body/></html>", "not a draw.io file"),
        (b"<mxfile><diagram>", "not well-formed"),
        (b"<mxfile></mxfile>", "no pages"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "without an embedded diagram"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00", "truncated"),
        (b"\x89PNG\r\n\x1a\n", "without an embedded diagram"),
        (_compressed_page(b"not deflate at all"), "deflate"),
        (_compressed_page(_deflate(b"%3CmxGraphModel%3E")[:-4]), "truncated"),
        (_compressed_page(_deflate(b"\xff\xfe\x00bad")), "UTF-8"),
        (_compressed_page(_deflate(b"%C3%28")), "UTF-8"),
        (_compressed_page(_deflate(b"%3Cfoo%2F%3E")), "not a diagram"),
        (b'<mxfile><diagram id="a">abc</diagram></mxfile>', "base64"),
        ('<?xml version="1.0" encoding="ascii"?><mxfile>é</mxfile>'.encode(), "XML"),
    ],
)
def test_bad_input_is_one_clear_line(data: bytes, message: str) -> None:
    with pytest.raises(DrawioError) as caught:
        load_experience_bytes(data, "shop.drawio")
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("shop.drawio")
    assert message in text


def test_missing_file_and_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(DrawioError, match="no such file"):
        load_experience(tmp_path / "nope.drawio")
    with pytest.raises(DrawioError, match="not an experience bundle"):
        load_experience(tmp_path)


def test_empty_diagram_is_an_empty_page() -> None:
    experience = load_experience_bytes(
        b'<mxfile><diagram id="a" name="Blank"></diagram></mxfile>', "blank.drawio"
    )
    assert experience.pages[0].elements == []
    assert experience.pages[0].role == "welcome"


def test_utf16_files_load_and_utf16_entity_tricks_are_refused(fixtures: Path) -> None:
    text = (fixtures / "features.drawio").read_text(encoding="utf-8")
    experience = load_experience_bytes(text.encode("utf-16"), "wide.drawio", base_dir=fixtures)
    assert len(experience.pages) == 3
    for name in ("xxe.drawio", "billion-laughs.drawio"):
        wide = (fixtures / name).read_text(encoding="utf-8").encode("utf-16")
        with pytest.raises(DrawioError):
            load_experience_bytes(wide, name)


@pytest.mark.parametrize(
    "text",
    [
        "plain <mxGraphModel/>",
        "%3CmxGraphModel%20a%3D%22%C3%A9%E2%82%AC%22%2F%3E",
        "back\\slash \\x41 %5C%78%34%31 stays",
        "a stray % and %4g and a trailing %4",
        "%%41%",
        "not ascii: é %41",
    ],
)
def test_uri_decode_is_unquote(text: str) -> None:
    """The C fast path of a compressed page's URI-decoding gives unquote's text exactly."""
    from urllib.parse import unquote

    from designer_import.formats import _uri_decode

    assert _uri_decode(text, "here") == unquote(text, errors="strict")


def test_uri_decode_invalid_utf8_is_named() -> None:
    from designer_import.formats import _uri_decode

    with pytest.raises(DrawioError, match="here: the URI-encoded diagram is not valid UTF-8"):
        _uri_decode("%C3%28", "here")
