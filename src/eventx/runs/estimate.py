"""Estimates before spending anything: articles, requests, tokens and cost of a run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventx.errors import InputError
from eventx.extraction.extractor import (
    DEFAULT_OUTPUT_ESTIMATE,
    Extractor,
    estimate_request_tokens,
)
from eventx.extraction.pricing import estimate_cost
from eventx.models import Article, Usage
from eventx.runs.store import RunStore, Status, cache_key
from eventx.runs.summary import RunEstimate


def estimate_run(
    items: Iterable[Article | InputError],
    extractor: Extractor,
    store: RunStore | None = None,
    *,
    limit: int | None = None,
) -> RunEstimate:
    """Count articles, tokens and cost of a run without sending anything.

    With a ``store``, articles it finished and answers it cached are counted apart.
    With a ``limit``, counting stops where a run with that limit would stop: after
    ``limit`` articles that are not already finished.
    """
    settings = extractor.settings
    estimate = RunEstimate(
        model=settings.model,
        max_requests_per_article=settings.max_requests_per_article,
        max_tokens_per_article=settings.max_tokens_per_article,
    )
    for item in items:
        if limit is not None and estimate.articles - estimate.finished >= limit:
            break
        estimate.articles += 1
        if isinstance(item, InputError):
            estimate.unreadable += 1
        elif store is not None and _already_finished(store, item):
            estimate.finished += 1
        elif store is not None and store.cached(cache_key(extractor.fingerprint, item)) is not None:
            estimate.cached += 1
        else:
            for body in extractor.request_bodies(item):
                _count_request(estimate, body)
            estimate.to_send += 1
    usage = Usage(prompt_tokens=estimate.prompt_tokens, completion_tokens=estimate.output_tokens)
    estimate.cost_usd = estimate_cost(settings.model, usage, settings.base_url)
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
