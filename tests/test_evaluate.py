"""Evaluation against gold: matching rules, measurements, and the `eventx eval` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from eventx import ConfigurationError
from eventx.analysis.evaluate import actors_agree, date_score, evaluate, pair_up
from eventx.analysis.export import load_results
from eventx.analysis.gold import GoldActor, GoldArticle, body_span, load_gold
from eventx.cli import main
from eventx.cli.common import EXIT_USAGE
from eventx.errors import InputError
from eventx.models import Actor, AidDelivery, DateRef, Evidence, ExtractionResult
from tests.conftest import ROOT

GOLD = ROOT / "gold" / "seeds.yaml"


@pytest.fixture
def predictions(seed_predictions: Path) -> list[ExtractionResult]:
    return load_results(seed_predictions)


@pytest.fixture(scope="module")
def gold() -> list[GoldArticle]:
    return load_gold(GOLD)


def _article_text(article: GoldArticle) -> str:
    assert article.source is not None
    return Path(article.source).read_text(encoding="utf-8")


def test_gold_evidence_is_verbatim_and_inside_the_body(gold: list[GoldArticle]) -> None:
    assert len(gold) == 5
    for article in gold:
        text = _article_text(article)
        start, end = body_span(article, text)
        assert 0 <= start < end <= len(text)
        for record in [*article.events, *article.claims]:
            assert record.evidence, f"{article.id}: gold record without evidence"
            for quote in record.evidence:
                at = text.find(quote)
                assert start <= at, (article.id, quote)
                assert at + len(quote) <= end, (article.id, quote)


def test_actors_agree_by_country_or_name() -> None:
    japan = GoldActor(name="Japan", country="JPN")
    assert actors_agree(japan, Actor(name="Tokio", kind="state", country="JPN"))
    assert actors_agree(
        GoldActor(name="Japan", country="jpn"), Actor(name="x", kind="state", country="JPN")
    )
    assert not actors_agree(japan, Actor(name="Kiew", kind="state", country="UKR"))
    nato = GoldActor(name="NATO", aliases=["North Atlantic Treaty Organization"])
    assert actors_agree(nato, Actor(name="NATO", kind="igo"))
    assert actors_agree(
        nato,
        Actor(
            name="Nordatlantikpakt", canonical_name="north atlantic treaty organization", kind="igo"
        ),
    )
    assert not actors_agree(nato, Actor(name="EU", canonical_name="European Union", kind="igo"))


def test_dates_compare_by_iso_partial_value() -> None:
    def ref(value: str | None) -> DateRef:
        return DateRef(text="x", value=value)

    assert date_score("2025-04-09", ref("2025-04-09")) == 1.0
    assert date_score("2025-04-09", ref("--04-09")) == 0.5
    assert date_score("2025-04-09", ref("2025-04")) == 0.5
    assert date_score("2025-04-09", ref("2025-04-10")) == 0.0
    assert date_score("--07", ref(None)) == 0.0
    assert date_score(None, None) == 1.0
    assert date_score(None, ref("2024")) == 0.0


def test_pairing_is_optimal_not_greedy() -> None:
    # Greedy would take the best cell (0,0) and leave (1,1) below threshold: one pair.
    scores = [[0.9, 0.8], [0.85, 0.1]]
    pairs = pair_up(scores, 0.5)
    assert sorted((r, c) for r, c, _ in pairs) == [(0, 1), (1, 0)]
    assert pair_up([], 0.5) == []
    assert pair_up([[], []], 0.5) == []


def test_evaluation_without_scipy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_scipy(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    with pytest.raises(ConfigurationError, match=r'pip install "eventx\[eval\]"'):
        pair_up([[1.0]], 0.5)


def test_seed_run_against_gold(
    gold: list[GoldArticle], predictions: list[ExtractionResult]
) -> None:
    evaluation = evaluate(gold, predictions)
    assert evaluation.articles == 5
    assert not evaluation.failed
    assert not evaluation.missing
    assert evaluation.events.gold == 11
    assert evaluation.tallies["claim"].gold == 20
    assert evaluation.events.f1 >= 0.9
    assert evaluation.tallies["claim"].recall >= 0.9
    assert evaluation.grounding_rate == 1.0
    assert evaluation.junk == 0
    assert evaluation.records > 30
    # eventx resolves every date the gold gives, "в липні" (in July) → "--07" included.
    assert evaluation.fields["event.date"].correct == evaluation.fields["event.date"].total


def test_a_dropped_event_costs_recall_of_its_type(
    gold: list[GoldArticle], predictions: list[ExtractionResult]
) -> None:
    before = evaluate(gold, predictions).tallies["aid_delivery"]
    target = next(r for r in predictions if r.article_id.startswith("004"))
    assert target.extraction is not None
    target.extraction.events = [e for e in target.extraction.events if e.type != "aid_delivery"]
    after = evaluate(gold, predictions)
    tally = after.tallies["aid_delivery"]
    assert (tally.gold, tally.matched) == (before.gold, before.matched - 1)
    assert tally.precision == 1.0
    missed = [m for m in after.mismatches if m.side == "missed" and m.kind == "aid_delivery"]
    assert [m.article_id for m in missed] == [target.article_id]


def test_a_wrong_donor_is_a_field_error_or_a_miss(
    gold: list[GoldArticle], predictions: list[ExtractionResult]
) -> None:
    target = next(r for r in predictions if r.article_id.startswith("004"))
    assert target.extraction is not None
    aid = next(e for e in target.extraction.events if isinstance(e, AidDelivery))
    aid.donor = Actor(name="Frankreich", canonical_name="France", kind="state", country="FRA")
    evaluation = evaluate(gold, predictions)
    donor = evaluation.fields["aid_delivery.donor"]
    assert donor.correct == donor.total - 1


def test_evidence_in_page_junk_counts_as_junk_and_missing_offsets_as_ungrounded(
    gold: list[GoldArticle], predictions: list[ExtractionResult]
) -> None:
    target = next(r for r in predictions if r.article_id.startswith("000"))
    assert target.extraction is not None
    text = _article_text(next(a for a in gold if a.id == target.article_id))
    junk = "In Kiew kam es zu Explosionen"
    at = text.index(junk)
    claim = target.extraction.claims[0].model_copy(deep=True)
    claim.id = "junk"
    claim.quote = None
    claim.evidence = [Evidence(quote=junk, start=at, end=at + len(junk))]
    target.extraction.claims.append(claim)
    target.extraction.claims[1].evidence[0].start = None
    evaluation = evaluate(gold, predictions)
    assert evaluation.junk == 1
    assert evaluation.located == evaluation.evidence - 1
    spurious = [m for m in evaluation.mismatches if m.side == "spurious"]
    assert any(m.record.startswith("junk:") for m in spurious)


def test_missing_and_failed_articles_count_as_misses(
    gold: list[GoldArticle], predictions: list[ExtractionResult]
) -> None:
    failed = predictions[1].model_copy(
        update={"extraction": None, "error": {"category": "api", "message": "boom"}}
    )
    evaluation = evaluate(gold, [predictions[0], failed, *predictions[3:]])
    assert evaluation.failed == [failed.article_id]
    assert evaluation.missing == [predictions[2].article_id]
    assert evaluation.overall.recall < 1.0
    assert evaluation.overall.precision >= 0.9


def test_body_markers_missing_from_the_text_name_the_article(gold: list[GoldArticle]) -> None:
    article = gold[0].model_copy(deep=True)
    assert article.body is not None
    article.body.start = "nicht im Text"
    with pytest.raises(InputError, match="nicht im Text") as caught:
        body_span(article, _article_text(article))
    assert caught.value.article_id == article.id


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_cli_table_json_and_min_f1(seed_predictions: Path) -> None:
    base = ["eval", "--gold", str(GOLD), "--pred", str(seed_predictions)]
    table = _run(*base)
    assert table.exit_code == 0, table.output
    assert "grounding rate: 1.000" in table.output
    assert "aid_delivery.quantities" in table.output
    assert re.search(r"spurious +claim +004_8ea74db2dcd210fd +c3: ", table.output)
    as_json = _run(*base, "--json")
    data = json.loads(as_json.output)
    overall = data["records"]["overall"]["f1"]
    assert 0.9 <= overall < 1.0
    assert _run(*base, "--min-f1", f"{overall - 0.01:.2f}").exit_code == 0
    below = _run(*base, "--min-f1", "1.0")
    assert below.exit_code == 1
    assert "below --min-f1" in below.output


def test_cli_articles_option_overrides_gold_sources(seed_predictions: Path, tmp_path: Path) -> None:
    gold = load_gold(GOLD)
    entries = [{**a.model_dump(exclude={"source"})} for a in gold]
    jsonl = tmp_path / "gold.jsonl"
    jsonl.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries), "utf-8")
    outcome = _run(
        "eval", "--gold", str(jsonl), "--pred", str(seed_predictions),
        "--articles", str(ROOT / "seeds"), "--json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output)["junk"]["records"] > 30


def test_cli_bad_gold_is_a_clear_error(seed_predictions: Path, tmp_path: Path) -> None:
    bad = tmp_path / "gold.yaml"
    bad.write_text("articles:\n  - id: a1\n    events:\n      - type: picnic\n", "utf-8")
    outcome = _run("eval", "--gold", str(bad), "--pred", str(seed_predictions))
    assert outcome.exit_code == EXIT_USAGE
    assert "entry 1" in outcome.output
    assert "events.0.type" in outcome.output
    assert "Traceback" not in outcome.output


def test_without_article_text_junk_is_not_measured_and_says_so(
    seed_predictions: Path, tmp_path: Path
) -> None:
    entries = [a.model_dump(exclude={"source"}) for a in load_gold(GOLD)]
    jsonl = tmp_path / "gold.jsonl"
    jsonl.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries), "utf-8")
    outcome = _run("eval", "--gold", str(jsonl), "--pred", str(seed_predictions))
    assert outcome.exit_code == 0, outcome.output
    assert "no text:        000_6d0568a9ee7619e7" in outcome.output
    assert "0/0 records" in outcome.output
