"""The development gold (gold/dev.yaml): loads, its articles exist, its quotes are verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import eventx
from tests.conftest import ROOT

DEV_GOLD = ROOT / "gold" / "dev.yaml"
# dNN_<language code>_<slug>, e.g. d01_de_iran_ambassador_summoned
ID_PATTERN = re.compile(r"^d\d{2}_(?P<language>[a-z]{2})_[a-z0-9_]+$")


@pytest.fixture(scope="module")
def gold() -> list[eventx.GoldArticle]:
    return eventx.load_gold(DEV_GOLD)


def _text(article: eventx.GoldArticle) -> str:
    assert article.source is not None, f"{article.id}: no source"
    return Path(article.source).read_text(encoding="utf-8")


def _body(article: eventx.GoldArticle, text: str) -> str:
    """The text from the first character of body.start to the last of body.end."""
    assert article.body is not None, f"{article.id}: no body markers"
    start = text.find(article.body.start)
    assert start >= 0, f"{article.id}: body.start {article.body.start!r} is not in the text"
    end = text.find(article.body.end, start)
    assert end >= 0, f"{article.id}: body.end {article.body.end!r} is not after body.start"
    return text[start : end + len(article.body.end)]


def test_dev_gold_has_enough_articles_in_enough_languages(
    gold: list[eventx.GoldArticle],
) -> None:
    assert len(gold) >= 20
    ids = [article.id for article in gold]
    assert len(set(ids)) == len(ids), "duplicate article ids"
    languages = set()
    for article_id in ids:
        match = ID_PATTERN.match(article_id)
        assert match is not None, f"{article_id}: not of the form dNN_<language>_<slug>"
        languages.add(match["language"])
    assert len(languages) >= 5, sorted(languages)


def test_dev_gold_sources_exist_and_are_named_by_id(gold: list[eventx.GoldArticle]) -> None:
    for article in gold:
        assert article.source is not None, f"{article.id}: no source"
        source = Path(article.source)
        assert source.is_file(), f"{article.id}: {source} does not exist"
        assert source.stem == article.id
        assert source.resolve().parent == (ROOT / "gold" / "dev").resolve()


def test_dev_gold_body_markers_are_in_the_text(gold: list[eventx.GoldArticle]) -> None:
    for article in gold:
        body = _body(article, _text(article))
        assert body.strip(), f"{article.id}: empty body"


def test_dev_gold_evidence_is_verbatim_inside_the_body(gold: list[eventx.GoldArticle]) -> None:
    problems = []
    for article in gold:
        text = _text(article)
        body = _body(article, text)
        quotes = [quote for event in article.events for quote in event.evidence]
        quotes += [quote for claim in article.claims for quote in claim.evidence]
        for quote in quotes:
            if quote not in body:
                where = "outside the body" if quote in text else "not in the text"
                problems.append(f"{article.id}: {quote!r} is {where}")
    assert not problems, "\n".join(problems)


def test_dev_gold_records_carry_evidence(gold: list[eventx.GoldArticle]) -> None:
    """Every record can be checked against the text: none without a quote."""
    for article in gold:
        for number, event in enumerate(article.events, start=1):
            assert event.evidence, f"{article.id}: event {number} ({event.type}) has no evidence"
        for number, claim in enumerate(article.claims, start=1):
            assert claim.evidence, f"{article.id}: claim {number} has no evidence"
