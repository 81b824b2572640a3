"""Per-language labels, as draw.io's ``translate-diagram`` mode keeps them.

draw.io (``?translate-diagram=1``) keeps a shape's label in another language in its Edit
Data as ``label_XX`` (``label_fr``, ``label_de``, ...), next to ``label``; it shows
``label_XX`` when the diagram's language is ``XX`` and the shape has one, else ``label``
(``Graph.convertValueToString``). The parser puts them in ``Element.translations``; here a
page is turned into another language, and the validator learns which shapes lack one.

A shopper picks a language with a shape whose Edit Data says ``kiosk-action=set-language``
and ``lang=fr``. Language codes are compared in lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from designer_import.model import Element, Experience, Page

#: The Edit Data key prefix of a translated label.
LABEL_PREFIX = "label_"
#: The kiosk action that switches the session's language, and its parameter.
SET_LANGUAGE = "set-language"
LANGUAGE_PARAM = "lang"
#: A language code: ISO 639 letters, optionally a region or script (``pt-BR``, ``zh_Hant``).
_CODE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?")


def language_code(text: str) -> str | None:
    """``text`` as a language code (lower case), or None when it is not one."""
    code = text.strip().lower()
    return code if _CODE.fullmatch(code) else None


def translation_language(key: str) -> str | None:
    """The language of an Edit Data key (``label_fr`` -> ``fr``); None for other keys."""
    if not key.startswith(LABEL_PREFIX):
        return None
    return language_code(key[len(LABEL_PREFIX) :])


def picked_language(element: Element) -> str | None:
    """The language a ``set-language`` shape picks (None: not such a shape, or its ``lang``
    is missing or not a language code)."""
    action = element.kiosk_action
    if action is None or action.name != SET_LANGUAGE:
        return None
    return language_code(action.params.get(LANGUAGE_PARAM, ""))


def page_in(page: Page, language: str) -> Page:
    """``page`` with every label that has a ``language`` translation in that language (the
    others as drawn); ``page`` itself when none has one."""
    if not any(language in element.translations for element in page.elements):
        return page
    elements = [
        replace(element, label=element.translations[language])
        if language in element.translations
        else element
        for element in page.elements
    ]
    return replace(page, elements=elements)


def languages_of(experience: Experience) -> list[str]:
    """Every language the drawing has labels in or a shape picks, sorted."""
    found: set[str] = set()
    for page in experience.pages:
        for element in page.elements:
            found.update(element.translations)
            picked = picked_language(element)
            if picked is not None:
                found.add(picked)
    return sorted(found)


@dataclass(frozen=True, slots=True)
class Untranslated:
    """A shape with a label and no translation in ``language``."""

    language: str
    page: Page
    element: Element


def untranslated(experience: Experience) -> list[Untranslated]:
    """Per language some label is translated into (sorted), the shapes whose label shows
    text and has no translation in it, in page and drawing order. A language only a picker
    names is the drawing's own (its labels as drawn, e.g. the "English" button of a drawing
    written in English): nothing is missing in it."""
    translated = {
        language
        for page in experience.pages
        for element in page.elements
        for language in element.translations
    }
    missing: list[Untranslated] = []
    for language in sorted(translated):
        for page in experience.pages:
            missing.extend(
                Untranslated(language, page, element)
                for element in page.elements
                if element.label is not None
                and element.label.plain.strip()
                and language not in element.translations
            )
    return missing
