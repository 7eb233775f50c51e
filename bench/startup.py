"""Start-up, whole-process throughput, memory and CPU of the ``eventx`` command.

    python bench/startup.py                            # everything; long runs of 1,000-100,000
    python bench/startup.py --sizes 1000,10000         # shorter long runs
    python bench/startup.py --skip-long                # start-up and throughput only

Measured, each in fresh processes, as a user meets them:

* ``import eventx``: the median of ``--repeat`` processes, minus the median of as many
  bare ``python -c pass``;
* ``eventx --help``: the median wall time of ``--repeat`` processes (the console script);
* whole-process throughput: ``eventx extract FEED -o OUT --base-url URL --rpm 600
  --concurrency 32`` over 300 articles against the simulated server
  (``python -m tests.llm_server``, its own process) enforcing 600 RPM per second (10
  requests in every wall-clock second) with 0.2 s latency, timed from process start to
  process exit; the ceiling is 300 / (600 / 60) = 30 s. The time is split into start-up
  (process start to the server's first request), requests (first request to last
  answer) and shutdown (last answer to exit);
* long runs: ``eventx extract FEED -o OUT --base-url URL --concurrency 16`` over
  synthetic JSONL feeds against the same server with no limits and 0.01 s latency; the
  process's peak RSS (``ru_maxrss``; target under 200 MB at 100,000 articles) and its user
  + system CPU time per article (target under 5 ms).

Results are written to docs/benchmarks.md (the parts between the ``startup`` and ``rss``
markers), with the load average before and after each part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import DOCS, ROOT, SimulatedServer, replace_section, write_feed

EVENTX = str(Path(sys.executable).parent / "eventx")

IMPORT_TARGET = 0.3
HELP_TARGET = 0.5
THROUGHPUT_TARGET = 0.9

ARTICLES = 300
RPM = 600
LATENCY = 0.2
CONCURRENCY = 32

LONG_LATENCY = 0.01
LONG_CONCURRENCY = 16


@dataclass
class Process:
    """One finished process: wall time, start and end (epoch seconds), rusage."""

    started: float
    ended: float
    returncode: int
    cpu: float
    peak_rss_mb: float

    @property
    def wall(self) -> float:
        return self.ended - self.started


def run_process(command: list[str]) -> Process:
    """Run ``command`` and measure it. Its output is discarded: stderr is no terminal, so
    eventx prints a line per article instead of a progress bar, as in a log."""
    started = time.time()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    ended = time.time()
    return Process(
        started,
        ended,
        os.waitstatus_to_exitcode(status),
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )


def load() -> str:
    """The 1-minute load average (other work on the same cores disturbs every number)."""
    return f"{os.getloadavg()[0]:.1f}"


def median_wall(command: list[str], repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        done = run_process(command)
        assert done.returncode == 0, command
        walls.append(done.wall)
    return statistics.median(walls)


def met(value: float, target: float) -> str:
    return "yes" if value < target else "**no**"


def startup_rows(repeat: int) -> list[str]:
    before = load()
    bare = median_wall([sys.executable, "-c", "pass"], repeat)
    imported = median_wall([sys.executable, "-c", "import eventx"], repeat) - bare
    helped = median_wall([EVENTX, "--help"], repeat)
    loads = f"{before} → {load()}"
    rows = [
        f"| `import eventx` (median of {repeat}, minus `python -c pass`: {bare:.2f} s) "
        f"| < {IMPORT_TARGET} s | {imported:.3f} s | {met(imported, IMPORT_TARGET)} | {loads} |",
        f"| `eventx --help` (median of {repeat}) | < {HELP_TARGET} s | {helped:.2f} s "
        f"| {met(helped, HELP_TARGET)} | {loads} |",
    ]
    print(*rows, sep="\n", flush=True)
    return rows


def throughput_row(workdir: Path, number: int) -> str:
    """One whole-process run of ``eventx extract`` against the rate-limited server."""
    before = load()
    feed = workdir / "throughput.feed.jsonl"
    if not feed.exists():
        write_feed(feed, ARTICLES)
    output = workdir / f"throughput-{number}.jsonl"
    with SimulatedServer(LATENCY, RPM, None) as server:
        command = [
            EVENTX, "extract", str(feed), "-o", str(output), "--base-url", server.url,
            "--rpm", str(RPM), "--concurrency", str(CONCURRENCY),
        ]  # fmt: skip
        done = run_process(command)
        stats = server.stats()
    assert done.returncode == 0, done
    ceiling = ARTICLES / (RPM / 60)
    startup = stats["first_request"] - done.started
    requests = stats["last_answer"] - stats["first_request"]
    shutdown = done.ended - stats["last_answer"]
    share = ceiling / done.wall
    refused, served = int(stats["refused"]), int(stats["served"])
    row = (
        f"| {ARTICLES} articles at {RPM} RPM, run {number}: process start to exit "
        f"| ≥ {THROUGHPUT_TARGET} of the {ceiling:.0f} s ceiling | {done.wall:.1f} s = {share:.2f} "
        f"(start-up {startup:.1f} s, requests {requests:.1f} s, shutdown {shutdown:.1f} s; "
        f"429: {refused} of {served}) | {'yes' if share >= THROUGHPUT_TARGET else '**no**'} "
        f"| {before} → {load()} |"
    )
    print(row, flush=True)
    return row


def long_rows(workdir: Path, sizes: list[int]) -> list[str]:
    rows = [
        "| articles | ok | wall (s) | peak RSS (MB) | CPU user+sys (s) | CPU per article (ms) "
        "| load before → after |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        feed = workdir / f"long-{size}.feed.jsonl"
        write_feed(feed, size)
        output = workdir / f"long-{size}.jsonl"
        before = load()
        with SimulatedServer(LONG_LATENCY, None, None) as server:
            command = [
                EVENTX, "extract", str(feed), "-o", str(output), "--base-url", server.url,
                "--concurrency", str(LONG_CONCURRENCY),
            ]  # fmt: skip
            done = run_process(command)
        ok = sum(1 for line in output.open(encoding="utf-8") if '"error":null' in line)
        rows.append(
            f"| {size:,} | {ok:,} | {done.wall:.0f} | {done.peak_rss_mb:.0f} | {done.cpu:.1f} "
            f"| {done.cpu / size * 1000:.2f} | {before} → {load()} |"
        )
        print(rows[-1], flush=True)
        feed.unlink()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="processes per start-up median")
    parser.add_argument("--runs", type=int, default=3, help="whole-process throughput runs")
    parser.add_argument("--sizes", default="1000,10000,100000", help="long-run sizes")
    parser.add_argument("--skip-startup", action="store_true", help="long runs only")
    parser.add_argument("--skip-long", action="store_true", help="start-up and throughput only")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sections = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.skip_startup:
            rows = ["| measure | target | result | met | load |", "|---|---|---|---|---|"]
            rows += startup_rows(args.repeat)
            rows += [throughput_row(workdir, number) for number in range(1, args.runs + 1)]
            sections["startup"] = rows
        if not args.skip_long:
            sizes = [int(size) for size in args.sizes.split(",") if size]
            sections["rss"] = long_rows(workdir, sizes)
    if not args.no_write:
        text = DOCS.read_text(encoding="utf-8")
        for name, rows in sections.items():
            text = replace_section(text, name, rows)
        DOCS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
