"""The uplink's note of the outbox batches it holds, so a restart can give them back at once.

``storage.Outbox`` leases a claimed batch to one process for a few minutes. When the uplink
is killed (``kill -9``, power cut, crash) its claims stay leased for that long: the next run
would send newer batches first and the killed run's batches only after their lease expires.
The uplink therefore writes the ids of the batches it holds to a small file before it
publishes them; at the next start it releases those ids, so they are claimed first again,
in their original order.

Releasing an id that was meanwhile marked sent changes nothing (``Outbox.release`` only
touches unsent batches), so the file may lag behind acknowledgements. One file per client
id: only one uplink may run per client id anyway (the broker would drop each connection in
turn).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


class ClaimJournal:
    """The ids of the batches an uplink holds, in a JSON file rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(path.name + ".tmp")
        self._warned = False

    def held(self) -> list[str]:
        """The ids the previous run held (empty when there is no readable file)."""
        try:
            ids = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            # Their leases expire on their own; nothing is lost, only delayed.
            log.warning("uplink: ignoring unreadable %s: %s", self.path, exc)
            return []
        if not isinstance(ids, list):
            return []
        return [str(i) for i in ids]

    def record(self, ids: Iterable[str]) -> None:
        """Note ``ids`` as held now (replacing the previous note).

        Not fsynced: a killed process's writes survive in the page cache; after a power cut
        a stale note only means waiting for the leases to expire.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp.write_text(json.dumps(list(ids)), encoding="utf-8")
            os.replace(self._tmp, self.path)
        except OSError as exc:
            if not self._warned:
                log.warning(
                    "uplink: cannot write %s (%s); a restart waits for leases", self.path, exc
                )
                self._warned = True
