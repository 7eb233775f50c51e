"""The batch runner and run store: concurrency, resume, cache, duplicates, crash recovery."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventx import ConfigurationError, Extractor
from eventx.errors import InputError
from eventx.models import Article, ExtractionResult
from eventx.runs.estimate import estimate_run
from eventx.runs.output import sync_output
from eventx.runs.runner import Runner
from eventx.runs.store import MIGRATIONS, Admission, RunStore, content_hash
from tests.llm_server.server import ScriptedLLM, first_sentence_meeting, http_error


def synthetic(n: int, start: int = 0) -> list[Article]:
    """Short articles whose first sentence the synthetic server quotes as evidence."""
    return [
        Article(
            id=f"a{i:05d}",
            text=f"Kyiv, 14 May. Minister {i} met Mihai Popșoi in Kyiv on talks round {i}.\n"
            "The talks were about energy.",
        )
        for i in range(start, start + n)
    ]


@pytest.fixture
def synthetic_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM({}, fallback=first_sentence_meeting) as server:
        yield server


def _runner(server: ScriptedLLM, store: RunStore, sink: list[ExtractionResult], **kw: object):
    extractor = Extractor(base_url=server.base_url, max_transient_retries=2)
    return Runner(extractor, store, sink=sink.append, **kw)  # type: ignore[arg-type]


def test_a_concurrent_run_finishes_every_article_once(synthetic_server: ScriptedLLM) -> None:
    results: list[ExtractionResult] = []
    with RunStore(None) as store:
        summary = _runner(synthetic_server, store, results, concurrency=8).run(synthetic(40))
        assert store.counts().done == 40
    assert sorted(r.article_id for r in results) == [f"a{i:05d}" for i in range(40)]
    assert summary.articles == 40
    assert summary.failed == 0
    assert summary.requests == 40
    for result in results:
        (evidence,) = result.extraction.events[0].evidence  # type: ignore[union-attr]
        assert evidence.start == 0
        assert evidence.match == "exact"


def test_a_second_run_skips_finished_articles_without_a_request(
    synthetic_server: ScriptedLLM, tmp_path: Path
) -> None:
    first: list[ExtractionResult] = []
    with RunStore(tmp_path / "run.db") as store:
        _runner(synthetic_server, store, first).run(synthetic(10))
    synthetic_server.requests.clear()
    again: list[ExtractionResult] = []
    with RunStore(tmp_path / "run.db") as store:
        summary = _runner(synthetic_server, store, again).run(synthetic(12))
    assert len(synthetic_server.requests) == 2
    assert sorted(r.article_id for r in again) == ["a00010", "a00011"]
    assert summary.skipped == 10


def test_the_same_text_under_another_id_is_answered_from_the_cache(
    synthetic_server: ScriptedLLM,
) -> None:
    article = synthetic(1)[0]
    copy = article.model_copy(update={"id": "syndicated"})
    results: list[ExtractionResult] = []
    with RunStore(None) as store:
        summary = _runner(synthetic_server, store, results, concurrency=1).run([article, copy])
    assert len(synthetic_server.requests) == 1
    cached = next(r for r in results if r.article_id == "syndicated")
    assert cached.cached
    assert cached.extraction == results[0].extraction
    assert summary.cached == 1
    assert summary.requests == 1


def test_a_duplicate_id_becomes_an_error_record(synthetic_server: ScriptedLLM) -> None:
    article = synthetic(1)[0]
    other = article.model_copy(update={"text": "Another text entirely.", "source": "b.jsonl:3"})
    results: list[ExtractionResult] = []
    with RunStore(None) as store:
        _runner(synthetic_server, store, results).run([article, other])
    errors = [r for r in results if r.error is not None]
    assert len(results) == 2
    assert len(errors) == 1
    assert errors[0].article_id == "a00000 (duplicate from b.jsonl:3)"
    assert "duplicate article id 'a00000'" in errors[0].error.message  # type: ignore[union-attr]


def test_input_errors_are_recorded_once_across_runs(
    synthetic_server: ScriptedLLM, tmp_path: Path
) -> None:
    bad = InputError("feed.jsonl:2: not valid JSON", article_id="feed.jsonl:2")
    for expected in (1, 0):
        results: list[ExtractionResult] = []
        with RunStore(tmp_path / "run.db") as store:
            _runner(synthetic_server, store, results).run([bad])
        assert len(results) == expected


def test_failed_articles_are_kept_and_retried_on_request(
    synthetic_server: ScriptedLLM, tmp_path: Path
) -> None:
    synthetic_server.script(*[http_error(401)])
    results: list[ExtractionResult] = []
    with RunStore(tmp_path / "run.db") as store:
        _runner(synthetic_server, store, results, concurrency=1).run(synthetic(2))
        assert store.counts().failed == 1
    failed = next(r.article_id for r in results if r.error)
    with RunStore(tmp_path / "run.db") as store:
        assert store.retry_failed() == 1
        retried: list[ExtractionResult] = []
        _runner(synthetic_server, store, retried).run(synthetic(2))
        assert [r.article_id for r in retried] == [failed]
        assert store.counts().done == 2


def test_a_store_made_with_another_model_is_refused(tmp_path: Path) -> None:
    with RunStore(tmp_path / "run.db") as store:
        store.bind({"model": "a", "prompt_hash": "p"})
        with pytest.raises(ConfigurationError, match=r"model 'a' → 'b'.*--restart"):
            store.bind({"model": "b", "prompt_hash": "p"})


def test_admission_follows_status_pass_and_content(tmp_path: Path) -> None:
    with RunStore(tmp_path / "run.db") as store:
        store.begin_pass()
        assert store.admit("x", "h1") is Admission.WORK
        assert store.admit("x", "h1") is Admission.DUPLICATE
        store.begin_pass()
        assert store.admit("x", "h1") is Admission.WORK  # still pending: interrupted
        result = ExtractionResult(article_id="x", model="m", mode="tools", prompt_hash="p")
        store.finish(result, "h1")
        store.begin_pass()
        assert store.admit("x", "h1") is Admission.FINISHED
        store.begin_pass()
        assert store.admit("x", "h2") is Admission.WORK  # the text changed


def test_migrations_are_named_applied_once_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with sqlite3.connect(path) as db:  # a store from before the latest migration
        db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        name, sql = MIGRATIONS[0]
        db.executescript(sql)
        db.execute("INSERT INTO migrations VALUES (?, 'then')", (name,))
    db.close()
    with RunStore(path) as store:
        assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    with RunStore(path) as store:  # reopening applies nothing twice
        assert store.applied_migrations() == [name for name, _ in MIGRATIONS]


def _finished_store(tmp_path: Path, n: int) -> RunStore:
    store = RunStore(tmp_path / "run.db")
    store.begin_pass()
    for article in synthetic(n):
        result = ExtractionResult(article_id=article.id, model="m", mode="tools", prompt_hash="p")
        store.finish(result, content_hash(article))
    return store


def test_sync_output_cuts_a_torn_line_and_appends_what_is_missing(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    with _finished_store(tmp_path, 4) as store:
        lines = [r.model_dump_json() for r in store.finished_results()]
        output.write_text(lines[0] + "\n" + lines[1][:25], encoding="utf-8")
        assert sync_output(store, output) == 3
        assert output.read_text(encoding="utf-8").splitlines() == lines
        assert sync_output(store, output) == 0


def test_sync_output_rewrites_an_output_that_does_not_match(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text(json.dumps({"article_id": "stranger"}) + "\n", encoding="utf-8")
    with _finished_store(tmp_path, 3) as store:
        assert sync_output(store, output) == 3
        ids = [json.loads(line)["article_id"] for line in output.read_text().splitlines()]
    assert ids == ["a00000", "a00001", "a00002"]


def test_a_429_slows_the_pace_and_is_retried(synthetic_server: ScriptedLLM) -> None:
    synthetic_server.script(http_error(429, retry_after="0.01"))
    results: list[ExtractionResult] = []
    with RunStore(None) as store:
        runner = _runner(synthetic_server, store, results, concurrency=2)
        runner.run(synthetic(4))
    assert all(r.ok for r in results)
    assert len(synthetic_server.requests) == 5
    assert runner.extractor.limiter.stats.throttled == 1
    assert runner.extractor.limiter.pace_factor < 1.0


def test_a_dry_run_counts_without_sending(synthetic_server: ScriptedLLM) -> None:
    articles: list[Article | InputError] = [*synthetic(3), InputError("bad", article_id="x")]
    with Extractor(base_url=synthetic_server.base_url, model="gpt-4.1-mini") as extractor:
        estimate = estimate_run(articles, extractor)
    assert synthetic_server.requests == []
    assert (estimate.articles, estimate.unreadable, estimate.to_send) == (4, 1, 3)
    assert 3 * 3000 < estimate.prompt_tokens < 3 * 5000  # instructions + schema + article
    assert estimate.output_tokens == 3 * 2000
    assert estimate.cost_usd == 0.0  # a server on this machine costs nothing per token
    with Extractor(api_key="sk-test", model="gpt-4.1-mini") as extractor:
        at_openai = estimate_run(articles, extractor)
    assert at_openai.cost_usd is not None
    assert at_openai.cost_usd > 0


def test_a_table_output_is_written_from_the_store_and_survives_a_resume(tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from eventx.cli import main
    from tests.conftest import SEED_CASSETTES, SEEDS

    output = tmp_path / "records.parquet"
    command = ["extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "-o", str(output)]
    first = CliRunner().invoke(main, [*command, "--limit", "2"])
    assert first.exit_code == 0, first.output
    assert pq.read_table(output).num_rows > 0
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0, again.output
    kinds = pq.read_table(output).column("record_kind").to_pylist()
    assert (kinds.count("event"), kinds.count("claim")) == (11, 22)
    assert not (tmp_path / "records.jsonl").exists()


def test_a_configuration_error_mid_run_stops_the_run_instead_of_hanging(
    synthetic_server: ScriptedLLM,
) -> None:
    extractor = Extractor(base_url=synthetic_server.base_url)

    async def misconfigured(*args: object, **kwargs: object) -> ExtractionResult:
        raise ConfigurationError("the endpoint went away")

    extractor.aextract = misconfigured  # type: ignore[method-assign]
    with RunStore(None) as store:
        runner = Runner(extractor, store, concurrency=1)
        with pytest.raises(ConfigurationError, match="the endpoint went away"):
            runner.run(synthetic(50))
