"""Records that know themselves: roles, actors and principal parties of every type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventx.analysis.export import result_rows
from eventx.analysis.report import render_report
from eventx.models import (
    AidDelivery,
    ArticleExtraction,
    Claim,
    DiplomaticProtest,
    ExtractionResult,
    MeetingEvent,
)
from eventx.registry import BUILT_IN, event_type, event_types

EVIDENCE = [{"quote": "q"}]
JAPAN = {"name": "Japan", "kind": "state", "country": "JPN"}
RUSSIA = {"name": "Russia", "kind": "state", "country": "RUS"}
UKRAINE = {"name": "Ukraine", "kind": "state", "country": "UKR"}
FINLAND = {"name": "Finland", "kind": "state", "country": "FIN"}
AMBASSADOR = {"name": "Ambassador", "kind": "person", "country": "LTU"}


def _protest(**extra: Any) -> DiplomaticProtest:
    return DiplomaticProtest.model_validate(
        {"id": "e1", "summary": "s", "status": "occurred", "evidence": EVIDENCE,
         "protester": RUSSIA, "target": JAPAN, "form": "summoned_ambassador",
         "grievance": "g", **extra}
    )  # fmt: skip


def _meeting(**extra: Any) -> MeetingEvent:
    return MeetingEvent.model_validate(
        {"id": "e2", "summary": "s", "status": "occurred", "evidence": EVIDENCE,
         "participants": [JAPAN, UKRAINE], **extra}
    )  # fmt: skip


def test_built_in_types_declare_roles_and_principal_parties() -> None:
    declared = {model.TYPE: (model.ROLES, model.PARTIES) for model in BUILT_IN}
    assert declared == {
        "meeting": (("participants", "host"), ("participants",)),
        "aid_delivery": (("donor", "recipient"), ("donor", "recipient")),
        "diplomatic_protest": (
            ("protester", "target", "summoned_official"),
            ("protester", "target"),
        ),
    }
    assert (Claim.TYPE, Claim.ROLES, Claim.PARTIES) == ("claim", ("speaker",), ("speaker",))
    assert list(event_types()) == ["meeting", "aid_delivery", "diplomatic_protest"]
    assert event_type("meeting") is MeetingEvent
    with pytest.raises(KeyError, match="known: meeting, aid_delivery, diplomatic_protest"):
        event_type("sanction")


def test_roles_leave_out_empty_roles_and_actors_include_every_role() -> None:
    protest = _protest(summoned_official=AMBASSADOR)
    assert list(protest.roles()) == ["protester", "target", "summoned_official"]
    assert [a.name for a in protest.actors()] == ["Russia", "Japan", "Ambassador"]
    assert [a.name for a in protest.actors(principal=True)] == ["Russia", "Japan"]
    meeting = _meeting(host=FINLAND)
    assert [a.name for a in meeting.roles()["participants"]] == ["Japan", "Ukraine"]
    assert [a.name for a in meeting.actors()] == ["Japan", "Ukraine", "Finland"]
    assert list(_meeting().roles()) == ["participants"]
    assert [a.name for a in _protest().actors()] == ["Russia", "Japan"]


def test_an_extraction_lists_its_records_events_first() -> None:
    claim = {
        "id": "c1", "speaker": JAPAN, "text": "t", "quote_type": "indirect",
        "claim_type": "assertion", "evidence": EVIDENCE, "quote": {"quote": "said"},
    }  # fmt: skip
    extraction = ArticleExtraction.model_validate(
        {"claims": [claim], "events": [_meeting().model_dump(), _protest().model_dump()]}
    )
    assert [r.id for r in extraction.records()] == ["e2", "e1", "c1"]
    assert [e.quote for e in extraction.claims[0].all_evidence()] == ["q", "said"]
    assert isinstance(extraction.events[1], DiplomaticProtest)
    assert AidDelivery.model_fields["donor"].is_required()


def test_report_and_export_count_the_same_countries() -> None:
    # the summoned official and the host are actors: in the CSV `countries` column and
    # in the report's country table alike
    extraction = ArticleExtraction(
        events=[_protest(summoned_official=AMBASSADOR), _meeting(host=FINLAND)]
    )
    result = ExtractionResult(
        article_id="a", extraction=extraction, model="m", mode="tools", prompt_hash="h"
    )
    rows = list(result_rows(result))
    assert [row["countries"] for row in rows] == [["JPN", "LTU", "RUS"], ["FIN", "JPN", "UKR"]]
    assert json.loads(rows[0]["roles"])["summoned_official"]["country"] == "LTU"
    html = render_report([result], {"a": "text"})
    summary = html[html.index('id="summary"') : html.index('id="timeline"')]
    for code, count in {"JPN": 2, "LTU": 1, "RUS": 1, "FIN": 1, "UKR": 1}.items():
        assert f"<td>{code}</td><td>{count}</td>" in summary
    assert "<b>summoned official</b>: Ambassador (LTU)" in html
    assert "<b>host</b>: Finland (FIN)" in html
