"""One way to wait for something a thread or another process does."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(check: Callable[[], object], what: str = "", timeout: float = 30.0) -> None:
    """Poll ``check`` every 50 ms until it is true; fail naming ``what`` after ``timeout``
    seconds (the test fails, it never hangs)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what or check}")
        time.sleep(0.05)
