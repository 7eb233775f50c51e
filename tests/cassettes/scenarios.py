"""The fault scenarios recorded into ``tests/cassettes/faults/<name>/``.

Each scenario is one article, the steps the scripted server plays for it, and the
extractor settings used when recording (and again when replaying). The answers
below are what a strong model returns for the two small test articles; the faulty
ones are derived from them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.llm_server import server as llm

from eventx import Article

DATA = Path(__file__).parent.parent / "data"
FAULTS = Path(__file__).parent / "faults"

BAERBOCK = {
    "name": "Annalena Baerbock", "canonical_name": "Annalena Baerbock", "kind": "person",
    "country": "DEU", "title": "Foreign Minister", "organization": "Federal Foreign Office",
}  # fmt: skip
SIKORSKI = {
    "name": "Radosław Sikorski", "canonical_name": "Radosław Sikorski", "kind": "person",
    "country": "POL", "title": "Foreign Minister", "organization": "Ministry of Foreign Affairs",
}  # fmt: skip

FAULT_ANSWER: dict[str, Any] = {
    "events": [
        {
            "id": "e1",
            "type": "meeting",
            "summary": "The foreign ministers of Germany and Poland met in Warsaw on 3 March.",
            "status": "occurred",
            "date": {"text": "Am 3. März"},
            "location": {"name": "Warschau", "canonical_name": "Warsaw", "country": "POL"},
            "participants": [BAERBOCK, SIKORSKI],
            "format": "bilateral",
            "host": SIKORSKI,
            "topics": ["support for Ukraine"],
            "outcomes": ["closer coordination of support for Ukraine"],
            "evidence": [
                {"quote": "Am 3. März trafen sich die Außenminister Deutschlands und Polens"},
                {"quote": "vereinbarten eine engere Abstimmung bei der Unterstützung der Ukraine"},
            ],
            "confidence": 0.95,
        }
    ],
    "claims": [
        {
            "id": "c1",
            "speaker": SIKORSKI,
            "text": "Sikorski said Germany and Poland stand side by side.",
            "quote": {"quote": "Unsere Länder stehen Seite an Seite"},
            "quote_type": "direct",
            "claim_type": "assertion",
            "about": ["Germany", "Poland"],
            "stance": "supportive",
            "evidence": [{"quote": "„Unsere Länder stehen Seite an Seite“, sagte Sikorski"}],
            "confidence": 0.9,
        }
    ],
}


def _with_invented_claim() -> dict[str, Any]:
    """The good answer plus a claim whose quote is not in the article."""
    answer = copy.deepcopy(FAULT_ANSWER)
    invented = copy.deepcopy(answer["claims"][0])
    invented.update(
        id="c2",
        text="Baerbock said Germany will send tanks to Poland.",
        speaker=BAERBOCK,
        quote=None,
        quote_type="indirect",
        claim_type="intention",
        evidence=[{"quote": "Deutschland wird Polen im Sommer weitere Panzer liefern"}],
    )
    answer["claims"].append(invented)
    return answer


def _schema_invalid() -> dict[str, Any]:
    """An answer that breaks the schema: unknown status, no evidence, bad country code."""
    answer = copy.deepcopy(FAULT_ANSWER)
    answer["events"][0]["status"] = "happened"
    answer["events"][0]["evidence"] = []
    answer["claims"][0]["speaker"]["country"] = "Poland"
    return answer


TEMPLATE_ANSWER: dict[str, Any] = {
    "events": [
        {
            "id": "e1",
            "type": "meeting",
            "summary": "Ukraine's and Moldova's foreign ministers met in Kyiv on 14 May.",
            "status": "occurred",
            "date": {"text": "on 14 May"},
            "location": {"name": "Kyiv", "canonical_name": "Kyiv", "country": "UKR"},
            "participants": [
                {"name": "Andrii Sybiha", "kind": "person", "country": "UKR"},
                {"name": "Mihai Popșoi", "kind": "person", "country": "MDA"},
            ],
            "format": "bilateral",
            "topics": ["energy security"],
            "evidence": [
                {"quote": "Andrii Sybiha met Moldova's Foreign Minister Mihai Popșoi in Kyiv"}
            ],
        }
    ],
    "claims": [
        {
            "id": "c1",
            "speaker": {"name": "Sybiha", "canonical_name": "Andrii Sybiha", "kind": "person"},
            "text": "Sybiha said Ukraine and Moldova will connect their power grids by winter.",
            "quote": {"quote": "We will connect our grids by winter,"},
            "quote_type": "direct",
            "claim_type": "intention",
            "evidence": [{"quote": '"We will connect our grids by winter," Sybiha said'}],
        }
    ],
}


def _first_half() -> dict[str, Any]:
    """The meeting, as an answer for the first half of the cut-off article (which ends
    with the sentence of the meeting's first quote)."""
    meeting = copy.deepcopy(FAULT_ANSWER["events"][0])
    meeting["evidence"] = meeting["evidence"][:1]
    return {"events": [meeting], "claims": []}


def _second_half() -> dict[str, Any]:
    """The claim, as an answer for the second half."""
    return {"events": [], "claims": FAULT_ANSWER["claims"]}


@dataclass(frozen=True)
class Scenario:
    """One recorded fault case."""

    name: str
    article_file: str
    steps: tuple[llm.Step, ...]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def article(self) -> Article:
        path = DATA / self.article_file
        return Article(id=path.stem, text=path.read_bytes().decode("utf-8"), source=str(path))

    @property
    def directory(self) -> Path:
        return FAULTS / self.name


GOOD = llm.answer(FAULT_ANSWER)
INVENTED = llm.answer(_with_invented_claim())
INVALID = llm.answer(_schema_invalid())

SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("rate_limited", "fault_article.txt", (llm.http_error(429, "7"), GOOD)),
        Scenario("server_error", "fault_article.txt", (llm.http_error(500), GOOD)),
        Scenario("malformed_then_fixed", "fault_article.txt", (llm.malformed(FAULT_ANSWER), GOOD)),
        Scenario("schema_invalid_then_fixed", "fault_article.txt", (INVALID, GOOD)),
        Scenario("ungrounded_then_fixed", "fault_article.txt", (INVENTED, GOOD)),
        Scenario("ungrounded_stays", "fault_article.txt", (INVENTED, INVENTED, INVENTED)),
        Scenario("invalid_exhausted", "fault_article.txt", (INVALID, INVALID, INVALID)),
        Scenario("transient_exhausted", "fault_article.txt", (llm.http_error(503),) * 6),
        Scenario("truncated", "fault_article.txt", (llm.truncated(FAULT_ANSWER),) * 7),
        Scenario(
            "truncated_then_split",
            "fault_article.txt",
            (llm.truncated(FAULT_ANSWER), llm.answer(_first_half()), llm.answer(_second_half())),
        ),
        Scenario("refusal", "fault_article.txt", (llm.refusal(),)),
        Scenario("unauthorized", "fault_article.txt", (llm.http_error(401),)),
        Scenario("template_syntax", "template_article.txt", (llm.answer(TEMPLATE_ANSWER),)),
        Scenario("mode_json_schema", "fault_article.txt", (GOOD,), {"mode": "json_schema"}),
        Scenario("mode_md_json", "fault_article.txt", (GOOD,), {"mode": "md_json"}),
    )
}
"""Every scenario by name. Recorded with max_reasks=2 and max_transient_retries=5."""
