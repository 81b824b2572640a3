"""Token buckets and backoff, on a hand-driven clock (no timing is asserted)."""

from __future__ import annotations

import random

import pytest

from uplink.pacing import Backoff, RateLimiter, TokenBucket


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, capacity=10, clock=clock)
    assert [bucket.delay(1) for _ in range(10)] == [0.0] * 10
    assert bucket.delay(1) == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.delay(1) == 0.0


def test_bucket_lets_an_item_bigger_than_its_capacity_through_when_full() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1000, capacity=1000, clock=clock)
    assert bucket.delay(5000) == 0.0
    # ... and then it owes the difference.
    assert bucket.delay(1) == pytest.approx(4.001)


def test_limiter_holds_both_publishes_and_bytes() -> None:
    clock = Clock()
    limiter = RateLimiter(publishes_per_s=100, bytes_per_s=10_000, clock=clock)
    sent = 0
    while limiter.delay(1000) == 0.0:
        sent += 1
    assert sent == 10  # the byte budget binds first
    clock.now += 1.0
    small = 0
    while limiter.delay(10) == 0.0:
        small += 1
    assert small == 100  # now the publish budget binds


def test_limiter_gives_back_the_publish_token_when_bytes_are_short() -> None:
    clock = Clock()
    limiter = RateLimiter(publishes_per_s=2, bytes_per_s=1000, clock=clock)
    assert limiter.delay(1000) == 0.0
    assert limiter.delay(1000) > 0
    clock.now += 1.0
    assert limiter.delay(1000) == 0.0


def test_backoff_grows_with_jitter_up_to_the_maximum_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(1))
    waits = [backoff.next() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered, not lockstep
    backoff.reset()
    assert 0.5 <= backoff.next() <= 1.0
