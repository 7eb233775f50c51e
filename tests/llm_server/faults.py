"""Fault injection for the scripted server: a seeded mix of everything that goes wrong.

A :class:`FaultInjector` is handed to :class:`~tests.llm_server.server.ScriptedLLM`
as ``faults=``. For each request it decides, with probability ``rate``, to misbehave
in one of the ways of :data:`FAULTS`, chosen uniformly; otherwise the request is
answered normally. It counts what it injected, per kind.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from tests.llm_server.server import (
    Step,
    answer,
    article_of,
    cut,
    drip,
    first_sentence_meeting,
    http_error,
    malformed,
    refusal,
    reset,
    slow,
    truncated,
)

TRANSIENT = (
    "429 with Retry-After",
    "429 without Retry-After",
    "500",
    "502",
    "503",
    "connection reset",
    "reset mid-body",
    "read timeout",
)
"""Faults the client retries by itself (tenacity)."""
INVALID = ("malformed JSON", "schema-invalid", "evidence not in the article", "other article")
"""Answers the client re-asks (instructor)."""
HARMLESS = ("slow drip",)
"""Slow, but a valid answer within the timeout."""
FINAL = ("truncated", "refusal")
"""Answers that end the article's extraction with an error."""
FAULTS = TRANSIENT + INVALID + HARMLESS + FINAL


class FaultInjector:
    """Decides per request whether and how the server misbehaves.

    Args:
        rate: share of requests that get a fault.
        seed: seeds the choices (the order requests arrive in still varies).
        timeout: the client's read timeout; a "read timeout" answers later than that.
        kinds: the faults to draw from.
    """

    def __init__(
        self,
        rate: float,
        seed: int,
        *,
        timeout: float,
        kinds: tuple[str, ...] = FAULTS,
    ) -> None:
        self.rate = rate
        self.timeout = timeout
        self.kinds = kinds
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._other_article = "Another article entirely. It says nothing of this one."

    def __call__(self, body: dict[str, Any]) -> Step | None:
        article = article_of(body)
        with self._lock:
            other, self._other_article = self._other_article, article
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            self.injected[kind] += 1
        return self._step(kind, article, other)

    def _step(self, kind: str, article: str, other: str) -> Step:
        steps = {
            "429 with Retry-After": lambda: http_error(429, retry_after="0.05"),
            "429 without Retry-After": lambda: http_error(429),
            "500": lambda: http_error(500),
            "502": lambda: http_error(502),
            "503": lambda: http_error(503),
            "connection reset": reset,
            "reset mid-body": cut,
            "read timeout": lambda: slow(self.timeout + 0.5),
            "slow drip": lambda: drip(0.01),
            "malformed JSON": lambda: malformed(first_sentence_meeting(article)),
            "schema-invalid": lambda: answer({"events": [{"type": "meeting"}], "claims": []}),
            "evidence not in the article": lambda: answer(_invented(article)),
            "other article": lambda: answer(first_sentence_meeting(other)),
            "truncated": lambda: truncated(first_sentence_meeting(article)),
            "refusal": refusal,
        }
        return steps[kind]()


def _invented(article: str) -> dict[str, Any]:
    """The article's answer with its evidence replaced by a sentence it does not contain."""
    payload = first_sentence_meeting(article)
    payload["events"][0]["evidence"] = [{"quote": "The ministers signed a secret pact at dawn."}]
    return payload
