"""Certificates, keys and password files for the uplink, checked before they are used."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)


class CredentialError(ValueError):
    """A certificate, key or password file that cannot or must not be used (one clear line)."""


def check_readable(path: Path | None, what: str) -> Path:
    """``path`` exists, is a regular file and can be read; returns it."""
    if path is None:
        raise CredentialError(f"uplink: {what} is not set")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CredentialError(f"uplink: {what} {path} does not exist") from None
    except OSError as exc:
        raise CredentialError(f"uplink: {what} {path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CredentialError(f"uplink: {what} {path} is not a file")
    if not os.access(path, os.R_OK):
        raise CredentialError(f"uplink: {what} {path} is not readable by this user")
    return path


def check_private(path: Path | None, what: str) -> Path:
    """Like :func:`check_readable`, and nobody but the owner may read or write it.

    A device key others can read lets anyone on the kiosk PC impersonate the kiosk to the
    cloud, so it is refused rather than warned about.
    """
    path = check_readable(path, what)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CredentialError(
            f"uplink: {what} {path} is accessible by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    return path


def check_public(path: Path | None, what: str) -> Path:
    """A certificate: readable; a warning when others could replace it."""
    path = check_readable(path, what)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o002:
        log.warning("uplink: %s %s can be changed by anyone (mode %04o)", what, path, mode)
    return path
