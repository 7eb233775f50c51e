"""Chunking: split a long article into overlapping windows of whole sentences.

An article whose (cleaned) text is longer than ``max_chunk_tokens`` is cut into
consecutive windows of whole sentences, each at most that long, each starting
about ``chunk_overlap_tokens`` before the previous one ended, so a sentence cut
off at one window's end is seen whole by the next. Each window is one model
request; the records are merged afterwards (:mod:`eventx.extraction.merge`).

Sentences are found with a regular expression rather than a sentence-splitter
library: the splitters at hand (pysbd, NLTK punkt) need the language up front and do
not cover scripts without spaces or sentence punctuation (Thai). Boundaries are:

* ``. ! ? …`` (with closing quotes or brackets) followed by whitespace;
* ``。 ！ ？ ｡`` (Chinese, Japanese) — no whitespace needed;
* ``। ॥ ۔ ؟ ։ ። ။`` (Devanagari, Urdu, Arabic, Armenian, Ethiopic, Myanmar);
* line breaks.

A "sentence" still longer than the budget is cut at whitespace (Thai separates
sentences and phrases with spaces), and, where a run has no whitespace either, at
a fixed number of characters. Token counts are the estimates of
:func:`eventx.ingest.tokens.count_tokens`, summed over sentences; a text too short to
reach the budget even at the highest estimate per character is not estimated at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from eventx.ingest.tokens import MAX_TOKENS_PER_CHAR, count_tokens

DEFAULT_MAX_CHUNK_TOKENS = 6000
"""Article tokens per request (estimated). News articles are far shorter (the seeds: 326-512
o200k tokens after cleaning), so they go in one request; instructions and schema (about
3,000) come on top."""

DEFAULT_CHUNK_OVERLAP_TOKENS = 300
"""Tokens each window repeats from the end of the previous one (about three sentences)."""

_SENTENCE_END = re.compile(
    r"[.!?…]+[\"'»”’)\]]*\s+"
    r"|[。！？｡]+[」』”’）)]*\s*"
    r"|[।॥۔؟։።။]+\s*"
    r"|\n\s*"
)


@dataclass(frozen=True)
class Chunk:
    """One window of the text: ``text == source[start:end]``."""

    number: int
    """1-based position among the chunks."""
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` spans of ``text``, one per sentence, covering it all."""
    spans, start = [], 0
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() > start:
            spans.append((start, boundary.end()))
            start = boundary.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[_Piece]:
    """Cut ``text[start:end]`` into pieces within ``max_tokens``: at whitespace, else by length."""
    tokens = count_tokens(text[start:end])
    if tokens <= max_tokens:
        return [_Piece(start, end, tokens)]
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+\s*", text[start:end])]
    if end - start < 2:
        return [_Piece(start, end, tokens)]
    middle = words[len(words) // 2][0] if len(words) > 1 else start + (end - start) // 2
    return _split_long(text, start, middle, max_tokens) + _split_long(text, middle, end, max_tokens)


def _pieces(text: str, max_tokens: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for start, end in sentence_spans(text):
        pieces.extend(_split_long(text, start, end, max_tokens))
    return pieces


def _window_end(pieces: list[_Piece], first: int, max_tokens: int) -> int:
    """Index after the last piece that fits in a window starting at ``first``."""
    total, last = 0, first
    while last < len(pieces) and total + pieces[last].tokens <= max_tokens:
        total += pieces[last].tokens
        last += 1
    return max(last, first + 1)


def _next_start(pieces: list[_Piece], first: int, stop: int, overlap_tokens: int) -> int:
    """Where the next window starts: back from ``stop`` by up to ``overlap_tokens``."""
    start, repeated = stop, 0
    while start - 1 > first and repeated + pieces[start - 1].tokens <= overlap_tokens:
        start -= 1
        repeated += pieces[start].tokens
    return start


def _fits(text: str, max_tokens: int) -> bool:
    """True when ``text`` is within ``max_tokens``; short texts are not even estimated."""
    return math.ceil(len(text) * MAX_TOKENS_PER_CHAR) <= max_tokens or (
        count_tokens(text) <= max_tokens
    )


def split_into_chunks(
    text: str,
    max_tokens: int = DEFAULT_MAX_CHUNK_TOKENS,
    overlap_tokens: int = DEFAULT_CHUNK_OVERLAP_TOKENS,
) -> list[Chunk]:
    """Split ``text`` into overlapping windows of whole sentences within ``max_tokens``.

    A text within the budget is one chunk. The overlap is capped at half the budget
    so that every window moves forward.
    """
    if _fits(text, max_tokens):
        return [Chunk(1, 0, len(text), text)]
    pieces = _pieces(text, max_tokens)
    overlap_tokens = min(overlap_tokens, max_tokens // 2)
    chunks: list[Chunk] = []
    first = 0
    while first < len(pieces):
        stop = _window_end(pieces, first, max_tokens)
        start, end = pieces[first].start, pieces[stop - 1].end
        chunks.append(Chunk(len(chunks) + 1, start, end, text[start:end]))
        if stop == len(pieces):
            break
        first = _next_start(pieces, first, stop, overlap_tokens)
    return chunks
