"""The claim sweep (``sweep_claims``): sentences that report speech, asked about one by one.

Small models list few claims: asked for every record type, a 1.5B model writes the
events and one claim or two, and asked for claims alone it stops early as well. Asked
about one sentence, the same model rarely misses the statement in it. The sweep picks
the sentences worth that ask without the model: those holding a reporting cue (a verb
of saying or an attributing phrase in the article's language, listed in
``data/reporting_cues.yaml``) or a quotation, that no claim found so far already
covers. Each is asked about with the sentence before it, where the speaker is often
named, as one short excerpt; its claims are grounded in that excerpt and merged with the others by
evidence. The asks share the extraction's system message, so a server's prefix cache
serves everything but the excerpt.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from importlib import resources

import yaml

from eventx.ingest.chunk import Chunk, sentence_spans
from eventx.ingest.prepare import Part, PreparedArticle
from eventx.models import ArticleExtraction
from eventx.settings import SWEEP_ASKS_PER_PART

CUES_FILE = "reporting_cues.yaml"
"""The reporting cues, by language, in ``eventx/extraction/data``."""

COVERED_SHARE = 0.5
"""A sentence counts as covered when claims found so far quote this share of it."""

MIN_SENTENCE_WORDS = 5
"""Shorter sentences (headings, captions, bylines) are not asked about."""

_QUOTATION = re.compile(r"[„“”«»\"]([^„“”«»\"\n]{20,})[“”»«\"]")
"""A quotation of at least 20 characters in any of the usual quotation marks."""


@functools.cache
def reporting_cues() -> dict[str, tuple[str, ...]]:
    """The reporting cues eventx ships, by language."""
    text = resources.files("eventx.extraction").joinpath("data", CUES_FILE).read_text("utf-8")
    return {language: tuple(cues) for language, cues in yaml.safe_load(text).items()}


@functools.cache
def cue_pattern(language: str | None) -> re.Pattern[str]:
    """The cues of ``language`` as one pattern; every language's when it has none listed."""
    cues = reporting_cues()
    chosen = cues.get(language or "") or tuple(cue for listed in cues.values() for cue in listed)
    return re.compile(r"(?<!\w)(?:" + "|".join(chosen) + ")", re.IGNORECASE)


def reports_speech(sentence: str, language: str | None) -> bool:
    """True when ``sentence`` holds a reporting cue of ``language`` or a quotation."""
    return bool(cue_pattern(language).search(sentence) or _QUOTATION.search(sentence))


def sweep_parts(prepared: PreparedArticle, found: Iterable[ArticleExtraction]) -> list[Part]:
    """The excerpts to ask about: each uncovered sentence reporting speech, with the
    sentence before it, in text order; the first
    :data:`~eventx.settings.SWEEP_ASKS_PER_PART` times the article's parts, at most."""
    text = prepared.cleaned.text
    covered = _claimed_spans(found)
    sentences = [span for span in (_trimmed(text, s, e) for s, e in sentence_spans(text)) if span]
    chosen = [
        index
        for index, (start, end) in enumerate(sentences)
        if len(text[start:end].split()) >= MIN_SENTENCE_WORDS
        and reports_speech(text[start:end], prepared.language)
        and not _covered(prepared, start, end, covered)
    ]
    limit = SWEEP_ASKS_PER_PART * max(len(prepared.parts), 1)
    return [
        _excerpt(prepared, sentences[max(index - 1, 0)][0], sentences[index][1], number)
        for number, index in enumerate(chosen[:limit], start=1)
    ]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without its surrounding whitespace; None when nothing is left."""
    stripped = text[start:end].strip()
    if not stripped:
        return None
    start += len(text[start:end]) - len(text[start:end].lstrip())
    return start, start + len(stripped)


def _claimed_spans(found: Iterable[ArticleExtraction]) -> list[tuple[int, int]]:
    """The original-text spans the claims found so far quote."""
    return [
        (item.start, item.end)
        for answer in found
        for claim in answer.claims
        for item in claim.evidence
        if item.start is not None and item.end is not None
    ]


def _covered(
    prepared: PreparedArticle, start: int, end: int, covered: Sequence[tuple[int, int]]
) -> bool:
    offsets = prepared.cleaned.offsets
    low, high = offsets.to_original(start), offsets.to_original(end - 1) + 1
    quoted = sum(max(0, min(high, e) - max(low, s)) for s, e in covered)
    return quoted >= COVERED_SHARE * (high - low)


def _excerpt(prepared: PreparedArticle, start: int, end: int, number: int) -> Part:
    """The cleaned text's ``[start, end)`` as a part of its own."""
    text = prepared.cleaned.text
    chunk = Chunk(number, start, end, text[start:end])
    return Part(chunk, 1, prepared.cleaned.offsets.slice(start, end))
