"""Precision guards on grounded records: parties that name nobody, one event told twice."""

from __future__ import annotations

from typing import Any

import pytest

from eventx import ArticleExtraction
from eventx.extraction.checks import drop_unnamed, is_placeholder, merge_restated_events


def _actor(name: str, country: str | None = None) -> dict[str, Any]:
    return {"name": name, "canonical_name": name, "kind": "person", "country": country}


def _evidence(quote: str, start: int) -> list[dict[str, Any]]:
    return [{"quote": quote, "start": start, "end": start + len(quote)}]


def _meeting(id_: str, names: list[str], status: str = "occurred", **more: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "meeting",
        "status": status,
        "summary": "A meeting.",
        "participants": [_actor(name) for name in names],
        "evidence": _evidence(f"quote of {id_}", 10 * int(id_[1:])),
        **more,
    }


def _claim(id_: str, speaker: str) -> dict[str, Any]:
    return {
        "id": id_,
        "speaker": _actor(speaker),
        "text": "Something was said.",
        "quote_type": "indirect",
        "claim_type": "assertion",
        "evidence": _evidence(f"quote of {id_}", 100),
    }


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        ("unknown", True),
        ("Unnamed sources", True),
        ("N/A", True),
        ("невідомо", True),
        ("", True),
        ("Sergey Lavrov", False),
        ("The Kremlin", False),
        ("Reuters sources", False),
    ],
)
def test_a_placeholder_names_nobody(name: str, placeholder: bool) -> None:
    assert is_placeholder(name) is placeholder


def test_records_whose_party_names_nobody_are_dropped_and_named_ones_kept() -> None:
    extraction = ArticleExtraction.model_validate(
        {
            "events": [
                _meeting("e1", ["Zbigniew Rau", "unknown"]),
                _meeting("e2", ["unknown"]),
            ],
            "claims": [_claim("c1", "Unknown"), _claim("c2", "Zbigniew Rau")],
        }
    )
    warnings = drop_unnamed(extraction)
    assert [event.id for event in extraction.events] == ["e1"]
    assert [actor.name for actor in extraction.events[0].participants] == ["Zbigniew Rau"]
    assert [claim.id for claim in extraction.claims] == ["c2"]
    assert [(w.code, w.record_id) for w in warnings] == [
        ("unnamed_party_dropped", "e2"),
        ("unnamed_party_dropped", "c1"),
    ]


def test_an_event_told_twice_becomes_one_with_both_quotes() -> None:
    extraction = ArticleExtraction.model_validate(
        {
            "events": [
                _meeting("e1", ["Alicia Bárcena", "Antony Blinken"]),
                _meeting("e2", ["Antony Blinken", "Alicia Bárcena"], date={"text": "Thursday"}),
                {
                    "id": "e3",
                    "type": "diplomatic_protest",
                    "status": "occurred",
                    "protester": {**_actor("Mexico", "MEX"), "kind": "state"},
                    "target": {**_actor("United States", "USA"), "kind": "state"},
                    "trigger": "e2",
                    "summary": "A protest.",
                    "form": "note",
                    "grievance": "the meeting",
                    "evidence": _evidence("quote of e3", 30),
                },
            ]
        }
    )
    warnings = merge_restated_events(extraction)
    (meeting, protest) = extraction.events
    assert [item.quote for item in meeting.evidence] == ["quote of e1", "quote of e2"]
    assert meeting.date is not None
    assert meeting.date.text == "Thursday"
    assert protest.trigger == "e1"
    assert [(w.code, w.record_id) for w in warnings] == [("restated_event_merged", "e2")]


def test_events_that_differ_in_status_or_date_stay_apart() -> None:
    pair = ["Elina Valtonen", "Margus Tsahkna"]
    extraction = ArticleExtraction.model_validate(
        {
            "events": [
                _meeting(
                    "e1",
                    ["Elina Valtonen", "Margus Tsahkna"],
                    date={"text": "13 May", "value": "2025-05-13"},
                ),
                _meeting("e2", pair, status="planned"),
                _meeting(
                    "e3",
                    ["Elina Valtonen", "Margus Tsahkna"],
                    date={"text": "June", "value": "2025-06"},
                ),
                _meeting("e4", ["Elina Valtonen", "Kaja Kallas"]),
            ]
        }
    )
    assert merge_restated_events(extraction) == []
    assert [event.id for event in extraction.events] == ["e1", "e2", "e3", "e4"]
