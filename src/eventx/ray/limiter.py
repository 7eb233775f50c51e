"""Rate limits shared by every worker of a Ray job: one named actor keeps the pace.

The actor holds one :class:`~eventx.extraction.ratelimit.RateLimiter`, the same meter a
single machine uses: requests and tokens paced evenly per second at the RPM and TPM
limits, a sliding one-second window checked just before each send, limits learned from
``x-ratelimit-*`` headers, and a pace that slows by 10% on every 429 any worker gets.
Every worker's :class:`SharedRateLimiter` asks it for a slot before each request and
tells it each response's status and rate-limit headers; waits happen in the worker. Ten
workers therefore share one budget instead of sending ten times the limit.

The actor is created by the driver with ``get_if_exists``, so the extractions of one job
against the same endpoint and model share it, and restarted by Ray if its process dies
(it then learns the limits again from the next responses). It needs no CPU of its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any

import ray

from eventx.extraction.ratelimit import LimiterStats, RateLimiter
from eventx.settings import Settings

_KEPT_HEADERS = ("x-ratelimit-", "retry-after")
BURST = 0.25
"""Seconds of pace the shared meter catches up when requests reach it late (workers on
other processes and nodes, each call a network round trip); the one-second window still
caps every second at the limit."""
SPARE = 1
"""Requests per second the shared meter leaves unused: a worker sends a request one
round trip after the meter admitted it, so requests admitted on either side of the edge
of one of the provider's seconds can land in the same one."""
STALE_ADMISSION = 0.2
"""Seconds after which the meter's yes reaches the worker too late to act on: a worker
whose event loop was busy would otherwise send every request admitted meanwhile at once,
into the same second of the provider as the requests admitted after them. Such a
request asks once more (its first slot stays counted, which errs on the side of the
limit)."""


class LimiterActor:
    """The shared meter, run as a Ray actor (see :func:`limiter_actor`)."""

    def __init__(self, rpm: float | None, tpm: float | None, explicit: bool) -> None:
        self._limiter = RateLimiter(rpm, tpm, explicit=explicit, burst=BURST, spare=SPARE)

    def reserve(self, tokens: int) -> float:
        """Seconds the caller waits before its request (see ``RateLimiter.reserve``)."""
        return self._limiter.reserve(tokens)

    def admit(self, tokens: int) -> float:
        """0.0 when the request may go now, else seconds to wait and ask again."""
        return self._limiter.admit(tokens)

    def observe(self, status: int, headers: dict[str, str]) -> None:
        """Learn from one response: a 429 slows everyone, headers set the limits."""
        self._limiter.observe(status, headers)

    def stats(self) -> dict[str, float | None]:
        """Requests paced, 429s seen, seconds waited, the limits and the pace now."""
        stats, limiter = self._limiter.stats, self._limiter
        return {
            "requests": stats.requests,
            "throttled": stats.throttled,
            "waited_seconds": stats.waited_seconds,
            "rpm": limiter.rpm,
            "tpm": limiter.tpm,
            "pace_factor": limiter.pace_factor,
        }


def limiter_name(settings: Settings) -> str:
    """The actor's name: one per endpoint (or fleet), model and limits."""
    key = repr((settings.base_urls or settings.base_url, settings.model, *settings.rate_limits()))
    return "eventx-rate-limiter-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def limiter_actor(settings: Settings) -> Any:
    """The job's shared limiter for ``settings``: created, or found by name."""
    rpm, tpm, explicit = settings.rate_limits()
    remote = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(LimiterActor)
    options = remote.options(name=limiter_name(settings), get_if_exists=True)
    return options.remote(rpm, tpm, explicit)


class SharedRateLimiter(RateLimiter):
    """A :class:`RateLimiter` whose state lives in the shared actor.

    It keeps nothing itself: every call goes to the actor (``areserve`` / ``aadmit``
    without blocking the worker's event loop; ``observe`` without waiting for an answer).
    """

    def __init__(self, actor: Any) -> None:
        super().__init__(None, None)
        self.actor = actor

    def reserve(self, tokens: int) -> float:
        """Ask the actor for a slot; the seconds to wait for it."""
        return float(ray.get(self.actor.reserve.remote(tokens)))

    def admit(self, tokens: int) -> float:
        """Ask the actor whether the request may go now."""
        return float(ray.get(self.actor.admit.remote(tokens)))

    async def areserve(self, tokens: int) -> float:
        """:meth:`reserve`, awaiting the actor's answer."""
        return float(await self.actor.reserve.remote(tokens))

    async def aadmit(self, tokens: int) -> float:
        """:meth:`admit`, awaiting the actor's answer; a yes that took longer than
        :data:`STALE_ADMISSION` to arrive is asked once more."""
        asked = time.monotonic()
        wait = float(await self.actor.admit.remote(tokens))
        if wait == 0.0 and time.monotonic() - asked > STALE_ADMISSION:
            wait = float(await self.actor.admit.remote(tokens))
        return wait

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Tell the actor a response's status and rate-limit headers; no answer awaited."""
        kept = {k.lower(): v for k, v in headers.items() if k.lower().startswith(_KEPT_HEADERS)}
        self.actor.observe.remote(status, kept)

    @property
    def shared_stats(self) -> LimiterStats:
        """The actor's counts (the local ``stats`` stay empty)."""
        found = ray.get(self.actor.stats.remote())
        return LimiterStats(
            int(found["requests"]), int(found["throttled"]), float(found["waited_seconds"])
        )
