"""Extraction through the OpenAI Batch API, as the library offers it: submit, status, collect.

Each function opens the run store beside the output (``<output>.eventx.db``, or
``store``), builds the extractor and the files/batches client from the settings, and
closes them again. The model and mode default to the ones the store was bound to when
the batches were submitted, so ``status`` and ``collect`` need only the output and the
endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar, Unpack

from eventx.batchapi.client import BatchClient
from eventx.batchapi.files import MAX_REQUESTS_PER_FILE, BatchLimits
from eventx.batchapi.jobs import CollectReport, SubmitReport, collect_batches, submit_batches
from eventx.batchapi.jobs import batch_status as poll_batches
from eventx.batchapi.ledger import BatchInfo
from eventx.errors import ConfigurationError
from eventx.extraction.extractor import Extractor
from eventx.ingest.load import iter_articles
from eventx.runs.store import RunStore, default_db_path
from eventx.settings import SettingOverrides, Settings

__all__ = [
    "BatchInfo",
    "CollectReport",
    "SubmitReport",
    "batch_collect",
    "batch_status",
    "batch_submit",
]

_T = TypeVar("_T")


def batch_submit(
    inputs: list[str | Path],
    output: str | Path,
    *,
    store: str | Path | None = None,
    retry_failed: bool = False,
    max_requests_per_file: int | None = None,
    **settings: Unpack[SettingOverrides],
) -> SubmitReport:
    """Submit every article of ``inputs`` that still needs an answer as Batch API requests.

    ``output`` is the JSONL file :func:`batch_collect` will write; the run store lives
    beside it. Articles finished, cached or waiting in a batch are not submitted again;
    failed ones only with ``retry_failed``. Request files hold at most
    ``max_requests_per_file`` requests (default and maximum: the API's 50,000) and 190 MB.

    Raises:
        ConfigurationError: no endpoint, bad settings, a store made with other settings.
        BatchApiError: an upload or batch creation failed (batches created before it are
            recorded: submitting again continues).
    """
    limits = _limits(max_requests_per_file)
    resolved = Settings.resolve(**settings)
    resolved.require_endpoint()
    with RunStore(_store_path(output, store)) as run_store:
        extractor, client = _clients(run_store, settings)
        work = submit_batches(
            iter_articles(inputs),
            extractor,
            run_store,
            client,
            limits=limits,
            retry_failed=retry_failed,
        )
        return asyncio.run(_closing(extractor, client, work))


def batch_status(
    output: str | Path | None = None,
    *,
    store: str | Path | None = None,
    **settings: Unpack[SettingOverrides],
) -> list[BatchInfo]:
    """Every batch of the run, oldest first; those not collected are polled first.

    Raises:
        ConfigurationError: no run store to read, or no endpoint configured.
    """
    path = _existing_store(output, store)
    Settings.resolve(**settings).require_endpoint()
    with RunStore(path) as run_store:
        client = BatchClient(**settings)
        return asyncio.run(_closing(None, client, poll_batches(run_store, client)))


def batch_collect(
    output: str | Path,
    *,
    store: str | Path | None = None,
    **settings: Unpack[SettingOverrides],
) -> CollectReport:
    """Collect the answers of finished batches into ``output`` (appended to).

    Each answer is validated and grounded like a live one; an invalid answer is re-asked
    live. Collecting again never fetches or pays for anything twice.

    Raises:
        ConfigurationError: no run store to collect into, or no endpoint configured.
        BatchApiError: polling or a download failed (what was committed is kept).
    """
    path = _existing_store(output, store)
    Settings.resolve(**settings).require_endpoint()
    with RunStore(path) as run_store:
        extractor, client = _clients(run_store, settings)
        work = collect_batches(run_store, extractor, client, output)
        return asyncio.run(_closing(extractor, client, work))


def _limits(max_requests_per_file: int | None) -> BatchLimits:
    wanted = max_requests_per_file or MAX_REQUESTS_PER_FILE
    if not 1 <= wanted <= MAX_REQUESTS_PER_FILE:
        raise ConfigurationError(
            f"max_requests_per_file must be between 1 and {MAX_REQUESTS_PER_FILE}, got {wanted}"
        )
    return BatchLimits(max_requests=wanted)


def _store_path(output: str | Path | None, store: str | Path | None) -> Path:
    if store is not None:
        return Path(store)
    if output is None:
        raise ConfigurationError("give the run's output or its store")
    return default_db_path(output)


def _existing_store(output: str | Path | None, store: str | Path | None) -> Path:
    path = _store_path(output, store)
    if not path.is_file():
        raise ConfigurationError(f"no run store at {path}; submit a batch first")
    return path


def _clients(run_store: RunStore, settings: SettingOverrides) -> tuple[Extractor, BatchClient]:
    """The extractor and Batch API client; model and mode default to the store's."""
    bound = run_store.fingerprint() or {}
    overrides: dict[str, Any] = {
        **settings,
        "model": settings.get("model") or bound.get("model"),
        "mode": settings.get("mode") or bound.get("mode"),
    }
    return Extractor(**overrides), BatchClient(**settings)


async def _closing(extractor: Extractor | None, client: BatchClient, work: Awaitable[_T]) -> _T:
    try:
        return await work
    finally:
        await client.aclose()
        if extractor is not None:
            await extractor.aclose()
