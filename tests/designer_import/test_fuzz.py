"""Mutated real files: whatever happens to the bytes, only a clear DrawioError comes out."""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer_import import DrawioError, formats, load_experience_bytes, validate
from designer_import.errors import ImporterFault

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "drawio"
# real files kept in the repository (tests/fixtures/corpus), so a fresh clone fuzzes them too
CORPUS = FIXTURES.parent / "corpus" / "drawio"
SEED_NAMES = [
    FIXTURES / "features.drawio",
    FIXTURES / "features-compressed.drawio",
    FIXTURES / "features.drawio.png",
    FIXTURES / "features-ztxt.drawio.png",
    FIXTURES / "features-uri.drawio.svg",
    CORPUS / "diagrams__flowchart.drawio.svg",
    CORPUS / "templates__basic__orgchart.xml",
    CORPUS / "src__main__webapp__templates__basic__placeholder.xml",
]
SEEDS = [path.read_bytes() for path in SEED_NAMES]
_DIAGRAM_TEXT = re.compile(rb"(<diagram[^>]*>)([A-Za-z0-9+/=\s]{16,})(</diagram>)")
ENCODINGS = ["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "cp500"]


def _mutate_compressed(data: bytes, mutate) -> bytes:  # type: ignore[no-untyped-def]
    match = _DIAGRAM_TEXT.search(data)
    if match is None:
        return data
    return data[: match.start(2)] + mutate(match.group(2)) + data[match.end(2) :]


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEEDS))
    how = draw(st.sampled_from(["truncate", "flip", "splice", "base64", "deflate", "encoding"]))
    if how == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, len(out) - 1))
            out[pos] ^= draw(st.integers(1, 255))
        return bytes(out)
    if how == "splice":
        pos = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=64))
        cut = draw(st.integers(0, 64))
        return data[:pos] + junk + data[pos + cut :]
    if how == "base64":
        cut = draw(st.integers(1, 40))
        bad = draw(st.sampled_from([b"!", b"=", b"%", b"\x00", b"\xff", b""]))
        return _mutate_compressed(data, lambda text: text[:-cut] + bad)
    if how == "deflate":
        flips = draw(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1))

        def damage(text: bytes) -> bytes:
            raw = bytearray(base64.b64decode(text))
            for pos, bits in flips:
                raw[pos % len(raw)] ^= bits
            if draw(st.booleans()):
                raw = raw[: len(raw) // 2]
            return base64.b64encode(bytes(raw))

        return _mutate_compressed(data, damage)
    encoding = draw(st.sampled_from(ENCODINGS))
    text = data.decode("utf-8", "replace")
    if draw(st.booleans()):
        text = re.sub(r'encoding="[^"]*"', f'encoding="{encoding}"', text, count=1)
    return text.encode(encoding, "replace")


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_files())
def test_mutated_files_load_or_fail_with_one_clear_line(data: bytes) -> None:
    try:
        experience = load_experience_bytes(data, "mutated.drawio", base_dir=FIXTURES)
    except ImporterFault as exc:  # the safety net: an input the importer did not foresee
        raise AssertionError(f"the importer did not foresee this input: {exc}") from exc
    except DrawioError as exc:
        message = str(exc)
        assert message.startswith("mutated.drawio")
        assert "\n" not in message
        return
    assert not [f for f in validate(experience) if f.code == "not-checked"]


def test_a_deflate_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_INFLATED_BYTES", 4 * 1024 * 1024)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b"A" * (5 * 1024 * 1024)) + bomb.flush()
    text = base64.b64encode(payload).decode()
    data = f'<mxfile><diagram id="a" name="P">{text}</diagram></mxfile>'.encode()
    try:
        load_experience_bytes(data, "bomb.drawio")
    except DrawioError as exc:
        assert "beyond 4 MB" in str(exc)
    else:
        raise AssertionError("a page beyond the limit was accepted")
