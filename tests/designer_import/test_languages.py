"""draw.io's per-language labels (``label_fr`` ... in Edit Data, as its translate-diagram
mode writes them): read into the model, kept through a bundle, a page turned into a
language, and the validator's findings per language, on files made for the test."""

from __future__ import annotations

from pathlib import Path

from designer_import import build_bundle, load_experience, validate
from designer_import.languages import languages_of, page_in
from tests.support.drawings import REPO, page_xml, write_drawio

#: A welcome page: a title in French and German, a plain-text button in French only, an
#: HTML label with a placeholder in French, an unlabelled box, and two language pickers
#: (one picking Spanish, which no label has: the drawing's own language, nothing missing
#: in it; one with no language at all).
WELCOME = page_xml(
    "welcome",
    "Welcome",
    '<object label="Welcome" label_fr="Bienvenue" label_de="Willkommen" id="title">'
    '<mxCell style="text;" vertex="1" parent="1"><mxGeometry x="100" y="100" width="400" '
    'height="80" as="geometry"/></mxCell></object>'
    '<object label="Dogs" label_fr="Chiens" id="dogs"><mxCell style="rounded=1;" '
    'vertex="1" parent="1"><mxGeometry x="100" y="300" width="300" height="120" '
    'as="geometry"/></mxCell></object>'
    '<object label="&lt;b&gt;%price%&lt;/b&gt; only" label_FR="&lt;b&gt;%price%&lt;/b&gt; '
    'seulement" price="9 EUR" placeholders="1" id="price"><mxCell style="html=1;" '
    'vertex="1" parent="1"><mxGeometry x="500" y="300" width="300" height="120" '
    'as="geometry"/></mxCell></object>'
    '<mxCell id="blank" value="" style="rounded=1;" vertex="1" parent="1">'
    '<mxGeometry x="900" y="300" width="100" height="100" as="geometry"/></mxCell>'
    '<object label="ES" kiosk-action="set-language" lang="es" id="pick-es"><mxCell '
    'style="rounded=1;" vertex="1" parent="1"><mxGeometry x="100" y="900" width="120" '
    'height="100" as="geometry"/></mxCell></object>'
    '<object label="??" kiosk-action="set-language" id="pick-none"><mxCell '
    'style="rounded=1;" vertex="1" parent="1"><mxGeometry x="300" y="900" width="120" '
    'height="100" as="geometry"/></mxCell></object>',
)


def drawing(tmp_path: Path) -> Path:
    return write_drawio(tmp_path / "languages.drawio", [WELCOME])


def test_translations_are_read_and_kept_out_of_the_shapes_data(tmp_path: Path) -> None:
    page = load_experience(drawing(tmp_path)).pages[0]
    title, dogs, price = (page.element(i) for i in ("title", "dogs", "price"))
    assert title is not None and dogs is not None and price is not None
    assert {k: v.plain for k, v in title.translations.items()} == {
        "fr": "Bienvenue",
        "de": "Willkommen",
    }
    assert "label_fr" not in title.properties and "label_de" not in title.properties
    # an HTML label's translation is HTML too, with its placeholders filled (code in any case)
    assert price.translations["fr"].is_html
    assert price.translations["fr"].plain == "9 EUR seulement"
    # a picker's language is not one of its action's parameters' labels
    picker = page.element("pick-es")
    assert picker is not None and picker.kiosk_action is not None
    assert picker.kiosk_action.params == {"lang": "es"}


def test_a_page_in_a_language_swaps_the_labels_it_has(tmp_path: Path) -> None:
    experience = load_experience(drawing(tmp_path))
    page = experience.pages[0]
    german = page_in(page, "de")
    labels = {e.id: e.label.plain if e.label else None for e in german.elements}
    assert labels["title"] == "Willkommen"
    assert labels["dogs"] == "Dogs"  # no German label: as drawn
    original = page.element("title")
    assert original is not None and original.label is not None
    assert original.label.plain == "Welcome"  # the page itself is left as drawn
    assert page_in(page, "it") is page  # nothing in Italian: the page itself
    assert languages_of(experience) == ["de", "es", "fr"]


def test_translations_survive_a_bundle(tmp_path: Path) -> None:
    bundle = build_bundle(drawing(tmp_path), tmp_path / "bundle")
    title = load_experience(bundle).pages[0].element("title")
    assert title is not None and title.translations["de"].plain == "Willkommen"


def test_the_validator_lists_per_language_the_shapes_without_a_translation(
    tmp_path: Path,
) -> None:
    findings = validate(load_experience(drawing(tmp_path)))
    missing = [
        (f.message.split('"')[1], f.cell_id) for f in findings if f.code == "missing-translation"
    ]
    assert missing == [
        ("de", "dogs"),
        ("de", "price"),
        ("de", "pick-es"),
        ("de", "pick-none"),
        ("fr", "pick-es"),
        ("fr", "pick-none"),
    ]
    pickers = [f for f in findings if f.code == "set-language-without-lang"]
    assert [(f.severity, f.page, f.cell_id) for f in pickers] == [("error", "Welcome", "pick-none")]
    assert "lang=fr" in pickers[0].fix


def test_a_drawing_in_one_language_has_no_language_findings(tmp_path: Path) -> None:
    plain = WELCOME.replace(' label_fr="Bienvenue" label_de="Willkommen"', "")
    for gone in (' label_fr="Chiens"', ' label_FR="&lt;b&gt;%price%&lt;/b&gt; seulement"'):
        plain = plain.replace(gone, "")
    plain = plain.replace(' kiosk-action="set-language" lang="es"', "")
    plain = plain.replace(' kiosk-action="set-language"', "")
    experience = load_experience(write_drawio(tmp_path / "plain.drawio", [plain]))
    assert languages_of(experience) == []
    codes = {f.code for f in validate(experience)}
    assert not codes & {"missing-translation", "set-language-without-lang"}


def test_the_bilingual_worked_example_validates_cleanly() -> None:
    experience = load_experience(REPO / "resources" / "demo" / "bilingual.drawio")
    assert languages_of(experience) == ["en", "fr"]
    assert [f.format() for f in validate(experience)] == []
