"""The claim sweep: which sentences are asked about, and what the asks add."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eventx import Article, Settings
from eventx.extraction.requests import RequestPlan
from eventx.extraction.sweep import reports_speech, sweep_parts
from eventx.ingest.prepare import prepare
from eventx.models import ArticleExtraction, Claim
from eventx.settings import SWEEP_ASKS_PER_PART
from tests.cassettes.scenarios import FAULT_ANSWER, SCENARIOS
from tests.llm_server import server as llm

ARTICLE = SCENARIOS["server_error"].article
MEETING = FAULT_ANSWER["events"][0]
CLAIM = FAULT_ANSWER["claims"][0]
SAID = "„Unsere Länder stehen Seite an Seite“, sagte Sikorski nach dem Treffen."
BEFORE = (
    "Die beiden Minister vereinbarten eine engere Abstimmung bei der Unterstützung der Ukraine."
)


@pytest.mark.parametrize(
    ("sentence", "language"),
    [
        ("Die Lage sei ernst, sagte der Minister am Montag in Berlin.", "de"),
        ("Міністр заявив, що Україна отримає нові системи ППО.", "uk"),
        ("По словам Лаврова, переговоры прошли в конструктивном ключе.", "ru"),
        ("The ministry said the incidents endanger civil aviation.", "en"),
        ("Según la cancillería, el encuentro sirvió para fortalecer la relación.", "es"),
        ("De minister zei dat de relatie goed is.", "nl"),
        ("Er nannte es „einen schweren Fehler der Regierung“ und ging.", "de"),
        ("Die Lage sei ernst, sagte der Minister am Montag in Berlin.", None),
    ],
)
def test_sentences_that_report_speech_are_recognised(sentence: str, language: str | None) -> None:
    assert reports_speech(sentence, language)


@pytest.mark.parametrize(
    ("sentence", "language"),
    [
        ("Die Außenminister trafen sich am Dienstag in Tallinn.", "de"),
        ("De Zeitgeist van de tijd veranderde snel in de stad.", "nl"),  # "zei" is a word
        ("Japan liefert der Ukraine 40 Generatoren im Juni.", "de"),
        ("Er besuchte „Kyjiw“ am Morgen.", "de"),  # a short quotation is a name, not speech
    ],
)
def test_sentences_without_a_reporting_cue_are_not(sentence: str, language: str | None) -> None:
    assert not reports_speech(sentence, language)


def _prepared(text: str = ARTICLE.text) -> Any:
    return prepare(Article(id="a1", text=text), Settings(api_key="sk-test"))


def _found(*claims: dict[str, Any]) -> list[ArticleExtraction]:
    """Claims as the asks would have kept them: grounded in the article."""
    grounded = []
    for claim in claims:
        record = Claim.model_validate(copy.deepcopy(claim))
        for item in record.evidence:
            item.start = ARTICLE.text.index(item.quote)
            item.end = item.start + len(item.quote)
        grounded.append(record)
    return [ArticleExtraction(claims=grounded)]


def test_an_uncovered_sentence_reporting_speech_is_asked_with_the_sentence_before() -> None:
    prepared = _prepared()
    excerpts = sweep_parts(prepared, [])
    assert [excerpt.chunk.text for excerpt in excerpts] == [f"{BEFORE}\n\n{SAID}"]
    excerpt = excerpts[0]
    start = excerpt.offsets.to_original(0)
    assert ARTICLE.text[start : start + len(excerpt.chunk.text)] == excerpt.chunk.text
    assert excerpt.label is None  # asked as one excerpt, not as "part n of m"


def test_a_sentence_a_claim_already_quotes_is_not_asked_again() -> None:
    assert sweep_parts(_prepared(), _found(CLAIM)) == []


def test_the_sweep_is_bounded_per_part() -> None:
    said = " ".join(f"Der Minister {n} sagte am Montag etwas Neues." for n in range(10))
    prepared = _prepared(said)
    assert len(prepared.parts) == 1
    assert len(sweep_parts(prepared, [])) == 4


def test_the_sweep_adds_the_claims_the_first_ask_missed(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.records(claims=[CLAIM]))
    result = extractors(server, sweep_claims=True, mode="tools").extract(ARTICLE)
    assert len(server.requests) == 2
    first, sweep = server.requests
    assert sweep["messages"][0] == first["messages"][0]  # one cacheable prefix
    user = sweep["messages"][1]["content"]
    assert user.split("Article text:\n", 1)[1].startswith(f"{BEFORE}\n\n{SAID}\n\nTask: ")
    assert "claims in its last sentence" in user
    schema = sweep["tools"][0]["function"]["parameters"]
    assert list(schema["properties"]) == ["claims"]
    assert [event.type for event in result.extraction.events] == ["meeting"]
    [claim] = result.extraction.claims
    assert claim.id == "c1"
    assert ARTICLE.text[claim.evidence[0].start : claim.evidence[0].end] == claim.evidence[0].quote


def test_no_sweep_ask_when_the_first_ask_found_the_claim(server, extractors) -> None:
    server.script(llm.records([MEETING], [CLAIM]))
    result = extractors(server, sweep_claims=True, mode="tools").extract(ARTICLE)
    assert len(server.requests) == 1
    assert len(result.extraction.claims) == 1


def test_a_failed_sweep_ask_keeps_the_article_and_says_so(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.malformed(), llm.malformed(), llm.malformed())
    result = extractors(server, sweep_claims=True, mode="tools").extract(ARTICLE)
    assert result.error is None
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [w.code for w in result.warnings] == ["ask_failed"]
    assert "claim sweep" in result.warnings[0].message


def test_the_sweep_changes_the_prompt_hash() -> None:
    plain = RequestPlan.of(Settings(api_key="sk-test")).prompt_hash
    swept = RequestPlan.of(Settings(api_key="sk-test", sweep_claims=True)).prompt_hash
    assert plain != swept


def test_the_request_budget_makes_room_for_the_sweep() -> None:
    plain = Settings(api_key="sk-test", max_reasks=0, max_transient_retries=0)
    swept = plain.model_copy(update={"sweep_claims": True})
    assert plain.request_budget(3) == 3
    assert swept.request_budget(3) == 3 * (1 + SWEEP_ASKS_PER_PART)


def test_a_budget_spent_ends_the_sweep_not_the_article(server, extractors) -> None:
    server.script(llm.records([MEETING]))
    extractor = extractors(server, sweep_claims=True, mode="tools", max_requests_per_article=1)
    result = extractor.extract(ARTICLE)
    assert len(server.requests) == 1
    assert result.error is None
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [w.code for w in result.warnings] == ["sweep_stopped"]
    assert "request budget spent" in result.warnings[0].message
