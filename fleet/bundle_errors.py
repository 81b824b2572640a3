"""Why a bundle did not reach the screen: refused (the bundle's fault) or failed (the kiosk's).

Both carry one line, ``reason``, that a deploy job reports as its failure reason and the log
records; neither ever shows a traceback to anyone.
"""

from __future__ import annotations


class BundleError(Exception):
    """A deployment that did not happen; ``str(error)`` is its one-line reason."""

    @property
    def reason(self) -> str:
        """The one line naming what failed and where."""
        return str(self)


class BundleRefused(BundleError):
    """The bundle itself is unacceptable (size, hash, signature, unsafe or damaged archive,
    not a kiosk bundle): retrying the same bundle gives the same answer."""


class DeploymentFailed(BundleError):
    """The kiosk could not deploy a bundle it had no objection to (network, timeout, disk):
    the same bundle may succeed later."""
