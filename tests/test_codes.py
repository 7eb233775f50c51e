"""PLOVER and CAMEO codes from record fields; the table in docs/codes.md is the code's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventx.models import AidDelivery, Claim, DiplomaticProtest, MeetingEvent
from eventx.normalize.codes import CLAIM_RULES, EVENT_RULES, code_claim, code_event, rules_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "codes.md"
EVIDENCE = [{"quote": "…"}]


def _actor(country: str | None, kind: str = "person", name: str = "X") -> dict[str, Any]:
    return {"name": name, "kind": kind, "country": country}


def _meeting(**fields: Any) -> MeetingEvent:
    base = {
        "id": "e1", "summary": "s", "status": "occurred", "evidence": EVIDENCE,
        "participants": [_actor("JPN"), _actor("UKR")],
    }  # fmt: skip
    return MeetingEvent.model_validate(base | fields)


def _aid(status: str, aid_kind: str) -> AidDelivery:
    return AidDelivery.model_validate(
        {
            "id": "e1", "summary": "s", "status": status, "evidence": EVIDENCE,
            "donor": _actor("JPN", "state"), "recipient": _actor("UKR", "state"),
            "aid_kind": aid_kind,
        }
    )  # fmt: skip


def _protest(form: str) -> DiplomaticProtest:
    return DiplomaticProtest.model_validate(
        {
            "id": "e1", "summary": "s", "status": "occurred", "evidence": EVIDENCE,
            "protester": _actor("RUS", "state"), "target": _actor("JPN", "state"),
            "form": form, "grievance": "g",
        }
    )  # fmt: skip


def _codes(event: Any) -> tuple[str | None, str | None, str | None]:
    code_event(event)
    return (event.plover.event if event.plover else None, event.plover.mode, event.cameo)


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"status": "planned", "format": "phone"}, ("AGREE", None, "036")),
        ({"format": "phone"}, ("CONSULT", "phone", "041")),
        ({"format": "bilateral", "host": _actor("JPN")}, ("CONSULT", "visit", "043")),
        ({"format": "visit"}, ("CONSULT", "visit", "042")),
        ({"location": {"name": "Brüssel", "country": "BEL"}}, ("CONSULT", "third-party", "044")),
        ({"location": {"name": "Tokio", "country": "JPN"}}, ("CONSULT", None, "040")),
        ({"format": "summit"}, ("CONSULT", "multilateral", "040")),
        ({"format": "multilateral"}, ("CONSULT", "multilateral", "040")),
        ({"format": "bilateral"}, ("CONSULT", None, "040")),
    ],
)
def test_meetings(fields: dict[str, Any], codes: tuple[str, str | None, str]) -> None:
    assert _codes(_meeting(**fields)) == codes


def test_a_third_location_needs_two_known_participant_countries() -> None:
    meeting = _meeting(
        participants=[_actor("JPN"), _actor(None, "igo", "NATO")],
        location={"name": "Brüssel", "country": "BEL"},
    )
    assert _codes(meeting)[2] == "040"


@pytest.mark.parametrize(
    ("status", "kind", "codes"),
    [
        ("pledged", "economic", ("AGREE", None, "0331")),
        ("pledged", "military", ("AGREE", None, "0332")),
        ("planned", "humanitarian", ("AGREE", None, "0333")),
        ("occurred", "economic", ("AID", "economic", "071")),
        ("occurred", "military", ("AID", "military", "072")),
        ("reported", "humanitarian", ("AID", "humanitarian", "073")),
    ],
)
def test_aid(status: str, kind: str, codes: tuple[str, str | None, str]) -> None:
    assert _codes(_aid(status, kind)) == codes


@pytest.mark.parametrize(
    ("form", "codes"),
    [
        ("summoned_ambassador", ("ACCUSE", "disapprove", "114")),
        ("note", ("ACCUSE", "disapprove", "114")),
        ("demarche", ("ACCUSE", "disapprove", "114")),
        ("statement", ("ACCUSE", "disapprove", "111")),
        ("expulsion", ("SANCTION", None, "161")),
        ("recall", ("SANCTION", None, "161")),
    ],
)
def test_protests(form: str, codes: tuple[str, str | None, str]) -> None:
    assert _codes(_protest(form)) == codes


@pytest.mark.parametrize(
    ("claim_type", "stance", "cameo"),
    [
        ("denial", "critical", "016"),
        ("intention", "supportive", "014"),
        ("accusation", "critical", "012"),
        ("warning", None, "012"),
        ("evaluation", "concerned", "012"),
        ("assertion", "critical", "012"),
        ("evaluation", "supportive", "013"),
        ("assertion", "supportive", "013"),
        ("assertion", "neutral", "010"),
        ("evaluation", None, "010"),
    ],
)
def test_claims(claim_type: str, stance: str | None, cameo: str) -> None:
    claim = Claim.model_validate(
        {
            "id": "c1", "speaker": _actor("JPN"), "text": "t", "quote_type": "indirect",
            "claim_type": claim_type, "stance": stance, "evidence": EVIDENCE,
        }
    )  # fmt: skip
    code_claim(claim)
    assert claim.cameo == cameo


def test_every_code_is_well_formed() -> None:
    for rules in [*EVENT_RULES.values(), CLAIM_RULES]:
        for rule in rules:
            assert rule.cameo.isdigit()
            assert 3 <= len(rule.cameo) <= 4
    assert all(rule.cameo.startswith("01") for rule in CLAIM_RULES)


def test_the_docs_table_is_the_mapping_in_the_code() -> None:
    assert rules_markdown() in DOCS.read_text(encoding="utf-8")
