"""The library-level run API and the command line over it: outputs, formats, limits,
interruption, pricing and the errors a new user meets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import eventx
from eventx.cli import main
from eventx.cli.common import EXIT_FAILED_ARTICLES, EXIT_INTERRUPTED, EXIT_USAGE
from eventx.extraction.pricing import estimate_cost
from tests.conftest import ROOT, SEED_CASSETTES, SEEDS
from tests.llm_server.server import ScriptedLLM, first_sentence_meeting
from tests.test_batch import synthetic

REPLAY = ["--replay", str(SEED_CASSETTES)]


def _extract(*args: str) -> object:
    return CliRunner().invoke(main, ["extract", str(SEEDS), *REPLAY, *args])


def test_run_writes_jsonl_and_resumes(tmp_path: Path) -> None:
    output = tmp_path / "events.jsonl"
    summary = eventx.run([SEEDS], output, replay=SEED_CASSETTES)
    assert (summary.articles, summary.failed, summary.output) == (5, 0, str(output))
    assert summary.store == str(output) + ".eventx.db"
    assert len(output.read_text(encoding="utf-8").splitlines()) == 5
    again = eventx.run([SEEDS], output, replay=SEED_CASSETTES)
    assert (again.articles, again.skipped) == (0, 5)
    assert len(output.read_text(encoding="utf-8").splitlines()) == 5


def test_run_takes_articles_and_reports_progress(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    articles = [eventx.load_article(path) for path in sorted(SEEDS.glob("*.txt"))[:2]]
    summary = eventx.run(
        articles,
        None,
        replay=SEED_CASSETTES,
        progress=lambda result, so_far: seen.append((result.article_id, so_far.articles)),
    )
    assert summary.articles == 2
    assert summary.output is None
    assert seen == [(articles[0].id, 1), (articles[1].id, 2)]


def test_a_table_output_writes_nothing_to_stdout(tmp_path: Path) -> None:
    for name in ("events.csv", "events.parquet"):
        outcome = _extract("-o", str(tmp_path / name))
        assert outcome.exit_code == 0, outcome.output
        assert outcome.stdout == ""
        assert (tmp_path / name).stat().st_size > 0
    outcome = _extract("-o", str(tmp_path / "other.csv"), "--format", "csv")
    assert outcome.stdout == ""


def test_a_format_that_contradicts_the_suffix_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "x.jsonl"
    outcome = _extract("--format", "parquet", "-o", str(output))
    assert outcome.exit_code == EXIT_USAGE
    assert "named as jsonl but the format asked for is parquet" in outcome.output
    assert "x.parquet" in outcome.output
    assert not output.exists()
    assert not Path(str(output) + ".eventx.db").exists()


def test_a_table_format_needs_a_file() -> None:
    outcome = _extract("--format", "csv")
    assert outcome.exit_code == EXIT_USAGE
    assert "needs an output file" in outcome.output


def test_a_limited_run_moves_on_when_repeated(tmp_path: Path) -> None:
    output = tmp_path / "events.jsonl"
    counts = []
    for _ in range(3):
        outcome = _extract("-o", str(output), "--limit", "2")
        assert outcome.exit_code == 0, outcome.output
        counts.append(len(output.read_text(encoding="utf-8").splitlines()))
    assert counts == [2, 4, 5]


def test_a_limited_dry_run_counts_what_a_limited_run_would_send(tmp_path: Path) -> None:
    output = tmp_path / "events.jsonl"
    eventx.run([SEEDS], output, replay=SEED_CASSETTES, limit=2)
    estimate = eventx.estimate([SEEDS], output, replay=SEED_CASSETTES, limit=2)
    assert (estimate.finished, estimate.to_send) == (2, 2)


def test_eval_refuses_predictions_that_cover_no_gold_article(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    gold = ROOT / "gold" / "seeds.yaml"
    outcome = CliRunner().invoke(main, ["eval", "--gold", str(gold), "--pred", str(empty)])
    assert outcome.exit_code == EXIT_USAGE
    assert "nothing to measure" in outcome.output
    assert "P" not in outcome.stdout


def test_report_and_fuse_skip_lines_that_are_not_results(
    seed_predictions: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.jsonl"
    lines = seed_predictions.read_text(encoding="utf-8").splitlines()
    damaged.write_text("\n".join([lines[0], '{"article_id": "x"}', lines[1]]) + "\n")
    for command in (["report", "-o", str(tmp_path / "r.html")], ["fuse"]):
        outcome = CliRunner().invoke(main, [command[0], str(damaged), *command[1:]])
        assert outcome.exit_code == EXIT_FAILED_ARTICLES, outcome.output
        assert f"{damaged}:2: not an extraction result" in outcome.output
    assert (tmp_path / "r.html").stat().st_size > 0


def test_batch_collect_without_configuration_leaves_nothing_behind(tmp_path: Path) -> None:
    output = tmp_path / "events.jsonl"
    outcome = CliRunner().invoke(main, ["batch", "collect", "-o", str(output)])
    assert outcome.exit_code == EXIT_USAGE
    assert "no run store" in outcome.output
    assert list(tmp_path.iterdir()) == []
    outcome = CliRunner().invoke(main, ["batch", "submit", str(SEEDS), "-o", str(output)])
    assert outcome.exit_code == EXIT_USAGE
    assert "OPENAI_API_KEY" in outcome.output
    assert list(tmp_path.iterdir()) == []


def test_local_endpoints_cost_nothing_and_unknown_models_have_no_price() -> None:
    usage = eventx.Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert estimate_cost("gpt-4.1-mini", usage) == pytest.approx(2.0)
    for local in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://10.0.0.7/v1"):
        assert estimate_cost("gpt-4.1-mini", usage, local) == 0.0
        assert estimate_cost("qwen2.5-coder-1.5b", usage, local) == 0.0
    assert estimate_cost("qwen2.5-coder-1.5b", usage, "https://vllm.example.com/v1") is None


def test_the_summary_names_the_first_error_of_each_kind(tmp_path: Path) -> None:
    summary = eventx.run(
        [SEEDS, tmp_path / "missing.txt"], tmp_path / "out.jsonl", replay=SEED_CASSETTES
    )
    assert summary.failures == {"input": 1}
    assert "missing.txt" in summary.first_errors["input"]


# -- interruption ---------------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM({}, fallback=first_sentence_meeting, latency=0.2) as server:
        yield server


def _start(feed: Path, output: Path, server: ScriptedLLM) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
        "--base-url", server.base_url, "--concurrency", "2",
    ]  # fmt: skip
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def _wait_for_lines(output: Path, lines: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if output.exists() and output.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.01)
    raise AssertionError("the run wrote nothing")


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_says_how_to_resume_and_exits_130(
    sent: signal.Signals, slow_server: ScriptedLLM, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(a.model_dump_json() + "\n" for a in synthetic(40)), encoding="utf-8")
    output = tmp_path / "events.jsonl"
    process = _start(feed, output, slow_server)
    _wait_for_lines(output, 2)
    os.kill(process.pid, sent)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "run interrupted" in stderr
    assert "run the same command again to resume" in stderr
    assert "Aborted!" not in stderr
    done = {json.loads(line)["article_id"] for line in output.read_text().splitlines()}
    assert 2 <= len(done) < 40
    resumed = _start(feed, output, slow_server)
    resumed.communicate(timeout=120)
    assert resumed.returncode == 0
    lines = [json.loads(line)["article_id"] for line in output.read_text().splitlines()]
    assert sorted(lines) == sorted(a.id for a in synthetic(40))


def test_a_replay_sends_what_was_recorded_with_the_recorded_settings(
    server: ScriptedLLM, tmp_path: Path
) -> None:
    cassettes = tmp_path / "cassettes"
    shaping = {"schema_profile": "compact", "examples": "builtin", "max_output_tokens": 777}
    article = eventx.load_article(SEEDS / "003_690e5601b5893f43.txt")
    recorded = eventx.run(
        [article], tmp_path / "live.jsonl", record=cassettes, base_url=server.base_url,
        api_key="sk-test", **shaping,
    )  # fmt: skip
    info = json.loads((cassettes / "recording.json").read_text(encoding="utf-8"))
    assert {name: info["settings"][name] for name in shaping} == shaping
    replayed = eventx.run([article], tmp_path / "replayed.jsonl", replay=cassettes)
    assert (recorded.articles, replayed.articles, replayed.failed) == (1, 1, 0)
    live, again = (
        eventx.load_results(tmp_path / name)[0] for name in ("live.jsonl", "replayed.jsonl")
    )
    assert again.extraction == live.extraction
    assert again.prompt_hash == live.prompt_hash
