"""The validator names each way the kiosk draws a connector differently from draw.io
(tests/fixtures/drawio/edges-limits.drawio has one connector per difference, and one
drawn exactly as draw.io draws it)."""

from __future__ import annotations

from designer_import import load_experience, validate
from tests.support.drawings import FIXTURES


def test_each_difference_is_named_once() -> None:
    findings = validate(load_experience(FIXTURES / "edges-limits.drawio"))
    found = {(f.cell_id, f.code) for f in findings if f.code.startswith("connector-")}
    assert found == {
        ("round-flex", "connector-rounded-arrow"),
        ("odd-head", "connector-arrow"),
        ("double", "connector-arrow"),
        ("iso", "connector-style"),
        ("on-edge", "connector-on-connector"),
    }
    messages = {f.cell_id: f.message for f in findings if f.code.startswith("connector-")}
    assert '"wedge"' in messages["odd-head"]
    # line jumps are drawn as draw.io draws them: nothing to warn about
    assert not any(f.cell_id == "jumps" for f in findings)
    assert all(f.severity == "warning" for f in findings if f.code.startswith("connector-"))
