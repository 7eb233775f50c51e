"""The command line: clear errors, exit codes, schemas, and recording."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eventx import RunSummary
from eventx.cli import main
from eventx.cli.common import EXIT_FAILED_ARTICLES, EXIT_USAGE
from eventx.cli.console import print_summary
from tests.conftest import ROOT, SEED_CASSETTES, SEEDS


def _run(*args: str, **env: str):
    return CliRunner().invoke(main, list(args), env=env or None)


def test_no_endpoint_gives_one_paragraph_of_advice_not_a_traceback(tmp_path: Path) -> None:
    outcome = _run("extract", str(SEEDS), "-o", str(tmp_path / "out.jsonl"))
    assert outcome.exit_code == EXIT_USAGE
    for hint in ("OPENAI_API_KEY", "Azure", "vLLM", "Ollama", "llama.cpp", "--replay"):
        assert hint in outcome.output
    assert "Traceback" not in outcome.output


def test_bad_settings_are_named(tmp_path: Path) -> None:
    outcome = _run("extract", str(SEEDS), env_timeout := "--max-reasks", "99")
    assert outcome.exit_code == EXIT_USAGE
    assert env_timeout in outcome.output
    outcome = _run("extract", str(SEEDS), EVENTX_API_KEY="k", EVENTX_TIMEOUT="soon")
    assert outcome.exit_code == EXIT_USAGE
    assert "EVENTX_TIMEOUT=soon: timeout must be a number" in outcome.output


def test_replay_and_record_exclude_each_other(tmp_path: Path) -> None:
    outcome = _run("extract", str(SEEDS), "--replay", "a", "--record", "b")
    assert outcome.exit_code == EXIT_USAGE
    assert "cannot be used together" in outcome.output


def test_replay_from_a_missing_directory_is_a_clear_error() -> None:
    outcome = _run("extract", str(SEEDS), "--replay", "nowhere")
    assert outcome.exit_code == EXIT_USAGE
    assert "no cassette directory at nowhere" in outcome.output


def test_replay_with_a_changed_prompt_is_refused(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(SEED_CASSETTES, cassettes)
    info = json.loads((cassettes / "recording.json").read_text())
    (cassettes / "recording.json").write_text(json.dumps({**info, "prompt_hash": "0" * 16}))
    outcome = _run("extract", str(SEEDS), "--replay", str(cassettes))
    assert outcome.exit_code == EXIT_USAGE
    assert "re-record" in outcome.output


def test_a_bad_article_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SEEDS / "002_2306dc31ba5326a4.txt", inputs)
    (inputs / "empty.txt").write_text("  \n")
    (inputs / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x00\x00\x00")
    output = tmp_path / "out.jsonl"
    outcome = _run("extract", str(inputs), "--replay", str(SEED_CASSETTES), "-o", str(output))
    assert outcome.exit_code == EXIT_FAILED_ARTICLES
    results = {
        json.loads(line)["article_id"]: json.loads(line) for line in output.read_text().splitlines()
    }
    assert results["002_2306dc31ba5326a4"]["error"] is None
    assert results["empty"]["error"]["category"] == "input"
    assert "is empty" in results["empty"]["error"]["message"]
    assert "contains NUL bytes" in results["binary"]["error"]["message"]
    assert "FAILED (input)" in outcome.output


def test_limit_stops_early(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    outcome = _run(
        "extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "--limit", "2", "-o", str(output)
    )
    assert outcome.exit_code == 0
    assert len(output.read_text().splitlines()) == 2


def test_jsonl_input_is_read_line_by_line(tmp_path: Path) -> None:
    text = (SEEDS / "003_690e5601b5893f43.txt").read_text(encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "003_690e5601b5893f43", "text": text}) + "\n" + "{not json}\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    outcome = _run("extract", str(feed), "--replay", str(SEED_CASSETTES), "-o", str(output))
    assert outcome.exit_code == EXIT_FAILED_ARTICLES
    ok, bad = sorted(
        (json.loads(line) for line in output.read_text().splitlines()),
        key=lambda result: result["error"] is not None,
    )
    assert ok["error"] is None
    assert len(ok["extraction"]["claims"]) == 6
    assert "feed.jsonl:2: not valid JSON" in bad["error"]["message"]


def test_schema_files_are_in_sync_with_the_models() -> None:
    outcome = _run("schema", "--out", str(ROOT / "schemas"), "--check")
    assert outcome.exit_code == 0, outcome.output


def test_schema_check_names_stale_files(tmp_path: Path) -> None:
    assert _run("schema", "--out", str(tmp_path)).exit_code == 0
    (tmp_path / "Claim.schema.json").write_text("{}")
    outcome = _run("schema", "--out", str(tmp_path), "--check")
    assert outcome.exit_code == 1
    assert "Claim.schema.json" in outcome.output


def test_record_then_replay_round_trips_through_real_http(server, tmp_path: Path) -> None:
    key = "sk-planted-secret-0123456789"
    cassettes = tmp_path / "mine"
    recorded = tmp_path / "recorded.jsonl"
    outcome = _run(
        "extract", str(SEEDS / "002_2306dc31ba5326a4.txt"), "--record", str(cassettes),
        "--base-url", server.base_url, "-o", str(recorded), EVENTX_API_KEY=key,
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert len(server.requests) == 1
    for path in cassettes.iterdir():
        assert key not in path.read_text(encoding="utf-8")
    replayed = tmp_path / "replayed.jsonl"
    outcome = _run(
        "extract",
        str(SEEDS / "002_2306dc31ba5326a4.txt"),
        "--replay",
        str(cassettes),
        "-o",
        str(replayed),
    )
    assert outcome.exit_code == 0, outcome.output
    assert (
        json.loads(recorded.read_text())["extraction"]
        == json.loads(replayed.read_text())["extraction"]
    )
    assert len(server.requests) == 1  # the replay sent nothing


def test_replay_uses_the_recorded_model_even_when_another_is_configured(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    outcome = _run(
        "extract", str(SEEDS / "001_3d83a5f5de596b38.txt"), "--replay", str(SEED_CASSETTES),
        "-o", str(output), EVENTX_MODEL="some-other-model", OPENAI_BASE_URL="http://10.0.0.1/v1",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(output.read_text())["error"] is None


def test_the_summary_shows_brackets_in_messages_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = RunSummary(articles=1, failed=1)
    summary.failures["input"] = 1
    summary.first_errors["input"] = 'a.pdf: pip install "eventx[documents]" to read PDF files'
    print_summary(summary)
    assert 'pip install "eventx[documents]"' in capsys.readouterr().err
