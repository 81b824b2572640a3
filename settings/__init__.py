"""Typed, strict configuration for every part of the kiosk.

One TOML file (the default lives in ``resources/kiosk.toml``) is validated at start by
:func:`settings.loader.load_config`; an unknown key or a bad value is a :class:`ConfigError`
that names the key, the file and what is allowed. ``KIOSK_*`` environment variables override
keys (``KIOSK_STORAGE__FLUSH_INTERVAL_MS=20`` sets ``[storage] flush_interval_ms``).

This package is the bottom layer: it imports no other package of the product and no Qt.
"""

from settings.loader import ConfigError, load_config, render_config
from settings.model import KioskConfig

__all__ = ["ConfigError", "KioskConfig", "load_config", "render_config"]
