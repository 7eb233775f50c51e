"""A self-contained HTML report of an extraction run.

One HTML file, no network: CSS and the one small script are inline, and a Content
Security Policy forbids loading anything (the script is allowed by its hash, so no
injected script could run even if escaping failed). Every piece of article text and
model output is escaped: articles are hostile input.

Per article: the original text with every located evidence span highlighted in the
colour of its record's type, beside the records themselves (each with its status,
date, every role's actors and its type's own details); hovering a record strengthens
its spans. Failed articles are listed with their errors. A summary gives counts by
type, status and country (the countries of every actor of an event, ``actors()``),
and a timeline of dated events. Any registered event type is shown the same way.

The results carry article ids, not texts: :func:`render_report` takes the texts as a
mapping, and :func:`read_texts` reads them from the inputs given to
``eventx extract`` (or from each result's ``source``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from eventx.errors import InputError
from eventx.ingest.load import iter_articles
from eventx.models import (
    Actor,
    AidDelivery,
    Claim,
    DiplomaticProtest,
    ExtractionResult,
    Record,
    RoleValue,
)
from eventx.registry import event_types

COLOURS = {
    "meeting": "#8ecbff",
    "aid_delivery": "#ffd166",
    "diplomatic_protest": "#ff9aa2",
    "claim": "#b8f2b0",
}
"""Highlight colour of each built-in record type (background of the marked text)."""

OTHER_COLOURS = ("#d7b8f3", "#9de0d6", "#f7b98b", "#c9c9c9")
"""Colours of registered event types, in registration order (repeating)."""
Span = tuple[int, int, str, str]  # start, end, record id, record kind

_SCRIPT = """
document.querySelectorAll('.record').forEach(function (card) {
  var marks = card.closest('.article').querySelectorAll('mark');
  function toggle(on) {
    marks.forEach(function (m) {
      if (m.dataset.records.split(' ').indexOf(card.dataset.record) >= 0) {
        m.classList.toggle('active', on);
      }
    });
  }
  card.addEventListener('mouseenter', function () { toggle(true); });
  card.addEventListener('mouseleave', function () { toggle(false); });
});
"""

_STYLE = """
body { font: 14px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1em; color: #222; }
h1, h2 { font-weight: 600; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.summary { display: flex; gap: 2em; flex-wrap: wrap; }
.article { border-top: 2px solid #888; margin-top: 2em; }
.columns { display: grid; grid-template-columns: 3fr 2fr; gap: 1.5em; }
.text { white-space: pre-wrap; font-family: Georgia, serif; font-size: 15px; }
mark { padding: 0; border-radius: 2px; color: inherit; }
mark.active { outline: 2px solid #222; }
.record { border-left: 6px solid; padding: .2em .6em; margin: .6em 0; background: #fafafa; }
.kind { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #555; }
.quote { font-family: Georgia, serif; color: #444; }
.error { color: #a00; }
.timeline { list-style: none; padding-left: 0; border-left: 3px solid #999; }
.timeline li { margin: .3em 0 .3em 0; padding-left: .8em; }
.timeline time { font-family: monospace; font-weight: bold; margin-right: .6em; }
"""


def read_texts(paths: Iterable[Path | str]) -> dict[str, str]:
    """Article id → original text for every readable article under ``paths``."""
    return {item.id: item.text for item in iter_articles(paths) if not isinstance(item, InputError)}


def source_texts(results: Iterable[ExtractionResult]) -> dict[str, str]:
    """Article id → text, read from each result's ``source`` when that file still exists."""
    sources = {Path(r.source.rsplit(":", 1)[0]) for r in results if r.source}
    return read_texts(path for path in sorted(sources) if path.is_file())


def render_report(
    results: Sequence[ExtractionResult], texts: Mapping[str, str], title: str = "eventx report"
) -> str:
    """The whole report as one self-contained HTML document."""
    body = "\n".join(
        [
            f"<h1>{escape(title)}</h1>",
            _summary(results),
            _timeline(results),
            _failures(results),
            *(_article(r, texts.get(r.article_id)) for r in results if r.error is None),
        ]
    )
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'"
    legend = " ".join(
        f'<span style="background:{_colour(kind)}">&nbsp;{escape(kind)}&nbsp;</span>'
        for kind in _kinds()
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style></head>\n"
        f"<body>\n<p>Highlights: {legend}</p>\n{body}\n<script>{_SCRIPT}</script>\n"
        "</body></html>\n"
    )


# ---------------------------------------------------------------------------
# Summary, timeline, failures
# ---------------------------------------------------------------------------


def _records(result: ExtractionResult) -> list[Record]:
    return result.extraction.records() if result.extraction else []


def _kinds() -> list[str]:
    """Every record type, events before claims: the order highlights take colours in."""
    return [*event_types(), "claim"]


def _colour(kind: str) -> str:
    if kind in COLOURS:
        return COLOURS[kind]
    others = [name for name in event_types() if name not in COLOURS]
    index = others.index(kind) if kind in others else len(others)
    return OTHER_COLOURS[index % len(OTHER_COLOURS)]


def _count_table(heading: str, counts: Counter[str]) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{count}</td></tr>"
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f'<table class="count"><tr><th>{escape(heading)}</th><th>n</th></tr>{rows}</table>'


def _summary(results: Sequence[ExtractionResult]) -> str:
    records = [record for result in results for record in _records(result)]
    events = [r for r in records if not isinstance(r, Claim)]
    types = Counter(record.TYPE for record in records)
    statuses = Counter(e.status.value for e in events)
    countries = Counter(
        country
        for event in events
        for country in {actor.country for actor in event.actors() if actor.country}
    )
    outcome = Counter("failed" if r.error else "ok" for r in results)
    return (
        '<section id="summary"><h2>Summary</h2><div class="summary">'
        + _count_table("articles", outcome)
        + _count_table("record type", types)
        + _count_table("event status", statuses)
        + _count_table("country (events)", countries)
        + "</div></section>"
    )


def _date_key(value: str) -> str:
    return value.replace("--", "????-", 1) if value.startswith("--") else value


def _timeline(results: Sequence[ExtractionResult]) -> str:
    dated = [
        (event.date.value, result.article_id, event)
        for result in results
        for event in (result.extraction.events if result.extraction else [])
        if event.date is not None and event.date.value
    ]
    items = "".join(
        f'<li><time>{escape(value)}</time><span class="kind">{escape(event.type)}</span> '
        f"{escape(event.summary)} "
        f'<a href="#{escape(_anchor(article_id))}">{escape(article_id)}</a></li>'
        for value, article_id, event in sorted(dated, key=lambda d: _date_key(d[0]))
    )
    note = "<p>Dates without a year (--MM-DD) sort after dated years.</p>" if dated else ""
    return (
        f'<section id="timeline"><h2>Timeline of dated events</h2>{note}'
        f'<ul class="timeline">{items or "<li>no dated events</li>"}</ul></section>'
    )


def _failures(results: Sequence[ExtractionResult]) -> str:
    failed = [r for r in results if r.error is not None]
    rows = "".join(
        f"<tr><td><code>{escape(r.article_id)}</code></td><td>{escape(r.error.category.value)}</td>"
        f'<td class="error">{escape(r.error.message)}</td><td>{r.error.attempts}</td></tr>'
        for r in failed
        if r.error is not None
    )
    table = (
        f"<table><tr><th>article</th><th>category</th><th>error</th><th>attempts</th></tr>"
        f"{rows}</table>"
        if failed
        else "<p>none</p>"
    )
    return f'<section id="failures"><h2>Failed articles ({len(failed)})</h2>{table}</section>'


# ---------------------------------------------------------------------------
# One article: highlighted text beside its records
# ---------------------------------------------------------------------------


def _anchor(article_id: str) -> str:
    return "article-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in article_id)


def _spans(records: Sequence[Record], length: int) -> list[Span]:
    return [
        (e.start, e.end, record.id, record.TYPE)
        for record in records
        for e in record.all_evidence()
        if e.start is not None and e.end is not None and 0 <= e.start < e.end <= length
    ]


def highlight(text: str, spans: Sequence[Span]) -> str:
    """``text`` escaped, with each stretch covered by evidence wrapped in one ``<mark>``.

    Overlapping spans are cut at every boundary; a stretch takes the colour of the
    first record covering it (events before claims) and lists every record covering it.
    """
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    parts = []
    for start, end in itertools.pairwise(cuts):
        covering = [span for span in spans if span[0] <= start and end <= span[1]]
        piece = escape(text[start:end])
        if not covering:
            parts.append(piece)
            continue
        kinds = [kind for _, _, _, kind in covering]
        kind = next((k for k in _kinds() if k in kinds), kinds[0])
        ids = " ".join(dict.fromkeys(record_id for _, _, record_id, _ in covering))
        parts.append(
            f'<mark class="hl hl-{escape(kind)}" style="background:{_colour(kind)}" '
            f'data-start="{start}" data-end="{end}" data-records="{escape(ids)}">{piece}</mark>'
        )
    return "".join(parts)


def _actor(actor: Actor | None) -> str:
    if actor is None:
        return "—"
    name = actor.canonical_name or actor.name
    country = f" ({actor.country})" if actor.country else ""
    return escape(name + country)


def _role(value: RoleValue) -> str:
    return ", ".join(_actor(actor) for actor in (value if isinstance(value, list) else [value]))


def _items(record: AidDelivery) -> list[tuple[str, str]]:
    items = "; ".join(
        escape(("~" if i.approximate else "") + (f"{i.quantity:g} " if i.quantity else ""))
        + escape(i.description)
        for i in record.items
    )
    return [("items", items)]


def _form(record: DiplomaticProtest) -> list[tuple[str, str]]:
    return [("form", escape(record.form.value))]


def _claim_type(record: Claim) -> list[tuple[str, str]]:
    return [("type", escape(record.claim_type.value))]


TYPE_DETAILS: dict[str, Callable[[Any], list[tuple[str, str]]]] = {
    "aid_delivery": _items,
    "diplomatic_protest": _form,
    "claim": _claim_type,
}
"""Lines of a record card for the data only one record type has, after its roles."""


def _lines(record: Record) -> list[tuple[str, str]]:
    """(label, HTML) lines of a record card: status and date, every role, then details."""
    lines = []
    if not isinstance(record, Claim):
        lines.append(("status", escape(record.status.value)))
        if record.date is not None:
            lines.append(("date", escape(record.date.value or record.date.text)))
    lines += [(escape(name.replace("_", " ")), _role(v)) for name, v in record.roles().items()]
    return lines + TYPE_DETAILS.get(record.TYPE, lambda _: [])(record)


def _card(record: Record) -> str:
    kind = escape(record.TYPE)
    headline = record.text if isinstance(record, Claim) else record.summary
    lines = "".join(f"<div><b>{name}</b>: {value}</div>" for name, value in _lines(record))
    quotes = "".join(
        f'<div class="quote">“{escape(e.quote)}” '
        + (
            f"<small>[{e.start}:{e.end}]</small>"
            if e.start is not None
            else "<small>[not located]</small>"
        )
        + "</div>"
        for e in record.all_evidence()
    )
    return (
        f'<div class="record" data-record="{escape(record.id)}" data-kind="{kind}" '
        f'style="border-color:{_colour(record.TYPE)}"><div class="kind">{kind} '
        f"<code>{escape(record.id)}</code></div><div>{escape(headline)}</div>{lines}{quotes}</div>"
    )


def _article(result: ExtractionResult, text: str | None) -> str:
    records = _records(result)
    heading = escape(result.title or result.article_id)
    if text is None:
        body = '<p class="error">article text not available: pass the inputs with --articles</p>'
    else:
        body = f'<div class="text">{highlight(text, _spans(records, len(text)))}</div>'
    warnings = "".join(f"<li>{escape(w.message)}</li>" for w in result.warnings)
    return (
        f'<section class="article" id="{escape(_anchor(result.article_id))}" '
        f'data-article="{escape(result.article_id)}"><h2>{heading}</h2>'
        f"<p><code>{escape(result.article_id)}</code> · {escape(result.source or '')} · "
        f"{len(records)} records</p>"
        + (f"<ul>{warnings}</ul>" if warnings else "")
        + f'<div class="columns">{body}<div class="records">'
        + "".join(_card(record) for record in records)
        + "</div></div></section>"
    )
