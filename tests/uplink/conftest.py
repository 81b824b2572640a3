"""Fixtures for the uplink tests: a receiver on a broker (helpers: tests.support.uplink)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from uplink.receiver import Receiver
from uplink.transport import BrokerEndpoint


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Start a :class:`Receiver` on an endpoint (subscribed before it returns)."""
    started: list[Receiver] = []

    def start(endpoint: BrokerEndpoint, db: Path | None = None, **kwargs: Any) -> Receiver:
        receiver = Receiver(
            endpoint, "retail/+/+/events", db or tmp_path / "received.sqlite", **kwargs
        )
        receiver.start()
        started.append(receiver)
        assert receiver.wait_subscribed(10), "receiver did not connect"
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
