"""The one error the importer raises for bad input."""

from __future__ import annotations


class DrawioError(ValueError):
    """A draw.io file that cannot be read: one clear line naming the file and the problem,
    e.g. ``shop.drawio: page 2 "Offers": the compressed diagram is not valid deflate data``."""
