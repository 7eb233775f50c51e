"""Pacing: requests spread evenly at the limit less the headroom, never more than the
limit's whole requests in any second, even when they were sent late."""

from __future__ import annotations

import pytest

from eventx.extraction.ratelimit import HEADROOM, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _send(limiter: RateLimiter, clock: Clock) -> float:
    """Wait as the extractor does (reserve a slot, then the window), send; the send time."""
    clock.now += limiter.reserve(100)
    return _admit(limiter, clock)


def _admit(limiter: RateLimiter, clock: Clock) -> float:
    """Wait until the window admits a request, send; the send time."""
    while (wait := limiter.admit(100)) > 0:
        clock.now += wait
    return clock.now


def _most_in_one_second(sends: list[float]) -> int:
    return max(sum(1 for other in sends if start <= other < start + 1) for start in sends)


def test_600_rpm_is_paced_at_the_limit_less_the_headroom() -> None:
    clock = Clock()
    limiter = RateLimiter(600, None, clock=clock)
    sends = [_send(limiter, clock) for _ in range(300)]
    assert sends[-1] - sends[0] == pytest.approx(299 / (10 * HEADROOM))
    assert _most_in_one_second(sends) == 10


def test_requests_sent_late_bunch_up_to_the_limit_and_no_further() -> None:
    clock = Clock()
    limiter = RateLimiter(600, None, clock=clock)
    waits = [limiter.reserve(100) for _ in range(40)]  # 40 workers take their slots
    assert waits[-1] == pytest.approx(39 / (10 * HEADROOM))
    clock.now += 2.5  # the event loop was busy: every slot so far has passed
    sends = [_admit(limiter, clock) for _ in range(40)]
    assert _most_in_one_second(sends) == 10


def test_a_limit_under_one_request_a_second_is_paced_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(30, None, clock=clock)
    sends = [_send(limiter, clock) for _ in range(10)]
    assert sends[-1] - sends[0] == pytest.approx(9 * 60 / (30 * HEADROOM))


def test_a_limit_that_is_not_whole_requests_a_second_is_capped_below_it() -> None:
    clock = Clock()
    limiter = RateLimiter(500, None, clock=clock)  # 8.3 a second: at most 8 in any second
    waits = [limiter.reserve(100) for _ in range(30)]
    assert waits[-1] > 0
    clock.now += 5
    sends = [_admit(limiter, clock) for _ in range(30)]
    assert _most_in_one_second(sends) == 8


def test_a_spare_request_leaves_room_for_requests_that_arrive_late() -> None:
    """A meter in another process admits requests that reach the provider one round trip
    later, some later than others: a request admitted just before the edge of one of the
    provider's seconds can land in the next one, with those admitted in it. One request a
    second is kept spare for it."""
    clock = Clock()
    limiter = RateLimiter(600, None, clock=clock, spare=1)
    clock.now += limiter.reserve(100) + 5  # late: every slot of the burst has passed
    admitted = [_admit(limiter, clock) for _ in range(40)]
    assert _most_in_one_second(admitted) == 9
