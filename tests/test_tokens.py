"""Token estimates: calibrated against the o200k tokenizer, cheap, and bounded.

The calibration texts are the seeds, the development articles (10 languages), the JSON
schemas, the instructions, and ``tests/data/scripts/``: short news paragraphs written for
this test in Chinese, Japanese, Korean, Thai, Arabic, Persian, Hebrew, Hindi, Greek,
Vietnamese and Turkish.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from eventx.extraction.prompt import INSTRUCTIONS
from eventx.extraction.tokens import TOKENS_PER_MESSAGE, count_message_tokens
from eventx.ingest.chunk import sentence_spans
from eventx.ingest.tokens import MAX_TOKENS_PER_CHAR, count_tokens

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = (0.90, 1.25)
"""Estimate / o200k count allowed for a whole text: leaning to over-estimate."""


def _calibration_texts() -> dict[str, str]:
    texts = {f"seed {p.stem}": p.read_text(encoding="utf-8") for p in ROOT.glob("seeds/*.txt")}
    for path in ROOT.glob("gold/dev/d*.txt"):
        texts[f"dev {path.stem}"] = path.read_text(encoding="utf-8")
    for path in (ROOT / "tests/data/scripts").glob("*.txt"):
        texts[f"script {path.stem}"] = path.read_text(encoding="utf-8")
    for path in ROOT.glob("schemas/*.json"):
        compact = json.dumps(json.loads(path.read_text(encoding="utf-8")), separators=(",", ":"))
        texts[f"schema {path.stem}"] = compact
    texts["instructions"] = INSTRUCTIONS
    return texts


TEXTS = _calibration_texts()


@pytest.fixture(scope="module")
def o200k() -> Callable[[str], int]:
    """The exact o200k_base count (bpe-openai is a development dependency)."""
    bpe_openai = pytest.importorskip("bpe_openai")
    with warnings.catch_warnings():  # its data loader uses a deprecated importlib API
        warnings.simplefilter("ignore", DeprecationWarning)
        encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: len(encoding.encode(text))


def test_the_calibration_set_covers_the_languages_and_scripts() -> None:
    dev_languages = {name.split("_")[1] for name in TEXTS if name.startswith("dev ")}
    assert len(dev_languages) == 10
    scripts = {name.split()[1] for name in TEXTS if name.startswith("script ")}
    assert {"zh", "ja", "ko", "th", "ar", "he", "hi", "el"} <= scripts


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_estimate_is_within_tolerance_of_o200k(name: str, o200k) -> None:
    text = TEXTS[name]
    ratio = count_tokens(text) / o200k(text)
    assert TOLERANCE[0] <= ratio <= TOLERANCE[1], f"{name}: estimate / o200k = {ratio:.3f}"


def test_over_all_texts_the_estimate_leans_to_over_estimate(o200k) -> None:
    estimated = sum(count_tokens(text) for text in TEXTS.values())
    exact = sum(o200k(text) for text in TEXTS.values())
    assert 1.0 <= estimated / exact <= 1.2


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("Japan", 1, 2),
        ("2025", 2, 2),  # o200k: "202" "5"
        ("日本と北大西洋条約機構", 8, 10),
        ("รัฐมนตรีว่าการกระทรวงการต่างประเทศ", 12, 16),
    ],
)
def test_small_texts(text: str, low: int, high: int) -> None:
    assert low <= count_tokens(text) <= high


@pytest.mark.parametrize(
    "name", ["seed 004_8ea74db2dcd210fd", "script zh", "dev d18_pl_rau_lavrov"]
)
def test_estimates_add_up_over_the_sentences_of_a_text(name: str) -> None:
    text = TEXTS[name]
    sentences = [text[start:end] for start, end in sentence_spans(text)]
    summed = sum(count_tokens(sentence) for sentence in sentences)
    assert len(sentences) > 5
    assert summed == pytest.approx(count_tokens(text), rel=0.05)  # what chunking relies on


def test_every_character_is_bounded() -> None:
    samples = ["ą", "й", ".", "\n", "7", "x" * 1000, "ąę" * 50, *TEXTS.values()]
    for text in samples:
        assert count_tokens(text) <= math.ceil(len(text) * MAX_TOKENS_PER_CHAR)


def test_message_tokens_add_framing_per_message() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    expected = 3 + 2 * TOKENS_PER_MESSAGE + count_tokens("Be brief.") + count_tokens("Hi")
    assert count_message_tokens(messages) == expected
    parts = [{"type": "text", "text": "Hi"}]
    assert count_message_tokens([{"role": "user", "content": parts}]) > 3 + TOKENS_PER_MESSAGE


def test_a_huge_text_is_estimated_in_proportion_to_its_length() -> None:
    sentence = "Sybiha met Popșoi in Kyiv on 14 May 2025. "
    huge = sentence * 50_000  # 2 MB, far past what a tokenizer accepts in one piece
    assert count_tokens(huge) == pytest.approx(count_tokens(sentence * 1000) * 50, rel=1e-3)
