"""Fusion: one record per real-world event across articles; true and false positives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eventx.analysis.export import load_results
from eventx.analysis.fuse import fuse
from eventx.cli import main
from eventx.errors import InputError
from eventx.models import Article, ArticleExtraction, ErrorRecord, ExtractionResult, FusedEvent
from eventx.normalize.records import normalize_extraction

JPN = {"name": "Tokio", "kind": "state", "country": "JPN"}
UKR = {"name": "Kiew", "kind": "government", "country": "UKR"}
POL = {"name": "Polen", "kind": "state", "country": "POL"}
FIN = {"name": "Hakkanen", "kind": "person", "country": "FIN"}
KIHARA = {"name": "Kihara", "kind": "person", "country": "JPN"}
SEP12 = "12 September 2024"


def _aid(
    quantity: float | None = 100,
    *,
    approximate: bool = False,
    category: str = "vehicles",
    donor: dict[str, Any] = JPN,
    status: str = "occurred",
    date: str | None = None,
) -> dict[str, Any]:
    item = {"description": "x", "category": category, "quantity": quantity,
            "approximate": approximate}  # fmt: skip
    return {
        "type": "aid_delivery", "summary": "aid", "status": status, "donor": donor,
        "recipient": UKR, "items": [item], "aid_kind": "military",
        **({"date": {"text": date}} if date else {}),
    }  # fmt: skip


def _meeting(
    date: str | None = None, *, forum: str | None = None, fmt: str = "bilateral", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "meeting", "summary": "meeting", "status": "occurred",
        "participants": extra.pop("participants", [KIHARA, FIN]), "format": fmt, "forum": forum,
        **({"date": {"text": date}} if date else {}), **extra,
    }  # fmt: skip


def _result(article_id: str, *events: dict[str, Any], published: str | None = None) -> Any:
    """An extraction result for one article, normalized as the extractor does it."""
    records = [
        {"id": f"e{n}", "evidence": [{"quote": f"{article_id} {n}"}], **event}
        for n, event in enumerate(events, start=1)
    ]
    extraction = ArticleExtraction.model_validate({"events": records})
    article = Article(id=article_id, text="…", published_at=published)
    normalize_extraction(extraction, article, language="en")
    return ExtractionResult(
        article_id=article_id, extraction=extraction, model="m", mode="tools", prompt_hash="h"
    )


def _groups(fused: list[FusedEvent]) -> list[list[str]]:
    return [[f"{s.article_id}#{s.record_id}" for s in event.sources] for event in fused]


def test_the_same_delivery_in_two_languages_is_one_event() -> None:
    german = _result("de", _aid(100, approximate=True, category="equipment"))
    ukrainian = _result("uk", _aid(100), _aid(30000, category="food"))
    fused = fuse([german, ukrainian])
    assert _groups(fused) == [["de#e1", "uk#e1"], ["uk#e2"]]
    joined = fused[0].sources[1].joined_by
    assert "quantity 100 ≈ 100 (equipment/vehicles)" in joined
    assert {"donor JPN", "recipient UKR"} <= set(joined)
    assert fused[0].sources[0].joined_by == []
    assert fused[0].parties == ["JPN", "UKR"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (_aid(100), _aid(300)),  # different quantities, both exact
        (_aid(100, approximate=True), _aid(150)),  # beyond the tolerance of "about"
        (_aid(100), _aid(100, donor=POL)),  # different donors
        (_aid(100), _aid(100, status="pledged")),  # a pledge is not the delivery
        (_aid(None), _aid(None)),  # nothing anchors them: no quantity, no date
        (_aid(100, date="12 September 2024"), _aid(100, date="3 October 2024")),
        (_aid(100), _meeting("12 September 2024")),  # different types
        (_meeting("12 September 2024"), _meeting("3 October 2024")),  # same people, other day
        (_meeting(), _meeting()),  # same people, nothing else known
        (
            _meeting("12 September 2024", fmt="bilateral"),
            _meeting("12 September 2024", fmt="phone"),
        ),
        (_meeting("12 September 2024"), _meeting("12 September 2024", participants=[KIHARA, POL])),
    ],
)
def test_different_events_stay_apart(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert len(fuse([_result("a", first), _result("b", second)])) == 2


@pytest.mark.parametrize(
    ("first", "second", "finding"),
    [
        (_meeting("12. September"), _meeting("12 September 2024"), "date --09-12 ~ 2024-09-12"),
        (_meeting("September 2024"), _meeting("12 September 2024"), "date 2024-09 ~ 2024-09-12"),
        (_meeting(forum="NATO summit"), _meeting(forum="nato  Summit"), "forum NATO summit"),
        (_aid(100, approximate=True), _aid(90), "quantity 100 ≈ 90 (vehicles/vehicles)"),
        (_aid(None, date="1 May 2025"), _aid(5, date="1 May 2025"), "date 2025-05-01 ~ 2025-05-01"),
    ],
)
def test_compatible_records_are_joined_with_the_rule_that_joined_them(
    first: dict[str, Any], second: dict[str, Any], finding: str
) -> None:
    fused = fuse([_result("a", first), _result("b", second)])
    assert len(fused) == 1
    assert finding in fused[0].sources[1].joined_by


def test_a_participant_subset_joins_only_with_two_shared_parties() -> None:
    three = _meeting("12 September 2024", fmt="multilateral", participants=[KIHARA, FIN, POL])
    two = _meeting("12 September 2024", fmt="multilateral", participants=[KIHARA, FIN])
    assert len(fuse([_result("a", three), _result("b", two)])) == 1
    one = _meeting("12 September 2024", fmt="multilateral", participants=[KIHARA])
    assert len(fuse([_result("a", three), _result("b", one)])) == 2


def test_a_record_must_agree_with_every_member_of_the_group() -> None:
    exact = _result("a", _aid(100))
    about = _result("b", _aid(110, approximate=True))
    other = _result("c", _aid(120))  # ≈ 110, but not 100
    assert _groups(fuse([exact, about, other])) == [["a#e1", "b#e1"], ["c#e1"]]


def test_the_fused_event_takes_the_most_precise_date_and_record() -> None:
    fused = fuse([_result("a", _meeting("12. September")), _result("b", _meeting("12 Sep 2024"))])
    assert fused[0].date is not None
    assert fused[0].date.value == "2024-09-12"
    assert fused[0].event.date.value == "2024-09-12"
    assert fused[0].type == "meeting"


def test_ids_are_stable_and_failed_results_are_skipped() -> None:
    failed = ExtractionResult(
        article_id="x", model="m", mode="tools", prompt_hash="h",
        error=ErrorRecord(category="transient", message="503"),
    )  # fmt: skip
    results = [_result("a", _aid(100)), failed, _result("b", _aid(100))]
    first, second = fuse(results), fuse(results)
    assert [e.id for e in first] == [e.id for e in second]
    assert first[0].id.startswith("fx-")
    assert len(first) == 1


def test_read_results_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = _result("a", _aid(100)).model_dump_json()
    path.write_text(good + "\n\n" + '{"article_id": 1}\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=r"events.jsonl:3: not an extraction result \(article_id: "
    ):
        load_results(path)


def test_the_fuse_command(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    lines = [_result(n, _aid(100)).model_dump_json() for n in ("a", "b")]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = tmp_path / "fused.jsonl"
    outcome = CliRunner().invoke(main, ["fuse", str(source), "-o", str(output)])
    assert outcome.exit_code == 0, outcome.output
    assert "fused:     1 events (1 reported by several articles)" in outcome.output
    fused = [FusedEvent.model_validate_json(line) for line in output.read_text().splitlines()]
    assert [len(event.sources) for event in fused] == [2]
    missing = CliRunner().invoke(main, ["fuse", str(tmp_path / "missing.jsonl")])
    assert missing.exit_code == 2
    assert "missing.jsonl" in missing.output
