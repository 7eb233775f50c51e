"""What the command line shows while it works: a progress bar or lines, and summaries.

On a terminal, a live bar with done / failed / events / tokens / cost / rate; when
stderr is not a terminal (logs, CI, pipes), one line per article instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from eventx import ExtractionResult, RunEstimate, RunSummary

stderr = Console(stderr=True, highlight=False)


class RunProgress:
    """Shows a run's progress: a live bar on a terminal, else one line per article.

    Pass it as the ``progress`` callback of :func:`eventx.run`; ``total`` is called once,
    only when a bar is shown, to size it.
    """

    def __init__(self, total: Callable[[], int | None]) -> None:
        self._total = total
        self._live = stderr.is_terminal
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._shown = 0

    def __enter__(self) -> Self:
        if self._live:
            self._bar = Progress(
                TextColumn("extracting"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                console=stderr,
            )
            self._bar.start()
            self._task = self._bar.add_task("extract", total=self._total(), stats="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, result: ExtractionResult, summary: RunSummary) -> None:
        """Show one more finished article."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1, stats=self._stats(summary))
        else:
            print_result_line(summary.articles, result)

    def update(self, summary: RunSummary) -> None:
        """Show the counts so far, for runs that report them in bulk (the Ray engine)."""
        done = summary.articles + summary.skipped
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, stats=self._stats(summary))
        elif summary.articles != self._shown:
            self._shown = summary.articles
            stderr.print(f"[{done}] done: {self._stats(summary)}", markup=False)

    def _stats(self, summary: RunSummary) -> str:
        minutes = max(time.monotonic() - self._started, 1e-6) / 60
        parts = [
            f"failed {summary.failed}",
            f"events {sum(summary.events.values())}",
            f"tokens {summary.total_tokens:,}",
            f"${summary.cost_usd:.2f}",
            f"{summary.articles / minutes:,.0f}/min",
        ]
        return " · ".join(parts)


def print_result_line(number: int, result: ExtractionResult) -> None:
    """One line for one finished article: what was found, or why it failed.

    Written as it is, not through rich, so that a log line is never wrapped at the
    console's width.
    """
    stderr.file.write(_line(number, result) + "\n")


def _line(number: int, result: ExtractionResult) -> str:
    if result.error is not None:
        outcome = f"FAILED ({result.error.category.value}): {result.error.message}"
    else:
        extraction = result.extraction
        events = len(extraction.events) if extraction else 0
        claims = len(extraction.claims) if extraction else 0
        outcome = f"{events} events, {claims} claims, {len(result.warnings)} warnings"
        if result.cached:
            outcome += " (cached)"
    return f"[{number}] {result.article_id}: {outcome}"


def print_summary(summary: RunSummary) -> None:
    """The table printed at the end of a run."""
    by_type = ", ".join(f"{name} {count}" for name, count in sorted(summary.events.items()))
    rows = [
        (
            "articles",
            f"{summary.articles} ({summary.articles - summary.failed} ok, {summary.failed} failed)",
        ),
        ("skipped", f"{summary.skipped} finished in an earlier run"),
        ("cached", f"{summary.cached} answered from the run store's cache"),
        ("events", f"{sum(summary.events.values())}" + (f" ({by_type})" if by_type else "")),
        ("claims", str(summary.claims)),
        ("warnings", str(summary.warnings)),
        ("requests", str(summary.requests)),
        ("tokens", f"{summary.prompt_tokens} prompt + {summary.completion_tokens} completion"),
    ]
    if summary.cost_usd:
        rows.append(("cost", f"~${summary.cost_usd:.4f}"))
    if summary.request_budgets or summary.token_budgets:
        rows.append(("per article", _budget_use(summary)))
    if summary.endpoints:
        rows.append(("endpoints", _endpoint_use(summary)))
    if summary.failures:
        rows.append(("failures", ", ".join(f"{k} {v}" for k, v in summary.failures.items())))
        rows += [(f"first {name}", message) for name, message in summary.first_errors.items()]
    if summary.output is not None:
        rows.append(("output", "stdout" if summary.output == "-" else summary.output))
    if summary.store is not None:
        rows.append(("run store", summary.store))
    _print_table("run interrupted" if summary.interrupted else "run summary", rows)
    if summary.interrupted:
        stderr.print("interrupted: run the same command again to resume", markup=False)


def _budget_use(summary: RunSummary) -> str:
    """The most one article spent, against the budgets applied."""
    requests = _span(summary.request_budgets)
    tokens = _span(summary.token_budgets)
    return (
        f"at most {summary.most_requests} requests (budget {requests}), "
        f"{summary.most_tokens:,} tokens (budget {tokens}); "
        f"{summary.budget_failures} stopped by the budget"
    )


def _endpoint_use(summary: RunSummary) -> str:
    """Requests per endpoint, with failures and circuit openings where there were any."""
    parts = []
    for url, counts in summary.endpoints.items():
        trouble = f", {counts.failures} failed, circuit opened {counts.opened}x"
        parts.append(f"{url} {counts.requests}" + (trouble if counts.failures else ""))
    return "; ".join(parts)


def _span(limits: set[int] | set[int | None]) -> str:
    """``18``, ``18-36`` or ``none``: the budgets applied over a run."""
    known = sorted(limit for limit in limits if limit is not None)
    if not known:
        return "none"
    low, high = f"{known[0]:,}", f"{known[-1]:,}"
    text = low if low == high else f"{low}-{high}"
    return text + (" or none" if None in limits else "")


def print_estimate(estimate: RunEstimate) -> None:
    """The table printed by a dry run."""
    cost = (
        "unknown (no price for this model)"
        if estimate.cost_usd is None
        else (f"~${estimate.cost_usd:.4f} at most")
    )
    rows = [
        ("articles", str(estimate.articles)),
        ("unreadable", str(estimate.unreadable)),
        ("already finished", str(estimate.finished)),
        ("cached answers", str(estimate.cached)),
        ("articles to send", str(estimate.to_send)),
        ("requests", str(estimate.requests)),
        ("prompt tokens", f"{estimate.prompt_tokens:,}"),
        ("output tokens", f"{estimate.output_tokens:,} at most"),
        ("model", estimate.model),
        ("cost", cost),
    ]
    if estimate.max_requests_per_article is not None or estimate.max_tokens_per_article:
        requests = estimate.max_requests_per_article or "(retries+1) x (re-asks+1) per chunk"
        tokens = estimate.max_tokens_per_article or "none"
        rows.append(("budget", f"per article: {requests} requests, {tokens} tokens"))
    _print_table("dry run: nothing was sent", rows)


def _print_table(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left", box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, Text(value))  # plain text: "eventx[html]" is not markup
    stderr.print(table)
