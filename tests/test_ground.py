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


PARAPHRASE = "Japan werde der NATO nicht beitreten, sondern die Partnerschaft vertieft"
DENIAL = (
    "Tokio. Der Sprecher sagte, Japan werde der NATO nicht beitreten, sondern die "
    "Partnerschaft vertiefen. Das Ministerium bestätigte die Linie."
)


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("Japan werde der NATO beitreten, sondern die Partnerschaft vertiefen", False),
        ("Japan werde der NATO nicht beitreten, sondern die Partnerschaft vertieft", True),
        ("Japan werde der NATO niemals beitreten, sondern die Partnerschaft vertiefen", False),
    ],
)
def test_a_fuzzy_match_never_drops_or_changes_a_negation(quote: str, found: bool) -> None:
    span = ArticleIndex(DENIAL).locate(quote)
    assert (span is not None) is found
    if span is not None:
        assert "nicht" in DENIAL[span.start : span.end]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("Він заявив, що Україна не отримає зброю від цієї країни найближчим часом.",
         "Він заявив, що Україна отримає зброю від цієї країни найближчим часом"),
        ("The minister said the talks would not resume before the summer break.",
         "The minister said the talks would resume before the summer break"),
        ("Ministrul a spus că Moldova nu va semna acordul în această toamnă.",
         "Ministrul a spus că Moldova va semna acordul în această toamnă"),
        ("De minister zei dat Nederland geen nieuwe wapens zal leveren dit jaar.",
         "De minister zei dat Nederland nieuwe wapens zal leveren dit jaar"),
    ],
)  # fmt: skip
def test_negations_count_in_every_language(text: str, quote: str) -> None:
    assert ArticleIndex(text).locate(quote) is None


def test_a_located_quote_holds_the_articles_own_words() -> None:
    extraction = ArticleExtraction.model_validate(
        {
            "claims": [
                {
                    "id": "c1",
                    "speaker": {"name": "Der Sprecher", "kind": "person"},
                    "text": "Japan will not join NATO.",
                    "quote_type": "indirect",
                    "claim_type": "denial",
                    "evidence": [
                        {"quote": PARAPHRASE},
                        {"quote": "Das Ministerium bestätigte die Linie."},
                    ],
                }
            ]
        }
    )
    assert ground(extraction, ArticleIndex(DENIAL)) == []
    fuzzy, exact = extraction.claims[0].evidence
    assert fuzzy.match is MatchKind.FUZZY
    assert fuzzy.quote == DENIAL[fuzzy.start : fuzzy.end]
    assert (
        fuzzy.model_quote
        == "Japan werde der NATO nicht beitreten, sondern die Partnerschaft vertieft"
    )
    assert exact.match is MatchKind.EXACT
    assert exact.model_quote is None


def test_evidence_only_in_removed_page_junk_supports_nothing() -> None:
    from eventx.extraction.grounding import MappedIndex, removed_text_warnings
    from eventx.ingest.clean import clean

    text = (
        "Tokio. Japans Verteidigungsminister traf am Montag seinen ukrainischen Amtskollegen.\n"
        "Neuigkeiten werden geladen…\n"
        "Lesen Sie auch\n"
        "- Kanzler trifft Präsidenten von Frankreich in Paris\n"
        "- Fußball: Pokalspiel verschoben\n"
    )
    cleaned = clean(text)
    assert "Kanzler" not in cleaned.text
    index = MappedIndex(ArticleIndex(cleaned.text), cleaned.offsets, ArticleIndex(text))
    extraction = ArticleExtraction.model_validate(
        {
            "events": [
                {
                    "id": "e1",
                    "type": "meeting",
                    "summary": "The chancellor met France's president.",
                    "status": "occurred",
                    "participants": [{"name": "Kanzler", "kind": "person"}],
                    "evidence": [{"quote": "Kanzler trifft Präsidenten von Frankreich in Paris"}],
                }
            ]
        }
    )
    [missing] = ground(extraction, index)
    assert missing.in_removed_text
    [warning] = removed_text_warnings([missing])
    assert (warning.code, warning.record_id) == ("evidence_in_removed_text", "e1")
    drop_ungrounded(extraction)
    assert extraction.events == []


def _meeting(quote: str, *names: str) -> dict[str, object]:
    return {
        "type": "meeting",
        "id": "e1",
        "summary": "A meeting.",
        "status": "occurred",
        "participants": [{"name": name, "kind": "state"} for name in names],
        "evidence": [{"quote": quote}],
    }


def test_records_whose_actors_are_named_nowhere_near_their_evidence_are_found() -> None:
    from eventx.extraction.grounding import unsupported_records

    text = (
        "Kyjiw. Die ukrainischen und japanischen Minister trafen sich am Montag. "
        + "Das Wetter war gut. " * 30
        + "Die Gespräche dauerten zwei Stunden."
    )
    near = ArticleExtraction.model_validate(
        {"events": [_meeting("trafen sich am Montag", "Ukraine", "Japan")]}
    )
    far = ArticleExtraction.model_validate(
        {"events": [_meeting("Die Gespräche dauerten zwei Stunden.", "Ukraine", "Japan")]}
    )
    for extraction in (near, far):
        assert ground(extraction, ArticleIndex(text)) == []
    assert unsupported_records(near, text) == []
    assert unsupported_records(far, text) == ["e1"]
