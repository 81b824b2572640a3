"""The uplink's note of who holds its outbox claims, so a restart can give them back at once.

``storage.Outbox`` leases a claimed batch to one owner (a token unique to each run) for a
few minutes. When the uplink is killed (``kill -9``, power cut, crash) its claims stay
leased for that long: the next run would send newer batches first and the killed run's
batches only after their lease expires. The uplink therefore notes its owner token in a
small file when it starts, before it claims anything; the next run releases every batch
still leased to the tokens it finds there, so they are claimed first again, in their
original order, and then notes its own token.

One write per run, none per batch. Releasing changes only unsent batches, so a token whose
batches were all acknowledged releases nothing. One file per client id: only one uplink may
run per client id anyway (the broker would drop each connection in turn).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


class ClaimJournal:
    """The lease owner tokens of the uplink's runs, in a JSON file rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(path.name + ".tmp")
        self._warned = False

    def owners(self) -> list[str]:
        """The tokens noted by earlier runs (empty when there is no readable file)."""
        try:
            owners = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            # Their leases expire on their own; nothing is lost, only delayed.
            log.warning("uplink: ignoring unreadable %s: %s", self.path, exc)
            return []
        if not isinstance(owners, list):
            return []
        return [str(owner) for owner in owners]

    def record(self, owners: Iterable[str]) -> None:
        """Note ``owners`` (this run's token, and any earlier one not yet released).

        Fsynced: the note must outlive a power cut that leaves the batches leased.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._tmp, "w", encoding="utf-8") as file:
                json.dump(list(owners), file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(self._tmp, self.path)
        except OSError as exc:
            if not self._warned:
                log.warning(
                    "uplink: cannot write %s (%s); a restart waits for leases", self.path, exc
                )
                self._warned = True
