"""Rate limits and backoff, on a hand-driven clock (no timing is asserted)."""

from __future__ import annotations

import random

import pytest

from tests.support.clock import FakeClock
from uplink.pacing import WINDOW_S, Backoff, RateLimiter


def send_for(limiter: RateLimiter, clock: FakeClock, seconds: float, size: int) -> list[float]:
    """Publish as fast as ``limiter`` allows for ``seconds``; the send times."""
    sent = []
    end = clock.now + seconds
    while clock.now < end:
        wait = limiter.delay(size)
        if wait == 0.0:
            sent.append(clock.now)
        else:
            clock.now += wait
    return sent


def most_in_any(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_no_window_holds_more_than_the_limit_not_even_the_first_after_a_start() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(publishes_per_s=100, bytes_per_s=10**9, clock=clock)
    sent = send_for(limiter, clock, 5.0, 100)
    assert most_in_any(sent, WINDOW_S) == 100
    assert most_in_any(sent, 1.0) == 100
    assert len(sent) >= 400  # and it keeps sending at the limit


def test_the_byte_limit_holds_in_every_window_too() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(publishes_per_s=100, bytes_per_s=10_000, clock=clock)
    sent = send_for(limiter, clock, 5.0, 1000)
    assert most_in_any(sent, WINDOW_S) == 10  # 10 x 1000 bytes
    assert len(sent) >= 40


def test_a_wait_is_exactly_until_enough_has_left_the_window() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(publishes_per_s=2, bytes_per_s=1000, clock=clock)
    assert limiter.delay(600) == 0.0
    clock.now += 0.5
    assert limiter.delay(300) == 0.0
    # 900 bytes in the window: 200 more must wait for the first message to leave it
    assert limiter.delay(200) == pytest.approx(WINDOW_S - 0.5)
    clock.now += WINDOW_S - 0.5
    # the first left; the second is still there, so one publish of room
    assert limiter.delay(200) == 0.0
    assert limiter.delay(1) == pytest.approx(0.5)


def test_a_message_larger_than_the_byte_limit_goes_alone_once_the_window_is_empty() -> None:
    clock = FakeClock(100.0)
    limiter = RateLimiter(publishes_per_s=100, bytes_per_s=1000, clock=clock)
    assert limiter.delay(10) == 0.0
    assert limiter.delay(5000) == pytest.approx(WINDOW_S)
    clock.now += WINDOW_S
    assert limiter.delay(5000) == 0.0
    assert limiter.delay(1) == pytest.approx(WINDOW_S)


def test_backoff_grows_with_jitter_up_to_the_maximum_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(1))
    waits = [backoff.next() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    for wait, ceiling in zip(waits, ceilings, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == len(waits)  # jittered, not lockstep
    backoff.reset()
    assert 0.5 <= backoff.next() <= 1.0
