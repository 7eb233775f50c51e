"""Batch API request files and result lines, without any network.

Request files hold one JSON line per article: ``custom_id``, ``method``, ``url``
and the exact body a live run POSTs to ``/chat/completions``. Files are split at
50,000 requests and kept below the API's 200 MB size limit. Result lines (output
and error files) are read back by ``custom_id``; failed lines are classified like
live failures, and batch answers are priced at the batch rate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventx.extraction.pricing import estimate_cost
from eventx.extraction.redact import redact
from eventx.extraction.retry import is_transient_status
from eventx.models import (
    Article,
    ErrorCategory,
    ExtractionResult,
    Usage,
)

if TYPE_CHECKING:
    pass

MAX_REQUESTS_PER_FILE = 50_000
"""The Batch API's limit on requests per input file."""
MAX_FILE_BYTES = 190_000_000
"""Input files are kept below the API's 200 MB limit, with a margin."""
BATCH_PRICE_FACTOR = 0.5
"""Batch answers cost half the live price (OpenAI and Azure OpenAI global batch)."""


@dataclass(frozen=True)
class BatchLimits:
    """How large one request file may grow before a new one is started."""

    max_requests: int = MAX_REQUESTS_PER_FILE
    max_bytes: int = MAX_FILE_BYTES


@dataclass(frozen=True)
class BatchRequest:
    """One line of a request file, and the article it asks about."""

    custom_id: str
    article: Article
    line: bytes


def custom_id_for(article: Article, key: str) -> str:
    """The request's ``custom_id``: stable per article and cache key, 39 characters."""
    digest = hashlib.sha256(json.dumps([article.id, key]).encode()).hexdigest()
    return f"eventx-{digest[:32]}"


def request_line(custom_id: str, body: dict[str, Any], url: str) -> bytes:
    """One line of a Batch API request file."""
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def split_request_files(
    requests: Iterable[BatchRequest], limits: BatchLimits
) -> Iterator[list[BatchRequest]]:
    """Group requests into files within ``limits``, lazily (one file in memory at a time).

    A request larger than ``limits.max_bytes`` on its own is never passed in (see
    :func:`submit_batches`); it would get a file to itself.
    """
    group: list[BatchRequest] = []
    size = 0
    for request in requests:
        full = len(group) >= limits.max_requests or size + len(request.line) > limits.max_bytes
        if group and full:
            yield group
            group, size = [], 0
        group.append(request)
        size += len(request.line)
    if group:
        yield group


def json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def iter_result_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of a downloaded output or error file that name a ``custom_id``."""
    with path.open("rb") as source:
        for raw in source:
            line = json_object(raw)
            if line is not None and isinstance(line.get("custom_id"), str):
                yield line


def line_failure(batch_id: str, line: dict[str, Any]) -> tuple[ErrorCategory, str]:
    """Category and message for an error-file entry (or a non-200 output line)."""
    error = line.get("error") or {}
    response = line.get("response") or {}
    if error:
        code = str(error.get("code") or "error")
        text = str(error.get("message") or "no message")
        transient = code in {"batch_expired", "batch_cancelled"}
        category = ErrorCategory.TRANSIENT if transient else ErrorCategory.API
        return category, redact(f"batch {batch_id} did not answer ({code}): {text}")
    status = int(response.get("status_code") or 0)
    body = response.get("body") or {}
    detail = body.get("error", {}).get("message") if isinstance(body, dict) else None
    transient = is_transient_status(status)
    category = ErrorCategory.TRANSIENT if transient else ErrorCategory.API
    message = redact(f"HTTP {status} in batch {batch_id}: {detail or 'no message'}")
    if transient:
        message += "; submit again with --retry-failed"
    return category, message


def batch_priced(
    result: ExtractionResult, body: dict[str, Any], model: str, base_url: str | None
) -> ExtractionResult:
    """Count the batch request itself and price its tokens at the batch rate."""
    raw = body.get("usage")
    raw = raw if isinstance(raw, dict) else {}
    batch = Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
    )
    usage = result.usage.model_copy(update={"requests": result.usage.requests + 1})
    counted = (
        usage.prompt_tokens >= batch.prompt_tokens
        and usage.completion_tokens >= batch.completion_tokens
    )
    live_cost = estimate_cost(model, usage, base_url)
    batch_cost = estimate_cost(model, batch, base_url)
    if live_cost is not None and batch_cost is not None and counted:
        usage.cost_usd = round(live_cost - (1 - BATCH_PRICE_FACTOR) * batch_cost, 6)
    return result.model_copy(update={"usage": usage})
