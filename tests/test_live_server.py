"""Faults a cassette cannot hold (resets, timeouts) and concurrency, against the live
scripted server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from eventx import Extractor, TransientFaultError
from eventx.models import Article
from tests.cassettes.scenarios import SCENARIOS, TEMPLATE_ANSWER
from tests.conftest import SEEDS
from tests.llm_server import server as llm

ARTICLE = SCENARIOS["server_error"].article


def test_connection_reset_is_retried(server, sleeps, extractors) -> None:
    server.script(llm.reset(), llm.answer(SCENARIOS["server_error"].steps[1].payload))
    result = extractors(server).extract(ARTICLE)
    assert result.ok
    assert result.usage.requests == 2
    assert len(sleeps.waits) == 1


def test_timeouts_are_retried_then_reported(server, sleeps, extractors) -> None:
    server.script(*[llm.slow(1.5)] * 3)
    with pytest.raises(TransientFaultError) as caught:
        extractors(server, timeout=1, max_transient_retries=2).extract(ARTICLE)
    assert "timed out" in str(caught.value)
    assert caught.value.usage.requests == 3


def test_retry_after_is_capped_by_max_retry_wait(server, sleeps, extractors) -> None:
    server.script(llm.http_error(429, "3600"))
    payload = SCENARIOS["server_error"].steps[1].payload
    server.script(llm.answer(payload))
    result = extractors(server, max_retry_wait=2).extract(ARTICLE)
    assert result.ok
    assert sleeps.waits == [2]


def test_the_article_reaches_the_server_unaltered(server, sleeps, extractors) -> None:
    article = SCENARIOS["template_syntax"].article
    server.script(llm.answer(TEMPLATE_ANSWER))
    result = extractors(server).extract(article)
    assert result.ok
    assert server.requests[0]["messages"][-1]["content"].endswith(article.text)


def test_concurrent_async_extractions_keep_their_grounding_apart(
    server, sleeps, extractors
) -> None:
    articles = [
        Article(id=path.stem, text=path.read_bytes().decode("utf-8"))
        for path in sorted(SEEDS.glob("*.txt"))
    ]
    extractor = extractors(server)

    async def run_all():
        async with extractor:
            return await asyncio.gather(*(extractor.aextract(article) for article in articles))

    results = asyncio.run(run_all())
    for article, result in zip(articles, results, strict=True):
        assert result.ok
        assert result.article_id == article.id
        for event in result.extraction.events:
            for evidence in event.evidence:
                assert evidence.start is not None
                assert article.text[evidence.start : evidence.end]


def test_a_user_supplied_client_is_used_with_its_retries_off(server, sleeps, extractors) -> None:
    import openai

    server.script(llm.http_error(503), llm.http_error(503))
    with (
        openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=5) as client,
        pytest.raises(TransientFaultError),
    ):
        Extractor(client=client, sleep=sleeps, max_transient_retries=1).extract(ARTICLE)
    assert len(server.requests) == 2  # 1 + 1 eventx retry, none from the SDK


def test_values_the_model_sends_for_read_only_fields_are_discarded(
    server, sleeps, extractors
) -> None:
    payload = SCENARIOS["server_error"].steps[1].payload
    forged = {
        **payload,
        "events": [
            {**payload["events"][0], "cameo": "999", "plover": {"event": "FORGED"},
             "date": {"text": "Am 3. März", "value": "1999-01-01", "rule": "explicit"},
             "evidence": [{"quote": "Am 3. März trafen sich", "start": 0, "end": 5}]}
        ],
    }  # fmt: skip
    server.script(llm.answer(forged))
    event = extractors(server).extract(ARTICLE).extraction.events[0]
    # eventx's own values replace the forged ones
    assert (event.cameo, event.plover.event) == ("043", "CONSULT")
    assert (event.date.value, event.date.rule) == ("--03-03", "year_unknown")
    evidence = event.evidence[0]
    assert ARTICLE.text[evidence.start : evidence.end] == "Am 3. März trafen sich"
    assert evidence.start > 5


def test_a_misconfigured_client_is_a_configuration_error_not_a_model_failure(sleeps) -> None:
    import openai

    from eventx import ConfigurationError

    client = openai.AsyncOpenAI(base_url="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(ConfigurationError, match=r"needs a sync openai\.OpenAI client"):
        Extractor(client=client, sleep=sleeps).extract(ARTICLE)
    asyncio.run(client.close())
