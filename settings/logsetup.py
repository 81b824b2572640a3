"""Logging for every command: console plus a rotating file under the data directory."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from settings.model import KioskConfig

log = logging.getLogger(__name__)

FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def configure_logging(
    config: KioskConfig, *, level: str | None = None, log_name: str = "kiosk.log"
) -> Path | None:
    """Send logs to stderr and (when ``[logging] file``) to ``log_dir/log_name``.

    Returns the log file's path, or None when file logging is off or the folder cannot be
    made (then that is logged once and the kiosk goes on with the console only).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level or config.logging.level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    if not config.logging.file or config.paths.log_dir is None:
        return None
    path = config.paths.log_dir / log_name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=config.logging.max_bytes,
            backupCount=config.logging.backups,
            encoding="utf-8",
        )
    except OSError as exc:
        log.error("cannot write the log file %s (%s); logging to the console only", path, exc)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
