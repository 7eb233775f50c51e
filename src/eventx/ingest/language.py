"""Language detection: an ISO 639-1 code for the article, or None when unsure.

Uses ``py3langid`` (a maintained fork of langid.py): a naive Bayes model over byte
n-grams for 97 languages, bundled in the wheel (about 4 MB), deterministic, offline,
with normalized probabilities. The model is loaded once, on first use. See
docs/cleaning.md for why it was chosen over lingua.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

MIN_CONFIDENCE = 0.9
"""Below this probability (0-1) of the best language, no language is recorded."""

MIN_LETTERS = 20
"""Texts with fewer letters are too short to tell; no language is recorded."""


@functools.cache
def _identifier() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in, or None when unsure.

    None is returned for texts with fewer than :data:`MIN_LETTERS` letters and when
    the best language's probability is below :data:`MIN_CONFIDENCE` (mixed-language
    text, names only, numbers).
    """
    if sum(char.isalpha() for char in text) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(text)
    if confidence < MIN_CONFIDENCE or len(code) != 2:
        return None
    return str(code)
