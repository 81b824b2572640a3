"""The one error the importer raises for bad input."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class DrawioError(ValueError):
    """A draw.io file that cannot be read: one clear line naming the file and the problem,
    e.g. ``shop.drawio: page 2 "Offers": the compressed diagram is not valid deflate data``."""


class ImporterFault(DrawioError):
    """A drawing made the importer fail in a way it did not foresee (its own bug, met on
    odd input): still one clear line naming the file, page and shape, never a traceback.
    The fuzz tests check that mutated real files never end here."""


def importer_fault(where: str, exc: Exception) -> ImporterFault:
    """The clear line for an error the importer did not foresee, ``where`` naming the file
    (page, shape); the traceback goes to the log for whoever fixes the importer."""
    log.warning("unexpected error reading %s", where, exc_info=exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return ImporterFault(f"{where}: cannot be read ({type(exc).__name__}: {first})")
