"""Cleaning: drop page junk around and inside an article, keeping a map to the original.

Scraped articles carry navigation, "loading…" lines, ad markers, lists of unrelated
headlines with teasers, comment counters, footers and share/cookie lines. The model
sees the cleaned text; evidence offsets must still point into the original. So the
cleaned text is never rewritten: it is the concatenation of *kept spans* of the
original (whole lines, line breaks included), and :class:`OffsetMap` translates a
position in the cleaned text to the original exactly.

Rules, line by line (a *line* is a ``str.splitlines`` line; see docs/cleaning.md):

1. **Boilerplate lines** match a known pattern in English, German, Ukrainian, Russian,
   French, Spanish or Italian: loading placeholders, ad markers (``[Anzeige_1]``),
   comment counters, source/photo credits, tag and category lines, copyright lines,
   relative timestamps ("3 хв. ago"), share buttons, subscribe and cookie calls to action.
2. **Teaser lists** start at a related-content header ("Lesen Sie auch", "Recent Posts",
   "Читайте також", "Gleiches Thema" …). When the first line after it is a list item,
   the block is the run of list items; otherwise it runs over short lines (headlines)
   and over longer lines that a relative timestamp follows (teaser leads).
3. **Headline runs**: a short line without closing punctuation next to junk is junk too
   (repeated until nothing changes), unless the next line is kept prose, which makes
   it a heading of that prose.
4. **Blank lines** are kept after a kept line when kept text follows (paragraph breaks
   survive the removal of a list between two paragraphs; trailing blanks go).
5. **Inline ad markers** (``… [Anzeige_1]``) are cut out of kept lines.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

MAX_HEADLINE_CHARS = 140
"""Lines up to this length without closing punctuation read as headlines."""

MAX_BOILERPLATE_CHARS = 300
"""Prefix patterns (source, tags, subscribe, cookies) only match lines up to this length."""

_FLAGS = re.IGNORECASE | re.UNICODE

_WHOLE_LINE = re.compile(
    r"(?:[\w ]{0,40}\s)?(?:loading|wird geladen|werden geladen|lädt|загрузка|загружается"
    r"|завантаження|завантажується|chargement|cargando|caricamento)\s*(?:\.{0,3}|…)"
    r"|\[?(?:anzeige|werbung|advertisement|advertising|sponsored|реклама|publicité"
    r"|publicidad|pubblicità)(?:[ _-]?\d+)?\]?"
    r"|(?:kommentare?|comments?|коментар\w*|комментари\w*|commentaires?|comentarios?"
    r"|commenti)\s*[(\[]?\s*\d*\s*[)\]]?"
    r"|\d+\s+(?:kommentare?|comments?|коментар\w*|комментари\w*)"
    r"|\d+\s*(?:min|mins|minutes?|h|hrs?|hours?|std\.?|stunden?|tage?|days?|хв\.?|хвилин\w*"
    r"|год\.?|годин\w*|мин\.?|минут\w*|ч\.?|час\w*)\s*(?:ago|тому|назад)\.?"
    r"|vor \d+ (?:minuten|stunden|tagen)|il y a \d+ \w+|hace \d+ \w+"
    r"|no data|keine daten|нет данных|немає даних"
    r"|(?:share|teilen|drucken|print|tweet|поділитися|поделиться|partager|compartir"
    r"|condividi)(?:\s+(?:on|this|auf|bei|via|article|artikel)\b.*)?"
    r"|(?:©|\(c\)|copyright\b).*",
    _FLAGS,
)

_PREFIXED = re.compile(
    r"(?:quelle|source|sources|источник|джерело|fuente|fonte|photo|foto|фото|bild"
    r"|tags?|etikett|schlagwörter|stichwörter|categories|category|kategorien?|rubrik"
    r"|рубрик\w*|теги|мітки|категорі\w*)\s*:.*",
    _FLAGS,
)

_CALL_TO_ACTION = re.compile(
    r"\b(?:abonnieren sie|subscribe to our|subscribe now|підпишіться|подпишитесь|abonnez-vous"
    r"|suscríbete|iscriviti)\b"
    r"|\bcookies?\b.*\b(?:akzeptieren|zustimmen|einverstanden|accept|agree|consent|settings"
    r"|einstellungen|policy|richtlinie|we use|wir verwenden|використовує|использует)\b"
    r"|\b(?:akzeptieren|accept|we use|wir verwenden|this site uses|diese website verwendet)\b"
    r".*\bcookies?\b",
    _FLAGS,
)

_RELATED_HEADER = re.compile(
    r"(?:lesen sie auch|lesen sie mehr|mehr zum thema|weitere artikel|weitere nachrichten"
    r"|das könnte sie auch interessieren|gleiches thema|gleiche kategorie|gleicher autor"
    r"|alle nachrichten|aktuelle nachrichten|verfolgen sie die nachrichten|meistgelesen"
    r"|read also|read more|see also|related(?: articles| posts| news| stories)?"
    r"|recent posts|latest news|more news|more stories|top stories|most read|all news"
    r"|читайте також|читайте також на|читайте также|останні новини|последние новости"
    r"|новини по темі|новости по теме|схожі новини|похожие новости|популярне|популярное"
    r"|voir aussi|à lire aussi|lire aussi|lea también|te puede interesar|leggi anche"
    r"|potrebbe interessarti)\s*:?",
    _FLAGS,
)

_INLINE_AD = re.compile(
    r"[ \t]*\[(?:anzeige|werbung|advertisement|ad|реклама|publicité|publicidad)[ _-]?\d*\]",
    _FLAGS,
)

_LIST_ITEM = re.compile(r"\s*(?:[-–—•·*►▸]|\d{1,2}[.)])\s+\S")
_CLOSING = tuple(".!?…:;。！？」』\"“”»'’)")


class _Kind(Enum):
    BLANK = "blank"
    PROSE = "prose"
    HEADLINE = "headline"


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    stripped: str
    kind: _Kind

    @classmethod
    def at(cls, start: int, text: str) -> _Line:
        body = text.strip()
        if not body:
            kind = _Kind.BLANK
        elif len(body) <= MAX_HEADLINE_CHARS and not body.endswith(_CLOSING):
            kind = _Kind.HEADLINE
        else:
            kind = _Kind.PROSE
        return cls(start, start + len(text), text, body, kind)


@dataclass(frozen=True)
class OffsetMap:
    """Maps positions in a derived text (kept spans, concatenated) to the original text.

    ``segments`` are ``(derived_start, original_start, length)`` triples in order.
    """

    segments: tuple[tuple[int, int, int], ...]

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        """The map of a text onto itself."""
        return cls(((0, 0, length),) if length else ())

    @classmethod
    def from_kept(cls, kept: Sequence[tuple[int, int]]) -> OffsetMap:
        """The map of the text made by concatenating ``kept`` spans of an original."""
        segments, position = [], 0
        for start, end in kept:
            segments.append((position, start, end - start))
            position += end - start
        return cls(tuple(segments))

    @property
    def length(self) -> int:
        """Length of the derived text."""
        if not self.segments:
            return 0
        start, _, size = self.segments[-1]
        return start + size

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [start for start, _, _ in self.segments]

    def _segment(self, position: int) -> tuple[int, int, int]:
        index = bisect.bisect_right(self._starts, position) - 1
        return self.segments[max(index, 0)]

    def to_original(self, position: int) -> int:
        """The original offset of the character at derived ``position``."""
        start, original, _ = self._segment(position)
        return original + position - start

    def span_to_original(self, start: int, end: int) -> tuple[int, int] | None:
        """The original span of derived ``[start, end)``; None if it straddles a removed gap."""
        if end <= start:
            return None
        first, last = self._segment(start), self._segment(end - 1)
        if first != last:
            return None
        return self.to_original(start), self.to_original(end - 1) + 1

    def slice(self, start: int, end: int) -> OffsetMap:
        """The map of the derived substring ``[start, end)``."""
        segments = []
        for seg_start, original, size in self.segments:
            low, high = max(seg_start, start), min(seg_start + size, end)
            if low < high:
                segments.append((low - start, original + low - seg_start, high - low))
        return OffsetMap(tuple(segments))


@dataclass(frozen=True)
class CleanedText:
    """The cleaned text of an article and the map of its characters to the original."""

    original: str
    text: str
    offsets: OffsetMap
    removed_spans: int

    @property
    def removed_chars(self) -> int:
        """Characters of the original that the model does not see."""
        return len(self.original) - len(self.text)


@dataclass
class _Page:
    """The lines of a text, each line's nearest non-blank neighbours, and the junk flags."""

    lines: list[_Line]
    before: list[int | None]
    after: list[int | None]
    junk: list[bool]

    @classmethod
    def of(cls, text: str) -> _Page:
        lines, position = [], 0
        for piece in text.splitlines(keepends=True):
            lines.append(_Line.at(position, piece))
            position += len(piece)
        before: list[int | None] = []
        latest: int | None = None
        for index, line in enumerate(lines):
            before.append(latest)
            latest = index if line.kind is not _Kind.BLANK else latest
        after: list[int | None] = [None] * len(lines)
        latest = None
        for index in range(len(lines) - 1, -1, -1):
            after[index] = latest
            latest = index if lines[index].kind is not _Kind.BLANK else latest
        return cls(lines, before, after, [is_boilerplate(line.text) for line in lines])

    def kept(self, index: int | None) -> bool:
        return index is not None and not self.junk[index]

    def kept_prose(self, index: int | None) -> bool:
        return self.kept(index) and index is not None and self.lines[index].kind is _Kind.PROSE


def is_boilerplate(line: str) -> bool:
    """True when ``line`` (one line of text) is a known kind of page junk (rule 1)."""
    body = line.strip()
    if not body:
        return False
    if _WHOLE_LINE.fullmatch(body):
        return True
    if len(body) > MAX_BOILERPLATE_CHARS:
        return False
    return _PREFIXED.fullmatch(body) is not None or _CALL_TO_ACTION.search(body) is not None


def _is_timestamp(line: _Line) -> bool:
    return _WHOLE_LINE.fullmatch(line.stripped) is not None and any(c.isdigit() for c in line.text)


def _mark_teaser_blocks(page: _Page) -> None:
    """Rule 2: related-content headers and the teaser lists after them."""
    for index, line in enumerate(page.lines):
        if _RELATED_HEADER.fullmatch(line.stripped):
            for member in range(index, _teaser_block_end(page, index)):
                page.junk[member] = True


def _teaser_block_end(page: _Page, header: int) -> int:
    """Index after the last line of the teaser list that follows ``header``."""
    first = page.after[header]
    bullets = first is not None and _LIST_ITEM.match(page.lines[first].text) is not None
    last, current = header, first
    while current is not None and _in_teaser_block(page, current, bullets=bullets):
        last, current = current, page.after[current]
    return last + 1


def _in_teaser_block(page: _Page, index: int, *, bullets: bool) -> bool:
    line = page.lines[index]
    if bullets:
        return _LIST_ITEM.match(line.text) is not None or is_boilerplate(line.text)
    if is_boilerplate(line.text) or len(line.stripped) <= MAX_HEADLINE_CHARS:
        return True
    following = page.after[index]
    return following is not None and _is_timestamp(page.lines[following])


def _spread_to_headlines(page: _Page) -> None:
    """Rule 3: headline-like lines next to junk are junk, unless they head kept prose.

    A worklist from every junk line outwards, so each line is looked at a bounded
    number of times however long the run of headlines.
    """
    pending = [index for index, flag in enumerate(page.junk) if flag]
    while pending:
        index = pending.pop()
        for neighbour in (page.before[index], page.after[index]):
            if neighbour is not None and _joins_junk(page, neighbour):
                page.junk[neighbour] = True
                pending.append(neighbour)


def _joins_junk(page: _Page, index: int) -> bool:
    line = page.lines[index]
    return (
        page.kept(index) and line.kind is _Kind.HEADLINE and not page.kept_prose(page.after[index])
    )


def _keep_flags(page: _Page) -> list[bool]:
    """Rule 4: a blank line is kept after a kept line when kept text follows somewhere."""
    keep = [not flag for flag in page.junk]
    content = [i for i, line in enumerate(page.lines) if line.kind is not _Kind.BLANK]
    last_kept = max((i for i in content if keep[i]), default=-1)
    for index, line in enumerate(page.lines):
        if line.kind is _Kind.BLANK:
            keep[index] = page.kept(page.before[index]) and index < last_kept
    return keep


def _without_inline_ads(line: _Line) -> list[tuple[int, int]]:
    """The parts of a kept line around inline ad markers ("… [Anzeige_1]")."""
    parts, position = [], line.start
    for marker in _INLINE_AD.finditer(line.text):
        parts.append((position, line.start + marker.start()))
        position = line.start + marker.end()
    parts.append((position, line.end))
    return [(start, end) for start, end in parts if end > start]


def _kept_spans(lines: list[_Line], keep: list[bool]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for line, kept in zip(lines, keep, strict=True):
        for start, end in _without_inline_ads(line) if kept else []:
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return spans


def _count_gaps(spans: list[tuple[int, int]], length: int) -> int:
    edges = [0, *(edge for span in spans for edge in span), length]
    return sum(1 for low, high in zip(edges[::2], edges[1::2], strict=True) if high > low)


def clean(text: str) -> CleanedText:
    """Remove page junk from ``text``; the result maps every kept character back."""
    page = _Page.of(text)
    _mark_teaser_blocks(page)
    _spread_to_headlines(page)
    spans = _kept_spans(page.lines, _keep_flags(page))
    if not spans:  # everything looked like junk: better to show the model the text
        return unchanged(text)
    cleaned = "".join(text[start:end] for start, end in spans)
    return CleanedText(text, cleaned, OffsetMap.from_kept(spans), _count_gaps(spans, len(text)))


def unchanged(text: str) -> CleanedText:
    """``text`` as its own cleaned text (cleaning switched off)."""
    return CleanedText(text, text, OffsetMap.identity(len(text)), 0)
