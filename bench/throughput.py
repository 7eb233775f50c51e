"""Throughput against rate limits: eventx beside a naive loop.

    python bench/throughput.py

A simulated OpenAI-compatible server (``python -m tests.llm_server``, in its own
process) answers every article after a fixed latency and enforces requests and
tokens per minute *per second* (RPM/60 and TPM/60 in every wall-clock second),
answering 429 with ``Retry-After`` beyond them, as hosted providers do. For each
scenario, eventx (the ``eventx extract`` command, in its own process) and a naive
loop (``asyncio.gather`` + a semaphore over instructor with the SDK's default
retries, also in its own process) extract the same synthetic articles. Reported:

* throughput: answered articles per second between the server's first request
  and its last answer, as a fraction of the ceiling
  min(RPM/60, TPM/60 / tokens per request, concurrency / latency);
* the share of requests answered 429, wall time, and the client's peak RSS.

Start-up, whole-process throughput (process start to exit), and memory and CPU over
long runs are measured by ``bench/startup.py``. Results are written to
docs/benchmarks.md (the part between the ``scenarios`` markers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Scenario:
    name: str
    articles: int
    concurrency: int
    latency: float
    rpm: int | None
    tpm: int | None


SCENARIOS = [
    Scenario("requests-bound", 600, 32, 0.5, rpm=1_200, tpm=None),
    Scenario("tokens-bound", 500, 32, 0.5, rpm=None, tpm=5_000_000),
    Scenario("concurrency-bound", 400, 8, 0.5, rpm=None, tpm=None),
]


@dataclass
class Measurement:
    client: str
    ok: int
    failed: int
    served: int
    refused: int
    span: float
    wall: float
    peak_rss_mb: float
    tokens_per_request: float | None


def write_feed(path: Path, count: int) -> None:
    from tests.test_batch import synthetic

    with path.open("w", encoding="utf-8") as feed:
        for start in range(0, count, 1000):
            for article in synthetic(min(1000, count - start), start=start):
                feed.write(article.model_dump_json() + "\n")


class SimulatedServer:
    def __init__(self, latency: float, rpm: int | None, tpm: int | None) -> None:
        command = [sys.executable, "-m", "tests.llm_server", "--latency", str(latency)]
        command += ["--rpm", str(rpm)] if rpm else []
        command += ["--tpm", str(tpm)] if tpm else []
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.url}/stats") as response:
            data: dict[str, float] = json.load(response)
        return data

    def __enter__(self) -> SimulatedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait()


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; return its wall time, peak RSS in MB, and stdout."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return time.monotonic() - started, usage.ru_maxrss / 1024, out.read()


def measure(client: str, scenario: Scenario, feed: Path, workdir: Path) -> Measurement:
    with SimulatedServer(scenario.latency, scenario.rpm, scenario.tpm) as server:
        if client == "eventx":
            output = workdir / f"{scenario.name}.jsonl"
            command = [
                sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
                "--base-url", server.url, "--concurrency", str(scenario.concurrency),
            ]  # fmt: skip
            command += ["--rpm", str(scenario.rpm)] if scenario.rpm else []
            command += ["--tpm", str(scenario.tpm)] if scenario.tpm else []
            wall, rss, _ = run_measured(command)
            ok, failed = _count_results(output)
        else:
            command = [
                sys.executable, __file__, "naive", str(feed), server.url,
                str(scenario.concurrency),
            ]  # fmt: skip
            wall, rss, stdout = run_measured(command)
            ok, failed = json.loads(stdout.splitlines()[-1])
        stats = server.stats()
    tokens = stats["admitted_tokens"] / stats["admitted"] if stats["admitted_tokens"] else None
    return Measurement(
        client,
        ok,
        failed,
        int(stats["served"]),
        int(stats["refused"]),
        stats["last_answer"] - stats["first_request"],
        wall,
        rss,
        tokens,
    )


def _count_results(output: Path) -> tuple[int, int]:
    ok = failed = 0
    with output.open(encoding="utf-8") as results:
        for line in results:
            if json.loads(line)["error"] is None:
                ok += 1
            else:
                failed += 1
    return ok, failed


def ceiling(scenario: Scenario, tokens_per_request: float | None) -> float:
    limits = [scenario.concurrency / scenario.latency]
    if scenario.rpm:
        limits.append(scenario.rpm / 60)
    if scenario.tpm and tokens_per_request:
        limits.append(scenario.tpm / 60 / tokens_per_request)
    return min(limits)


def scenario_rows(workdir: Path) -> list[str]:
    rows = [
        "| scenario | client | ok / failed | throughput (/s) | ceiling (/s) | of ceiling "
        "| answered 429 | wall (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        feed = workdir / f"{scenario.name}.feed.jsonl"
        write_feed(feed, scenario.articles)
        eventx_run = measure("eventx", scenario, feed, workdir)
        tokens = eventx_run.tokens_per_request
        for run in (eventx_run, measure("naive", scenario, feed, workdir)):
            rate = run.ok / run.span if run.span else 0.0
            top = ceiling(scenario, tokens)
            rows.append(
                f"| {scenario.name} | {run.client} | {run.ok} / {run.failed} | {rate:.1f} "
                f"| {top:.1f} | {rate / top:.2f} | {run.refused / max(run.served, 1):.1%} "
                f"({run.refused} of {run.served}) | {run.wall:.1f} | {run.peak_rss_mb:.0f} |"
            )
            print(rows[-1], flush=True)
    return rows


def replace_section(text: str, name: str, rows: list[str]) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return head + begin + "\n" + "\n".join(rows) + "\n" + end + tail


# ---------------------------------------------------------------------------
# The naive loop, as commonly written
# ---------------------------------------------------------------------------


def naive(feed: Path, url: str, concurrency: int) -> None:
    """asyncio.gather over every article, a semaphore, instructor with default retries."""
    import instructor
    import openai

    from eventx.extraction.prompt import build_messages
    from eventx.models import Article, ArticleExtraction

    articles = [Article.model_validate_json(line) for line in feed.read_text().splitlines()]
    client = instructor.from_openai(openai.AsyncOpenAI(base_url=url, api_key="naive"))
    semaphore = asyncio.Semaphore(concurrency)

    async def one(article: Article) -> bool:
        async with semaphore:
            try:
                await client.chat.completions.create(
                    model="gpt-4.1-mini",
                    response_model=ArticleExtraction,
                    messages=build_messages(article),  # type: ignore[arg-type]
                    max_retries=2,
                )
            except Exception:
                return False
            return True

    async def run_all() -> list[bool]:
        return await asyncio.gather(*(one(article) for article in articles))

    outcomes = asyncio.run(run_all())
    print(json.dumps([sum(outcomes), len(outcomes) - sum(outcomes)]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "naive":
        naive(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = scenario_rows(Path(tmp))
    text = DOCS.read_text(encoding="utf-8")
    DOCS.write_text(replace_section(text, "scenarios", rows), encoding="utf-8")


if __name__ == "__main__":
    main()
