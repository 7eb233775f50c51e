"""A fourth event type, defined here and registered for these tests only, runs through
normalization, export, the report, fusion and evaluation with no change to eventx."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq
import pytest
from pydantic import Field, ValidationError

from eventx.analysis.evaluate import evaluate
from eventx.analysis.export import COLUMN_NAMES, write_rows
from eventx.analysis.fuse import fuse
from eventx.analysis.gold import load_gold
from eventx.analysis.report import render_report
from eventx.contract import stale_schemas
from eventx.errors import InputError
from eventx.extraction.grounding import ArticleIndex, ground
from eventx.extraction.merge import merge_parts, number_ids
from eventx.models import (
    Actor,
    Article,
    ArticleExtraction,
    EventBase,
    ExtractionResult,
    FusedEvent,
    Plover,
)
from eventx.normalize.records import normalize_extraction
from eventx.registry import (
    event_types,
    register_event_type,
    unregister_event_type,
)
from tests.conftest import ROOT


class Sanction(EventBase):
    """Sanctions a state or organization imposes on a target."""

    type: Literal["sanction"] = "sanction"
    imposer: Actor = Field(description="Who imposes the sanctions.")
    target: Actor = Field(description="Who is sanctioned.")
    measures: list[str] = Field(default_factory=list, description="The measures, in English.")

    def codes(self) -> tuple[Plover | None, str | None]:
        """PLOVER SANCTION; CAMEO 163, impose embargo, boycott or sanctions."""
        return Plover(event="SANCTION"), "163"


DE = (
    "Neuigkeiten werden geladen…\n"
    "Brüssel. Die Europäische Union hat am 24. Februar 2025 neue Sanktionen gegen Russland "
    "verhängt. Betroffen sind Banken und Aluminiumimporte.\n"
)
EN = (
    "Brussels - The EU imposed a 16th package of sanctions on Russia on 24 February 2025, "
    "targeting banks and aluminium imports. Japan imposed its own sanctions on Russia "
    "in January.\n"
)
TEXTS = {"de": DE, "en": EN}
EU_DE = {"name": "Europäische Union", "kind": "igo"}
EU_EN = {"name": "EU", "kind": "igo"}
RUSSIA_DE = {"name": "Russland", "kind": "state"}
RUSSIA_EN = {"name": "Russia", "kind": "state"}
JAPAN = {"name": "Japan", "kind": "state"}

GOLD = """
articles:
  - id: de
    events:
      - type: sanction
        date: "2025-02-24"
        roles:
          imposer: {name: European Union}
          target: {name: Russia, country: RUS}
  - id: en
    events:
      - type: sanction
        status: occurred
        roles:
          imposer: {name: European Union, aliases: [EU]}
          target: {name: Russia, country: RUS}
      - type: sanction
        target: {name: Belarus, country: BLR}   # a shorthand field works for any type
        roles:
          imposer: {name: United Kingdom, country: GBR}
"""


@pytest.fixture
def sanction() -> Iterator[type[Sanction]]:
    """``Sanction`` registered for one test; unregistered after, leaving eventx as it was."""
    register_event_type(Sanction)
    yield Sanction
    unregister_event_type(Sanction)
    assert "sanction" not in event_types()
    assert stale_schemas(ROOT / "schemas") == []


def _sanction(record_id: str, imposer: dict[str, Any], quote: str, date: str) -> dict[str, Any]:
    return {
        "type": "sanction", "id": record_id, "summary": f"{imposer['name']} sanctions Russia.",
        "status": "occurred", "date": {"text": date}, "evidence": [{"quote": quote}],
        "imposer": imposer, "target": RUSSIA_DE if imposer is EU_DE else RUSSIA_EN,
        "measures": ["banks", "aluminium imports"],
    }  # fmt: skip


def _result(article_id: str, *events: dict[str, Any]) -> ExtractionResult:
    """A result as the extractor makes it: validated, grounded, normalized."""
    extraction = ArticleExtraction.model_validate({"events": list(events)})
    assert ground(extraction, ArticleIndex(TEXTS[article_id])) == []
    article = Article(id=article_id, text=TEXTS[article_id], published_at="2025-02-25")
    normalize_extraction(extraction, article, language=article_id)
    return ExtractionResult(
        article_id=article_id, extraction=extraction, model="m", mode="tools", prompt_hash="h"
    )


@pytest.fixture
def results(sanction: type[Sanction]) -> list[ExtractionResult]:
    german = _sanction(
        "e1", EU_DE, "Die Europäische Union hat am 24. Februar 2025 neue Sanktionen",
        "24. Februar 2025",
    )  # fmt: skip
    eu = _sanction("e1", EU_EN, "The EU imposed a 16th package of sanctions", "24 February 2025")
    japan = _sanction("e2", JAPAN, "Japan imposed its own sanctions on Russia", "in January")
    return [_result("de", german), _result("en", eu, japan)]


def test_the_type_declares_its_roles_and_parties_from_its_fields() -> None:
    assert (Sanction.TYPE, Sanction.ROLES, Sanction.PARTIES) == (
        "sanction",
        ("imposer", "target"),
        ("imposer", "target"),
    )
    assert "sanction" not in event_types()
    with pytest.raises(ValidationError):
        ArticleExtraction.model_validate({"events": [_sanction("e1", JAPAN, "q", "today")]})


class Answer(ArticleExtraction):
    """A subclass built before the registration, like the extractor's model answer."""


def test_results_with_the_new_type_round_trip_through_json(
    results: list[ExtractionResult],
) -> None:
    line = results[1].model_dump_json()
    again = ExtractionResult.model_validate_json(line)
    assert [type(event) for event in again.extraction.events] == [Sanction, Sanction]
    assert again == results[1]
    answer = Answer.model_validate_json(results[1].extraction.model_dump_json())
    assert [type(event) for event in answer.events] == [Sanction, Sanction]
    schema = ArticleExtraction.model_json_schema()
    assert schema["properties"]["events"]["items"]["discriminator"]["mapping"]["sanction"]
    fused = FusedEvent.model_validate_json(fuse(results)[0].model_dump_json())
    assert (fused.type, type(fused.event), fused.event.measures) == (
        "sanction",
        Sanction,
        ["banks", "aluminium imports"],
    )


def test_normalization_covers_every_actor_and_the_type_codes_itself(
    results: list[ExtractionResult],
) -> None:
    german = results[0].extraction.events[0]
    assert [(a.canonical_name, a.kind, a.country) for a in german.actors()] == [
        ("European Union", "igo", None),
        ("Russia", "state", "RUS"),
    ]
    assert german.date.value == "2025-02-24"
    assert (german.plover, german.cameo) == (Plover(event="SANCTION"), "163")
    japan = results[1].extraction.events[1]
    assert (japan.imposer.country, japan.date.value) == ("JPN", "2025-01")


def test_chunk_merging_and_numbering_handle_the_new_type(
    results: list[ExtractionResult],
) -> None:
    first = results[1].extraction.model_copy(deep=True)
    second = results[1].extraction.model_copy(deep=True)
    number_ids(second, 2)
    assert [event.id for event in second.events] == ["p2-e1", "p2-e2"]
    merged = merge_parts([first, second])
    assert merged.redirect == {"p2-e1": "e1", "p2-e2": "e2"}
    assert [type(event) for event in merged.extraction.events] == [Sanction, Sanction]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_export_writes_the_generic_columns_and_the_roles(
    results: list[ExtractionResult], tmp_path: Path
) -> None:
    assert write_rows(results, tmp_path / "rows.csv") == 3
    write_rows(results, tmp_path / "rows.parquet")
    rows = _csv_rows(tmp_path / "rows.csv")
    table = pq.read_table(tmp_path / "rows.parquet").to_pylist()
    assert list(rows[0]) == list(COLUMN_NAMES) == list(table[0])
    row, native = rows[1], table[1]
    assert (row["article_id"], row["record_id"], row["type"], row["record_kind"]) == (
        "en",
        "e1",
        "sanction",
        "event",
    )
    assert (row["date_value"], row["plover_event"], row["cameo"]) == (
        "2025-02-24",
        "SANCTION",
        "163",
    )
    assert json.loads(row["countries"]) == native["countries"] == ["RUS"]
    roles = json.loads(row["roles"])
    assert roles == json.loads(native["roles"])
    assert (roles["imposer"]["canonical_name"], roles["target"]["country"]) == (
        "European Union",
        "RUS",
    )
    assert json.loads(row["evidence"])[0]["start"] == EN.index("The EU imposed")
    # the protest's `target` column belongs to protests: a sanction leaves it empty
    assert (row["target"], native["target"], native["donor"]) == ("", None, None)
    assert json.loads(rows[2]["countries"]) == ["JPN", "RUS"]


def _card(html: str, article_id: str, record_id: str) -> str:
    article = html[html.index(f'data-article="{article_id}"') :]
    start = article.index(f'data-record="{record_id}"')
    return article[start : article.index("</section>", start)].split('<div class="record"')[0]


def test_the_report_shows_the_records_with_their_roles(
    results: list[ExtractionResult],
) -> None:
    html = render_report(results, TEXTS)
    summary = html[html.index('id="summary"') : html.index('id="timeline"')]
    assert "<td>sanction</td><td>3</td>" in summary
    assert "<td>RUS</td><td>3</td>" in summary
    assert "<td>JPN</td><td>1</td>" in summary
    card = _card(html, "en", "e2")
    assert 'data-kind="sanction"' in card
    assert "Japan sanctions Russia." in card
    assert "<b>imposer</b>: Japan (JPN)</div><div><b>target</b>: Russia (RUS)" in card
    marks = re.findall(r'<mark class="hl hl-sanction"[^>]*data-records="([^"]*)">', html)
    assert marks == ["e1", "e1", "e2"]
    timeline = html[html.index('id="timeline"') : html.index('id="failures"')]
    assert timeline.index("2025-01") < timeline.index("2025-02-24")


def test_two_articles_reporting_one_sanction_are_fused(
    results: list[ExtractionResult],
) -> None:
    fused = fuse(results)
    groups = [[f"{s.article_id}#{s.record_id}" for s in event.sources] for event in fused]
    assert groups == [["de#e1", "en#e1"], ["en#e2"]]
    eu = fused[0]
    assert (eu.type, eu.parties, eu.date.value) == (
        "sanction",
        ["European Union", "RUS"],
        "2025-02-24",
    )
    assert eu.sources[1].joined_by == [
        "same type sanction",
        "imposer European Union",
        "target RUS",
        "date 2025-02-24 ~ 2025-02-24",
    ]


def test_evaluation_matches_gold_sanctions_by_their_roles(
    results: list[ExtractionResult], tmp_path: Path
) -> None:
    (tmp_path / "gold.yaml").write_text(GOLD, encoding="utf-8")
    evaluation = evaluate(load_gold(tmp_path / "gold.yaml"), results, TEXTS)
    tally = evaluation.tallies["sanction"]
    assert (tally.gold, tally.predicted, tally.matched) == (3, 3, 2)
    assert (round(tally.precision, 3), round(tally.recall, 3)) == (0.667, 0.667)
    assert evaluation.events.matched == 2
    fields = {name: (t.correct, t.total) for name, t in evaluation.fields.items()}
    assert fields["sanction.imposer"] == fields["sanction.target"] == (2, 2)
    assert fields["event.date"] == (1, 2)
    missed = [m.record for m in evaluation.mismatches if m.side == "missed"]
    assert missed == ["gold #2: sanction (United Kingdom, Belarus)"]
    spurious = [m.record for m in evaluation.mismatches if m.side == "spurious"]
    assert spurious == ["e2: Japan sanctions Russia."]


def test_gold_names_unknown_types_and_roles(sanction: type[Sanction], tmp_path: Path) -> None:
    path = tmp_path / "gold.yaml"
    path.write_text(GOLD.replace("imposer: {name: United", "enforcer: {name: United"), "utf-8")
    with pytest.raises(InputError, match="sanction has no role enforcer"):
        load_gold(path)
    path.write_text(GOLD.replace("type: sanction", "type: embargo", 1), encoding="utf-8")
    with pytest.raises(InputError, match="unknown event type 'embargo'"):
        load_gold(path)


class Pending(EventBase):
    """An event type with an annotation that cannot be resolved yet."""

    type: Literal["pending"] = "pending"
    who: Actor
    whom: NotDefinedYet  # type: ignore[name-defined]  # noqa: F821


def test_registration_refuses_what_it_cannot_use(sanction: type[Sanction]) -> None:
    assert register_event_type(Sanction) is Sanction  # again: nothing happens

    class OtherSanction(Sanction):
        pass

    with pytest.raises(ValueError, match="already registered as Sanction"):
        register_event_type(OtherSanction)
    with pytest.raises(TypeError, match="Literal"):
        register_event_type(EventBase)
    with pytest.raises(ValueError, match="built-in"):
        unregister_event_type("meeting")
    with pytest.raises(TypeError, match=r"call Pending\.model_rebuild"):
        register_event_type(Pending)
    assert Pending.ROLES == ()  # declared once the class is complete
    with pytest.raises(TypeError, match="a role must be a field holding an Actor"):

        class Broken(EventBase):
            ROLES = ("measures",)
            type: Literal["broken"] = "broken"
            measures: list[str] = Field(default_factory=list)
