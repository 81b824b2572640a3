"""The fleet's Device Shadow in the running kiosk (``[fleet] shadow``, docs/fleet.md).

:func:`start_shadow` starts :class:`fleet.shadow.ShadowAgent` behind the first page, with the
event log (its ``admin.remote.*`` events) and the outbox (the backlog it reports). The values
the fleet set are put in the running kiosk's config on the UI thread (:func:`apply_remote`):
the parts that read their section live take them at once (the session's timeouts, the attract
rotation); the others, and every value after a restart, come from the overlay file laid over
the config at start. No Qt here: the UI thread is reached through ``post``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from settings import KioskConfig

if TYPE_CHECKING:
    from fleet.bundles import BundleStore
    from fleet.shadow import ShadowAgent
    from storage import EventLog, Outbox

log = logging.getLogger(__name__)

#: The config tables put in effect whole (their values are checked together: the zones).
_WHOLE_TABLES = frozenset({"sensors.zones"})


def start_shadow(
    config: KioskConfig,
    event_log: EventLog,
    outbox: Outbox | None,
    post: Callable[[Callable[[], None]], None],
    bundles: BundleStore | None = None,
) -> ShadowAgent | None:
    """Start the shadow agent when ``[fleet] shadow`` is on (any thread: the boot lane);
    None when it is off or cannot start (logged: the kiosk runs on without it). With the
    fleet's ``bundles`` (``[fleet] jobs``) the active bundle's id and hash are reported."""
    if not config.fleet.shadow:
        return None
    from fleet.shadow import ShadowError, open_shadow
    from fleet.shadow_health import KioskHealth

    health = KioskHealth(
        backlog=outbox.backlog if outbox is not None else None,
        storage=event_log.health,
        active_bundle=_active_bundle(bundles),
    )

    def applied(new: KioskConfig, keys: list[str]) -> None:
        post(lambda: apply_remote(config, new, keys))

    try:
        agent = open_shadow(
            config,
            append=event_log.append,
            health=health,
            on_applied=lambda new, changes: applied(new, [c.key for c in changes]),
        )
    except ShadowError as exc:
        log.error("%s: the kiosk runs without its shadow", exc)
        return None
    applied(agent.config, list(agent.remote.values))  # the overlay, laid over the running config
    agent.start()
    return agent


def _active_bundle(
    bundles: BundleStore | None,
) -> Callable[[], tuple[str, str] | None] | None:
    """The active bundle's id and archive sha256 for the health ("unknown" when its record
    has none); read on the shadow's thread at each report."""
    if bundles is None:
        return None

    def active() -> tuple[str, str] | None:
        bundle = bundles.active()
        return None if bundle is None else (bundle.bundle_id, bundle.sha256 or "unknown")

    return active


def apply_remote(live: KioskConfig, new: KioskConfig, keys: Iterable[str]) -> None:
    """Put the values of ``keys`` from ``new`` (checked by the agent) into the running
    kiosk's ``live`` config, in place (UI thread)."""
    for key in sorted(set(keys)):
        *tables, name = key.split(".")
        if ".".join(tables) in _WHOLE_TABLES:
            *tables, name = tables
        source, target = new, live
        for table in tables:
            source, target = getattr(source, table), getattr(target, table)
        value = getattr(source, name)
        try:
            setattr(target, name, value.model_copy() if isinstance(value, BaseModel) else value)
        except ValueError as exc:  # checked by the agent already; never onto the screen
            log.error("fleet config %s not put in effect: %s", key, exc)
            continue
        log.info("fleet config in effect: %s", key)
