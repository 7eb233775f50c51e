"""Grounding: quotes are located in the original text by eventx, in three tiers."""

from __future__ import annotations

import pytest

from eventx.extraction.grounding import (
    MIN_FUZZY_LENGTH,
    ArticleIndex,
    drop_ungrounded,
    flag_ungrounded,
    ground,
)
from eventx.models import ArticleExtraction, MatchKind
from eventx.settings import GroundingPolicy

GERMAN = "Er sagte:  „Diese Maßnahmen können\nschwerwiegende Folgen haben“ – so das Ministerium."
UKRAINIAN = "Про це сказав прем’єр-міністр Японії Фуміо Кісіда, передає Reuters.\n\nВін зазначив."


def test_exact_match_gives_offsets_of_the_quote() -> None:
    span = ArticleIndex(GERMAN).locate("so das Ministerium")
    assert span is not None
    assert span.match is MatchKind.EXACT
    assert GERMAN[span.start : span.end] == "so das Ministerium"


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        (
            '"Diese Maßnahmen können schwerwiegende Folgen haben"',
            "„Diese Maßnahmen können\nschwerwiegende Folgen haben“",
        ),
        ("er sagte: „diese", "Er sagte:  „Diese"),
        ("haben“ - so das", "haben“ – so das"),
    ],
)
def test_normalized_match_folds_quotes_dashes_case_and_whitespace(
    quote: str, expected: str
) -> None:
    span = ArticleIndex(GERMAN).locate(quote)
    assert span is not None
    assert span.match is MatchKind.NORMALIZED
    assert GERMAN[span.start : span.end] == expected


def test_normalized_match_works_for_cyrillic_apostrophes_and_paragraphs() -> None:
    quote = "прем'єр-міністр Японії Фуміо Кісіда, передає Reuters. Він зазначив."
    span = ArticleIndex(UKRAINIAN).locate(quote)
    assert span is not None
    assert span.match is MatchKind.NORMALIZED
    assert UKRAINIAN[span.start : span.end].startswith("прем’єр-міністр")
    assert UKRAINIAN[span.start : span.end].endswith("Він зазначив.")


def test_nfkc_folding_keeps_offsets_in_the_original() -> None:
    text = "Die ﬁnnische Ministerin traf ihn."  # U+FB01 ligature, one char in the original
    span = ArticleIndex(text).locate("Die finnische Ministerin")
    assert span is not None
    assert text[span.start : span.end] == "Die ﬁnnische Ministerin"


def test_fuzzy_match_finds_a_slightly_paraphrased_quote_on_word_boundaries() -> None:
    text = (
        "Vorher. Nach Angaben des Vertreters stellt die Invasion in die Ukraine eine "
        "Verletzung dar. Danach."
    )
    quote = "Nach Angaben des Vertreters stellt die Invasion der Ukraine eine Verletzung dar."
    span = ArticleIndex(text).locate(quote)
    assert span is not None
    assert span.match is MatchKind.FUZZY
    assert 90 <= span.score < 100
    assert text[span.start : span.end] == (
        "Nach Angaben des Vertreters stellt die Invasion in die Ukraine eine Verletzung dar."
    )


@pytest.mark.parametrize(
    "quote",
    [
        "Deutschland wird Polen im Sommer weitere Panzer liefern",
        "Японія не планує стати частиною НАТО",
    ],
)
def test_text_that_is_not_in_the_article_is_not_located(quote: str) -> None:
    assert ArticleIndex(GERMAN).locate(quote) is None


def test_short_quotes_do_not_match_fuzzily() -> None:
    quote = "Folgen habem"
    assert len(quote) < MIN_FUZZY_LENGTH
    assert ArticleIndex(GERMAN).locate(quote) is None


def _extraction(*quotes: str) -> ArticleExtraction:
    claims = [
        {
            "id": f"c{number}",
            "speaker": {"name": "Ministerium", "kind": "government"},
            "text": "The ministry warned of consequences.",
            "quote_type": "indirect",
            "claim_type": "warning",
            "evidence": [{"quote": quote}],
        }
        for number, quote in enumerate(quotes, start=1)
    ]
    return ArticleExtraction.model_validate({"claims": claims})


def test_ground_fills_offsets_and_reports_what_it_cannot_find() -> None:
    extraction = _extraction("so das Ministerium", "ein erfundenes Zitat, das nirgends steht")
    missing = ground(extraction, ArticleIndex(GERMAN))
    assert [item.record_id for item in missing] == ["c2"]
    found = extraction.claims[0].evidence[0]
    assert (found.start, found.end, found.match) == (
        GERMAN.index("so das"),
        len(GERMAN) - 1,
        "exact",
    )


def test_drop_policy_removes_records_left_without_evidence() -> None:
    extraction = _extraction("so das Ministerium", "ein erfundenes Zitat, das nirgends steht")
    ground(extraction, ArticleIndex(GERMAN))
    warnings = drop_ungrounded(extraction)
    assert [claim.id for claim in extraction.claims] == ["c1"]
    assert [(w.code, w.record_id) for w in warnings] == [("ungrounded_record_dropped", "c2")]


def test_keep_policy_flags_ungrounded_evidence() -> None:
    extraction = _extraction("ein erfundenes Zitat, das nirgends steht")
    missing = ground(extraction, ArticleIndex(GERMAN))
    warnings = flag_ungrounded(missing)
    assert extraction.claims[0].evidence[0].start is None
    assert [(w.code, w.record_id) for w in warnings] == [("ungrounded_evidence_kept", "c1")]
    assert GroundingPolicy("keep") is GroundingPolicy.KEEP


def test_a_fuzzy_match_never_changes_a_number() -> None:
    text = "Minister 98 met Foreign Minister Popșoi for talks round 98 in Chisinau."
    index = ArticleIndex(text)
    other = "Minister 14 met Foreign Minister Popșoi for talks round 14 in Chisinau."
    assert index.locate(other) is None
    reworded = "Minister 98 met Foreign Minister Popsoi for the talks round 98 in Chisinau."
    span = index.locate(reworded)
    assert span is not None
    assert span.match == "fuzzy"
