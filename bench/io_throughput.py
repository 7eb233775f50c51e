"""Measure reading articles and writing tables: time and peak Python memory.

    python bench/io_throughput.py [out.jsonl]

``out.jsonl`` is an ``eventx extract`` output (default: the seeds replayed from their
cassettes into a temporary file).  Prints a Markdown table; docs/inputs.md and
docs/outputs.md quote its output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from eventx.analysis.export import write_rows
from eventx.ingest.load import iter_articles
from eventx.models import ExtractionResult

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = 100_000
COPIES = 2_000  # copies of the seeds' five results: 10,000 results, 66,000 rows


def measure(label: str, run: Callable[[], object]) -> None:
    """Run twice: timed without tracing (tracemalloc slows Python down), then traced."""
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 2**10
    tracemalloc.stop()
    print(f"| {label} | {outcome} | {seconds:.2f} s | {peak:,.0f} KiB |")


def count(items: object) -> int:
    return sum(1 for _ in items)  # type: ignore[attr-defined]


def seed_results(work: Path) -> Path:
    output = work / "seeds.jsonl"
    command = [sys.executable, "-m", "eventx", "extract", str(ROOT / "seeds")]
    command += ["--replay", str(ROOT / "tests/cassettes/seeds"), "-o", str(output)]
    subprocess.run(command, check=True, capture_output=True)
    return output


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        source = Path(sys.argv[1]) if len(sys.argv) > 1 else seed_results(work)
        results = [ExtractionResult.model_validate_json(line) for line in source.open("rb")]
        text = (ROOT / "seeds" / "004_8ea74db2dcd210fd.txt").read_text(encoding="utf-8")
        feed = work / "feed.jsonl"
        with feed.open("w", encoding="utf-8") as sink:
            for number in range(ARTICLES):
                sink.write(json.dumps({"id": f"a{number}", "text": text}) + "\n")
        cp1251 = work / "cp1251"
        cp1251.mkdir()
        for number in range(1000):
            (cp1251 / f"a{number:04d}.txt").write_bytes(text.encode("cp1251"))
        pages = work / "html"
        pages.mkdir()
        body = "".join(f"<p>{line}</p>" for line in text.splitlines() if line.strip())
        page = f"<html lang='uk'><head><title>T</title></head><body><article>{body}</article>"
        for number in range(200):
            (pages / f"p{number:03d}.html").write_text(page + "</body></html>", encoding="utf-8")
        size = feed.stat().st_size / 2**20
        print("| step | items | time | peak Python memory |")
        print("|---|---|---|---|")
        measure(f"read JSONL, {size:.0f} MiB", lambda: count(iter_articles([feed])))
        measure("read cp1251 .txt files (detected)", lambda: count(iter_articles([cp1251])))
        measure("read HTML pages (trafilatura)", lambda: count(iter_articles([pages])))

        def many() -> Iterator[ExtractionResult]:
            return (result for _ in range(COPIES) for result in results)

        measure("write CSV rows", lambda: write_rows(many(), work / "t.csv"))
        measure("write Parquet rows", lambda: write_rows(many(), work / "t.parquet"))
        for suffix in ("csv", "parquet"):
            print(f"\n{suffix}: {(work / f't.{suffix}').stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
