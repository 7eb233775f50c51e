"""The live runner: a bounded pool of async workers over a resumable run store.

* Inputs are read lazily and handed to the workers through a small queue, so memory
  stays flat however many articles there are; ``concurrency`` bounds the requests in
  flight.
* Requests are paced by the extractor's rate limiter (:mod:`eventx.extraction.ratelimit`).
* Every outcome is committed to the :class:`~eventx.runs.store.RunStore` before the
  sink sees it. Re-running over the same store therefore resumes: finished articles are
  skipped without a request, answers already paid for come from the response cache,
  and nothing is finished twice.
* An unreadable article, a duplicate id or a failed extraction becomes a result
  with an error record; the run goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eventx.errors import ConfigurationError, InputError
from eventx.extraction.extractor import Extractor
from eventx.extraction.replay import CassetteDeck
from eventx.models import Article, ErrorCategory, ExtractionResult
from eventx.runs.store import Admission, RunStore, cache_key, content_hash
from eventx.runs.summary import EndpointCounts, RunSummary

ResultSink = Callable[[ExtractionResult], None]


@dataclass
class _Work:
    article: Article
    digest: str
    key: str
    same_as: asyncio.Event | None = None
    """Set when an article with the same content, already in flight, is finished."""


class Runner:
    """Extracts many articles concurrently into a run store, resuming where it stopped.

    Args:
        extractor: the extractor to use (its rate limiter paces the requests).
        store: the run store; results are committed there before ``sink`` sees them.
        concurrency: requests in flight at most (default: the extractor's setting).
        sink: called with every new result, in commit order (e.g. to write JSONL).
        cassettes: replay or record cassettes; forces one request at a time, since
            cassettes are per article.
        limit: the most articles to finish in this run; articles finished in an
            earlier run (skipped) do not count, so repeating a limited run moves on.
    """

    def __init__(
        self,
        extractor: Extractor,
        store: RunStore,
        *,
        concurrency: int | None = None,
        sink: ResultSink | None = None,
        cassettes: CassetteDeck | None = None,
        limit: int | None = None,
    ) -> None:
        self.extractor = extractor
        self.store = store
        wanted = concurrency or extractor.settings.concurrency
        self.concurrency = 1 if cassettes is not None else max(1, wanted)
        self.sink = sink
        self.cassettes = cassettes
        self.limit = limit
        self.summary = RunSummary()
        self._fingerprint = extractor.fingerprint
        self._in_flight: dict[str, asyncio.Event] = {}
        self._taken = 0

    def run(self, items: Iterable[Article | InputError]) -> RunSummary:
        """Extract every article in ``items`` in a new event loop; return the run's summary."""

        async def run_and_close() -> RunSummary:
            try:
                return await self.arun(items)
            finally:  # the async HTTP client belongs to this loop
                await self.extractor.aclose()

        return asyncio.run(run_and_close())

    async def arun(self, items: Iterable[Article | InputError]) -> RunSummary:
        """Async twin of :meth:`run`."""
        self.store.bind(self._fingerprint)
        self.store.begin_pass()
        # Twice as many articles as requests in flight: while requests are out, other
        # articles are prepared, validated, grounded and written.
        self.extractor.in_flight = asyncio.Semaphore(self.concurrency)
        pipelines = 2 * self.concurrency if self.cassettes is None else 1
        queue: asyncio.Queue[_Work | None] = asyncio.Queue(maxsize=2 * pipelines)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(pipelines)]
        try:
            for item in items:
                if self.limit is not None and self._taken >= self.limit:
                    break
                work = self._admit(item)
                if work is not None:
                    await _put(queue, work, workers)
            for _ in workers:
                await _put(queue, None, workers)
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self.extractor.in_flight = None
            self.summary.endpoints = endpoint_counts(self.extractor)
        return self.summary

    def _admit(self, item: Article | InputError) -> _Work | None:
        """Decide what an input item needs; finish at once what needs no request."""
        if isinstance(item, InputError):
            article_id = item.article_id or "unknown"
            failed = self.extractor.failed_result(article_id, ErrorCategory.INPUT, str(item))
            self._finish_once(failed)
            return None
        digest = content_hash(item)
        admission = self.store.admit(item.id, digest)
        if admission is Admission.FINISHED:
            self.summary.skipped += 1
            return None
        if admission is Admission.DUPLICATE:
            self._finish_once(self._duplicate(item))
            return None
        self._taken += 1
        key = cache_key(self._fingerprint, item)
        if self._answer_from_cache(item, digest, key):
            return None
        if self._not_recorded(item):
            self._finish(self._missing_cassette(item), digest, None)
            return None
        if key in self._in_flight:
            return _Work(item, digest, key, same_as=self._in_flight[key])
        self._in_flight[key] = asyncio.Event()
        return _Work(item, digest, key)

    def _answer_from_cache(self, article: Article, digest: str, key: str) -> bool:
        cached = self.store.cached(key)
        if cached is not None:
            self._finish(_relabelled(cached, article), digest, None)
        return cached is not None

    async def _worker(self, queue: asyncio.Queue[_Work | None]) -> None:
        while (work := await queue.get()) is not None:
            if work.same_as is not None:
                await work.same_as.wait()
                if self._answer_from_cache(work.article, work.digest, work.key):
                    continue
            result = await self._extract(work.article)
            self._finish(result, work.digest, work.key)
            if (done := self._in_flight.pop(work.key, None)) is not None:
                done.set()

    async def _extract(self, article: Article) -> ExtractionResult:
        try:
            if self.cassettes is None:
                return await self.extractor.aextract(article, on_error="record")
            with self.cassettes.cassette(article.id):
                return await self.extractor.aextract(article, on_error="record")
        except ConfigurationError:
            raise  # every article would fail the same way: the run stops with the message
        except Exception as error:  # one article's unforeseen failure must not stop the run
            message = (
                f"article {article.id!r} could not be processed "
                f"({type(error).__name__}: {str(error)[:300]})"
            )
            return self.extractor.failed_result(article, ErrorCategory.INPUT, message)

    def _finish(self, result: ExtractionResult, digest: str, key: str | None) -> None:
        self.store.finish(result, digest, key)
        self.summary.add(result)
        if self.sink is not None:
            self.sink(result)

    def _finish_once(self, result: ExtractionResult) -> None:
        """Finish a result with no article behind it, unless this or an earlier pass did."""
        digest = "error:" + (result.error.message if result.error else "")
        if self.store.admit(result.article_id, digest) is not Admission.WORK:
            self.summary.skipped += 1
            return
        self._taken += 1
        self._finish(result, digest, None)

    def _duplicate(self, article: Article) -> ExtractionResult:
        message = (
            f"duplicate article id {article.id!r} (from {article.source}): an earlier input "
            "already has it; give every article a unique id"
        )
        article_id = f"{article.id} (duplicate from {article.source})"
        return self.extractor.failed_result(article_id, ErrorCategory.INPUT, message)

    def _not_recorded(self, article: Article) -> bool:
        deck = self.cassettes
        return deck is not None and deck.mode == "replay" and not deck.has_cassette(article.id)

    def _missing_cassette(self, article: Article) -> ExtractionResult:
        assert self.cassettes is not None
        message = (
            f"no cassette for this article in {self.cassettes.directory}; record one with --record"
        )
        return self.extractor.failed_result(article, ErrorCategory.REPLAY, message)


async def _put(
    queue: asyncio.Queue[_Work | None], work: _Work | None, workers: list[asyncio.Task[None]]
) -> None:
    """Queue ``work``; if a worker dies meanwhile, raise its error instead of waiting forever."""
    if not queue.full():
        queue.put_nowait(work)
        return
    put = asyncio.ensure_future(queue.put(work))
    done, _ = await asyncio.wait([put, *workers], return_when=asyncio.FIRST_COMPLETED)
    if put in done:
        return
    put.cancel()
    for worker in done:
        worker.result()  # raises the error that ended the worker
    raise RuntimeError("a worker stopped before the inputs were read")


def endpoint_counts(extractor: Extractor) -> dict[str, EndpointCounts]:
    """What each endpoint of the extractor's fleet did (empty without a fleet)."""
    pool = extractor.endpoints
    if pool is None:
        return {}
    return {
        url: EndpointCounts(stats.requests, stats.failures, stats.opened)
        for url, stats in pool.stats().items()
    }


def _relabelled(cached: ExtractionResult, article: Article) -> ExtractionResult:
    """A cached result handed to ``article`` (the same text may come under another id)."""
    return cached.model_copy(
        update={
            "article_id": article.id,
            "source": article.source,
            "title": article.title,
            "url": article.url,
            "cached": True,
        }
    )
