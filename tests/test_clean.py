"""Cleaning: page junk goes, the body stays, and every kept character maps back exactly."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from eventx.cli import main
from eventx.errors import ConfigurationError
from eventx.extraction.grounding import ArticleIndex, MappedIndex
from eventx.ingest.clean import OffsetMap, clean, is_boilerplate, unchanged
from eventx.models import ExtractionResult, MatchKind
from eventx.settings import Settings
from tests.conftest import SEEDS
from tests.llm_server.server import is_cleaned_from
from tests.test_seeds import BODY

JUNK_SEEN_IN_SEEDS = [
    "Alle Nachrichten",
    "Neuigkeiten werden geladen",
    "Der Markt hat Ozon Pharmaceuticals reduziert",
    "In Kiew kam es zu neuen Explosionen",
    "Loading...",
    "Abonnieren Sie",
    "© АС РАЗВОРОТ",
    "Lesen Sie auch",
    "Sikorski nannte das einzige Land",
    "[Anzeige_1]",
    "[Anzeige_2]",
    "Kommentar (0)",
    "Quelle: https://",
    "Etikett:",
    "No data",
    "Gleiches Thema",
    "Einsäulenpagode von Hoa Lu",
    "Categories:",
    "Recent Posts",
    "хв. ago",
    "Лукашенко запропонував",
    "Фото: Getty Images",
]


def _seed(article_id: str) -> str:
    return (SEEDS / f"{article_id}.txt").read_bytes().decode("utf-8")


def _body_lines(article_id: str) -> list[str]:
    text = _seed(article_id)
    start, end = (text.index(marker) for marker in BODY[article_id])
    return [line.strip() for line in text[start:end].splitlines() if line.strip()]


def _assert_maps_back(cleaned) -> None:
    for position, char in enumerate(cleaned.text):
        assert cleaned.original[cleaned.offsets.to_original(position)] == char


@pytest.mark.parametrize("article_id", sorted(BODY))
def test_every_kept_character_maps_to_the_same_character_of_the_original(article_id) -> None:
    cleaned = clean(_seed(article_id))
    assert cleaned.offsets.length == len(cleaned.text)
    _assert_maps_back(cleaned)


@pytest.mark.parametrize("article_id", sorted(BODY))
def test_the_body_is_kept_line_for_line(article_id) -> None:
    cleaned = clean(_seed(article_id)).text
    for line in _body_lines(article_id):
        assert line.replace(" [Anzeige_1]", "") in cleaned


def test_the_junk_of_the_seeds_is_removed() -> None:
    cleaned = "\n".join(clean(_seed(article_id)).text for article_id in BODY)
    for junk in JUNK_SEEN_IN_SEEDS:
        assert junk not in cleaned, junk


def test_what_cleaning_removed_is_counted() -> None:
    cleaned = clean(_seed("004_8ea74db2dcd210fd"))
    assert cleaned.removed_chars == len(cleaned.original) - len(cleaned.text) > 1000
    assert cleaned.removed_spans == 2  # the category line above, the teasers below


PAGE = """\
Share on Facebook
Ministers meet in Oslo

The foreign ministers of Norway and Japan met in Oslo on Monday to discuss Arctic security.

Read more:
- Storm hits the coast
- Prices rise again

The talks, the first since 2019, ended with a joint statement on shipping routes.
Advertisement
12 comments
We use cookies to improve your experience. Accept cookies?
"""


def test_rules_are_general_not_tailored_to_the_seeds() -> None:
    cleaned = clean(PAGE).text
    assert cleaned == (
        "Ministers meet in Oslo\n\n"
        "The foreign ministers of Norway and Japan met in Oslo on Monday to discuss Arctic "
        "security.\n\n"
        "The talks, the first since 2019, ended with a joint statement on shipping routes.\n"
    )


def test_a_list_after_a_related_header_ends_where_prose_resumes() -> None:
    text = "First paragraph of the body.\n\nRead also\n- One headline\n- Another\nBody goes on.\n"
    assert clean(text).text == "First paragraph of the body.\n\nBody goes on.\n"


def test_an_inline_ad_marker_is_cut_out_of_its_line() -> None:
    text = "Kihara met Hakkanen in Tokyo. [Anzeige_1]\nThey agreed to talk again.\n"
    cleaned = clean(text)
    assert cleaned.text == "Kihara met Hakkanen in Tokyo.\nThey agreed to talk again.\n"
    _assert_maps_back(cleaned)


def test_a_text_that_looks_like_junk_throughout_is_left_alone() -> None:
    cleaned = clean("Loading...\nRecent Posts\n")
    assert cleaned.text == cleaned.original
    assert cleaned.removed_spans == 0


@pytest.mark.parametrize(
    "line",
    ["Neuigkeiten werden geladen...", "[Anzeige_3]", "Kommentar (0)", "3 хв. ago", "vor 5 Minuten",
     "Quelle: https://example.org/a", "Tags: NATO, Japan", "© 2025 Example Media",
     "Поділитися", "Завантаження…", "5 comments", "Subscribe to our newsletter",
     "We use cookies to improve your experience.", "Підпишіться на наш Telegram-канал"],
)  # fmt: skip
def test_boilerplate_lines_in_several_languages(line) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    ["Der Minister sprach von einer Stärkung der Zusammenarbeit.", "Japan und die NATO",
     "The ministers shared their comments on the draft with reporters on Monday.",
     "The bakery exports cookies to Japan.", "The ministry's newsletter reported the talks.",
     "Both countries agreed to sign up for the new framework."],
)  # fmt: skip
def test_body_lines_are_not_boilerplate(line) -> None:
    assert not is_boilerplate(line)


def test_a_span_across_a_removed_gap_has_no_original_span() -> None:
    offsets = OffsetMap.from_kept([(0, 5), (10, 15)])
    assert offsets.span_to_original(1, 4) == (1, 4)
    assert offsets.span_to_original(6, 9) == (11, 14)
    assert offsets.span_to_original(3, 7) is None
    assert offsets.slice(3, 8).segments == ((0, 3, 2), (2, 10, 3))


def test_quotes_are_found_in_the_cleaned_text_and_reported_in_the_original() -> None:
    original = "Loading...\nMinister A met Minister B.\nRecent Posts\nA teaser\n"
    cleaned = clean(original)
    index = MappedIndex(ArticleIndex(cleaned.text), cleaned.offsets, ArticleIndex(original))
    span = index.locate("Minister A met Minister B.")
    assert span is not None
    assert span.match is MatchKind.EXACT
    assert original[span.start : span.end] == "Minister A met Minister B."
    assert index.locate("A teaser") is None  # junk is not evidence


def test_a_quote_over_a_removed_gap_is_looked_up_in_the_original() -> None:
    original = "Alpha met Beta. [Anzeige_1]\nThey agreed.\n"
    cleaned = clean(original)
    index = MappedIndex(ArticleIndex(cleaned.text), cleaned.offsets, ArticleIndex(original))
    assert index.locate("Alpha met Beta.\nThey agreed.") is None  # not in the original either
    span = index.locate("Beta. [Anzeige_1]")
    assert span is None  # the model never saw it


def test_unchanged_is_the_identity() -> None:
    cleaned = unchanged("abc")
    assert (cleaned.text, cleaned.offsets.to_original(2), cleaned.removed_chars) == ("abc", 2, 0)


def test_cleaning_is_switchable_by_setting_and_environment() -> None:
    assert Settings.resolve(env={}).clean is True
    assert Settings.resolve(env={"EVENTX_CLEAN": "0"}).clean is False
    assert Settings.resolve(env={"EVENTX_CLEAN": "off"}, clean=True).clean is True
    with pytest.raises(ConfigurationError, match="clean must be true or false"):
        Settings.resolve(env={"EVENTX_CLEAN": "maybe"})


@pytest.mark.parametrize(("flag", "cleaned"), [((), True), (("--no-clean",), False)])
def test_the_cli_sends_cleaned_text_unless_told_not_to(server, tmp_path, flag, cleaned) -> None:
    seed = SEEDS / "001_3d83a5f5de596b38.txt"
    output = tmp_path / "out.jsonl"
    args = ["extract", str(seed), "--base-url", server.base_url, "-o", str(output), *flag]
    outcome = CliRunner().invoke(main, args, env={"EVENTX_API_KEY": "k"})
    assert outcome.exit_code == 0, outcome.output
    sent = server.requests[0]["messages"][1]["content"]
    assert ("Lesen Sie auch" not in sent) is cleaned
    result = ExtractionResult.model_validate_json(output.read_text(encoding="utf-8"))
    assert len(result.extraction.claims) == 5  # the scripted answer is found either way
    assert (result.cleaning is not None) is cleaned
    if result.cleaning is not None:
        assert result.cleaning.original_chars - result.cleaning.cleaned_chars == 592
        assert result.cleaning.removed_spans == 1
    assert (result.language, result.language_source) == ("de", "detected")


def test_the_scripted_server_knows_a_seed_by_its_cleaned_text_only() -> None:
    text = _seed("003_690e5601b5893f43")
    assert is_cleaned_from(clean(text).text, text)
    assert not is_cleaned_from("Japan und die NATO", text)  # a fragment is not the article
    assert not is_cleaned_from(clean(text).text + "Invented line.", text)
    assert not is_cleaned_from(_seed("002_2306dc31ba5326a4"), text)


def test_a_long_run_of_headlines_next_to_junk_goes_entirely() -> None:
    body = "The ministers met in Oslo on Monday and agreed to meet again next year.\n"
    headlines = "".join(f"Headline number {i} about something else\n" for i in range(3000))
    assert clean(body + "Loading...\n" + headlines).text == body
    assert clean(headlines + "Loading...\n" + body).text == body
