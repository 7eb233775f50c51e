"""The Batch API: request files, submit / status / collect replayed from cassettes, the CLI."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from click.testing import CliRunner

from eventx import Article, BatchApiError, Extractor, Settings, iter_articles
from eventx.batchapi.client import BatchClient, batch_url
from eventx.batchapi.files import (
    BatchLimits,
    BatchRequest,
    batch_priced,
    custom_id_for,
    line_failure,
    split_request_files,
)
from eventx.batchapi.jobs import collect_batches, submit_batches
from eventx.batchapi.ledger import BatchLedger
from eventx.cli import main as cli_main
from eventx.extraction.pricing import estimate_cost
from eventx.extraction.replay import CassetteDeck
from eventx.models import ErrorCategory, ExtractionResult, Usage
from eventx.runs.store import RunStore, cache_key, default_db_path
from tests.cassettes.batch_scenario import (
    BATCH_CASSETTES,
    EXPIRED_SEED,
    FAILED_SEED,
    INVALID_SEED,
    batch_steps,
    batch_vcr,
    run_phase,
    seed_articles,
)
from tests.cassettes.record import RECORDING_KEY
from tests.conftest import REPLAY_URL, SEED_CASSETTES, SEEDS
from tests.llm_server.server import ScriptedLLM, _multipart, http_error, reset

REPLAY = {"base_url": REPLAY_URL, "api_key": "replay"}
OK_SEEDS = ("000_6d0568a9ee7619e7", "003_690e5601b5893f43")


def _replay(phase: str, store: RunStore, output: Path) -> Any:
    """Run one phase against its cassette; every recorded exchange must be used."""
    with batch_vcr("replay").use_cassette(f"{phase}.yaml") as cassette:
        outcome = asyncio.run(run_phase(phase, store, output, **REPLAY))
    assert cassette.all_played, f"{phase}: recorded exchanges were not replayed"
    return outcome


@contextmanager
def _no_network(directory: Path) -> Iterator[Any]:
    """Any HTTP request inside the block fails (an empty cassette in record mode none)."""
    with vcr.VCR(record_mode="none").use_cassette(str(directory / "none.yaml")) as cassette:
        yield cassette


def _recorded(phase: str) -> list[dict[str, Any]]:
    text = (BATCH_CASSETTES / f"{phase}.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["interactions"])


def _uploaded_files() -> list[list[dict[str, Any]]]:
    """The request files uploaded in the submit cassette, as parsed JSONL lines."""
    files = []
    for interaction in _recorded("submit"):
        request = interaction["request"]
        if request["uri"].endswith("/files"):
            content_type = request["headers"]["content-type"][0]
            body = request["body"].encode() if isinstance(request["body"], str) else request["body"]
            data = _multipart(content_type, body)["file"]
            files.append([json.loads(line) for line in data.splitlines()])
    return files


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(tmp_path / "run.eventx.db") as run_store:
        yield run_store


@pytest.fixture
def collected(store: RunStore, tmp_path: Path) -> dict[str, ExtractionResult]:
    """Submit, status and collect replayed; the collected results by article id."""
    output = tmp_path / "out.jsonl"
    for phase in ("submit", "status"):
        _replay(phase, store, output)
    report = _replay("collect", store, output)
    return {result.article_id: result for result in report.results}


# -- request files ------------------------------------------------------------------------


def _requests(sizes: list[int]) -> list[BatchRequest]:
    return [
        BatchRequest(f"id-{n}", Article(id=f"a{n}", text="x"), b"x" * (size - 1) + b"\n")
        for n, size in enumerate(sizes)
    ]


def test_request_files_split_at_the_request_limit() -> None:
    groups = list(split_request_files(_requests([10] * 7), BatchLimits(max_requests=3)))
    assert [len(group) for group in groups] == [3, 3, 1]
    assert [r.custom_id for group in groups for r in group] == [f"id-{n}" for n in range(7)]


def test_request_files_stay_under_the_size_limit() -> None:
    limits = BatchLimits(max_requests=100, max_bytes=100)
    groups = list(split_request_files(_requests([40, 40, 30, 50, 60, 100]), limits))
    sizes = [[len(r.line) for r in group] for group in groups]
    assert sizes == [[40, 40], [30, 50], [60], [100]]
    assert all(sum(group) <= 100 for group in sizes)


def test_custom_ids_are_stable_per_article_and_settings() -> None:
    article = Article(id="a" * 500, text="Text.")
    mini = Extractor(api_key="k", model="gpt-4.1-mini").fingerprint
    nano = Extractor(api_key="k", model="gpt-4.1-nano").fingerprint
    first = custom_id_for(article, cache_key(mini, article))
    assert first == custom_id_for(article, cache_key(mini, article.model_copy()))
    assert first != custom_id_for(article, cache_key(nano, article))
    other = article.model_copy(update={"id": "b"})
    assert first != custom_id_for(other, cache_key(mini, other))
    assert first.startswith("eventx-")
    assert len(first) == 39


def test_failed_lines_are_classified() -> None:
    expired = {"custom_id": "c", "response": None,
               "error": {"code": "batch_expired", "message": "window expired"}}  # fmt: skip
    server = {"custom_id": "c", "error": None,
              "response": {"status_code": 500, "body": {"error": {"message": "boom"}}}}  # fmt: skip
    bad = {"custom_id": "c", "error": None,
           "response": {"status_code": 400, "body": {"error": {"message": "nope"}}}}  # fmt: skip
    assert line_failure("b1", expired)[0] is ErrorCategory.TRANSIENT
    assert "batch_expired" in line_failure("b1", expired)[1]
    assert line_failure("b1", server) == (
        ErrorCategory.TRANSIENT,
        "HTTP 500 in batch b1: boom; submit again with --retry-failed",
    )
    assert line_failure("b1", bad) == (ErrorCategory.API, "HTTP 400 in batch b1: nope")


def test_batch_answers_are_priced_at_half_the_live_rate() -> None:
    usage = Usage(requests=1, prompt_tokens=1_500_000, completion_tokens=500_000)
    body = {"usage": {"prompt_tokens": 1_000_000, "completion_tokens": 250_000}}
    result = ExtractionResult(
        article_id="a", model="gpt-4.1-mini", mode="tools", prompt_hash="h", usage=usage
    )
    priced = batch_priced(result, body, "gpt-4.1-mini", None)
    # batch part: 1M x 0.40 + 0.25M x 1.60 = 0.80 at half price; the live re-ask at full price
    assert priced.usage.cost_usd == pytest.approx(0.40 + (0.5 * 0.40 + 0.25 * 1.60))
    assert priced.usage.requests == 2


# -- submit, status, collect (replayed) --------------------------------------------------------


def test_submit_uploads_the_live_request_bodies_with_stable_ids(
    store: RunStore, tmp_path: Path
) -> None:
    report = _replay("submit", store, tmp_path / "out.jsonl")
    assert (report.submitted, len(report.batches)) == (5, 2)
    extractor = Extractor(**REPLAY)
    fingerprint = extractor.fingerprint
    articles = seed_articles()
    files = _uploaded_files()
    assert [len(lines) for lines in files] == [3, 2]
    for line, article in zip([line for lines in files for line in lines], articles, strict=True):
        assert line["custom_id"] == custom_id_for(article, cache_key(fingerprint, article))
        assert (line["method"], line["url"]) == ("POST", "/v1/chat/completions")
        assert [line["body"]] == extractor.request_bodies(article)
    ledger = BatchLedger(store)
    assert [batch.total for batch in ledger.batches()] == [3, 2]
    assert [batch.id for batch in ledger.batches()] == report.batches


def test_batch_cassettes_hold_no_key() -> None:
    for phase in ("submit", "status", "collect"):
        text = (BATCH_CASSETTES / f"{phase}.yaml").read_text(encoding="utf-8")
        assert RECORDING_KEY not in text
        assert "authorization" not in text.lower()


def test_status_without_a_run_store_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_main, ["batch", "status", "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "no run store at" in result.output


def test_submit_again_sends_nothing_for_articles_waiting_in_a_batch(
    store: RunStore, tmp_path: Path
) -> None:
    _replay("submit", store, tmp_path / "out.jsonl")
    with _no_network(tmp_path):
        report = asyncio.run(run_phase("submit", store, tmp_path / "out.jsonl", **REPLAY))
    assert (report.submitted, report.already_pending, report.batches) == (0, 5, [])


def test_status_shows_each_batch_with_its_counts(store: RunStore, tmp_path: Path) -> None:
    _replay("submit", store, tmp_path / "out.jsonl")
    infos = _replay("status", store, tmp_path / "out.jsonl")
    assert [(info.status, info.completed, info.failed, info.total) for info in infos] == [
        ("in_progress", 0, 0, 3),
        ("in_progress", 0, 0, 2),
    ]
    assert not any(info.collected for info in infos)


def test_collect_joins_answers_by_id_and_grounds_them_like_live_ones(
    collected: dict[str, ExtractionResult], replay_extractor: Any
) -> None:
    assert sorted(collected) == sorted(article.id for article in seed_articles())
    deck = CassetteDeck(SEED_CASSETTES, "replay")
    live = replay_extractor()
    for article in seed_articles():
        if article.id not in OK_SEEDS:
            continue
        result = collected[article.id]
        assert result.ok
        assert (result.attempts, result.usage.requests) == (1, 1)
        with deck.cassette(article.id):
            assert result.extraction == live.extract(article).extraction
        evidence = [e for event in result.extraction.events for e in event.evidence]  # type: ignore[union-attr]
        assert evidence
        for item in evidence:
            assert item.start is not None
            assert item.end is not None
            assert article.text[item.start : item.end]


def test_an_invalid_batch_answer_is_reasked_live_and_fixed(
    collected: dict[str, ExtractionResult],
) -> None:
    result = collected[INVALID_SEED]
    assert result.ok
    assert (result.attempts, result.usage.requests) == (2, 2)
    reasks = [i for i in _recorded("collect") if i["request"]["uri"].endswith("/chat/completions")]
    assert len(reasks) == 1
    messages = json.loads(reasks[0]["request"]["body"])["messages"]
    assert "Validation Error found" in messages[-1]["content"]
    assert "happened" in messages[-2]["tool_calls"][0]["function"]["arguments"]


def test_failed_and_expired_lines_become_error_results(
    collected: dict[str, ExtractionResult],
) -> None:
    failed, expired = collected[FAILED_SEED].error, collected[EXPIRED_SEED].error
    assert failed is not None
    assert expired is not None
    assert failed.category is ErrorCategory.TRANSIENT
    assert "HTTP 500" in failed.message
    assert expired.category is ErrorCategory.TRANSIENT
    assert "batch_expired" in expired.message
    assert collected[EXPIRED_SEED].usage.requests == 0


def test_batch_tokens_cost_half(collected: dict[str, ExtractionResult]) -> None:
    result = collected[OK_SEEDS[0]]
    live_price = estimate_cost(result.model, result.usage)
    assert live_price is not None
    assert result.usage.cost_usd == pytest.approx(live_price / 2, abs=2e-6)


def test_a_second_collect_sends_nothing_and_writes_nothing(
    collected: dict[str, ExtractionResult], store: RunStore, tmp_path: Path
) -> None:
    output = tmp_path / "out.jsonl"
    written = output.read_bytes()
    assert len(written.splitlines()) == 5
    with _no_network(tmp_path) as cassette:
        report = asyncio.run(run_phase("collect", store, output, **REPLAY))
    assert cassette.play_count == 0
    assert (report.results, report.lines_written) == ([], 0)
    assert output.read_bytes() == written
    assert all(batch.collected for batch in BatchLedger(store).batches())
    with _no_network(tmp_path):
        again = asyncio.run(run_phase("submit", store, output, **REPLAY))
    assert (again.submitted, again.already_finished) == (0, 5)


# -- against the scripted server --------------------------------------------------------------


@pytest.fixture
def batch_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


async def _cycle(server: ScriptedLLM, store: RunStore, output: Path, **options: Any) -> Any:
    endpoint = {"base_url": server.base_url, "api_key": "k"}
    async with Extractor(**endpoint) as extractor, BatchClient(**endpoint) as client:
        submitted = await submit_batches(seed_articles(), extractor, store, client, **options)
        await collect_batches(store, extractor, client, output)  # polls: in progress
        return submitted, await collect_batches(store, extractor, client, output)


def test_failed_requests_are_submitted_again_with_retry_failed(
    batch_server: ScriptedLLM, store: RunStore, tmp_path: Path
) -> None:
    batch_server.script_batch(*batch_steps(batch_server))
    output = tmp_path / "out.jsonl"
    asyncio.run(_cycle(batch_server, store, output))
    submitted, report = asyncio.run(_cycle(batch_server, store, output, retry_failed=True))
    assert submitted.submitted == 2
    assert sorted(r.article_id for r in report.results) == [FAILED_SEED, EXPIRED_SEED]
    assert all(result.ok for result in report.results)
    lines = [ExtractionResult.model_validate_json(line) for line in output.read_text().splitlines()]
    # every article once, in commit order: the retried ones replace their failures
    assert [line.article_id for line in lines[3:]] == [r.article_id for r in report.results]
    assert sorted(line.article_id for line in lines) == sorted(a.id for a in seed_articles())
    assert all(line.ok for line in lines)
    assert store.counts().done == 5


def test_request_files_on_the_wire_respect_the_size_limit(
    batch_server: ScriptedLLM, store: RunStore, tmp_path: Path
) -> None:
    limits = BatchLimits(max_bytes=60_000)
    submitted, _ = asyncio.run(_cycle(batch_server, store, tmp_path / "o.jsonl", limits=limits))
    sizes = [len(upload) for upload in batch_server.batch.uploads]
    assert len(sizes) == len(submitted.batches) > 1
    assert max(sizes) <= 60_000
    assert sum(len(upload.splitlines()) for upload in batch_server.batch.uploads) == 5


def test_a_request_larger_than_a_file_is_recorded_as_failed(
    batch_server: ScriptedLLM, store: RunStore, tmp_path: Path
) -> None:
    limits = BatchLimits(max_bytes=5_000)
    submitted, _ = asyncio.run(_cycle(batch_server, store, tmp_path / "o.jsonl", limits=limits))
    assert (submitted.submitted, submitted.rejected) == (0, 5)
    assert batch_server.batch.uploads == []
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    errors = [ExtractionResult.model_validate_json(line).error for line in lines]
    assert all(e is not None and e.category is ErrorCategory.INPUT for e in errors)
    assert "more than a request file may hold" in str(errors[0])


def test_batch_calls_retry_transient_faults_and_honour_retry_after(
    batch_server: ScriptedLLM, sleeps: Any
) -> None:
    batch_server.batch.faults.extend([http_error(429, "3"), http_error(503), reset()])

    async def upload() -> str:
        async with BatchClient(
            base_url=batch_server.base_url, api_key="k", sleep=sleeps.async_sleep
        ) as client:
            return await client.upload("x.jsonl", b'{"custom_id": "a"}\n')

    file_id = asyncio.run(upload())
    assert batch_server.batch.files[file_id] == b'{"custom_id": "a"}\n'
    assert len(sleeps.waits) == 3
    assert sleeps.waits[0] == 3.0


def test_a_rejected_batch_call_raises_a_clear_error(batch_server: ScriptedLLM) -> None:
    batch_server.batch.faults.append(http_error(401))

    async def poll() -> None:
        async with BatchClient(base_url=batch_server.base_url, api_key="k") as client:
            await client.retrieve("batch_x")

    with pytest.raises(BatchApiError, match=r"could not poll batch batch_x: HTTP 401"):
        asyncio.run(poll())
    assert not batch_server.batch.faults


def test_the_store_lives_beside_the_output_and_batch_columns_migrate(tmp_path: Path) -> None:
    assert default_db_path(Path("runs/events.jsonl")) == Path("runs/events.jsonl.eventx.db")
    with RunStore(tmp_path / "a.db") as run_store:
        assert run_store.applied_migrations()[-1] == "0005_batch_progress"
        columns = {row[1] for row in run_store.connection.execute("PRAGMA table_info(batches)")}
        assert {"completed", "failed", "collected_at"} <= columns


def test_azure_endpoints_get_the_unversioned_batch_url() -> None:
    azure = Settings(base_url="https://res.openai.azure.com/openai/v1/")
    assert batch_url(azure) == "/chat/completions"
    assert batch_url(Settings()) == "/v1/chat/completions"
    assert batch_url(Settings(base_url="https://gateway.example/v1")) == "/v1/chat/completions"


def test_unreadable_inputs_are_recorded_once(
    batch_server: ScriptedLLM, store: RunStore, tmp_path: Path
) -> None:
    (tmp_path / "empty.jsonl").write_text('{"id": "broken"}\n', encoding="utf-8")

    async def submit() -> Any:
        endpoint = {"base_url": batch_server.base_url, "api_key": "k"}
        async with Extractor(**endpoint) as extractor, BatchClient(**endpoint) as client:
            articles = iter_articles([tmp_path / "empty.jsonl"])
            return await submit_batches(articles, extractor, store, client)

    first, second = asyncio.run(submit()), asyncio.run(submit())
    assert (first.rejected, second.rejected, second.already_finished) == (1, 0, 1)
    assert batch_server.batch.uploads == []
    (result,) = store.finished_results()
    assert result.error is not None
    assert result.error.category is ErrorCategory.INPUT


# -- the command line ---------------------------------------------------------------------------


def test_cli_submit_status_collect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTX_API_KEY", "replay")
    output = tmp_path / "events.jsonl"
    runner = CliRunner()
    replay = batch_vcr("replay")

    def run(*args: str) -> Any:
        return runner.invoke(cli_main, list(args), catch_exceptions=False)

    with replay.use_cassette("submit.yaml"):
        submit = run("batch", "submit", str(SEEDS), "-o", str(output),
                     "--base-url", REPLAY_URL, "--max-requests-per-file", "3")  # fmt: skip
    assert submit.exit_code == 0, submit.output
    assert "submitted: 5 requests in 2 batches" in submit.output
    assert Path(str(output) + ".eventx.db").is_file()
    with replay.use_cassette("status.yaml"):
        status = run("batch", "status", "-o", str(output), "--base-url", REPLAY_URL)
    assert status.exit_code == 0, status.output
    assert status.stdout.count("in_progress\t0\t0\t") == 2
    with replay.use_cassette("collect.yaml"):
        collect = run("batch", "collect", "-o", str(output), "--base-url", REPLAY_URL)
    assert collect.exit_code == 1  # two articles failed; their error records are written
    assert re.search(r"articles +5 \(3 ok, 2 failed\)", collect.output)
    assert len(output.read_text().splitlines()) == 5
    with _no_network(tmp_path):
        again = run("batch", "collect", "-o", str(output), "--base-url", REPLAY_URL)
    assert again.exit_code == 0, again.output
    assert "written:   0 lines" in again.output
