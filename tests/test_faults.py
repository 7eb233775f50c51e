"""Every fault path, replayed from cassettes recorded against the scripted server.

Usage is checked against the cassette itself: the tokens eventx reports must be the
sum of the usage in every recorded response, failed attempts included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import eventx.errors as errors
from eventx.extraction.replay import CassetteDeck, cassette_name
from eventx.models import ErrorCategory, ExtractionResult
from tests.cassettes.scenarios import SCENARIOS, Scenario


def _interactions(scenario: Scenario) -> list[dict[str, Any]]:
    path = scenario.directory / cassette_name(scenario.article.id)
    return yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]


def _recorded_usage(scenario: Scenario) -> tuple[int, int, int]:
    """(requests, prompt tokens, completion tokens) over every recorded response."""
    interactions = _interactions(scenario)
    prompt = completion = 0
    for interaction in interactions:
        usage = json.loads(interaction["response"]["body"]["string"]).get("usage") or {}
        prompt += usage.get("prompt_tokens", 0)
        completion += usage.get("completion_tokens", 0)
    return len(interactions), prompt, completion


def _replay(scenario_name: str, build: Any, **settings: Any) -> ExtractionResult:
    scenario = SCENARIOS[scenario_name]
    extractor = build(**{**scenario.settings, **settings})
    with CassetteDeck(scenario.directory, "replay").cassette(scenario.article.id):
        return extractor.extract(scenario.article, on_error="record")


def _assert_usage_matches_cassette(result: ExtractionResult, scenario_name: str) -> None:
    requests, prompt, completion = _recorded_usage(SCENARIOS[scenario_name])
    assert result.usage.requests == requests
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (prompt, completion)
    assert prompt > 0


def test_rate_limit_is_retried_after_the_servers_retry_after(replay_extractor, sleeps) -> None:
    result = _replay("rate_limited", replay_extractor)
    assert result.ok
    assert sleeps.waits == [7.0]
    assert result.attempts == 1
    _assert_usage_matches_cassette(result, "rate_limited")
    assert result.usage.requests == 2


def test_server_error_is_retried_with_backoff(replay_extractor, sleeps) -> None:
    result = _replay("server_error", replay_extractor)
    assert result.ok
    assert len(sleeps.waits) == 1
    assert 0 <= sleeps.waits[0] <= 0.5
    _assert_usage_matches_cassette(result, "server_error")


@pytest.mark.parametrize("scenario", ["malformed_then_fixed", "schema_invalid_then_fixed"])
def test_invalid_output_is_reasked_with_the_error(replay_extractor, sleeps, scenario) -> None:
    result = _replay(scenario, replay_extractor)
    assert result.ok
    assert result.attempts == 2
    assert sleeps.waits == []  # a re-ask is not a transient fault: no backoff
    _assert_usage_matches_cassette(result, scenario)
    reask = json.loads(_interactions(SCENARIOS[scenario])[1]["request"]["body"])
    assert "Validation Error found" in reask["messages"][-1]["content"]


def test_ungrounded_quote_is_reasked_then_grounded(replay_extractor) -> None:
    result = _replay("ungrounded_then_fixed", replay_extractor)
    assert result.ok
    assert result.warnings == []
    assert result.attempts == 2
    _assert_usage_matches_cassette(result, "ungrounded_then_fixed")
    reask = json.loads(_interactions(SCENARIOS["ungrounded_then_fixed"])[1]["request"]["body"])
    feedback = reask["messages"][-1]["content"]
    assert "not in the article text" in feedback
    assert "Deutschland wird Polen im Sommer weitere Panzer liefern" in feedback


def test_quote_that_stays_ungrounded_drops_its_record_with_a_warning(replay_extractor) -> None:
    result = _replay("ungrounded_stays", replay_extractor)
    assert result.ok
    assert result.attempts == 3
    assert result.extraction is not None
    assert [claim.id for claim in result.extraction.claims] == ["c1"]
    assert [(w.code, w.record_id) for w in result.warnings] == [("ungrounded_record_dropped", "c2")]
    _assert_usage_matches_cassette(result, "ungrounded_stays")


def test_keep_policy_keeps_the_ungrounded_record_flagged(replay_extractor) -> None:
    result = _replay("ungrounded_stays", replay_extractor, grounding="keep")
    assert result.extraction is not None
    kept = result.extraction.claims[1]
    assert kept.id == "c2"
    assert kept.evidence[0].start is None
    assert kept.evidence[0].match is None
    assert [w.code for w in result.warnings] == ["ungrounded_evidence_kept"]


def test_fail_policy_fails_the_article(replay_extractor) -> None:
    scenario = SCENARIOS["ungrounded_stays"]
    extractor = replay_extractor(grounding="fail")
    with (
        CassetteDeck(scenario.directory, "replay").cassette(scenario.article.id),
        pytest.raises(errors.UngroundedEvidenceError) as caught,
    ):
        extractor.extract(scenario.article)
    assert caught.value.attempts == 3
    assert caught.value.article_id == "fault_article"


def test_exhausted_reasks_raise_a_typed_error_with_usage_summed(replay_extractor) -> None:
    scenario = SCENARIOS["invalid_exhausted"]
    with (
        CassetteDeck(scenario.directory, "replay").cassette(scenario.article.id),
        pytest.raises(errors.InvalidOutputError) as caught,
    ):
        replay_extractor().extract(scenario.article)
    error = caught.value
    assert error.category is ErrorCategory.INVALID_OUTPUT
    assert error.attempts == 3
    assert "fault_article" in str(error)
    assert "attempts: 3" in str(error)
    requests, prompt, completion = _recorded_usage(scenario)
    assert (error.usage.requests, error.usage.prompt_tokens) == (requests, prompt)
    assert error.usage.completion_tokens == completion


def test_exhausted_reasks_are_recorded_when_asked(replay_extractor) -> None:
    result = _replay("invalid_exhausted", replay_extractor)
    assert result.error is not None
    assert (result.error.category, result.error.attempts) == (ErrorCategory.INVALID_OUTPUT, 3)
    assert result.extraction is None
    _assert_usage_matches_cassette(result, "invalid_exhausted")


def test_transient_faults_stop_after_the_retry_budget(replay_extractor, sleeps) -> None:
    result = _replay("transient_exhausted", replay_extractor)
    assert result.error is not None
    assert result.error.category is ErrorCategory.TRANSIENT
    assert "HTTP 503" in result.error.message
    assert result.usage.requests == 6  # 1 + max_transient_retries
    assert len(sleeps.waits) == 5
    assert result.attempts == 0  # no answer ever arrived


@pytest.mark.parametrize(
    ("scenario", "category"),
    [
        ("refusal", ErrorCategory.REFUSED),
        ("unauthorized", ErrorCategory.API),
    ],
)
def test_non_retryable_failures_fail_at_once(replay_extractor, sleeps, scenario, category) -> None:
    result = _replay(scenario, replay_extractor)
    assert result.error is not None
    assert result.error.category is category
    assert result.usage.requests == 1
    assert sleeps.waits == []


def test_an_answer_cut_off_is_asked_again_in_halves(replay_extractor, sleeps) -> None:
    result = _replay("truncated_then_split", replay_extractor)
    assert result.ok
    assert result.usage.requests == 3  # the cut-off answer, then one per half
    assert result.extraction is not None
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert len(result.extraction.claims) == 1
    assert [w.code for w in result.warnings if w.code == "answer_split"] == ["answer_split"]
    assert sleeps.waits == []


def test_answers_cut_off_at_every_depth_fail_the_article(replay_extractor, sleeps) -> None:
    result = _replay("truncated", replay_extractor)
    assert result.error is not None
    assert result.error.category is ErrorCategory.TRUNCATED
    assert result.usage.requests == len(SCENARIOS["truncated"].steps)  # halved twice: 1 + 2 + 4
    assert sleeps.waits == []


@pytest.mark.parametrize("scenario", ["mode_json_schema", "mode_md_json"])
def test_other_modes_extract_the_same_records(replay_extractor, scenario) -> None:
    reference = _replay("server_error", replay_extractor)
    result = _replay(scenario, replay_extractor)
    assert result.mode == SCENARIOS[scenario].settings["mode"]
    assert result.extraction == reference.extraction


def test_template_syntax_reaches_the_model_byte_for_byte(replay_extractor) -> None:
    scenario = SCENARIOS["template_syntax"]
    result = _replay("template_syntax", replay_extractor)
    assert result.ok
    sent = json.loads(_interactions(scenario)[0]["request"]["body"])
    user = sent["messages"][-1]["content"]
    assert user.endswith(scenario.article.text)
    assert "{{ user.name }}" in user
    assert "{% if admin %}" in user
    assert "\n   \n" in user


def test_a_request_that_was_not_recorded_fails_as_a_replay_error(replay_extractor) -> None:
    scenario = SCENARIOS["server_error"]
    extractor = replay_extractor(model="another-model")
    with CassetteDeck(scenario.directory, "replay").cassette(scenario.article.id):
        result = extractor.extract(scenario.article, on_error="record")
    assert result.error is not None
    assert result.error.category is ErrorCategory.REPLAY
    assert result.usage.requests == 1  # a replay miss is not retried
