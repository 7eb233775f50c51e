"""Grounding: locate every evidence quote in the original article text.

The model only quotes; eventx finds the quote and fills ``start``/``end`` so that
``text[start:end]`` is the evidence as it stands in the article. Three tiers are
tried in order:

``exact``
    the quote is a substring of the text.
``normalized``
    equal after Unicode NFKC, lower-casing, typographic quotes („“”«»‚‘’) and
    dashes folded to ASCII, and whitespace runs collapsed to one space.
``fuzzy``
    the best rapidfuzz ``partial_ratio`` alignment of the normalized quote in the
    normalized text scores at least :data:`DEFAULT_FUZZY_THRESHOLD` (0-100), the
    quote is at least :data:`MIN_FUZZY_LENGTH` characters long, and the quote and the
    span hold the same numbers and the same negation words (:data:`NEGATIONS`: not,
    nicht, kein, не, ні, nu, niet, geen …): a fuzzy match may differ in a word or a
    letter, never in a figure, a date, a quantity or whether something is denied.

A grounded quote is replaced by the article's own text at its offsets
(``text[start:end]``); the model's wording, when it differs, is kept in
``Evidence.model_quote``.

A quote found by none of them is *ungrounded*; what happens then is decided by a
:class:`GroundingPolicy`.

When the model saw a derived text (the cleaned article, or one chunk of it), quotes
are located in that text with the same tiers and the span is translated to the
original through its :class:`~eventx.ingest.clean.OffsetMap` (:class:`MappedIndex`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol

from rapidfuzz import fuzz

from eventx.ingest.clean import OffsetMap
from eventx.models import ArticleExtraction, Claim, Evidence, MatchKind, ResultWarning
from eventx.settings import DEFAULT_FUZZY_THRESHOLD

MIN_FUZZY_LENGTH = 20
"""Quotes shorter than this must match exactly or normalized: short strings align anywhere."""

_FOLD = str.maketrans(
    {
        "„": '"', "“": '"', "”": '"', "«": '"', "»": '"', "‟": '"', "〞": '"', "〟": '"',
        "‚": "'", "‘": "'", "’": "'", "‛": "'", "‹": "'", "›": "'", "ʼ": "'", "`": "'",
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Span:
    """Where a quote was found in the original text."""

    start: int
    end: int
    match: MatchKind
    score: float


@dataclass(frozen=True)
class Ungrounded:
    """An evidence quote that could not be located."""

    record_id: str
    quote: str
    in_removed_text: bool = False
    """Found only in text that cleaning removed (page junk), not in the article body."""


class _Record(Protocol):
    id: str
    evidence: list[Evidence]


def _fold_char(char: str) -> str:
    """Normalize one character the way the ``normalized`` tier compares text."""
    folded = unicodedata.normalize("NFKC", char).translate(_FOLD).lower()
    return " " if folded.isspace() else folded


@dataclass
class _Normalized:
    """A folded copy of a text with a map from each folded character to its source index."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, source: str) -> _Normalized:
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(source):
            for folded in _fold_char(char):
                if folded == " " and chars and chars[-1] == " ":
                    continue
                chars.append(folded)
                origin.append(index)
        return cls("".join(chars), origin)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded span back to the original text."""
        return self.origin[start], self.origin[end - 1] + 1


def _fold(text: str) -> str:
    return _Normalized.of(text).text.strip()


@dataclass
class ArticleIndex:
    """Locates quotes in one article's original text."""

    text: str
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    _normalized: _Normalized | None = field(default=None, init=False, repr=False)

    @property
    def normalized(self) -> _Normalized:
        if self._normalized is None:
            self._normalized = _Normalized.of(self.text)
        return self._normalized

    @property
    def original_text(self) -> str:
        """The text quotes are located in."""
        return self.text

    def in_removed_text(self, quote: str) -> bool:
        """Nothing was removed from this text."""
        return False

    def locate(self, quote: str) -> Span | None:
        """Find ``quote`` in the text: exact, then normalized, then fuzzy; None if absent."""
        if not quote.strip():
            return None
        start = self.text.find(quote)
        if start >= 0:
            return Span(start, start + len(quote), MatchKind.EXACT, 100.0)
        folded = _fold(quote)
        return self._locate_normalized(folded) or self._locate_fuzzy(folded)

    def _locate_normalized(self, folded: str) -> Span | None:
        start = self.normalized.text.find(folded)
        if start < 0 or not folded:
            return None
        begin, end = self.normalized.source_span(start, start + len(folded))
        return Span(begin, end, MatchKind.NORMALIZED, 100.0)

    def _locate_fuzzy(self, folded: str) -> Span | None:
        if len(folded) < MIN_FUZZY_LENGTH:
            return None
        haystack = self.normalized.text
        alignment = fuzz.partial_ratio_alignment(
            folded, haystack, score_cutoff=self.fuzzy_threshold
        )
        if alignment is None or alignment.dest_end <= alignment.dest_start:
            return None
        start, end, score = _best_word_span(
            folded, haystack, alignment.dest_start, alignment.dest_end
        )
        if score < self.fuzzy_threshold or not _same_meaning(folded, haystack[start:end]):
            return None
        begin, stop = self.normalized.source_span(start, end)
        return Span(begin, stop, MatchKind.FUZZY, round(score, 1))


class Locator(Protocol):
    """Finds quotes and reports their span in the original article text."""

    @property
    def original_text(self) -> str:
        """The original article text the spans point into."""

    def locate(self, quote: str) -> Span | None:
        """The original span of ``quote``, or None when it is not in the text."""

    def in_removed_text(self, quote: str) -> bool:
        """True when ``quote`` occurs only in text that cleaning removed."""


@dataclass
class MappedIndex:
    """Locates quotes in a derived text (cleaned, or a chunk) and reports original offsets.

    A quote found in the derived text across a removed stretch of the original (the
    model quoted over a gap it did not see) is looked up in the original instead, and
    kept only when it lies at least partly in the text the model was shown: evidence
    that lies wholly in removed page junk supports nothing.
    """

    derived: ArticleIndex
    offsets: OffsetMap
    original: ArticleIndex

    @property
    def original_text(self) -> str:
        """The original article text."""
        return self.original.text

    def locate(self, quote: str) -> Span | None:
        """The original span of ``quote``, located in the derived text first."""
        span = self.derived.locate(quote)
        if span is None:
            return None
        mapped = self.offsets.span_to_original(span.start, span.end)
        if mapped is not None:
            return Span(mapped[0], mapped[1], span.match, span.score)
        fallback = self.original.locate(quote)
        if fallback is None or not self._shown(fallback):
            return None
        return fallback

    def in_removed_text(self, quote: str) -> bool:
        """True when ``quote`` is in the original only where the model was not shown it."""
        span = self.original.locate(quote)
        return span is not None and not self._shown(span)

    def _shown(self, span: Span) -> bool:
        return any(
            original < span.end and span.start < original + size
            for _, original, size in self.offsets.segments
        )


_DIGITS = re.compile(r"\d+")

NEGATIONS = frozenset(
    {
        # English
        "not", "no", "never", "none", "nor", "neither", "nothing", "nobody", "without", "n't",
        "cannot",
        # German
        "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals",
        "nichts", "niemand", "weder",
        # French, Italian, Spanish, Portuguese
        "ne", "n'", "pas", "jamais", "aucun", "aucune", "rien", "personne", "ni",
        "non", "mai", "nessuno", "nessuna", "niente", "nulla",
        "nunca", "jamás", "ningún", "ninguno", "ninguna", "nada", "nadie", "tampoco",
        "não", "nenhum", "nenhuma", "ninguém",
        # Dutch, Romanian, Polish, Czech
        "niet", "geen", "nooit", "niets",
        "nu", "niciodată", "nimic", "nimeni", "niciun", "nicio",
        "nigdy", "żaden", "żadna", "żadne", "nic", "nikt",
        # Russian, Ukrainian
        "не", "нет", "ни", "никогда", "ничего", "никто", "никакой", "никакие",
        "ні", "ніколи", "нічого", "ніхто", "жоден", "жодна", "жодне", "жодних",
    }
)  # fmt: skip
"""Words that turn a statement into its opposite: a fuzzy match must have the same ones."""

_WORDS = re.compile(r"[\w']+")


def _negations(text: str) -> list[str]:
    """The negation words of ``text`` (folded), in order; contractions count (don't, n'est)."""
    found = []
    for word in _WORDS.findall(text):
        if word.endswith("n't"):
            word = "n't"
        elif word.startswith("n'"):
            word = "n'"
        if word.strip("'") in NEGATIONS or word in NEGATIONS:
            found.append(word.strip("'") if word.strip("'") in NEGATIONS else word)
    return found


def _same_meaning(quote: str, span: str) -> bool:
    """A fuzzy match may differ in a word or a letter, never in a figure or a negation."""
    return _numbers(quote) == _numbers(span) and _negations(quote) == _negations(span)


def _numbers(text: str) -> list[str]:
    """The digit runs of ``text``, in order."""
    return _DIGITS.findall(text)


def _token_edges(text: str, low: int, high: int, *, starts: bool) -> list[int]:
    """Positions in [low, high] where a whitespace-separated token starts (or ends)."""
    edges = []
    for pos in range(max(low, 0), min(high, len(text)) + 1):
        before = text[pos - 1] if pos > 0 else " "
        after = text[pos] if pos < len(text) else " "
        if (before == " " and after != " ") if starts else (before != " " and after == " "):
            edges.append(pos)
    return edges


def _best_word_span(quote: str, text: str, start: int, end: int) -> tuple[int, int, float]:
    """Widen a fixed-length alignment to the word-bounded span that matches ``quote`` best.

    ``partial_ratio`` aligns a window as long as the quote; when the model dropped or
    changed words, the true span is a little longer or shorter, so nearby word
    boundaries are tried on both sides and the pair with the best ratio wins.
    """
    margin = max(10, len(quote) // 8)
    starts = _token_edges(text, start - margin, start + margin, starts=True) or [start]
    ends = _token_edges(text, end - margin, end + margin, starts=False) or [end]
    best = (start, end, 0.0)
    for begin in starts:
        for stop in ends:
            if stop > begin:
                score = fuzz.ratio(quote, text[begin:stop])
                if score > best[2]:
                    best = (begin, stop, score)
    return best


def _ground_evidence(index: Locator, evidence: Evidence) -> bool:
    """Locate one quote; a located quote becomes the article's own text at its span."""
    span = index.locate(evidence.quote)
    if span is None:
        evidence.start = evidence.end = None
        evidence.match = evidence.score = None
        return False
    evidence.start, evidence.end = span.start, span.end
    evidence.match, evidence.score = span.match, span.score
    own = index.original_text[span.start : span.end]
    if own != evidence.quote:
        evidence.model_quote, evidence.quote = evidence.quote, own
    return True


def ground(extraction: ArticleExtraction, index: Locator) -> list[Ungrounded]:
    """Fill offsets of every quote in ``extraction``; return the quotes not found."""
    missing: list[Ungrounded] = []
    for record in extraction.records():
        missing.extend(
            Ungrounded(record.id, evidence.quote, index.in_removed_text(evidence.quote))
            for evidence in record.all_evidence()
            if not _ground_evidence(index, evidence)
        )
    return missing


def reask_message(missing: list[Ungrounded]) -> str:
    """The validation error the model sees when some quotes were not found."""
    listed = "\n".join(f"- record {item.record_id}: {item.quote!r}" for item in missing)
    return (
        "These evidence quotes are not in the article text:\n"
        f"{listed}\n"
        "Answer again with the same records, and fix only these quotes: copy each from the "
        "article character for character, in its own language and punctuation (not "
        "translated, not shortened inside). Keep every other record and quote as it was."
    )


def _keep_grounded(evidence: list[Evidence]) -> list[Evidence]:
    return [item for item in evidence if item.match is not None]


def drop_ungrounded(extraction: ArticleExtraction) -> list[ResultWarning]:
    """Remove ungrounded evidence, and records left without evidence; say what went."""
    warnings: list[ResultWarning] = []
    for record in extraction.records():
        kept = _keep_grounded(record.evidence)
        if len(kept) < len(record.evidence) and kept:
            warnings.append(
                _warning("ungrounded_evidence_dropped", record, len(record.evidence) - len(kept))
            )
        record.evidence = kept
        if isinstance(record, Claim) and record.quote is not None and record.quote.match is None:
            warnings.append(_warning("ungrounded_quote_dropped", record, 1))
            record.quote = None
    dropped = [record for record in extraction.records() if not record.evidence]
    warnings.extend(_warning("ungrounded_record_dropped", record, 0) for record in dropped)
    extraction.events = [event for event in extraction.events if event.evidence]
    extraction.claims = [claim for claim in extraction.claims if claim.evidence]
    return warnings


def removed_text_warnings(missing: list[Ungrounded]) -> list[ResultWarning]:
    """Warnings for quotes found only in page junk that cleaning removed."""
    return [
        ResultWarning(
            code="evidence_in_removed_text",
            message=f"quote found only in text removed as page junk, not used: {item.quote!r}",
            record_id=item.record_id,
        )
        for item in missing
        if item.in_removed_text
    ]


def flag_ungrounded(missing: list[Ungrounded]) -> list[ResultWarning]:
    """Warnings for ungrounded evidence kept in place (policy ``keep``)."""
    return [
        ResultWarning(
            code="ungrounded_evidence_kept",
            message=f"quote not found in the article, kept without offsets: {item.quote!r}",
            record_id=item.record_id,
        )
        for item in missing
    ]


def _warning(code: str, record: _Record, count: int) -> ResultWarning:
    messages = {
        "ungrounded_evidence_dropped": f"dropped {count} evidence quote(s) not in the article",
        "ungrounded_quote_dropped": "dropped the verbatim quote: it is not in the article",
        "ungrounded_record_dropped": "dropped the record: none of its evidence is in the article",
    }
    return ResultWarning(code=code, message=messages[code], record_id=record.id)


NEAR_EVIDENCE = 250
"""Characters around a record's evidence in which one of its actors must be named."""


def unsupported_records(extraction: ArticleExtraction, text: str) -> list[str]:
    """Ids of the records none of whose actors is named in or near their evidence.

    An actor is named when a word of its name (as written, or its English name) of at
    least four letters starts, by its first four letters, a word within
    :data:`NEAR_EVIDENCE` characters of a located quote: "Ukraine" is found in
    "ukrainischen", "Україна" in "України". A record with no named actor is kept.
    """
    return [record.id for record in extraction.records() if not _actors_near(record, text)]


def drop_unsupported(extraction: ArticleExtraction, text: str) -> list[ResultWarning]:
    """Remove the records none of whose actors is named near their evidence; say which."""
    unsupported = set(unsupported_records(extraction, text))
    extraction.events = [event for event in extraction.events if event.id not in unsupported]
    extraction.claims = [claim for claim in extraction.claims if claim.id not in unsupported]
    return [
        ResultWarning(
            code="actors_not_near_evidence",
            message="dropped the record: none of its actors is named in or near its evidence",
            record_id=record_id,
        )
        for record_id in sorted(unsupported)
    ]


def _actors_near(record: Any, text: str) -> bool:
    stems = {
        word[:4]
        for actor in record.actors()
        for name in (actor.name, actor.canonical_name or "")
        for word in _WORDS.findall(_fold(name))
        if len(word) >= 4
    }
    if not stems:
        return True
    for evidence in record.all_evidence():
        if evidence.start is None or evidence.end is None:
            continue
        low, high = max(evidence.start - NEAR_EVIDENCE, 0), evidence.end + NEAR_EVIDENCE
        words = {word[:4] for word in _WORDS.findall(_fold(text[low:high]))}
        if stems & words:
            return True
    return False
