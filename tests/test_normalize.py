"""normalize_extraction: the model proposes, eventx checks and normalizes."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventx.models import Actor, Article, ArticleExtraction, Place, ResultWarning
from eventx.normalize.records import normalize_actor, normalize_extraction, normalize_place

TEXT = "Hà Nội, 10/04/2025. Am 9. April trafen sich die Minister. Gestern sprach Nga."
EVIDENCE = [{"quote": "Am 9. April trafen sich die Minister."}]


def _extraction(dateline: str | None = "10/04/2025", **event: Any) -> ArticleExtraction:
    meeting = {
        "id": "e1", "type": "meeting", "summary": "s", "status": "occurred",
        "date": {"text": "Am 9. April"}, "evidence": EVIDENCE,
        "participants": [
            {"name": "Nga", "kind": "state"},
            {"name": "Nhật Bản", "kind": "state"},
        ],
    }  # fmt: skip
    claim = {
        "id": "c1", "speaker": {"name": "Bộ Ngoại giao Nga", "kind": "government"},
        "text": "t", "quote_type": "indirect", "claim_type": "warning", "evidence": EVIDENCE,
    }  # fmt: skip
    data: dict[str, Any] = {"events": [meeting | event], "claims": [claim]}
    if dateline is not None:
        data["dateline"] = {"text": dateline}
    return ArticleExtraction.model_validate(data)


def _normalized(
    extraction: ArticleExtraction, **article: Any
) -> tuple[ArticleExtraction, list[ResultWarning]]:
    warnings = normalize_extraction(
        extraction, Article(id="a", text=TEXT, **article), language=article.get("language")
    )
    return extraction, warnings


def test_the_dateline_anchors_dates_without_a_year() -> None:
    extraction, warnings = _normalized(_extraction())
    assert extraction.dateline is not None
    assert (extraction.dateline.value, extraction.dateline.rule) == ("2025-04-10", "explicit")
    date_ref = extraction.events[0].date
    assert date_ref is not None
    assert (date_ref.value, date_ref.rule) == ("2025-04-09", "publication_year")
    assert warnings == []


def test_published_at_wins_over_the_dateline() -> None:
    extraction, _ = _normalized(_extraction(), published_at=date(2026, 1, 5))
    assert extraction.events[0].date.value == "2025-04-09"  # the April before 2026-01-05
    assert extraction.dateline.value == "2025-04-10"  # still checked and resolved
    extraction, _ = _normalized(_extraction(status="planned"), published_at=date(2026, 1, 5))
    assert extraction.events[0].date.value == "2026-04-09"  # planned: the April after


def test_without_any_publication_date_the_year_stays_unknown() -> None:
    extraction, _ = _normalized(_extraction(dateline=None))
    assert extraction.events[0].date.value == "--04-09"


def test_a_dateline_that_is_not_in_the_article_is_ignored_with_a_warning() -> None:
    extraction, warnings = _normalized(_extraction(dateline="11/04/2025"))
    assert extraction.dateline is None
    assert [w.code for w in warnings] == ["dateline_not_in_text"]
    assert extraction.events[0].date.value == "--04-09"


def test_states_are_resolved_and_corrected_with_a_warning() -> None:
    extraction = _extraction()
    extraction.events[0].participants[0].country = "NGA"  # as a weak model might propose
    extraction, warnings = _normalized(extraction, language="vi")
    russia, japan = extraction.events[0].participants
    assert (russia.country, russia.canonical_name) == ("RUS", "Russia")  # "Nga" is not Nigeria
    assert (japan.country, japan.canonical_name) == ("JPN", "Japan")
    assert [(w.code, w.record_id) for w in warnings] == [("country_corrected", "e1")]
    assert extraction.claims[0].speaker.country == "RUS"  # "Bộ Ngoại giao Nga": one country


def test_codes_are_assigned_to_every_event_and_claim() -> None:
    extraction, _ = _normalized(_extraction())
    event = extraction.events[0]
    assert (event.plover.event, event.cameo) == ("CONSULT", "040")
    assert extraction.claims[0].cameo == "012"


def _actor(**fields: Any) -> tuple[Actor, list[ResultWarning]]:
    actor = Actor.model_validate(fields)
    warnings: list[ResultWarning] = []
    normalize_actor(actor, fields.pop("language", None), warnings, "e9")
    return actor, warnings


def test_a_proposed_code_that_is_not_iso_3166_is_dropped_with_a_warning() -> None:
    person, warnings = _actor(name="Ken Nakatani", kind="person", country="JAP", title="Minister")
    assert person.country is None
    assert person.title == "Minister"
    assert [(w.code, w.record_id) for w in warnings] == [("invalid_country_code", "e9")]


def test_a_persons_valid_country_and_title_are_kept() -> None:
    person, warnings = _actor(name="Фуміо Кісіда", kind="person", country="JPN", title="PM")
    assert (person.country, person.title, warnings) == ("JPN", "PM", [])


def test_igos_get_kind_canonical_name_and_no_country() -> None:
    igo, _ = _actor(name="НАТО", kind="organization", country="BEL")
    assert (igo.kind, igo.canonical_name, igo.country) == ("igo", "NATO", None)
    person, _ = _actor(
        name="Mark Rutte", kind="person", organization="Nordatlantikpakt-Organisation"
    )
    assert person.organization == "NATO"


def test_capitals_standing_for_governments() -> None:
    kyiv, _ = _actor(name="Kiew", canonical_name="Kyiv", kind="government")
    assert (kyiv.country, kyiv.canonical_name) == ("UKR", "Ukraine")


def test_what_cannot_be_resolved_stays_as_proposed_or_null() -> None:
    ministry, _ = _actor(name="Verteidigungsministerium", kind="government")
    assert ministry.country is None
    ministry, _ = _actor(name="Verteidigungsministerium", kind="government", country="DEU")
    assert ministry.country == "DEU"
    other, _ = _actor(name="джерел", kind="other")
    assert other.country is None


def test_places_that_are_countries_or_capitals() -> None:
    warnings: list[ResultWarning] = []
    lithuania = Place(name="Литві")
    normalize_place(lithuania, "uk", warnings)
    assert (lithuania.country, lithuania.canonical_name) == ("LTU", "Lithuania")
    tokyo = Place(name="Tokio", canonical_name="Tokyo")
    normalize_place(tokyo, "de", warnings)
    assert (tokyo.country, tokyo.canonical_name) == ("JPN", "Tokyo")
    nowhere = Place(name="Hauptquartier der NATO", country="XXX")
    normalize_place(nowhere, "de", warnings, "e2")
    assert nowhere.country is None
    finland = Place(name="Finnland", country="FRA")
    normalize_place(finland, "de", warnings, "e3")
    assert (finland.country, finland.canonical_name) == ("FIN", "Finland")
    assert [(w.code, w.record_id) for w in warnings] == [
        ("invalid_country_code", "e2"),
        ("country_corrected", "e3"),
    ]


def test_normalizing_twice_changes_nothing_more() -> None:
    extraction = _extraction()
    extraction.events[0].participants[0].country = "NGA"
    once, warnings = _normalized(extraction, language="vi")
    snapshot = once.model_dump()
    twice, more = _normalized(once, language="vi")
    assert twice.model_dump() == snapshot
    assert (len(warnings), more) == (1, [])
