"""What runs inside each actor of the pool: one extractor, many requests in flight.

Ray Data calls :class:`ExtractBatch` with batches of article rows; the actor extracts
every article of a batch concurrently on its own event loop (Ray Data also runs several
batches of an actor at once), the extractor's ``concurrency`` bounding the requests in
flight, the shared limiter pacing them across the whole job. Every article becomes rows
(:mod:`eventx.ray.rows`): a failed one an error row, never an exception, so one bad
article never fails a batch; only a configuration error (every article would fail the
same way) stops the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from eventx.errors import ConfigurationError, InputError
from eventx.extraction.extractor import Extractor
from eventx.extraction.replay import CassetteDeck
from eventx.models import Article, ErrorCategory, ExtractionResult
from eventx.ray.limiter import SharedRateLimiter
from eventx.ray.rows import fingerprint_id, result_table
from eventx.runs.runner import endpoint_counts
from eventx.runs.summary import EndpointCounts, RunSummary

ARTICLE_FIELDS = ("id", "text", "title", "url", "language", "published_at", "source", "encoding")
"""Columns of an article dataset that eventx reads; ``id`` and ``text`` are required."""
INPUT_ERROR = "input_error"
"""An optional column: when set, the row is an input that could not be read, and this says why."""


@dataclass(frozen=True)
class Job:
    """What every actor of one extraction is given."""

    settings: dict[str, Any]
    """Settings as the driver resolved them (its environment, not the workers', decides)."""
    fingerprint: str
    limiter: Any = None
    """The shared limiter actor; None: each actor paces itself to the full limits."""
    collector: Any = None
    """An actor counting results for progress (``add(summary)``), or None."""
    replay: str | None = None
    """A cassette directory to answer from (one article at a time per actor)."""


class ExtractBatch:
    """The ``map_batches`` callable: one :class:`~eventx.Extractor` per actor."""

    def __init__(self, job: Job) -> None:
        limiter = SharedRateLimiter(job.limiter) if job.limiter is not None else None
        self.extractor = Extractor(limiter=limiter, **job.settings)
        if fingerprint_id(self.extractor.fingerprint) != job.fingerprint:
            raise ConfigurationError(
                "a worker resolved other settings than the driver (model, mode, prompt or "
                "schema version differ): install the same eventx on every node"
            )
        self.job = job
        self.deck = CassetteDeck(job.replay, "replay") if job.replay is not None else None
        self._replaying: asyncio.Lock | None = None
        self._reported: dict[str, EndpointCounts] = {}

    async def __call__(self, batch: pa.Table) -> pa.Table:
        """Extract the articles of ``batch``; their rows, in the order of the batch."""
        if self.extractor.in_flight is None:
            self.extractor.in_flight = asyncio.Semaphore(self.extractor.settings.concurrency)
        rows = batch.to_pylist()
        results = list(await asyncio.gather(*(self._result(row) for row in rows)))
        await self._report(results)
        return result_table(results, self.job.fingerprint)

    async def _result(self, row: Mapping[str, Any]) -> ExtractionResult:
        item = article_of(row)
        if isinstance(item, InputError):
            article_id = item.article_id or "unknown"
            return self.extractor.failed_result(article_id, ErrorCategory.INPUT, str(item))
        if self.deck is None:
            return await self._extract(item)
        self._replaying = self._replaying or asyncio.Lock()
        async with self._replaying:  # a cassette is per article: one at a time
            with self.deck.cassette(item.id):
                return await self._extract(item)

    async def _extract(self, article: Article) -> ExtractionResult:
        try:
            return await self.extractor.aextract(article, on_error="record")
        except ConfigurationError:
            raise  # every article would fail the same way: the job stops with the message
        except Exception as error:  # one article's unforeseen failure must not stop the job
            message = (
                f"article {article.id!r} could not be processed "
                f"({type(error).__name__}: {str(error)[:300]})"
            )
            return self.extractor.failed_result(article, ErrorCategory.INPUT, message)

    async def _report(self, results: list[ExtractionResult]) -> None:
        """Send the batch's counts to the collector; counted before the batch's rows leave,
        so the driver's summary after the last write counts every article."""
        if self.job.collector is None:
            return
        summary = RunSummary()
        for result in results:
            summary.add(result)
        summary.endpoints = self._endpoint_delta()
        await self.job.collector.add.remote(summary)

    def _endpoint_delta(self) -> dict[str, EndpointCounts]:
        now = endpoint_counts(self.extractor)
        empty = EndpointCounts()
        delta = {url: counts - self._reported.get(url, empty) for url, counts in now.items()}
        self._reported = now
        return delta


def article_of(row: Mapping[str, Any]) -> Article | InputError:
    """The article a dataset row holds, or an :class:`InputError` saying why it holds none."""
    article_id = str(row.get("id") or "unknown")
    if row.get(INPUT_ERROR):
        unreadable = InputError(str(row[INPUT_ERROR]))  # as the loader said it, naming the article
        unreadable.article_id = article_id
        return unreadable
    fields = {name: _plain(row.get(name)) for name in ARTICLE_FIELDS if row.get(name) is not None}
    if "id" in fields:
        fields["id"] = str(fields["id"])
    try:
        return Article.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
        return InputError(
            f"row {article_id!r} is not an article ({problems})", article_id=article_id
        )


def _plain(value: Any) -> Any:
    """Timestamps become dates (``published_at``); everything else stays as read."""
    return value.date() if isinstance(value, datetime) else value
