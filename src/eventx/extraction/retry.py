"""Waiting between retries of transient faults (429, 5xx, timeouts, connection errors).

The wait honours the server's ``Retry-After`` / ``retry-after-ms`` header when the
failed response carries one, and otherwise backs off exponentially with full jitter.
Every wait is capped at ``max_wait`` seconds. This module knows nothing about any
SDK: it reads headers from ``exception.response.headers`` when they are there.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``retry-after``; None if absent."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return _seconds_until(value)


def _seconds_until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _headers_of(exception: BaseException | None) -> Mapping[str, str]:
    response = getattr(exception, "response", None)
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) else {}


@dataclass(frozen=True)
class BackoffWait:
    """A tenacity ``wait`` strategy: ``Retry-After`` when given, else jittered backoff."""

    initial: float = 0.5
    max_wait: float = 60.0

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exception = outcome.exception() if outcome is not None else None
        told = retry_after_seconds(_headers_of(exception))
        if told is not None:
            return min(told, self.max_wait)
        ceiling = self.initial * 2 ** (retry_state.attempt_number - 1)
        return random.uniform(0, min(ceiling, self.max_wait))


TRANSIENT_STATUS = frozenset({408, 409, 429})
"""HTTP statuses worth retrying besides every 5xx: timeout, conflict, rate limited."""


def is_transient_status(status: int) -> bool:
    """True for an HTTP status that a later retry may not get: 408, 409, 429 and 5xx."""
    return status in TRANSIENT_STATUS or status >= 500
