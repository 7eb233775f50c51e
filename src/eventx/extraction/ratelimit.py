"""Client-side pacing of requests and tokens per minute, adjusted by what the provider says.

Two mechanisms work together:

* pacing, a pair of virtual clocks (a GCRA-style meter with no burst): each request
  reserves a start time no earlier than one request interval after the previous
  one, and no earlier than the time the previous requests' tokens take to drain at
  the token rate, so requests are spread evenly instead of bursting;
* a sliding one-second window checked just before each request is sent: at most
  TPM/60 tokens (times the headroom) and as many requests as the pace puts in a second
  (rounded up, never more than the whole RPM/60) in any second. Providers quantize
  per-minute limits into short windows (OpenAI: "60,000 RPM may be enforced as 1,000
  requests per second"); when a busy client sends paced requests late, they would
  otherwise bunch into one window and draw 429s.

It adapts in three ways:

* ``x-ratelimit-limit-requests`` / ``x-ratelimit-limit-tokens`` headers replace the
  default limits (never a limit the user set explicitly, unless they are lower);
* ``x-ratelimit-remaining-*`` of zero holds new requests until the matching
  ``x-ratelimit-reset-*`` time;
* a 429 lowers the pace for everyone by a factor that recovers with each success.
  The request that got the 429 waits its own ``Retry-After``; the others do not.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

HEADROOM = 0.98
"""Share of the limits eventx aims for, to absorb clock skew between client and provider."""
WINDOW = 1.0
"""Seconds of the sliding window checked before each request."""
SLOWDOWN = 0.9
"""Pace factor applied on every 429."""
MIN_FACTOR = 0.25
RECOVERY = 0.005
"""Pace factor regained with every successful response."""

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None) -> float | None:
    """Seconds in an ``x-ratelimit-reset-*`` value such as ``"1s"``, ``"6m0s"``, ``"20ms"``."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


@dataclass
class LimiterStats:
    """What the limiter did, for run summaries and benchmarks."""

    requests: int = 0
    throttled: int = 0
    """Responses answered 429."""
    waited_seconds: float = 0.0


class RateLimiter:
    """Paces requests to stay under requests-per-minute and tokens-per-minute limits.

    Args:
        rpm / tpm: limits per minute; ``None`` means no client-side limit of that kind.
        explicit: True when the user set the limits, so provider headers may only lower them.
        clock: monotonic time in seconds (for simulations and tests).
        burst: seconds of pace that may be caught up after requests came late (a token
            bucket of that depth); 0, the default, paces strictly. The one-second window
            caps every second either way.
        spare: requests per window left unused, for requests that reach the provider
            after a variable delay (a limiter in another process): requests admitted
            across the edge of one of the provider's windows can then land in the same
            one. 0, the default, for a limiter in the sending process.
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None,
        *,
        explicit: bool = False,
        clock: Callable[[], float] = time.monotonic,
        burst: float = 0.0,
        spare: int = 0,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self._explicit = explicit
        self._burst = burst
        self._spare = spare
        self._clock = clock
        self._lock = threading.Lock()
        self._next_request_at = 0.0
        self._next_tokens_at = 0.0
        self._held_until = 0.0
        self._factor = 1.0
        self._sent: deque[tuple[float, int]] = deque()
        self._sent_tokens = 0
        self.stats = LimiterStats()

    def reserve(self, tokens: int) -> float:
        """Reserve a slot for one request of ``tokens``; return the seconds to wait for it."""
        with self._lock:
            now = self._clock()
            paced = max(self._next_request_at, self._next_tokens_at) - self._burst
            start = max(now, paced, self._held_until)
            requests_per_second, tokens_per_second = self._per_second()
            if requests_per_second:
                self._next_request_at = max(self._next_request_at, start)
                self._next_request_at += 1.0 / requests_per_second
            if tokens_per_second:
                self._next_tokens_at = max(self._next_tokens_at, start)
                self._next_tokens_at += tokens / tokens_per_second
            self.stats.requests += 1
            self.stats.waited_seconds += start - now
            return start - now

    async def areserve(self, tokens: int) -> float:
        """:meth:`reserve` for async callers; a limiter kept in another process answers
        without blocking the event loop."""
        return self.reserve(tokens)

    async def aadmit(self, tokens: int) -> float:
        """:meth:`admit` for async callers (see :meth:`areserve`)."""
        return self.admit(tokens)

    def admit(self, tokens: int) -> float:
        """Record a request about to be sent now, if the last second leaves room for it.

        Returns 0.0 when it was recorded, else the seconds to wait before asking again.
        """
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0][0] <= now - WINDOW:
                self._sent_tokens -= self._sent.popleft()[1]
            if self._sent and not self._fits(tokens):
                wait = self._sent[0][0] + WINDOW - now
                self.stats.waited_seconds += wait
                return max(wait, 0.001)
            self._sent.append((now, tokens))
            self._sent_tokens += tokens
            return 0.0

    def _fits(self, tokens: int) -> bool:
        requests_per_second, tokens_per_second = self._per_second()
        cap = self._window_requests(requests_per_second) if requests_per_second else None
        if cap is not None and len(self._sent) + 1 > cap:
            return False
        return not (tokens_per_second and self._sent_tokens + tokens > tokens_per_second * WINDOW)

    def _per_second(self) -> tuple[float | None, float | None]:
        """The pace: requests and tokens a second, under the limits by the headroom."""
        scale = HEADROOM * self._factor / 60
        requests = self.rpm * scale if self.rpm else None
        tokens = self.tpm * scale if self.tpm else None
        return requests, tokens

    def _window_requests(self, pace: float) -> int:
        """Requests allowed in any one window: as many as evenly paced requests put in it
        (the pace rounded up), so they never meet the cap, which only stops requests that
        bunch up after a delay; never more than the limit's whole requests per window.

        Rounding the pace down instead would cost a whole request a second: at 600 RPM,
        9 requests a second where 9.8 are allowed for.
        """
        limit = (self.rpm or 0) * self._factor / 60 * WINDOW
        return max(1, min(math.ceil(pace * WINDOW), math.floor(limit)) - self._spare)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response: its status and its rate-limit headers."""
        with self._lock:
            self._adopt_limits(headers)
            self._hold_if_exhausted(headers)
            if status == 429:
                self.stats.throttled += 1
                self._factor = max(MIN_FACTOR, self._factor * SLOWDOWN)
            elif status < 400:
                self._factor = min(1.0, self._factor + RECOVERY)

    @property
    def pace_factor(self) -> float:
        """1.0 at full pace; lower after 429s."""
        return self._factor

    def _adopt_limits(self, headers: Mapping[str, str]) -> None:
        announced_rpm = _header_number(headers, "x-ratelimit-limit-requests")
        announced_tpm = _header_number(headers, "x-ratelimit-limit-tokens")
        self.rpm = self._adopted(self.rpm, announced_rpm)
        self.tpm = self._adopted(self.tpm, announced_tpm)

    def _adopted(self, current: float | None, announced: float | None) -> float | None:
        if not announced or announced <= 0:
            return current
        if self._explicit and current is not None:
            return min(current, announced)
        return announced

    def _hold_if_exhausted(self, headers: Mapping[str, str]) -> None:
        for kind in ("requests", "tokens"):
            remaining = _header_number(headers, f"x-ratelimit-remaining-{kind}")
            reset = parse_reset(headers.get(f"x-ratelimit-reset-{kind}"))
            if remaining is not None and remaining <= 0 and reset:
                self._held_until = max(self._held_until, self._clock() + reset)
