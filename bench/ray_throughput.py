"""eventx on Ray against per-second rate limits: two actors, with the shared limiter and without.

    python bench/ray_throughput.py                 # both scenarios, 600 articles each
    python bench/ray_throughput.py --articles 300  # shorter

A local Ray cluster with 2 CPUs is started in this process; the simulated
OpenAI-compatible server (``python -m tests.llm_server``, its own process) answers after
0.5 s and enforces its limits per second (RPM/60 and TPM/60 in every wall-clock second),
answering 429 with ``Retry-After`` beyond them. ``eventx.ray.extract`` runs two actors
(16 requests in flight each) and the rows are written with ``write_parquet``:

* **shared**: the actors pace themselves through one named limiter actor;
* **alone**: each actor paces itself to the full limits (``shared_limits=False``).

Reported: articles answered per second between the server's first request and its last
answer, and between its 10th and 90th percentile answers (once both actors are up), each
against the ceiling the limits allow; the share of requests answered 429. Results are
written to docs/benchmarks.md (between the ``ray`` markers).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import DOCS, SimulatedServer, replace_section  # noqa: E402
from tests.ray_helpers import measure  # noqa: E402

HEADER = [
    "| scenario | limiter | ok / failed | throughput (/s) | steady (/s) | ceiling (/s) "
    "| of ceiling | steady of ceiling | answered 429 | span (s) |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


@dataclass(frozen=True)
class Scenario:
    name: str
    rpm: int | None
    tpm: int | None


SCENARIOS = [
    Scenario("requests-bound", rpm=1_200, tpm=None),
    Scenario("tokens-bound", rpm=None, tpm=5_000_000),
]


def stats_of(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/stats") as response:
        data: dict[str, Any] = json.load(response)
    return data


def run_scenario(scenario: Scenario, articles: int) -> list[str]:
    rows = []
    for shared in (True, False):
        with SimulatedServer(0.5, scenario.rpm, scenario.tpm) as server:
            result = measure(
                lambda: stats_of(server.url),
                server.url,
                articles=articles,
                rpm=scenario.rpm,
                tpm=scenario.tpm,
                shared=shared,
            )
        label = f"{scenario.name} | {'shared' if shared else 'alone'}"
        rows.append(result.row(label))
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600)
    args = parser.parse_args()
    import ray
    import ray.data

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        rows = list(HEADER)
        for scenario in SCENARIOS:
            rows += run_scenario(scenario, args.articles)
    finally:
        ray.shutdown()
    text = DOCS.read_text(encoding="utf-8")
    DOCS.write_text(replace_section(text, "ray", rows), encoding="utf-8")


if __name__ == "__main__":
    main()
