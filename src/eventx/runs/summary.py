"""What a run reports: counts over its results, and what a dry run would send."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from eventx.models import ErrorCategory, ExtractionResult


@dataclass(frozen=True)
class EndpointCounts:
    """What one endpoint of a fleet did over a run."""

    requests: int = 0
    failures: int = 0
    opened: int = 0
    """Times its circuit opened."""

    def __add__(self, other: EndpointCounts) -> EndpointCounts:
        return EndpointCounts(
            self.requests + other.requests,
            self.failures + other.failures,
            self.opened + other.opened,
        )

    def __sub__(self, other: EndpointCounts) -> EndpointCounts:
        return EndpointCounts(
            self.requests - other.requests,
            self.failures - other.failures,
            self.opened - other.opened,
        )


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
    first_errors: dict[str, str] = field(default_factory=dict)
    """The first error message met in each failure category, for the summary."""
    output: str | None = None
    """Where the results were written (a file, or ``-`` for a stream); None: nowhere."""
    store: str | None = None
    """The run store's file; None when it was kept in memory."""
    interrupted: bool = False
    """True when the run was stopped before every input was read (Ctrl-C, SIGTERM)."""
    endpoints: dict[str, EndpointCounts] = field(default_factory=dict)
    """Requests, failures and circuit openings per endpoint, when ``base_urls`` names a fleet."""

    def add(self, result: ExtractionResult) -> None:
        """Count one result in."""
        self.articles += 1
        self.warnings += len(result.warnings)
        if result.cached:
            self.cached += 1
        else:
            self._count_usage(result)
        if result.error is not None:
            category = result.error.category.value
            self.failed += 1
            self.failures[category] += 1
            self.first_errors.setdefault(category, f"{result.article_id}: {result.error.message}")
        if result.extraction is not None:
            self.events.update(event.type for event in result.extraction.events)
            self.claims += len(result.extraction.claims)

    def merge(self, other: RunSummary) -> None:
        """Add the counts of ``other`` (another worker's share of the same run)."""
        for name in ("articles", "failed", "skipped", "cached", "claims", "warnings", "requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.events.update(other.events)
        self.failures.update(other.failures)
        self.most_requests = max(self.most_requests, other.most_requests)
        self.most_tokens = max(self.most_tokens, other.most_tokens)
        self.request_budgets |= other.request_budgets
        self.token_budgets |= other.token_budgets
        for category, message in other.first_errors.items():
            self.first_errors.setdefault(category, message)
        for url, counts in other.endpoints.items():
            self.endpoints[url] = self.endpoints.get(url, EndpointCounts()) + counts

    def _count_usage(self, result: ExtractionResult) -> None:
        usage = result.usage
        self.requests += usage.requests
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost_usd += usage.cost_usd or 0.0
        self.most_requests = max(self.most_requests, usage.requests)
        self.most_tokens = max(self.most_tokens, usage.total_tokens)
        if result.budget is not None:
            self.request_budgets.add(result.budget.max_requests)
            self.token_budgets.add(result.budget.max_tokens)

    @property
    def ok(self) -> int:
        """Articles extracted without error."""
        return self.articles - self.failed

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens paid in this run."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def budget_failures(self) -> int:
        """Articles stopped by their request or token budget."""
        return self.failures[ErrorCategory.BUDGET.value]


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
    model: str = ""
    """The model the estimate is for."""
    max_requests_per_article: int | None = None
    """The per-article request budget applied, when set explicitly."""
    max_tokens_per_article: int | None = None
    """The per-article token budget applied, when set."""
