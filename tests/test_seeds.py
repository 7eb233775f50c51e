"""The main job on the seeds, replayed offline: what the README's first command runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rapidfuzz import fuzz

from eventx.analysis.fuse import fuse
from eventx.cli import main
from eventx.extraction.grounding import DEFAULT_FUZZY_THRESHOLD, _fold
from eventx.models import SCHEMA_VERSION, ExtractionResult
from eventx.normalize.countries import is_iso3
from tests.conftest import SEED_CASSETTES, SEEDS

# Where each seed's article body starts and ends; everything outside is page junk.
BODY = {
    "000_6d0568a9ee7619e7": ("NHK: Das japanische", "Источник:"),
    "001_3d83a5f5de596b38": ("In Japan wurde erklärt", "Lesen Sie auch"),
    "002_2306dc31ba5326a4": ("Die Verteidigungsminister", "[Anzeige_2]"),
    "003_690e5601b5893f43": ("Japan und die NATO vereinbaren", "Quelle:"),
    "004_8ea74db2dcd210fd": ("Японія не планує", "Фото: Getty Images"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ExtractionResult]:
    output = tmp_path_factory.mktemp("run") / "events.jsonl"
    runner = CliRunner()
    outcome = runner.invoke(
        main, ["extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "-o", str(output)]
    )
    assert outcome.exit_code == 0, outcome.output
    lines = output.read_text(encoding="utf-8").splitlines()
    parsed = [ExtractionResult.model_validate_json(line) for line in lines]
    return {result.article_id: result for result in parsed}


def _text(article_id: str) -> str:
    return (SEEDS / f"{article_id}.txt").read_bytes().decode("utf-8")


def _evidence(result: ExtractionResult) -> list[Any]:
    assert result.extraction is not None
    found = []
    for record in [*result.extraction.events, *result.extraction.claims]:
        found.extend(record.evidence)
        if getattr(record, "quote", None) is not None:
            found.append(record.quote)
    return found


def test_every_seed_gives_one_successful_result(results) -> None:
    assert sorted(results) == sorted(BODY)
    for result in results.values():
        assert result.ok, result.error
        assert result.warnings == []
        assert result.usage.prompt_tokens > 0
        assert result.usage.requests == 1


def test_every_offset_slices_the_article_back_to_its_quote(results) -> None:
    kinds = set()
    for article_id, result in results.items():
        text = _text(article_id)
        for evidence in _evidence(result):
            kinds.add(evidence.match)
            found = text[evidence.start : evidence.end]
            if evidence.match == "exact":
                assert found == evidence.quote
            elif evidence.match == "normalized":
                assert _fold(found) == _fold(evidence.quote)
            else:
                assert fuzz.ratio(_fold(found), _fold(evidence.quote)) >= DEFAULT_FUZZY_THRESHOLD
    assert kinds == {"exact", "normalized", "fuzzy"}  # every grounding tier is exercised


def test_no_record_comes_from_the_page_junk(results) -> None:
    for article_id, result in results.items():
        text = _text(article_id)
        start, end = (text.index(marker) for marker in BODY[article_id])
        for evidence in _evidence(result):
            assert start <= evidence.start, (article_id, evidence.quote)
            assert evidence.end <= end, (article_id, evidence.quote)


def _events(results, article_id: str, kind: str) -> list[Any]:
    return [e for e in results[article_id].extraction.events if e.type == kind]


def test_the_seeds_meetings_aid_and_protest_are_all_there(results) -> None:
    counts = {
        article_id: sorted(event.type for event in result.extraction.events)
        for article_id, result in results.items()
    }
    assert counts["000_6d0568a9ee7619e7"].count("aid_delivery") == 2
    assert counts["000_6d0568a9ee7619e7"].count("diplomatic_protest") == 1
    assert sum(kinds.count("meeting") for kinds in counts.values()) == 7
    protest = _events(results, "000_6d0568a9ee7619e7", "diplomatic_protest")[0]
    assert protest.form == "summoned_ambassador"
    assert (protest.protester.country, protest.target.country) == ("RUS", "JPN")
    trigger = next(
        e for e in results["000_6d0568a9ee7619e7"].extraction.events if e.id == protest.trigger
    )
    assert trigger.type == "aid_delivery"


def test_dates_are_resolved_only_as_far_as_the_text_allows(results) -> None:
    # seed 003 states its own date (10/04/2025), so "9. April" gets its year from it
    assert results["003_690e5601b5893f43"].extraction.dateline.value == "2025-04-10"
    ishiba_rutte = _events(results, "003_690e5601b5893f43", "meeting")[0]
    assert (ishiba_rutte.date.value, ishiba_rutte.date.rule) == ("2025-04-09", "publication_year")
    # seed 002 states no date of its own: "12. September" keeps an unknown year
    kihara = _events(results, "002_2306dc31ba5326a4", "meeting")[0]
    assert (kihara.date.value, kihara.date.precision) == ("--09-12", "day")
    assert kihara.date.rule == "year_unknown"
    summit = _events(results, "004_8ea74db2dcd210fd", "meeting")[0]
    assert (summit.date.text, summit.date.value, summit.date.precision) == (
        "в липні",
        "--07",
        "month",
    )


def _actors(event: Any) -> list[Any]:
    names = ("participants", "host", "donor", "recipient", "protester", "target")
    found = []
    for name in names:
        value = getattr(event, name, None)
        found.extend(value if isinstance(value, list) else [value] if value else [])
    return found


def test_every_state_and_government_actor_has_an_iso3_code(results) -> None:
    actors = [
        actor
        for result in results.values()
        for record in [*result.extraction.events, *result.extraction.claims]
        for actor in (_actors(record) if hasattr(record, "type") else [record.speaker])
    ]
    governing = [actor for actor in actors if actor.kind in ("state", "government")]
    assert len(governing) >= 10
    for actor in governing:
        assert is_iso3(actor.country), actor
    states = {actor.name: actor.canonical_name for actor in actors if actor.kind == "state"}
    assert states == {"Tokio": "Japan", "Japan": "Japan"}
    kyiv = _events(results, "000_6d0568a9ee7619e7", "aid_delivery")[1].recipient
    assert (kyiv.name, kyiv.country, kyiv.canonical_name) == ("Kiew", "UKR", "Ukraine")
    igos = {actor.canonical_name for actor in actors if actor.kind == "igo"}
    assert "NATO" in igos
    assert all(actor.country is None for actor in actors if actor.kind == "igo")


def test_every_event_and_claim_has_its_codes(results) -> None:
    codes = {}
    for article_id, result in results.items():
        for event in result.extraction.events:
            assert event.plover is not None, (article_id, event.id)
            assert event.cameo, (article_id, event.id)
            codes[article_id[:3], event.id] = (event.plover.event, event.plover.mode, event.cameo)
        for claim in result.extraction.claims:
            assert claim.cameo is not None, claim.id
            assert claim.cameo.startswith("01"), claim.id
    assert codes["000", "e2"] == ("AGREE", None, "0332")  # pledged vehicles
    assert codes["000", "e3"] == ("AID", "military", "072")
    assert codes["000", "e4"] == ("ACCUSE", "disapprove", "114")  # ambassador summoned
    assert codes["003", "e1"] == ("CONSULT", "visit", "043")  # Ishiba hosts Rutte
    assert codes["004", "e1"] == ("AGREE", None, "036")  # announced summit attendance
    kishida = next(c for c in results["004_8ea74db2dcd210fd"].extraction.claims if c.id == "c1")
    assert kishida.cameo == "016"  # a denial


def test_the_delivery_reported_in_german_and_ukrainian_is_fused_into_one_event(results) -> None:
    fused = fuse(results.values())
    assert sum(len(event.sources) for event in fused) == 11
    shared = [event for event in fused if len({s.article_id for s in event.sources}) > 1]
    assert len(shared) == 1
    assert [(s.article_id[:3], s.record_id) for s in shared[0].sources] == [
        ("000", "e3"),
        ("004", "e3"),
    ]
    assert shared[0].parties == ["JPN", "UKR"]
    assert "quantity 100 ≈ 100 (equipment/vehicles)" in shared[0].sources[1].joined_by


def test_the_ukrainian_aid_delivery_lists_its_items(results) -> None:
    aid = _events(results, "004_8ea74db2dcd210fd", "aid_delivery")[0]
    assert (aid.donor.country, aid.recipient.country) == ("JPN", "UKR")
    assert sorted(item.quantity for item in aid.items) == [100, 30000]


def test_claims_name_their_speakers(results) -> None:
    claims = {a: r.extraction.claims for a, r in results.items()}
    assert sum(len(c) for c in claims.values()) == 22
    speakers = {claim.speaker.canonical_name for c in claims.values() for claim in c}
    assert {"Fumio Kishida", "Shigeru Ishiba", "Mark Rutte", "Minoru Kihara"} <= speakers
    kishida = next(c for c in claims["004_8ea74db2dcd210fd"] if c.claim_type == "denial")
    assert kishida.reported_via == "Reuters"


def test_the_summary_reports_counts_and_tokens(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main,
        ["extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "-o", str(tmp_path / "o.jsonl")],
    )
    assert re.search(r"articles +5 \(5 ok, 0 failed\)", outcome.output)
    assert re.search(r"claims +22\b", outcome.output)
    assert re.search(r"tokens +\d+ prompt \+ \d+ completion", outcome.output)
    first = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert first["schema_version"] == SCHEMA_VERSION


def test_the_seeds_are_cleaned_and_their_languages_detected(results) -> None:
    for article_id, result in results.items():
        assert result.language == ("uk" if article_id.startswith("004") else "de")
        assert result.language_source == "detected"
        assert result.chunks == 1
        assert result.cleaning.original_chars == len(_text(article_id))
        assert 0 < result.cleaning.cleaned_chars < result.cleaning.original_chars
