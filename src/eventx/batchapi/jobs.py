"""The Batch API jobs: submit, status, collect, over a run store.

* :func:`submit_batches` writes one JSONL request per article (the exact body a
  live run would POST to ``/chat/completions``), splits the requests into files of
  at most 50,000 requests and 190 MB (under the API's 200 MB limit), uploads each
  file and creates a batch for it, and records batch ids and articles in the run
  store. Articles already done (or answered by the response cache) and articles
  waiting in a batch that is not collected yet are not submitted again.
* :func:`batch_status` polls the provider for every batch that is not collected.
* :func:`collect_batches` downloads the output and error files of finished
  batches, joins answers to articles by ``custom_id``, validates and grounds each
  answer exactly like a live one (an invalid answer is re-asked live), commits
  every result, and marks the batch collected, so a second collect sends nothing.

``custom_id`` is ``eventx-`` and the first 32 hex digits of a SHA-256 over the
article id and the response-cache key (model, mode, prompt, schema, article
content): stable for the same article and settings, at most 39 characters
whatever the article id, and mapped back to the article through the run store.

This module talks to the files and batches endpoints only; chat completions stay
in :mod:`eventx.extraction.extractor`.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventx.batchapi.client import BatchClient, RemoteBatch, batch_url
from eventx.batchapi.files import (
    BatchLimits,
    BatchRequest,
    batch_priced,
    custom_id_for,
    iter_result_lines,
    line_failure,
    request_line,
    split_request_files,
)
from eventx.batchapi.ledger import BatchInfo, BatchLedger, OpenRequest
from eventx.errors import InputError
from eventx.extraction.extractor import Extractor
from eventx.models import Article, ErrorCategory, ExtractionResult
from eventx.runs.output import sync_output
from eventx.runs.store import Admission, RunStore, Status, cache_key, content_hash
from eventx.runs.summary import RunSummary

FINAL_STATES = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch states after which no more answers will come."""


@dataclass
class SubmitReport:
    """What a Batch API submission did with the inputs (:func:`eventx.batch_submit`)."""

    batches: list[str] = field(default_factory=list)
    submitted: int = 0
    already_finished: int = 0
    already_pending: int = 0
    cached: int = 0
    duplicates: int = 0
    rejected: int = 0
    """Unreadable articles and requests too large for a file, recorded as failed results."""


@dataclass
class CollectReport:
    """What collecting Batch API answers did (:func:`eventx.batch_collect`)."""

    collected: list[str] = field(default_factory=list)
    waiting: list[BatchInfo] = field(default_factory=list)
    results: list[ExtractionResult] = field(default_factory=list)
    lines_written: int = 0
    output: str | None = None
    store: str | None = None

    @property
    def summary(self) -> RunSummary:
        """The collected results counted like a live run's."""
        summary = RunSummary(output=self.output, store=self.store)
        for result in self.results:
            summary.add(result)
        return summary


# -- request files -----------------------------------------------------------------------


@dataclass
class _Planner:
    """Decides, article by article, what ``submit`` does; commits what needs no request."""

    store: RunStore
    extractor: Extractor
    limits: BatchLimits
    report: SubmitReport
    fingerprint: dict[str, str]
    pending: set[str]
    url: str

    def requests(self, articles: Iterable[Article | InputError]) -> Iterator[BatchRequest]:
        for item in articles:
            if isinstance(item, InputError):
                self._reject(item)
            elif (request := self._request(item)) is not None:
                yield request

    def _reject(self, error: InputError) -> None:
        article_id = error.article_id or "unknown"
        if self.store.status(article_id) == (Status.FAILED, 0):  # recorded by an earlier pass
            self.report.already_finished += 1
            return
        result = self.extractor.failed_result(article_id, ErrorCategory.INPUT, str(error))
        self.store.finish(result, "")
        self.report.rejected += 1

    def _request(self, article: Article) -> BatchRequest | None:
        digest = content_hash(article)
        admission = self.store.admit(article.id, digest)
        if admission is Admission.DUPLICATE:
            self.report.duplicates += 1
            return None
        if admission is Admission.FINISHED:
            self.report.already_finished += 1
            return None
        key = cache_key(self.fingerprint, article)
        cached = self.store.cached(key)
        if cached is not None:
            self.store.finish(cached, digest, key)
            self.report.cached += 1
            return None
        custom_id = custom_id_for(article, key)
        if custom_id in self.pending:
            self.report.already_pending += 1
            return None
        bodies = self.extractor.request_bodies(article)
        if len(bodies) > 1:
            message = (
                f"it is long enough to be sent in {len(bodies)} parts, and batch requests are "
                "one per article; extract it with a live run"
            )
            result = self.extractor.failed_result(article, ErrorCategory.INPUT, message)
            self.store.finish(result, digest)
            self.report.rejected += 1
            return None
        line = request_line(custom_id, bodies[0], self.url)
        if len(line) > self.limits.max_bytes:
            message = (
                f"its batch request is {len(line)} bytes, more than a request file may hold "
                f"({self.limits.max_bytes}); extract it with a live run"
            )
            result = self.extractor.failed_result(article, ErrorCategory.INPUT, message)
            self.store.finish(result, digest)
            self.report.rejected += 1
            return None
        return BatchRequest(custom_id, article, line)


async def submit_batches(
    articles: Iterable[Article | InputError],
    extractor: Extractor,
    store: RunStore,
    client: BatchClient,
    *,
    limits: BatchLimits | None = None,
    retry_failed: bool = False,
) -> SubmitReport:
    """Submit every article that still needs an answer as Batch API requests.

    Articles done in the store, answered by the response cache, or waiting in a
    batch that is not collected yet send nothing; failed ones are submitted again
    only with ``retry_failed``. Unreadable articles and requests too large for a
    file are recorded as failed results.

    Raises:
        BatchApiError: when an upload or batch creation fails; batches created
            before it are recorded, so submitting again continues where it stopped.
        ConfigurationError: when the store was made with other settings.
    """
    fingerprint = extractor.fingerprint
    store.bind(fingerprint)
    if retry_failed:
        store.retry_failed()
    store.begin_pass()
    ledger = BatchLedger(store)
    report = SubmitReport()
    limits = limits or BatchLimits()
    url = batch_url(client.settings)
    planner = _Planner(
        store, extractor, limits, report, fingerprint, ledger.pending_custom_ids(), url
    )
    for number, group in enumerate(split_request_files(planner.requests(articles), limits)):
        file_id = await client.upload(f"eventx-batch-{number + 1}.jsonl", _file(group))
        remote = await client.create(file_id, url)
        requests = [OpenRequest(request.custom_id, request.article) for request in group]
        ledger.record_batch(remote.info, file_id, requests)
        report.batches.append(remote.info.id)
        report.submitted += len(group)
    return report


def _file(group: list[BatchRequest]) -> bytes:
    return b"".join(request.line for request in group)


# -- status --------------------------------------------------------------------------------


async def batch_status(store: RunStore, client: BatchClient) -> list[BatchInfo]:
    """Every batch of the run, oldest first; those not collected are polled first."""
    ledger = BatchLedger(store)
    for batch in ledger.batches(uncollected_only=True):
        ledger.update((await client.retrieve(batch.id)).info)
    return ledger.batches()


# -- collect -------------------------------------------------------------------------------


async def collect_batches(
    store: RunStore,
    extractor: Extractor,
    client: BatchClient,
    output: Path | str | None = None,
    *,
    concurrency: int | None = None,
) -> CollectReport:
    """Collect every finished batch of the run into the store (and ``output``).

    Each answer is validated and grounded like a live one; an invalid answer is
    re-asked live (only the re-ask is sent). Requests the batch did not answer
    (error-file entries, expired or cancelled batches) become failed results:
    ``submit_batches(..., retry_failed=True)`` sends them again. Batches still
    running are left for a later call; collected ones are never fetched again.

    Raises:
        BatchApiError: when polling or a download fails; answers committed before
            it are kept, so collecting again continues where it stopped.
    """
    fingerprint = extractor.fingerprint
    store.bind(fingerprint)
    ledger = BatchLedger(store)
    report = CollectReport()
    for batch in ledger.batches(uncollected_only=True):
        remote = await client.retrieve(batch.id)
        ledger.update(remote.info)
        if remote.info.status not in FINAL_STATES:
            report.waiting.append(remote.info)
            continue
        settler = _Settler(store, ledger, extractor, fingerprint, remote.info, report)
        await settler.all(client, remote, concurrency or extractor.settings.concurrency)
        ledger.mark_collected(batch.id)
        report.collected.append(batch.id)
    if output is not None:
        report.lines_written = sync_output(store, Path(output))
        report.output = str(output)
    report.store = str(store.path) if store.path is not None else None
    return report


@dataclass
class _Settler:
    """Turns each open request of one finished batch into a committed result.

    The output and error files are streamed to a scratch directory and read line
    by line, so neither they nor the articles are held in memory at once.
    """

    store: RunStore
    ledger: BatchLedger
    extractor: Extractor
    fingerprint: dict[str, str]
    batch: BatchInfo
    report: CollectReport

    async def all(self, client: BatchClient, remote: RemoteBatch, concurrency: int) -> None:
        unanswered = set(self.ledger.open_custom_ids(self.batch.id))
        slots = asyncio.Semaphore(concurrency)
        with tempfile.TemporaryDirectory(prefix="eventx-batch-") as scratch:
            async with asyncio.TaskGroup() as group:
                for file_id in (remote.output_file_id, remote.error_file_id):
                    if not file_id:
                        continue
                    path = Path(scratch) / "result.jsonl"
                    await client.download(file_id, path)
                    for line in iter_result_lines(path):
                        if line["custom_id"] in unanswered:
                            unanswered.discard(line["custom_id"])
                            await self._start(group, slots, line["custom_id"], line)
                for custom_id in sorted(unanswered):
                    await self._start(group, slots, custom_id, None)

    async def _start(
        self,
        group: asyncio.TaskGroup,
        slots: asyncio.Semaphore,
        custom_id: str,
        line: dict[str, Any] | None,
    ) -> None:
        request = self.ledger.request(custom_id)
        if not self.ledger.still_wanted(request):
            self.ledger.settle(custom_id)  # finished meanwhile, or its text changed: stale
            return
        await slots.acquire()  # bounds the answers held in memory, not only the work
        group.create_task(self._one(request, line, slots))

    async def _one(
        self, request: OpenRequest, line: dict[str, Any] | None, slots: asyncio.Semaphore
    ) -> None:
        try:
            result = await self._result(request, line)
        finally:
            slots.release()
        article = request.article
        self.store.finish(result, content_hash(article), cache_key(self.fingerprint, article))
        self.ledger.settle(request.custom_id)
        self.report.results.append(result)

    async def _result(self, request: OpenRequest, line: dict[str, Any] | None) -> ExtractionResult:
        article = request.article
        if line is None:
            message = (
                f"batch {self.batch.id} ended {self.batch.status!r} without answering this "
                "request; submit again with --retry-failed"
            )
            return self.extractor.failed_result(article, ErrorCategory.TRANSIENT, message)
        response = line.get("response") or {}
        if line.get("error") or response.get("status_code") != 200:
            category, message = line_failure(self.batch.id, line)
            result = self.extractor.failed_result(article, category, message)
            result.usage.requests = 1 if response else 0  # an expired request never ran
            return result
        body = response.get("body")
        body = body if isinstance(body, dict) else {"body": body}
        result = await self.extractor.aextract(article, on_error="record", answer_bodies=[body])
        settings = self.extractor.settings
        return batch_priced(result, body, settings.model, settings.base_url)
