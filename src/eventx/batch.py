"""Running many articles: extraction one by one, with an optional cassette deck.

This sequential runner keeps every article's outcome: an unreadable article or a
failed extraction becomes an :class:`~eventx.models.ExtractionResult` carrying an
error record, and the run goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from eventx.errors import InputError
from eventx.extract import Extractor
from eventx.models import Article, ErrorCategory, ErrorRecord, ExtractionResult
from eventx.replay import CassetteDeck


@dataclass
class RunSummary:
    """Counts over a run, updated result by result."""

    articles: int = 0
    failed: int = 0
    events: Counter[str] = field(default_factory=Counter)
    claims: int = 0
    warnings: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, result: ExtractionResult) -> None:
        """Count one result in."""
        self.articles += 1
        self.warnings += len(result.warnings)
        self.requests += result.usage.requests
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.cost_usd += result.usage.cost_usd or 0.0
        if result.error is not None:
            self.failed += 1
            self.failures[result.error.category.value] += 1
        if result.extraction is not None:
            self.events.update(event.type for event in result.extraction.events)
            self.claims += len(result.extraction.claims)


def error_result(article_id: str, error: ErrorRecord, extractor: Extractor) -> ExtractionResult:
    """The result recorded for an article that never reached the model."""
    return ExtractionResult(
        article_id=article_id,
        model=extractor.settings.model,
        mode=extractor.settings.mode.value,
        prompt_hash=extractor.prompt_hash,
        error=error,
    )


def _unreadable(error: InputError, extractor: Extractor) -> ExtractionResult:
    record = ErrorRecord(category=ErrorCategory.INPUT, message=str(error))
    return error_result(error.article_id or "unknown", record, extractor)


def _not_recorded(
    article: Article, cassettes: CassetteDeck, extractor: Extractor
) -> ExtractionResult:
    message = f"no cassette for this article in {cassettes.directory}; record one with --record"
    record = ErrorRecord(category=ErrorCategory.REPLAY, message=message)
    return error_result(article.id, record, extractor)


def extract_all(
    articles: Iterable[Article | InputError],
    extractor: Extractor,
    *,
    cassettes: CassetteDeck | None = None,
) -> Iterator[ExtractionResult]:
    """Extract each article in turn; yield one result per article, failures included."""
    for item in articles:
        if isinstance(item, InputError):
            yield _unreadable(item, extractor)
        elif cassettes is None:
            yield extractor.extract(item, on_error="record")
        elif cassettes.mode == "replay" and not cassettes.has_cassette(item.id):
            yield _not_recorded(item, cassettes, extractor)
        else:
            with cassettes.cassette(item.id):
                result = extractor.extract(item, on_error="record")
            yield result
