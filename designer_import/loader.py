"""``load_experience``: a draw.io file (any format) or a built bundle -> ``Experience``."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from designer_import.errors import DrawioError, importer_fault
from designer_import.fonts import find_web_fonts
from designer_import.formats import read_document
from designer_import.images import ImageResolver
from designer_import.model import Experience, Page, Style
from designer_import.parser import PageContext, build_page

log = logging.getLogger(__name__)

#: Drawings larger than this are refused before reading.
MAX_FILE_BYTES = 512 * 1024 * 1024
ATTRACT = "attract"


def load_experience(path: str | Path) -> Experience:
    """Load a ``.drawio``/``.xml``/``.drawio.svg``/``.drawio.png`` file or a bundle folder.

    Raises ``DrawioError`` (one line naming the file and the problem) when it cannot be read.
    """
    source = Path(path)
    if source.is_dir():
        from designer_import.bundle import load_bundle

        try:
            return load_bundle(source)
        except DrawioError:
            raise
        except Exception as exc:
            raise importer_fault(str(source), exc) from exc
    try:
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DrawioError(f"{source}: {size // (1024 * 1024)} MB is too large for a drawing")
        data = source.read_bytes()
    except FileNotFoundError:
        raise DrawioError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DrawioError(f"{source}: is a directory, not a drawing") from None
    except OSError as exc:
        raise DrawioError(f"{source}: cannot read ({exc.strerror or exc})") from None
    return load_experience_bytes(data, source, base_dir=source.parent)


def load_experience_bytes(
    data: bytes, source: str | Path, *, base_dir: Path | None = None
) -> Experience:
    """Load a drawing from bytes; ``base_dir`` is where image files next to it are found."""
    where = str(source)
    try:
        document = read_document(data, where)
    except DrawioError:
        raise
    except Exception as exc:
        raise importer_fault(where, exc) from exc
    images = ImageResolver(base_dir)
    filename = Path(where).name
    globals_ = {"filename": filename, "pagecount": str(len(document.pages))}
    pages: list[Page] = []
    style_cache: dict[tuple[str, bool], tuple[dict[str, str], Style]] = {}
    for index, raw in enumerate(document.pages):
        page_globals = {**globals_, "page": raw.name, "pagenumber": str(index + 1)}
        context = PageContext(
            globals=page_globals,
            images=images,
            where=f'{where}: page {index + 1} "{raw.name}"',
            style_cache=style_cache,
        )
        try:
            pages.append(build_page(raw.id, raw.name, index, raw.model, context))
        except DrawioError:
            raise
        except Exception as exc:
            raise importer_fault(context.where, exc) from exc
    _unique_page_ids(pages)
    assign_roles(pages)
    return Experience(
        pages=pages,
        source_path=Path(source),
        source_hash=hashlib.sha256(data).hexdigest(),
        globals=globals_,
        source_format=document.source_format,
        fonts=find_web_fonts(pages, base_dir),
    )


def assign_roles(pages: list[Page]) -> None:
    """``attract`` for pages named or tagged attract; the first other page is ``welcome``."""
    welcome_done = False
    for page in pages:
        if page.name.strip().lower() == ATTRACT or ATTRACT in (t.lower() for t in page.tags):
            page.role = "attract"
        elif not welcome_done:
            page.role = "welcome"
            welcome_done = True
        else:
            page.role = "page"


def _unique_page_ids(pages: list[Page]) -> None:
    seen: set[str] = set()
    for page in pages:
        if page.id in seen:
            page.id = f"{page.id}#{page.index + 1}"
        seen.add(page.id)
