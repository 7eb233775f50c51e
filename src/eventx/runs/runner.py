"""Running many articles: a bounded pool of async workers over a resumable run store.

* Inputs are read lazily and handed to ``concurrency`` workers through a small
  queue, so memory stays flat however many articles there are.
* Requests are paced by the extractor's rate limiter (see :mod:`eventx.extraction.ratelimit`).
* Every outcome is committed to the :class:`~eventx.runs.store.RunStore` before it is
  written out; the JSONL output holds exactly the store's finished results in
  commit order (:func:`sync_output` restores that after a crash). Re-running the
  same command therefore resumes: finished articles are skipped without a
  request, answers already paid for come from the response cache, and nothing is
  written twice.
* An unreadable article, a duplicate id or a failed extraction becomes a result
  with an error record; the run goes on.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventx.errors import ConfigurationError, InputError
from eventx.extraction.extractor import (
    DEFAULT_OUTPUT_ESTIMATE,
    Extractor,
    estimate_request_tokens,
    request_bodies,
)
from eventx.extraction.pricing import estimate_cost
from eventx.extraction.replay import CassetteDeck
from eventx.models import (
    SCHEMA_VERSION,
    Article,
    ErrorCategory,
    ErrorRecord,
    ExtractionResult,
    Usage,
)
from eventx.runs.store import Admission, RunStore, Status, cache_key, content_hash

DEFAULT_CONCURRENCY = 16
ResultSink = Callable[[ExtractionResult], None]


@dataclass
class RunSummary:
    """Counts over a run, updated result by result."""

    articles: int = 0
    failed: int = 0
    skipped: int = 0
    """Finished in an earlier run of the same store: not extracted again."""
    cached: int = 0
    """Answered from the response cache: nothing paid."""
    events: Counter[str] = field(default_factory=Counter)
    claims: int = 0
    warnings: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    most_requests: int = 0
    """The most requests any one article of this run sent."""
    most_tokens: int = 0
    """The most tokens (prompt plus completion) any one article of this run used."""
    request_budgets: set[int] = field(default_factory=set)
    """The per-article request budgets applied (one per chunk count when derived)."""
    token_budgets: set[int | None] = field(default_factory=set)
    """The per-article token budgets applied (None: no token limit)."""

    def add(self, result: ExtractionResult) -> None:
        """Count one result in."""
        self.articles += 1
        self.warnings += len(result.warnings)
        if result.cached:
            self.cached += 1
        else:
            self.requests += result.usage.requests
            self.prompt_tokens += result.usage.prompt_tokens
            self.completion_tokens += result.usage.completion_tokens
            self.cost_usd += result.usage.cost_usd or 0.0
            self.most_requests = max(self.most_requests, result.usage.requests)
            self.most_tokens = max(self.most_tokens, result.usage.total_tokens)
            if result.budget is not None:
                self.request_budgets.add(result.budget.max_requests)
                self.token_budgets.add(result.budget.max_tokens)
        if result.error is not None:
            self.failed += 1
            self.failures[result.error.category.value] += 1
        if result.extraction is not None:
            self.events.update(event.type for event in result.extraction.events)
            self.claims += len(result.extraction.claims)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens paid in this run."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def budget_failures(self) -> int:
        """Articles stopped by their request or token budget."""
        return self.failures[ErrorCategory.BUDGET.value]


def fingerprint(extractor: Extractor) -> dict[str, str]:
    """What a run store's results depend on: model, mode, prompt and schema version."""
    return {
        "model": extractor.settings.model,
        "mode": extractor.settings.mode.value,
        "prompt_hash": extractor.prompt_hash,
        "schema_version": SCHEMA_VERSION,
    }


def error_result(article_id: str, error: ErrorRecord, extractor: Extractor) -> ExtractionResult:
    """The result recorded for an article that never reached the model."""
    return ExtractionResult(
        article_id=article_id,
        model=extractor.settings.model,
        mode=extractor.settings.mode.value,
        prompt_hash=extractor.prompt_hash,
        error=error,
    )


@dataclass
class _Work:
    article: Article
    digest: str
    key: str
    same_as: asyncio.Event | None = None
    """Set when an article with the same content, already in flight, is finished."""


class BatchRunner:
    """Extracts many articles concurrently into a run store, resuming where it stopped.

    Args:
        extractor: the extractor to use (its rate limiter paces the requests).
        store: the run store; results are committed there before ``sink`` sees them.
        concurrency: requests in flight at most.
        sink: called with every new result, in commit order (e.g. to write JSONL).
        cassettes: replay or record cassettes; forces one request at a time, since
            cassettes are per article.
    """

    def __init__(
        self,
        extractor: Extractor,
        store: RunStore,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        sink: ResultSink | None = None,
        cassettes: CassetteDeck | None = None,
    ) -> None:
        self.extractor = extractor
        self.store = store
        self.concurrency = 1 if cassettes is not None else max(1, concurrency)
        self.sink = sink
        self.cassettes = cassettes
        self.summary = RunSummary()
        self._fingerprint = fingerprint(extractor)
        self._in_flight: dict[str, asyncio.Event] = {}

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
        return self.summary

    def _admit(self, item: Article | InputError) -> _Work | None:
        """Decide what an input item needs; finish at once what needs no request."""
        if isinstance(item, InputError):
            record = ErrorRecord(category=ErrorCategory.INPUT, message=str(item))
            self._finish_once(error_result(item.article_id or "unknown", record, self.extractor))
            return None
        digest = content_hash(item)
        admission = self.store.admit(item.id, digest)
        if admission is Admission.FINISHED:
            self.summary.skipped += 1
            return None
        if admission is Admission.DUPLICATE:
            self._finish_once(self._duplicate(item))
            return None
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
            record = ErrorRecord(category=ErrorCategory.INPUT, message=message)
            return error_result(article.id, record, self.extractor)

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
        self._finish(result, digest, None)

    def _duplicate(self, article: Article) -> ExtractionResult:
        message = (
            f"duplicate article id {article.id!r} (from {article.source}): an earlier input "
            "already has it; give every article a unique id"
        )
        record = ErrorRecord(category=ErrorCategory.INPUT, message=message)
        article_id = f"{article.id} (duplicate from {article.source})"
        return error_result(article_id, record, self.extractor)

    def _not_recorded(self, article: Article) -> bool:
        deck = self.cassettes
        return deck is not None and deck.mode == "replay" and not deck.has_cassette(article.id)

    def _missing_cassette(self, article: Article) -> ExtractionResult:
        assert self.cassettes is not None
        message = (
            f"no cassette for this article in {self.cassettes.directory}; record one with --record"
        )
        record = ErrorRecord(category=ErrorCategory.REPLAY, message=message)
        return error_result(article.id, record, self.extractor)


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


# ---------------------------------------------------------------------------
# The JSONL output, kept equal to the store's finished results
# ---------------------------------------------------------------------------


def sync_output(store: RunStore, output: Path) -> int:
    """Make ``output`` hold every finished result of ``store``, in commit order.

    A partial last line (the process was killed mid-write) is cut off; results the
    store committed but the output lacks are appended. If the output does not
    match the store (its last line is not the store's result at that position:
    edited by hand, from another store, or an article was finished again after
    ``--retry-failed``), it is rewritten from the store. Returns the lines written.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    lines, last = _complete_lines(output)
    if lines and store.finished_line(lines) != last:
        return _rewrite(store, output)
    return _append_lines(store.finished_lines(skip=lines), output, "a")


def _complete_lines(output: Path) -> tuple[int, str | None]:
    """Count the complete lines of ``output`` (cutting off a partial last line)."""
    if not output.exists():
        return 0, None
    lines, last, end = 0, b"", 0
    with output.open("rb") as source:
        for line in source:
            if not line.endswith(b"\n"):
                break
            lines, last, end = lines + 1, line, end + len(line)
    if end != output.stat().st_size:
        os.truncate(output, end)
    return lines, last.decode("utf-8", errors="replace").rstrip("\n") if lines else None


def _rewrite(store: RunStore, output: Path) -> int:
    partial = output.with_name(output.name + ".partial")
    written = _append_lines(store.finished_lines(), partial, "w")
    partial.replace(output)
    return written


def _append_lines(lines: Iterable[str], output: Path, mode: str) -> int:
    written = 0
    with output.open(mode, encoding="utf-8") as sink:
        for line in lines:
            sink.write(line + "\n")
            written += 1
    return written


# ---------------------------------------------------------------------------
# Estimates before spending anything
# ---------------------------------------------------------------------------


@dataclass
class RunEstimate:
    """What a run would send, counted before anything is sent."""

    articles: int = 0
    unreadable: int = 0
    finished: int = 0
    """Already finished in the run store: would be skipped."""
    cached: int = 0
    """Answered by the response cache: would cost nothing."""
    to_send: int = 0
    """Articles that would be sent."""
    requests: int = 0
    """Requests they need (a long article is sent in several parts)."""
    prompt_tokens: int = 0
    output_tokens: int = 0
    """Upper bound: the output tokens counted per request (max_output_tokens or the default)."""
    cost_usd: float | None = None


def estimate_run(
    items: Iterable[Article | InputError], extractor: Extractor, store: RunStore | None = None
) -> RunEstimate:
    """Count articles, tokens and cost of a run without sending anything.

    With a ``store``, articles it finished and answers it cached are counted apart.
    """
    estimate = RunEstimate()
    run = fingerprint(extractor)
    for item in items:
        estimate.articles += 1
        if isinstance(item, InputError):
            estimate.unreadable += 1
        elif store is not None and _already_finished(store, item):
            estimate.finished += 1
        elif store is not None and store.cached(cache_key(run, item)) is not None:
            estimate.cached += 1
        else:
            for body in request_bodies(item, extractor.settings):
                _count_request(estimate, body)
            estimate.to_send += 1
    usage = Usage(prompt_tokens=estimate.prompt_tokens, completion_tokens=estimate.output_tokens)
    estimate.cost_usd = estimate_cost(extractor.settings.model, usage)
    return estimate


def _already_finished(store: RunStore, article: Article) -> bool:
    status = store.status(article.id)
    return status is not None and status[0] is not Status.PENDING


def _count_request(estimate: RunEstimate, body: dict[str, Any]) -> None:
    total = estimate_request_tokens(body)
    output = body.get("max_tokens") or DEFAULT_OUTPUT_ESTIMATE
    estimate.requests += 1
    estimate.prompt_tokens += total - output
    estimate.output_tokens += output
