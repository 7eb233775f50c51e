"""The real-model tier: the whole pipeline against a real llama.cpp server and a real model.

SmolLM2-135M-Instruct (98 MB, Apache-2.0) runs through the local backend
(``--local``): llama-cpp-python's OpenAI-compatible server on loopback, real HTTP, real
grammar-constrained decoding. These tests check behaviour, not quality: answers parse,
usage is the server's, invented quotes are re-asked and then dropped, a run resumes, and
no server process outlives a run however it ends.

The model file is ``$EVENTX_TEST_MODEL`` or ``~/.cache/eventx-models/smollm2-135m.gguf``
(``tests/models/fetch.py`` puts it there). Without it or without llama-cpp-python the
tier is skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import eventx
from eventx.cli.common import EXIT_INTERRUPTED
from tests.models.fetch import SMOLLM2_PATH

pytestmark = pytest.mark.realmodel

ARTICLES = {
    "meeting": (
        "Berlin, 3 March 2025. Foreign Minister Annalena Baerbock met her Polish "
        'counterpart Radosław Sikorski in Warsaw on Monday. "We stand together with '
        'Ukraine," Baerbock said after the talks. Sikorski said Poland would send more '
        "air defence systems to Kyiv."
    ),
    "aid": (
        "Tokyo. Japan delivered 100 trucks and 50 generators to Ukraine last week, the "
        "Japanese defence ministry said on Tuesday. The ministry said further deliveries "
        "would follow in the summer."
    ),
    "aid_de": (  # the 135M model answers with a quote the article does not hold: a re-ask
        "Berlin. Deutschland wird der Ukraine weitere Luftabwehrsysteme liefern, kündigte "
        "Verteidigungsminister Boris Pistorius am Dienstag an. Die Lieferung soll im Sommer "
        "erfolgen."
    ),
}
SETTINGS = {
    "max_reasks": 1,
    "max_output_tokens": 300,
    "max_chunk_tokens": 400,
    "schema_profile": "compact",
    "examples": "builtin",  # a 135M model copies the examples' quotes: re-asks follow
}


def _model() -> Path:
    path = Path(os.environ.get("EVENTX_TEST_MODEL") or SMOLLM2_PATH)
    missing = []
    if not path.is_file():
        missing.append(f"no model at {path} (python -m tests.models.fetch)")
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        missing.append('llama-cpp-python is not installed (pip install "eventx[local]")')
    if missing and os.environ.get("CI"):
        pytest.fail("the real-model tier cannot run in CI: " + "; ".join(missing))
    if missing:
        pytest.skip("; ".join(missing))
    return path


@pytest.fixture(scope="module")
def model() -> Path:
    return _model()


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def _servers(model: Path) -> list[int]:
    """Process ids of llama.cpp servers running ``model``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"llama_cpp.server" in command and str(model).encode() in command:
            found.append(int(entry.name))
    return found


def _gone(model: Path, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while _servers(model) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _servers(model)


@dataclass
class RecordedRun:
    """One recorded run over the articles, shared by the checks below."""

    summary: eventx.RunSummary
    results: dict[str, eventx.ExtractionResult]
    output: Path
    cassettes: Path

    def exchanges(self, article_id: str) -> list[dict[str, object]]:
        """The chat completions recorded for one article (nothing else is in a cassette)."""
        text = (self.cassettes / f"{article_id}.yaml").read_text(encoding="utf-8")
        exchanges = list(yaml.safe_load(text)["interactions"])
        assert all(e["request"]["uri"].endswith("/chat/completions") for e in exchanges)
        return exchanges


@pytest.fixture(scope="module")
def recorded(model: Path, tmp_path_factory: pytest.TempPathFactory) -> RecordedRun:
    root = tmp_path_factory.mktemp("real-run")
    folder = root / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    output, cassettes = root / "events.jsonl", root / "cassettes"
    summary = eventx.run([folder], output, record=cassettes, local=str(model), **SETTINGS)
    results = {r.article_id: r for r in eventx.load_results(output)}
    return RecordedRun(summary, results, output, cassettes)


def test_grammar_constrained_answers_parse(recorded: RecordedRun) -> None:
    assert set(recorded.results) == set(ARTICLES)
    for result in recorded.results.values():
        assert result.error is None or result.error.category.value != "invalid_output", result
        assert result.mode == "json"
        assert result.usage.cost_usd == 0.0  # a model on this machine costs nothing


def test_usage_is_the_servers_own(recorded: RecordedRun) -> None:
    for article_id, result in recorded.results.items():
        answers = [
            json.loads(exchange["response"]["body"]["string"])  # type: ignore[index]
            for exchange in recorded.exchanges(article_id)
        ]
        prompt = sum(answer["usage"]["prompt_tokens"] for answer in answers)
        completion = sum(answer["usage"]["completion_tokens"] for answer in answers)
        assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (prompt, completion)
        assert result.usage.requests == len(answers)


def test_invented_quotes_are_reasked_then_dropped(recorded: RecordedRun) -> None:
    reasked = 0
    for article_id, result in recorded.results.items():
        exchanges = recorded.exchanges(article_id)
        bodies = [json.loads(e["request"]["body"]) for e in exchanges]  # type: ignore[index]
        reasks = [body for body in bodies if _answered_before(body)]  # halves are asks anew
        dropped = [w for w in result.warnings if w.code.startswith("ungrounded_")]
        for body in reasks:
            assert "not in the article text" in json.dumps(body["messages"], ensure_ascii=False)
        reasked += bool(reasks)
        if dropped:  # only the last allowed answer drops what it cannot ground
            assert len(reasks) >= SETTINGS["max_reasks"]
        for record in result.extraction.records() if result.extraction else []:
            for evidence in record.all_evidence():
                text = ARTICLES[article_id]
                assert evidence.start is not None
                assert evidence.end is not None
                assert text[evidence.start : evidence.end].strip()
    assert reasked >= 1, "the model quoted every sentence verbatim: nothing was re-asked"


def _answered_before(body: dict[str, Any]) -> bool:
    """A re-ask carries the model's earlier answer."""
    return any(message["role"] == "assistant" for message in body["messages"])


def test_a_second_run_resumes_without_sending(recorded: RecordedRun, model: Path) -> None:
    folder = recorded.output.parent / "articles"
    summary = eventx.run([folder], recorded.output, local=str(model), **SETTINGS)
    assert (summary.articles, summary.skipped, summary.requests) == (0, len(ARTICLES), 0)


def test_no_server_outlives_a_run(recorded: RecordedRun, model: Path) -> None:
    assert _gone(model, seconds=5)


def _cli(feed: Path, output: Path, model: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
        "--local", str(model), "--max-reasks", "1", "--max-output-tokens", "300",
    ]  # fmt: skip
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def _wait_for_server(model: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not _servers(model) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert _servers(model), "the local server did not start"


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_stops_its_server(
    sent: signal.Signals, model: Path, feed: Path, tmp_path: Path
) -> None:
    process = _cli(feed, tmp_path / "events.jsonl", model)
    _wait_for_server(model, process)
    os.kill(process.pid, sent)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert _gone(model)


def test_a_killed_run_leaves_no_server(model: Path, feed: Path, tmp_path: Path) -> None:
    process = _cli(feed, tmp_path / "events.jsonl", model)
    _wait_for_server(model, process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert _gone(model), "the server outlived the process that started it"


def test_an_exception_stops_the_server(model: Path) -> None:
    with eventx.Extractor(local=str(model), max_output_tokens=50) as extractor:
        extractor.extract("Tokyo. Japan's minister met Ukraine's minister.", on_error="record")
        assert _servers(model)
        with pytest.raises(ZeroDivisionError), extractor:
            raise ZeroDivisionError
        assert _gone(model)
