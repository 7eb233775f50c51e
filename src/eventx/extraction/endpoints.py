"""Several endpoints serving one model (a vLLM fleet): the least busy one, a circuit each.

Each request goes to the endpoint with the fewest requests in flight among those whose
circuit lets it through; ties go round-robin, so idle endpoints share the load too.

A circuit per endpoint keeps requests away from one that is down:

* **closed**: requests flow. :data:`FAILURES_TO_OPEN` failures in a row (connection
  errors, timeouts, 5xx) open it.
* **open**: no requests for a cooldown (:data:`COOLDOWN` seconds, doubled after each
  failed probe up to :data:`MAX_COOLDOWN`).
* **half-open**: after the cooldown one request goes through as a probe; its success
  closes the circuit, its failure opens it again.

When every circuit is open, the endpoint whose cooldown ends first takes the request as
its probe: the run slows down (transient retries back off) but never stops for want of an
endpoint. A 429 or another 4xx is an answer about the request or the rate, not a failure
of the endpoint. Openings and closings are logged (logger ``eventx.endpoints``), and
:meth:`EndpointPool.stats` counts requests, failures and openings per endpoint.

The pool itself knows no SDK: the caller says which exceptions are endpoint failures
(:func:`is_endpoint_fault` for openai's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import openai

FAILURES_TO_OPEN = 3
"""Failures in a row that open an endpoint's circuit."""
COOLDOWN = 5.0
"""Seconds an opened circuit stays open before its first probe."""
MAX_COOLDOWN = 60.0
"""The longest cooldown, however many probes failed."""

logger = logging.getLogger("eventx.endpoints")


class Circuit(StrEnum):
    """Whether an endpoint takes requests."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Endpoint:
    """One endpoint of a pool and what it has seen."""

    url: str
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    opened: int = 0
    """Times its circuit opened."""
    circuit: Circuit = Circuit.CLOSED
    failures_in_a_row: int = 0
    cooldown: float = COOLDOWN
    retry_at: float = 0.0
    """When an open circuit lets its probe through."""
    probing: bool = False


@dataclass(frozen=True)
class EndpointStats:
    """Counts for one endpoint, for summaries and logs."""

    requests: int
    failures: int
    opened: int
    circuit: str


class EndpointPool:
    """Chooses an endpoint for each request; keeps a circuit breaker per endpoint.

    Args:
        urls: the endpoints' base URLs (at least one).
        failures_to_open / cooldown / max_cooldown: the breaker's thresholds.
        clock: monotonic time in seconds (for tests).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        failures_to_open: int = FAILURES_TO_OPEN,
        cooldown: float = COOLDOWN,
        max_cooldown: float = MAX_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(url, cooldown=cooldown) for url in urls]
        self._failures_to_open = failures_to_open
        self._cooldown = cooldown
        self._max_cooldown = max_cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._turn = 0

    @contextmanager
    def lease(self, is_failure: Callable[[BaseException], bool]) -> Iterator[Endpoint]:
        """The endpoint for one request, held while it is out.

        An exception that ``is_failure`` calls a failure of the endpoint counts against its
        circuit; any other outcome is a success. The exception propagates either way.
        """
        endpoint, probe = self.acquire()
        try:
            yield endpoint
        except BaseException as error:
            self.release(endpoint, failed=is_failure(error), probe=probe)
            raise
        self.release(endpoint, failed=False, probe=probe)

    def acquire(self) -> tuple[Endpoint, bool]:
        """Take the least busy endpoint whose circuit lets a request through; True when the
        request is the probe of an open circuit."""
        with self._lock:
            endpoint = self._choose(self._clock())
            probe = endpoint.circuit is not Circuit.CLOSED
            if probe:
                endpoint.circuit, endpoint.probing = Circuit.HALF_OPEN, True
            endpoint.in_flight += 1
            endpoint.requests += 1
            return endpoint, probe

    def release(self, endpoint: Endpoint, *, failed: bool, probe: bool = False) -> None:
        """Count a request's outcome against its endpoint's circuit. Only a probe's outcome
        moves a circuit that is not closed; answers to requests sent before it opened do not."""
        with self._lock:
            endpoint.in_flight -= 1
            endpoint.failures += failed
            if probe:
                self._probed(endpoint, failed)
            elif endpoint.circuit is Circuit.CLOSED:
                self._counted(endpoint, failed)

    def stats(self) -> dict[str, EndpointStats]:
        """Requests, failures and circuit openings per endpoint URL."""
        with self._lock:
            return {
                e.url: EndpointStats(e.requests, e.failures, e.opened, e.circuit.value)
                for e in self.endpoints
            }

    def _choose(self, now: float) -> Endpoint:
        count = len(self.endpoints)
        order = [self.endpoints[(self._turn + i) % count] for i in range(count)]
        self._turn = (self._turn + 1) % count
        usable = [endpoint for endpoint in order if self._takes_requests(endpoint, now)]
        if usable:
            return min(usable, key=lambda endpoint: endpoint.in_flight)
        return min(order, key=lambda endpoint: endpoint.retry_at)

    @staticmethod
    def _takes_requests(endpoint: Endpoint, now: float) -> bool:
        if endpoint.circuit is Circuit.CLOSED:
            return True
        return not endpoint.probing and now >= endpoint.retry_at

    def _counted(self, endpoint: Endpoint, failed: bool) -> None:
        endpoint.failures_in_a_row = endpoint.failures_in_a_row + 1 if failed else 0
        if endpoint.failures_in_a_row >= self._failures_to_open:
            endpoint.cooldown = self._cooldown
            self._open(endpoint)

    def _probed(self, endpoint: Endpoint, failed: bool) -> None:
        if failed:
            endpoint.failures_in_a_row += 1
            endpoint.cooldown = min(endpoint.cooldown * 2, self._max_cooldown)
            self._open(endpoint)
            return
        endpoint.circuit, endpoint.probing, endpoint.failures_in_a_row = Circuit.CLOSED, False, 0
        logger.warning("endpoint %s: probe answered; circuit closed", endpoint.url)

    def _open(self, endpoint: Endpoint) -> None:
        endpoint.circuit, endpoint.probing = Circuit.OPEN, False
        endpoint.retry_at = self._clock() + endpoint.cooldown
        endpoint.opened += 1
        logger.warning(
            "endpoint %s: circuit open after %d failure(s) in a row; probing again in %.0f s",
            endpoint.url,
            endpoint.failures_in_a_row,
            endpoint.cooldown,
        )


def pool_for(urls: Sequence[str] | None) -> EndpointPool | None:
    """A pool over ``urls``; None when there are none (requests go to ``base_url``)."""
    return EndpointPool(urls) if urls else None


def is_endpoint_fault(error: BaseException) -> bool:
    """True when the endpoint itself failed: unreachable, timed out, or answered 5xx.

    A 429 or another 4xx says something about the request or the rate, not the endpoint.
    """
    if isinstance(error, openai.APIStatusError):
        return error.status_code >= 500
    return isinstance(error, openai.APIConnectionError)  # timeouts included
