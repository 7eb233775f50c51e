"""Extraction through the OpenAI Batch API: submit, status, collect.

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
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from eventx.batchapi.files import (
    BatchLimits,
    BatchRequest,
    batch_priced,
    custom_id_for,
    failed_result,
    iter_result_lines,
    line_failure,
    request_line,
    split_request_files,
)
from eventx.batchapi.ledger import BatchInfo, BatchLedger, OpenRequest
from eventx.errors import BatchApiError, InputError
from eventx.extraction.extractor import Extractor, is_transient
from eventx.extraction.redact import scrub_error
from eventx.extraction.retry import BackoffWait
from eventx.models import Article, ErrorCategory, ExtractionResult
from eventx.runs.runner import fingerprint as run_fingerprint
from eventx.runs.runner import sync_output
from eventx.runs.store import Admission, RunStore, Status, cache_key, content_hash
from eventx.settings import Settings

COMPLETION_WINDOW: Literal["24h"] = "24h"
FINAL_STATES = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch states after which no more answers will come."""
DEFAULT_CONCURRENCY = 16
"""Answers validated (and, when invalid, re-asked live) at the same time during collect."""

AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)

AsyncSleepFn = Callable[[float], Awaitable[None]]


@dataclass
class SubmitReport:
    """What :func:`submit_batches` did with the inputs."""

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
    """What :func:`collect_batches` did."""

    collected: list[str] = field(default_factory=list)
    waiting: list[BatchInfo] = field(default_factory=list)
    results: list[ExtractionResult] = field(default_factory=list)
    lines_written: int = 0


# -- the provider ------------------------------------------------------------------------


def batch_url(settings: Settings) -> str:
    """The ``url`` of each request line and the batch ``endpoint``.

    ``/v1/chat/completions`` as OpenAI documents it; Azure OpenAI (reached with a
    ``base_url`` ending in ``/openai/v1/``) expects ``/chat/completions``.
    """
    host = urlsplit(settings.base_url or "").hostname or ""
    return "/chat/completions" if host.endswith(AZURE_HOST_SUFFIXES) else "/v1/chat/completions"


def _batch_info(batch: Any) -> BatchInfo:
    counts = batch.request_counts
    return BatchInfo(
        id=batch.id,
        status=batch.status,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        total=counts.total if counts else 0,
        created_at=_iso(batch.created_at),
    )


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RemoteBatch:
    """A batch as the provider reports it, with the files to download when it is done."""

    info: BatchInfo
    output_file_id: str | None
    error_file_id: str | None


class BatchClient:
    """The files and batches endpoints of an OpenAI-compatible API.

    Built from :class:`~eventx.settings.Settings` (``base_url``, ``api_key``,
    ``timeout``), or around a client passed in. The SDK's own retries are off;
    transient faults are retried here with jittered backoff honouring ``Retry-After``.

    Raises:
        ConfigurationError: when no client is given and no endpoint is configured.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI | None = None,
        *,
        sleep: AsyncSleepFn | None = None,
        **settings: Any,
    ) -> None:
        self.settings = Settings.resolve(**settings)
        if client is None:
            self.settings.require_endpoint()
            client = openai.AsyncOpenAI(
                api_key=self.settings.client_api_key(),
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=0,
            )
            self._owned = True
        else:
            client = client.with_options(max_retries=0)
            self._owned = False
        self._client = client
        self._sleep = sleep or asyncio.sleep

    async def aclose(self) -> None:
        """Close the HTTP client built here (a client passed in is left to its owner)."""
        if self._owned:
            await self._client.close()

    async def __aenter__(self) -> BatchClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def upload(self, name: str, data: bytes) -> str:
        """Upload a request file (purpose ``batch``); return its file id."""
        file = await self._call(
            "upload the request file",
            lambda: self._client.files.create(
                file=(name, data, "application/jsonl"), purpose="batch"
            ),
        )
        return str(file.id)

    async def create(self, input_file_id: str, url: str) -> RemoteBatch:
        """Create a batch over an uploaded request file."""
        endpoint = cast(Literal["/v1/chat/completions"], url)
        batch = await self._call(
            "create the batch",
            lambda: self._client.batches.create(
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window=COMPLETION_WINDOW,
                metadata={"created_by": "eventx"},
            ),
        )
        return _remote(batch)

    async def retrieve(self, batch_id: str) -> RemoteBatch:
        """The batch's current status, counts and result files."""
        batch = await self._call(
            f"poll batch {batch_id}", lambda: self._client.batches.retrieve(batch_id)
        )
        return _remote(batch)

    async def download(self, file_id: str, target: Path) -> None:
        """Stream an output or error file into ``target`` (rewritten on a retry)."""

        async def fetch() -> None:
            files = self._client.files.with_streaming_response
            async with files.content(file_id) as response:
                with target.open("wb") as sink:
                    async for chunk in response.iter_bytes():
                        sink.write(chunk)

        await self._call(f"download file {file_id}", fetch)

    async def _call(self, what: str, send: Callable[[], Awaitable[Any]]) -> Any:
        """``await send()``, retried on transient faults; other failures become BatchApiError."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_transient_retries + 1),
            wait=BackoffWait(max_wait=self.settings.max_retry_wait),
            retry=retry_if_exception(is_transient),
            reraise=True,
            sleep=self._sleep,
        )

        async def attempt() -> Any:
            return await send()

        try:
            return await retrying(attempt)
        except openai.OpenAIError as error:
            scrub_error(error, self._secrets())
            raise BatchApiError(f"could not {what}: {_describe(error)}") from error

    def _secrets(self) -> tuple[str | None, ...]:
        return self.settings.api_key, self._client.api_key


def _remote(batch: Any) -> RemoteBatch:
    return RemoteBatch(_batch_info(batch), batch.output_file_id, batch.error_file_id)


def _describe(error: openai.OpenAIError) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}: {_first_line(error)}"
    if isinstance(error, openai.APITimeoutError):
        return "the request timed out"
    return _first_line(error)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


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
        result = failed_result(article_id, self.extractor, ErrorCategory.INPUT, str(error))
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
            result = failed_result(article, self.extractor, ErrorCategory.INPUT, message)
            self.store.finish(result, digest)
            self.report.rejected += 1
            return None
        line = request_line(custom_id, bodies[0], self.url)
        if len(line) > self.limits.max_bytes:
            message = (
                f"its batch request is {len(line)} bytes, more than a request file may hold "
                f"({self.limits.max_bytes}); extract it with a live run"
            )
            result = failed_result(article, self.extractor, ErrorCategory.INPUT, message)
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
    fingerprint = run_fingerprint(extractor)
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
    concurrency: int = DEFAULT_CONCURRENCY,
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
    fingerprint = run_fingerprint(extractor)
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
        await settler.all(client, remote, concurrency)
        ledger.mark_collected(batch.id)
        report.collected.append(batch.id)
    if output is not None:
        report.lines_written = sync_output(store, Path(output))
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
            return failed_result(article, self.extractor, ErrorCategory.TRANSIENT, message)
        response = line.get("response") or {}
        if line.get("error") or response.get("status_code") != 200:
            category, message = line_failure(self.batch.id, line)
            result = failed_result(article, self.extractor, category, message)
            result.usage.requests = 1 if response else 0  # an expired request never ran
            return result
        body = response.get("body")
        body = body if isinstance(body, dict) else {"body": body}
        result = await self.extractor.aextract(article, on_error="record", answer_bodies=[body])
        return batch_priced(result, body, self.extractor.settings.model)
