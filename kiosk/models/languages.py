"""The language a shopper reads: the config's default until a picker changes it.

A shape with ``kiosk-action=set-language`` and ``lang=fr`` makes the session French: every
page then shows its ``label_fr`` labels (``designer_import.languages``), the kiosk's own
screens the French texts of ``[languages.texts.fr]`` (English where none is given), and
every event carries ``language`` (in a multilingual experience: one with a ``label_XX`` or
a picker; a drawing in one language adds nothing to its events). When the session ends
the kiosk goes back to ``[languages] default``. Plain Python: the shopper window asks,
the view shows.
"""

from __future__ import annotations

from designer_import.languages import language_code, languages_of, page_in
from designer_import.model import Experience, Page
from settings.model import BuiltInText, LanguagesSection

#: Pages in a language kept at most (more means another experience's pages are held).
KEPT_PAGES = 256


class SessionLanguage:
    """The session's language, and each page as it reads in it (UI thread)."""

    def __init__(self, settings: LanguagesSection) -> None:
        self.settings = settings
        #: The language shown now (a lower-case code).
        self.current = settings.default
        #: Pages in a language, by (page id, language): the page they came from and the
        #: copy (the same object every time, so that the view keeps its picture).
        self._pages: dict[tuple[str, str], tuple[Page, Page]] = {}
        #: The experience shown has labels in other languages, or a picker.
        self.multilingual = False

    def use(self, experience: Experience) -> None:
        """``experience`` is shown now (a load, a reload)."""
        self.multilingual = bool(languages_of(experience))
        self._pages.clear()

    def recorded(self) -> str | None:
        """The language an event records: the current one in a multilingual experience,
        else None (nothing to split by)."""
        return self.current if self.multilingual else None

    def pick(self, language: str) -> bool:
        """The shopper picked ``language`` (any case); True when the language changed
        (pages must be drawn again), False when it is the one shown or not a code."""
        code = language_code(language)
        if code is None or code == self.current:
            return False
        self.current = code
        return True

    def reset(self) -> bool:
        """Back to the default language (the session ended); True when that changed it."""
        return self.pick(self.settings.default)

    def page(self, page: Page) -> Page:
        """``page`` as it reads in the current language (``page`` itself when it has no
        label in it)."""
        key = (page.id, self.current)
        kept = self._pages.get(key)
        if kept is not None and kept[0] is page:
            return kept[1]
        if len(self._pages) >= KEPT_PAGES:
            self._pages.clear()
        shown = page_in(page, self.current)
        self._pages[key] = (page, shown)
        return shown

    def text(self, key: BuiltInText, english: str) -> str:
        """One of the kiosk's own texts in the current language: the config's, else
        ``english``."""
        return self.settings.texts.get(self.current, {}).get(key, english)
