"""The per-article budget: no retry path sends more requests or spends more tokens
than allowed, against the live scripted server."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from eventx import ArticleBudget, BudgetExceededError, Extractor
from eventx.cli.console import print_summary
from eventx.errors import ConfigurationError
from eventx.extraction.extractor import estimate_request_tokens
from eventx.models import Article, ErrorCategory, ExtractionResult
from eventx.runs.summary import RunSummary
from eventx.settings import Settings
from tests.cassettes.scenarios import SCENARIOS
from tests.llm_server import server as llm

ARTICLE = SCENARIOS["server_error"].article
GOOD = SCENARIOS["server_error"].steps[1].payload


def _ungrounded(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with its first event's evidence replaced by a quote not in the article."""
    event = {**payload["events"][0], "evidence": [{"quote": "Nothing like this was ever said."}]}
    return {**payload, "events": [event, *payload["events"][1:]]}


def _served_usage(server: llm.ScriptedLLM, script: list[llm.Step]) -> tuple[int, int]:
    """(prompt, completion) tokens the server reported over the requests it received,
    recomputed with the server's own answer function from the steps it played."""
    prompt = completion = 0
    for number, body in enumerate(server.requests):
        step = script[number] if number < len(script) else llm.answer()
        if step.kind in ("status", "reset"):
            continue
        usage = llm.completion(step, body, server)["usage"]
        prompt += usage["prompt_tokens"]
        completion += usage["completion_tokens"]
    return prompt, completion


def test_a_transient_storm_stops_at_the_request_budget(server, sleeps, extractors) -> None:
    server.script(*[llm.http_error(503, "5")] * 10)
    extractor = extractors(server, max_transient_retries=20, max_requests_per_article=4)
    with pytest.raises(BudgetExceededError) as caught:
        extractor.extract(ARTICLE)
    error = caught.value
    assert len(server.requests) == 4
    assert error.category is ErrorCategory.BUDGET
    assert (error.budget, error.limit, error.needed) == ("requests", 4, 5)
    assert error.usage.requests == 4
    assert error.attempts == 0
    assert "4 of 4 requests" in str(error)
    # Retry-After honoured between the four requests, not before the one the budget refused
    assert sleeps.waits == [5.0, 5.0, 5.0, 0.0]


def test_repeated_invalid_answers_stop_at_the_request_budget(server, extractors) -> None:
    server.script(*[llm.malformed(GOOD)] * 8)
    extractor = extractors(server, max_reasks=10, max_requests_per_article=3)
    result = extractor.extract(ARTICLE, on_error="record")
    assert result.error is not None
    assert result.error.category is ErrorCategory.BUDGET
    assert len(server.requests) == 3
    assert (result.usage.requests, result.attempts, result.error.attempts) == (3, 3, 3)
    assert result.budget == ArticleBudget(max_requests=3)


def test_the_answer_the_budget_leaves_no_reask_for_is_grounded_as_the_last(
    server, extractors
) -> None:
    """Ungrounded quotes on the last answer the budget allows: the grounding policy
    decides, as on the last re-ask, instead of a re-ask the budget would refuse."""
    server.script(llm.answer(_ungrounded(GOOD)), llm.answer(_ungrounded(GOOD)))
    result = extractors(server, max_requests_per_article=2).extract(ARTICLE)
    assert result.ok
    assert len(server.requests) == result.usage.requests == result.attempts == 2
    assert [w.code for w in result.warnings] == ["ungrounded_record_dropped"]


def test_a_token_budget_below_one_request_sends_nothing(server, extractors) -> None:
    extractor = extractors(server, max_tokens_per_article=1_000)
    result = extractor.extract(ARTICLE, on_error="record")
    assert server.requests == []
    assert result.error is not None
    assert result.error.category is ErrorCategory.BUDGET
    assert "token budget" in result.error.message
    assert "> 1,000" in result.error.message
    assert result.usage.requests == 0
    assert result.budget == ArticleBudget(max_requests=18, max_tokens=1_000)


def test_the_token_budget_counts_tokens_used_and_the_next_request(server, extractors) -> None:
    """Room for the first request but not for the re-ask after it: one request goes out."""
    body = Extractor(base_url=server.base_url, api_key="k").request_bodies(ARTICLE)[0]
    first = estimate_request_tokens(body)
    server.script(llm.malformed(GOOD))
    extractor = extractors(server, max_tokens_per_article=first + 100)
    with pytest.raises(BudgetExceededError) as caught:
        extractor.extract(ARTICLE)
    error = caught.value
    assert len(server.requests) == 1
    prompt, completion = _served_usage(server, [llm.malformed(GOOD)])
    assert (error.usage.prompt_tokens, error.usage.completion_tokens) == (prompt, completion)
    assert error.budget == "tokens"
    assert error.needed > error.limit == first + 100
    assert error.needed - error.usage.total_tokens > first  # the re-ask carries the answer


def test_chunks_share_one_budget(server, extractors) -> None:
    paragraph = "Die Außenminister trafen sich am Montag in Warschau zu Gesprächen. " * 12
    article = Article(id="long", text="\n\n".join([paragraph] * 6))
    unbounded = extractors(server, max_chunk_tokens=150, chunk_overlap_tokens=0)
    chunks = unbounded.extract(article).chunks
    assert chunks >= 3
    server.requests.clear()
    # every chunk is answered at once, but the budget runs out before the last chunk
    extractor = extractors(
        server, max_chunk_tokens=150, chunk_overlap_tokens=0, max_requests_per_article=chunks - 1
    )
    result = extractor.extract(article, on_error="record")
    assert result.error is not None
    assert result.error.category is ErrorCategory.BUDGET
    assert len(server.requests) == chunks - 1
    assert result.usage.requests == chunks - 1


def test_the_default_budget_is_the_most_the_retry_policies_can_take(server, extractors) -> None:
    paragraph = "Die Außenminister trafen sich am Montag in Warschau zu Gesprächen. " * 12
    article = Article(id="long", text="\n\n".join([paragraph] * 6))
    settings = {"max_chunk_tokens": 150, "max_reasks": 1, "max_transient_retries": 2}
    result = extractors(server, **settings).extract(article)
    assert result.budget == ArticleBudget(max_requests=3 * 2 * result.chunks)
    # the longest path of the first chunk: every answer invalid, every request retried
    storm = [llm.http_error(500), llm.http_error(429, "0"), llm.malformed(GOOD)] * 2
    server.requests.clear()
    server.script(*storm)
    stormed = extractors(server, **settings).extract(article)
    first_chunk = {request["messages"][1]["content"] for request in server.requests[:6]}
    assert len(first_chunk) == 1  # all six went to the first chunk, within its budget
    # the first chunk's answer stayed invalid; the article goes on with its other chunks
    assert [w.code for w in stormed.warnings][:1] == ["ask_failed"]
    assert stormed.usage.requests == 6 + (result.chunks - 1)


def test_a_generous_budget_changes_nothing(server, extractors) -> None:
    script = [llm.http_error(503), llm.malformed(GOOD), llm.answer(_ungrounded(GOOD))]
    server.script(*script, llm.answer(GOOD))
    without = extractors(server).extract(ARTICLE)
    sent_without = len(server.requests)
    server.requests.clear()
    server.script(*script, llm.answer(GOOD))
    generous = extractors(
        server, max_requests_per_article=1_000, max_tokens_per_article=10_000_000
    ).extract(ARTICLE)
    assert len(server.requests) == sent_without == 4
    assert generous.ok
    assert generous.extraction == without.extraction
    assert generous.usage == without.usage
    assert generous.attempts == without.attempts == 3
    assert generous.budget == ArticleBudget(max_requests=1_000, max_tokens=10_000_000)


def test_a_budget_stop_is_not_retried_in_async_runs(server, sleeps, extractors) -> None:
    server.script(*[llm.reset()] * 6)
    extractor = extractors(server, max_requests_per_article=2)

    async def run() -> ExtractionResult:
        async with extractor:
            return await extractor.aextract(ARTICLE, on_error="record")

    result = asyncio.run(run())
    assert result.error is not None
    assert result.error.category is ErrorCategory.BUDGET
    assert len(server.requests) == result.usage.requests == 2


_FAULTS = (
    lambda: llm.http_error(429, "0"),
    lambda: llm.http_error(500),
    lambda: llm.http_error(503),
    llm.reset,
    lambda: llm.malformed(GOOD),
    lambda: llm.truncated(GOOD),
    lambda: llm.answer(_ungrounded(GOOD)),
    lambda: llm.answer(GOOD),
)


@pytest.mark.parametrize("seed", range(30))
def test_random_fault_scripts_never_cross_the_budget(server, extractors, seed) -> None:
    chance = random.Random(seed)
    script = [chance.choice(_FAULTS)() for _ in range(chance.randint(1, 14))]
    settings = {
        "max_requests_per_article": chance.randint(1, 8),
        "max_transient_retries": chance.randint(0, 4),
        "max_reasks": chance.randint(0, 3),
    }
    server.script(*script)
    result = extractors(server, **settings).extract(ARTICLE, on_error="record")
    received = len(server.requests)
    assert received <= settings["max_requests_per_article"]
    assert result.usage.requests == received
    prompt, completion = _served_usage(server, script)
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (prompt, completion)
    assert result.budget == ArticleBudget(max_requests=settings["max_requests_per_article"])
    if result.error is not None and result.error.category is ErrorCategory.BUDGET:
        assert received == settings["max_requests_per_article"]


def test_budget_settings_come_from_the_environment_and_are_checked() -> None:
    env = {"EVENTX_MAX_REQUESTS_PER_ARTICLE": "7", "EVENTX_MAX_TOKENS_PER_ARTICLE": "50000"}
    settings = Settings.resolve(env=env)
    assert (settings.max_requests_per_article, settings.max_tokens_per_article) == (7, 50_000)
    assert settings.request_budget(chunks=3) == 7
    assert Settings.resolve(env={}).request_budget(chunks=2) == 6 * 3 * 2
    with pytest.raises(ConfigurationError, match="max_requests_per_article must be between"):
        Settings.resolve(env={"EVENTX_MAX_REQUESTS_PER_ARTICLE": "0"})


def test_the_run_summary_shows_budget_stops_and_the_most_any_article_spent(capsys) -> None:
    from eventx.models import ErrorRecord, Usage

    def result(requests: int, tokens: int, error: ErrorCategory | None) -> ExtractionResult:
        return ExtractionResult(
            article_id=f"a{requests}", model="m", mode="tools", prompt_hash="h",
            usage=Usage(requests=requests, prompt_tokens=tokens, completion_tokens=0),
            budget=ArticleBudget(max_requests=4, max_tokens=20_000),
            error=ErrorRecord(category=error, message="stopped") if error else None,
        )  # fmt: skip

    summary = RunSummary()
    summary.add(result(2, 9_000, None))
    summary.add(result(4, 12_345, ErrorCategory.BUDGET))
    assert (summary.most_requests, summary.most_tokens, summary.budget_failures) == (4, 12_345, 1)
    print_summary(summary)
    shown = " ".join(capsys.readouterr().err.split())
    assert "at most 4 requests (budget 4), 12,345 tokens (budget 20,000)" in shown
    assert "1 stopped by the budget" in shown
    assert "budget 1" in shown


def test_the_cli_applies_the_budget(server, tmp_path) -> None:
    from click.testing import CliRunner

    from eventx.cli import main

    (tmp_path / "a.txt").write_text(ARTICLE.text, encoding="utf-8")
    server.script(*[llm.http_error(503)] * 5)
    outcome = CliRunner().invoke(
        main,
        ["extract", str(tmp_path / "a.txt"), "-o", str(tmp_path / "out.jsonl"),
         "--base-url", server.base_url, "--max-requests-per-article", "2",
         "--max-tokens-per-article", "900000"],
    )  # fmt: skip
    assert outcome.exit_code == 1, outcome.output
    line = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert line["error"]["category"] == "budget"
    assert line["budget"] == {"max_requests": 2, "max_tokens": 900_000}
    assert line["usage"]["requests"] == len(server.requests) == 2


def test_a_batch_answer_counts_against_the_budget_of_its_live_reasks(server, extractors) -> None:
    extractor = extractors(server, max_requests_per_article=2)
    body = extractor.request_bodies(ARTICLE)[0]
    invalid = llm.completion(llm.malformed(GOOD), body, server)
    server.script(llm.malformed(GOOD))

    async def collect() -> ExtractionResult:
        async with extractor:
            return await extractor.aextract(ARTICLE, on_error="record", answer_bodies=[invalid])

    result = asyncio.run(collect())
    assert result.error is not None
    assert result.error.category is ErrorCategory.BUDGET
    assert "2 of 2 requests" in result.error.message
    assert len(server.requests) == 1  # the batch answer was the first of the two
    assert result.attempts == 2
    live_prompt, live_completion = _served_usage(server, [llm.malformed(GOOD)])
    batch_usage = invalid["usage"]
    assert result.usage.prompt_tokens == live_prompt + batch_usage["prompt_tokens"]
    assert result.usage.completion_tokens == live_completion + batch_usage["completion_tokens"]
