"""The levers for small models, against the scripted server: what each request asks and
what the article keeps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from eventx import ConfigurationError, Extractor
from tests.cassettes.scenarios import FAULT_ANSWER, SCENARIOS
from tests.llm_server import server as llm

ARTICLE = SCENARIOS["server_error"].article
MEETING = FAULT_ANSWER["events"][0]
CLAIM = FAULT_ANSWER["claims"][0]


def _invented(record: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    changed["evidence"] = [{"quote": "Deutschland wird Polen im Sommer weitere Panzer liefern"}]
    return changed


def _system(request: dict[str, Any]) -> str:
    return str(request["messages"][0]["content"])


def _user(request: dict[str, Any]) -> str:
    return str(request["messages"][1]["content"])


def test_one_request_per_record_type_narrows_each_schema(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.records(), llm.records(), llm.records(claims=[CLAIM]))
    result = extractors(server, per_type=True, mode="tools").extract(ARTICLE)
    assert len(server.requests) == 4
    tasks = [_user(request).rsplit("Task: ", 1)[1] for request in server.requests]
    assert [task.split()[2] for task in tasks] == ["meetings", "aid", "diplomatic", "claims;"]
    schemas = [request["tools"][0]["function"]["parameters"] for request in server.requests]
    assert list(schemas[0]["properties"]) == ["events"]
    assert set(schemas[0]["$defs"]) >= {"MeetingEvent"}
    assert "AidDelivery" not in schemas[0]["$defs"]
    assert list(schemas[3]["properties"]) == ["claims"]
    assert len({_system(request) for request in server.requests}) == 1  # one cacheable prefix
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [claim.id for claim in result.extraction.claims] == ["c1"]


def test_claims_apart_asks_events_and_claims_in_two_requests(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.records(claims=[CLAIM]))
    result = extractors(server, claims_apart=True, mode="tools").extract(ARTICLE)
    assert len(server.requests) == 2
    tasks = [_user(request).rsplit("Task: ", 1)[1] for request in server.requests]
    assert tasks[0].startswith("Extract only events")
    assert tasks[1].startswith("Extract only claims")
    schemas = [request["tools"][0]["function"]["parameters"] for request in server.requests]
    assert list(schemas[0]["properties"]) == ["events"]
    assert set(schemas[0]["$defs"]) >= {"MeetingEvent", "AidDelivery", "DiplomaticProtest"}
    assert list(schemas[1]["properties"]) == ["claims"]
    assert _system(server.requests[0]) == _system(server.requests[1])  # one cacheable prefix
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [claim.id for claim in result.extraction.claims] == ["c1"]


def test_a_recall_pass_lists_what_was_found_and_adds_only_what_is_new(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.records([MEETING], [CLAIM]))
    result = extractors(server, passes=2).extract(ARTICLE)
    assert len(server.requests) == 2
    second = _user(server.requests[1])
    assert "These records were already found" in second
    assert "Am 3. März trafen sich die Außenminister" in second
    assert len(result.extraction.events) == 1  # the meeting found twice is one record
    assert len(result.extraction.claims) == 1


def test_a_reask_never_loses_a_grounded_record(server, extractors) -> None:
    nothing_left = llm.records()  # the re-ask's answer
    server.script(llm.records([MEETING], [_invented(CLAIM)]), nothing_left)
    result = extractors(server, max_reasks=1).extract(ARTICLE)
    assert len(server.requests) == 2
    reask = json.dumps(server.requests[1]["messages"], ensure_ascii=False)
    assert "fix only these quotes" in reask
    assert "remove" not in reask.split("fix only these quotes")[1]
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert result.extraction.claims == []


def test_salvaged_records_are_kept_when_the_reasks_stay_invalid(server, extractors) -> None:
    broken = {"events": [{"type": "meeting", "status": "happened"}], "claims": []}
    server.script(llm.records([MEETING], [_invented(CLAIM)]), llm.answer(broken))
    result = extractors(server, max_reasks=1).extract(ARTICLE)
    assert result.ok
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [w.code for w in result.warnings] == ["ask_failed"]


def test_the_compact_profile_offers_fewer_fields_and_numbers_the_records(
    server, extractors
) -> None:
    without_ids = {
        "events": [{k: v for k, v in MEETING.items() if k not in ("id", "topics", "format")}],
        "claims": [{k: v for k, v in CLAIM.items() if k not in ("id", "quote")}],
    }
    server.script(llm.answer(without_ids))
    result = extractors(server, schema_profile="compact", mode="tools").extract(ARTICLE)
    schema = server.requests[0]["tools"][0]["function"]["parameters"]
    meeting = schema["$defs"]["MeetingEvent"]
    assert list(meeting["properties"])[:2] == ["type", "evidence"]
    assert meeting["required"][0] == "type"
    assert not {"id", "topics", "forum", "location", "confidence"} & set(meeting["properties"])
    assert "quote" in schema["$defs"]["Evidence"]["properties"]
    assert [(e.id, e.type) for e in result.extraction.events] == [("e1", "meeting")]
    assert [c.id for c in result.extraction.claims] == ["c1"]


def test_examples_go_first_and_a_bad_example_is_refused(server, extractors, tmp_path: Path) -> None:
    server.script(llm.records([MEETING]))
    extractors(server, examples="builtin", mode="json").extract(ARTICLE)
    system = _system(server.requests[0])
    assert "Worked examples" in system
    assert "Elina Valtonen" in system  # the German example's answer
    assert "Am 3. März trafen sich" not in system  # the article comes after, in the user message
    bad = tmp_path / "examples.yaml"
    bad.write_text(
        "- text: Paris. The ministers met.\n"
        "  extraction:\n"
        "    claims:\n"
        "      - {id: c1, speaker: {name: X, kind: person}, text: t, quote_type: direct,\n"
        "         claim_type: assertion, evidence: [{quote: The ministers talked.}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match=r"example 1: .*'The ministers talked\.'"):
        Extractor(base_url=server.base_url, examples=str(bad))


def test_json_mode_sends_the_schema_as_a_grammar_where_the_server_takes_it(
    server, extractors
) -> None:
    server.script(llm.records([MEETING]), llm.records([MEETING]))
    options = {"base_url": server.base_url, "api_key": "k", "mode": "json"}
    with Extractor(**options, server="llama-cpp-python") as extractor:
        extractor.extract(ARTICLE)
    extractors(server, mode="json").extract(ARTICLE)
    grammar, plain = (request["response_format"] for request in server.requests)
    assert grammar["type"] == "json_object"
    assert set(grammar["schema"]["properties"]) == {"events", "claims", "dateline"}
    assert plain == {"type": "json_object"}
    assert "MeetingEvent = {" in _system(server.requests[1])  # the outline, in the prompt


def test_records_whose_actors_are_not_near_their_evidence_can_be_dropped(
    server, extractors
) -> None:
    far = copy.deepcopy(MEETING)
    far.pop("host", None)
    far["participants"] = [
        {"name": "Brasilien", "kind": "state"},
        {"name": "Chile", "kind": "state"},
    ]
    server.script(llm.records([far]), llm.records([far]))
    kept = extractors(server).extract(ARTICLE)
    dropped = extractors(server, actors_near_evidence=True).extract(ARTICLE)
    assert len(kept.extraction.events) == 1
    assert dropped.extraction.events == []
    assert [w.code for w in dropped.warnings] == ["actors_not_near_evidence"]


def test_country_names_and_two_letter_codes_are_read_as_codes_not_reasked(
    server, extractors
) -> None:
    meeting = copy.deepcopy(MEETING)
    meeting["participants"][0]["country"] = "Germany"
    meeting["participants"][1]["country"] = "pl"
    claim = copy.deepcopy(CLAIM)
    claim["speaker"]["country"] = "a country the model made up"
    server.script(llm.records([meeting], [claim]))
    result = extractors(server).extract(ARTICLE)
    assert len(server.requests) == 1
    participants = result.extraction.events[0].participants
    assert [actor.country for actor in participants] == ["DEU", "POL"]
    assert result.extraction.claims[0].speaker.country is None


def test_an_event_told_twice_is_merged_only_when_asked(server, extractors) -> None:
    again = copy.deepcopy(MEETING)
    again["evidence"] = [{"quote": "Die beiden Minister vereinbarten eine engere Abstimmung"}]
    again.pop("date")
    for merge, meetings in ((False, 2), (True, 1)):
        server.script(llm.records([MEETING, again]))
        result = extractors(server, merge_restated=merge).extract(ARTICLE)
        assert len(result.extraction.events) == meetings
    assert len(result.extraction.events[0].evidence) == 3
    assert [w.code for w in result.warnings] == ["restated_event_merged"]


def test_verify_asks_about_each_event_and_drops_what_the_model_does_not_confirm(
    server, extractors
) -> None:
    protest = {
        "type": "diplomatic_protest", "id": "e2", "status": "occurred",
        "summary": "Poland protested to Germany.", "form": "note", "grievance": "none",
        "protester": {"name": "Poland", "kind": "state", "country": "POL"},
        "target": {"name": "Germany", "kind": "state", "country": "DEU"},
        "evidence": [{"quote": "Die beiden Minister vereinbarten eine engere Abstimmung"}],
    }  # fmt: skip
    server.script(
        llm.records([MEETING, protest], [CLAIM]),
        llm.answer({"holds": True}),
        llm.answer({"holds": False}),
    )
    result = extractors(server, verify=True).extract(ARTICLE)
    assert len(server.requests) == 3  # the extraction, then one check per event
    meeting_check, protest_check = (_user(request) for request in server.requests[1:])
    assert "Annalena Baerbock and Radosław Sikorski met" in meeting_check
    assert "Passage: «Am 3. März trafen sich die Außenminister" in meeting_check
    assert "Poland formally protested to Germany" in protest_check
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert len(result.extraction.claims) == 1  # claims are not checked
    assert [(w.code, w.record_id) for w in result.warnings] == [("not_confirmed_dropped", "e2")]
    assert result.usage.requests == 3


def test_a_check_without_a_usable_answer_keeps_the_event(server, extractors) -> None:
    server.script(llm.records([MEETING]), llm.malformed(), llm.malformed())
    result = extractors(server, verify=True).extract(ARTICLE)
    assert [event.type for event in result.extraction.events] == ["meeting"]
    assert [w.code for w in result.warnings] == ["check_failed"]
