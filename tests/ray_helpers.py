"""Shared by the Ray tests and the Ray benchmark: a measured extraction on a Ray cluster.

The rate-limited server reports when it saw its first request and sent its last answer,
and how many requests it refused with 429; the throughput is the articles answered in
that span, against the ceiling the limits allow.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.test_batch import synthetic


@dataclass(frozen=True)
class Throughput:
    """One measured run."""

    ok: int
    failed: int
    served: int
    refused: int
    span: float
    ceiling: float
    steady: float
    """Answers a second between the 10th and the 90th percentile answer: the pace once
    every actor is up, before the last stragglers."""

    @property
    def rate(self) -> float:
        """Articles answered per second between the first request and the last answer."""
        return self.ok / self.span if self.span else 0.0

    @property
    def of_ceiling(self) -> float:
        return self.rate / self.ceiling

    @property
    def steady_of_ceiling(self) -> float:
        return self.steady / self.ceiling

    @property
    def refused_share(self) -> float:
        """The share of requests answered 429."""
        return self.refused / max(self.served, 1)

    def row(self, label: str) -> str:
        """A row of the benchmark table."""
        return (
            f"| {label} | {self.ok} / {self.failed} | {self.rate:.1f} | {self.steady:.1f} "
            f"| {self.ceiling:.1f} | {self.of_ceiling:.2f} | {self.steady_of_ceiling:.2f} "
            f"| {self.refused_share:.1%} ({self.refused} of {self.served}) | {self.span:.1f} |"
        )


def article_rows(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Synthetic articles as dataset rows."""
    return [article.model_dump(mode="json") for article in synthetic(count, start=start)]


def request_tokens(base_url: str) -> int:
    """Tokens one synthetic article's request counts against a token limit (as eventx
    estimates it: prompt, schema and the output allowance)."""
    from eventx import Extractor
    from eventx.extraction.extractor import estimate_request_tokens

    with Extractor(base_url=base_url, api_key="sk-bench") as extractor:
        (body,) = extractor.request_bodies(synthetic(1)[0])
    return estimate_request_tokens(body)


def measure(
    stats: Callable[[], dict[str, Any]],
    base_url: str,
    *,
    articles: int,
    rpm: int | None = None,
    tpm: int | None = None,
    shared: bool,
    actors: int = 2,
    concurrency: int = 16,
) -> Throughput:
    """Extract ``articles`` synthetic articles on the Ray cluster this process is connected
    to, ``actors`` actors with the shared limiter or without; the server's counts."""
    import ray.data

    import eventx.ray

    with tempfile.TemporaryDirectory() as output:
        rows = eventx.ray.extract(
            ray.data.from_items(article_rows(articles), override_num_blocks=articles // 16),
            actors=actors,
            shared_limits=shared,
            base_url=base_url,
            api_key="sk-bench",
            rpm=rpm,
            tpm=tpm,
            concurrency=concurrency,
        )
        rows.write_parquet(output)
        kinds = pq.read_table(output, columns=["record_kind"]).column("record_kind").to_pylist()
    after = stats()
    return Throughput(
        ok=kinds.count("event"),
        failed=kinds.count("error"),
        served=int(after["served"]),
        refused=int(after["refused"]),
        span=float(after["last_answer"] - after["first_request"]),
        ceiling=_ceiling(after, rpm, tpm),
        steady=steady_rate(after["answered_at"]),
    )


def steady_rate(answered_at: list[float]) -> float:
    """Answers a second between the 10th and the 90th percentile answer."""
    times = sorted(answered_at)
    low, high = len(times) // 10, len(times) * 9 // 10
    seconds = times[high] - times[low] if times else 0.0
    return (high - low) / seconds if seconds > 0 else 0.0


def _ceiling(stats: dict[str, Any], rpm: int | None, tpm: int | None) -> float:
    """Articles a second the limits allow, tokens counted as the server counted them."""
    limits = [rpm / 60] if rpm else []
    if tpm and stats["admitted"]:
        limits.append(tpm / 60 / (stats["admitted_tokens"] / stats["admitted"]))
    return min(limits)


def output_results(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of every readable result file under ``directory``, by article id."""
    by_article: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.rglob("*")):
        if path.name.startswith(".") or path.suffix not in (".parquet", ".json"):
            continue
        for row in _rows(path):
            by_article.setdefault(row["article_id"], []).append(row)
    return by_article


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
