"""The files and batches endpoints of an OpenAI-compatible API (OpenAI, Azure OpenAI).

Chat completions stay in :mod:`eventx.extraction`; this client only uploads request
files, creates and polls batches and downloads their result files, retrying transient
faults with jittered backoff that honours ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Unpack, cast
from urllib.parse import urlsplit

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from eventx.batchapi.ledger import BatchInfo
from eventx.errors import BatchApiError, first_line
from eventx.extraction.extractor import is_transient
from eventx.extraction.redact import scrub_error
from eventx.extraction.retry import BackoffWait
from eventx.settings import SettingOverrides, Settings

COMPLETION_WINDOW: Literal["24h"] = "24h"
AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
)

AsyncSleepFn = Callable[[float], Awaitable[None]]


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
        **settings: Unpack[SettingOverrides],
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
        return f"HTTP {error.status_code}: {first_line(error)}"
    if isinstance(error, openai.APITimeoutError):
        return "the request timed out"
    return first_line(error)
