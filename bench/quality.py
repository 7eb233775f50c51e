"""eventx beside LangExtract on the same local model, the same server and the same articles.

    python bench/quality.py --model qwen2.5-coder-1.5b                 # the seeds (test set)
    python bench/quality.py --model qwen2.5-coder-0.5b --articles dev  # the dev set
    python bench/quality.py --model qwen2.5-coder-1.5b --systems eventx \\
        --eventx-args "--per-type" --label per-type                    # one lever

One llama.cpp server (llama-cpp-python's OpenAI-compatible server, 2 threads, greedy
decoding) serves the model; ``bench/usage_proxy.py`` in front of it logs every request's
tokens and seconds. Both systems talk to the proxy:

* eventx: ``eventx extract ARTICLES --base-url PROXY --server llama-cpp-python`` with its
  defaults for a local model (``--local`` would start a server of its own), plus
  ``--eventx-args``;
* LangExtract 1.7.1: ``bench/langextract_run.py`` (its OpenAI provider, the prompt and
  the example set written for it there, ``max_char_buffer`` 1000), run with the Python of
  the environment that has langextract (``--langextract-python``), and
  ``bench/langextract_convert.py`` to turn its output into eventx results.

Both outputs are scored with ``eventx eval`` against the gold file: precision, recall
and F1 per type and overall, the grounding rate (quotes located in the article) and the
junk rate (records whose evidence lies outside the article body, in page junk), with
tokens and seconds per article from the proxy's log. The table is printed, and written
with ``--write-docs`` between the markers of ``docs/benchmarks.md``.

Models are GGUF files in ``~/.cache/eventx-models/NAME.gguf`` (or a path); see
``docs/local.md`` for where they come from.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODELS = Path.home() / ".cache" / "eventx-models"
ARTICLE_SETS = {
    "seeds": (ROOT / "seeds", ROOT / "gold" / "seeds.yaml"),
    "dev": (ROOT / "gold" / "dev", ROOT / "gold" / "dev.yaml"),
}
DOCS = ROOT / "docs" / "benchmarks.md"
LANGEXTRACT_PYTHON = "/work/venv-lx/bin/python"


@dataclass
class Row:
    """One system's measurements on one model."""

    system: str
    model: str
    evaluation: dict[str, Any]
    articles: int
    ok: int
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    requests: int

    def cells(self) -> list[str]:
        records = self.evaluation["records"]
        overall, events, claims = records["overall"], records["events"], records["claim"]
        return [
            self.system,
            self.model,
            f"{self.ok}/{self.articles}",
            str(overall["predicted"]),
            f"{overall['precision']:.2f}",
            f"{overall['recall']:.2f}",
            f"**{overall['f1']:.3f}**",
            f"{events['f1']:.2f}",
            f"{claims['f1']:.2f}",
            f"{self.evaluation['grounding']['rate']:.2f}",
            f"{self.evaluation['junk']['rate']:.2f}",
            f"{self.prompt_tokens / self.articles:,.0f} + "
            f"{self.completion_tokens / self.articles:,.0f}",
            f"{self.requests / self.articles:.1f}",
            f"{self.seconds / self.articles:,.0f}",
        ]


HEADER = [
    "system", "model", "ok", "records", "P", "R", "F1", "events F1", "claims F1",
    "grounding", "junk", "tokens / article (prompt + completion)", "requests / article",
    "s / article",
]  # fmt: skip


def model_path(name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.suffix == ".gguf" else MODELS / f"{name}.gguf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def serving(model: Path, alias: str, workdir: Path, context: int) -> Iterator[str]:
    """The model behind the usage proxy; yields the proxy's base URL (``…/v1``)."""
    port, proxy_port = free_port(), free_port()
    (workdir / "proxy.jsonl").unlink(missing_ok=True)  # the usage of this run alone
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
         "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", str(context), "--n_threads", "2"],
        stdout=(workdir / "server.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    proxy = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "usage_proxy.py"),
         "--upstream", f"http://127.0.0.1:{port}", "--port", str(proxy_port),
         "--log", str(workdir / "proxy.jsonl")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/models")
        wait_for(f"http://127.0.0.1:{proxy_port}/v1/models")
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        for process in (proxy, server):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # busy decoding: it does not stop on SIGTERM
                process.kill()
                process.wait()


def proxy_usage(log: Path, tag: str) -> tuple[int, int, int]:
    """(requests, prompt tokens, completion tokens) the proxy logged under ``tag``."""
    requests = prompt = completion = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("path", "").endswith("/chat/completions") and _tagged(entry, tag):
            requests += 1
            prompt += entry.get("prompt_tokens") or 0
            completion += entry.get("completion_tokens") or 0
    return requests, prompt, completion


def _tagged(entry: dict[str, Any], tag: str) -> bool:
    """eventx's requests go to the proxy untagged; LangExtract's carry their article."""
    found = entry.get("tag")
    return not found if tag == "eventx" else bool(found)


def evaluate(gold: Path, predictions: Path, articles: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "eventx", "eval", "--gold", str(gold), "--pred", str(predictions),
         "--articles", str(articles), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def count_ok(results: Path) -> tuple[int, int]:
    lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    return len(lines), sum(1 for line in lines if not line.get("error"))


def run_eventx(args: argparse.Namespace, url: str, files: list[Path], workdir: Path) -> Row:
    output = workdir / f"eventx-{args.label}.jsonl"
    for stale in workdir.glob(output.name + "*"):
        stale.unlink()
    command = [
        sys.executable, "-m", "eventx", "extract", *map(str, files), "-o", str(output),
        "--base-url", f"{url}/v1", "--server", "llama-cpp-python",
        "--model", args.alias, "--max-output-tokens", "2048", "--concurrency", "1",
        *shlex.split(args.eventx_args),
    ]  # fmt: skip
    if args.record:
        command += ["--record", str(args.record)]
    env = {**os.environ, "EVENTX_TIMEOUT": "3600", "EVENTX_TEMPERATURE": "0"}
    started = time.monotonic()
    subprocess.run(command, env=env, check=False, stderr=(workdir / "eventx.log").open("w"))
    seconds = time.monotonic() - started
    return _row(f"eventx {args.label}".strip(), args, output, seconds, workdir, "eventx")


def run_langextract(args: argparse.Namespace, url: str, files: list[Path], workdir: Path) -> Row:
    prefix = workdir / "langextract"
    command = [
        args.langextract_python, str(ROOT / "bench" / "langextract_run.py"), *map(str, files),
        "--base-url", f"{url}/t/{{article}}/v1", "--model", args.alias, "--out", str(prefix),
        "--temperature", "0", "--timeout", "3600", "--max-char-buffer",
        str(args.max_char_buffer),
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(command, check=False, stderr=(workdir / "langextract.log").open("w"))
    seconds = time.monotonic() - started
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "langextract_convert.py"),
         f"{prefix}.raw.jsonl", "--proxy-log", str(workdir / "proxy.jsonl")],
        check=True,
    )  # fmt: skip
    return _row("LangExtract 1.7.1", args, Path(f"{prefix}.jsonl"), seconds, workdir, "lx")


def _row(
    system: str, args: argparse.Namespace, output: Path, seconds: float, workdir: Path, tag: str
) -> Row:
    folder, _ = ARTICLE_SETS[args.articles]
    articles, ok = count_ok(output)
    requests, prompt, completion = proxy_usage(workdir / "proxy.jsonl", tag)
    evaluation = evaluate(args.gold, output, folder)
    (workdir / f"{output.stem}.eval.json").write_text(json.dumps(evaluation, indent=2))
    return Row(system, args.alias, evaluation, articles, ok, seconds, prompt, completion, requests)


def subset_gold(gold: Path, ids: set[str], workdir: Path) -> Path:
    """A copy of the gold file with only the articles ``ids`` (sources made absolute)."""
    entries = yaml.safe_load(gold.read_text(encoding="utf-8"))["articles"]
    missing = ids - {entry["id"] for entry in entries}
    if missing:
        raise SystemExit(f"not in {gold.name}: {', '.join(sorted(missing))}")
    kept = [
        {**entry, "source": str((gold.parent / entry["source"]).resolve())}
        for entry in entries
        if entry["id"] in ids
    ]
    subset = workdir / "gold-subset.yaml"
    subset.write_text(yaml.safe_dump({"articles": kept}, allow_unicode=True), encoding="utf-8")
    return subset


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def write_docs(section: str, rows: list[str]) -> None:
    """Put ``rows`` in the table between the section's markers in docs/benchmarks.md; a
    row of the same system and model already there is replaced, the others are kept, so a
    table can be filled by several runs (one per model or mode)."""
    begin, end = f"<!-- quality:{section} -->", f"<!-- /quality:{section} -->"
    page = DOCS.read_text(encoding="utf-8")
    if begin not in page:
        page = page.rstrip() + f"\n\n{begin}\n{end}\n"
    head, rest = page.split(begin, 1)
    old, tail = rest.split(end, 1)
    new = {_row_key(line): line for line in rows}
    kept = [line for line in old.strip().splitlines()[2:] if _row_key(line) not in new]
    lines = table([]).splitlines() + kept + list(new.values())
    DOCS.write_text(f"{head}{begin}\n" + "\n".join(lines) + f"\n{end}{tail}", encoding="utf-8")


def _row_key(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip("|").split("|")[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a name in ~/.cache/eventx-models or a path")
    parser.add_argument("--articles", choices=sorted(ARTICLE_SETS), default="seeds")
    parser.add_argument("--ids", help="only these articles of the set (comma-separated ids)")
    parser.add_argument("--systems", default="eventx,langextract")
    parser.add_argument("--eventx-args", default="", help="more options for eventx extract")
    parser.add_argument("--label", default="", help="names the eventx configuration")
    parser.add_argument("--record", type=Path, help="record eventx's exchanges as cassettes")
    parser.add_argument("--max-char-buffer", type=int, default=1000)
    parser.add_argument("--langextract-python", default=LANGEXTRACT_PYTHON)
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/eventx-quality"))
    parser.add_argument(
        "--write-docs", help="docs/benchmarks.md sections (comma-separated) to put the rows in"
    )
    parser.add_argument(
        "--rows-from",
        type=Path,
        help="put the rows of this printed table in --write-docs; run nothing",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on the way out
    if args.rows_from:
        for section in filter(None, (args.write_docs or "").split(",")):
            write_docs(section, args.rows_from.read_text(encoding="utf-8").splitlines()[2:])
        return
    path = model_path(args.model)
    args.alias = path.stem
    workdir = args.workdir / f"{args.alias}-{args.articles}{'-subset' if args.ids else ''}"
    workdir.mkdir(parents=True, exist_ok=True)
    folder, gold = ARTICLE_SETS[args.articles]
    files = sorted(folder.glob("*.txt"))
    if args.ids:
        wanted = set(args.ids.split(","))
        files = [path for path in files if path.stem in wanted]
        args.gold = subset_gold(gold, wanted, workdir)
    else:
        args.gold = gold
    rows = []
    with serving(path, args.alias, workdir, args.context) as url:
        systems = args.systems.split(",")
        if "eventx" in systems:
            rows.append(run_eventx(args, url, files, workdir))
        if "langextract" in systems:
            rows.append(run_langextract(args, url, files, workdir))
    text = table(rows)
    print(text)
    (workdir / f"table-{args.label or 'default'}.md").write_text(text + "\n")
    for section in filter(None, (args.write_docs or "").split(",")):
        write_docs(section, text.splitlines()[2:])


if __name__ == "__main__":
    main()
