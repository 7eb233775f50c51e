"""LangExtract's annotated documents → eventx results, so ``eventx eval`` scores both alike.

    python bench/langextract_convert.py /work/scratch/lx.raw.jsonl \\
        --out /work/scratch/lx.jsonl --proxy-log /work/scratch/proxy.jsonl

Reads ``PREFIX.raw.jsonl`` written by ``bench/langextract_run.py`` (one LangExtract
annotated document per article, plus its ``run`` record) and writes one
:class:`eventx.ExtractionResult` per article: ``article_id`` = the document id (the
file stem), ``model`` and ``prompt_hash`` from the run, ``mode="langextract"``.

The mapping, extraction by extraction (``attrs`` = the extraction's attributes):

* Classes ``meeting``, ``aid_delivery``, ``diplomatic_protest`` and ``claim`` become
  :class:`eventx.MeetingEvent`, :class:`eventx.AidDelivery`,
  :class:`eventx.DiplomaticProtest` and :class:`eventx.Claim`; any other class the
  model invents is dropped with a ``langextract_unknown_class`` warning.
* Evidence: exactly one :class:`eventx.Evidence` per record, LangExtract's own span.
  When LangExtract aligned the extraction text (``char_interval`` set), ``start``/``end``
  are its ``char_interval`` and ``quote`` is ``text[start:end]``; ``match`` is
  ``exact`` for ``match_exact`` (``score`` 100) and ``fuzzy`` for ``match_fuzzy``,
  ``match_lesser`` and ``match_greater`` (``score`` null). Unaligned extractions keep
  the extraction text as ``quote`` with no offsets and ``match`` null. No offset is
  computed or corrected here.
* Actors: :class:`eventx.Actor` with ``name`` from the role attribute as the model wrote
  it (a list: its first item), ``kind="other"`` (not asked for, not scored) and
  ``country`` from the matching ``*_country`` attribute when it is three letters
  (upper-cased; anything else is dropped, never looked up). Meeting participants pair
  ``participants`` with ``participant_countries`` by position (a string is split at
  commas and semicolons). A role the model left empty becomes the actor ``unknown``.
* Items: each ``items`` entry ("100 vehicles", "about 2,000 rations") becomes an
  :class:`eventx.AidItem`: a leading number (``,``/``.`` before three digits read as
  thousands separators; ``thousand``/``million`` multiply) is ``quantity`` (hedges like
  "about" set ``approximate``), the rest is ``description``; ``category="other"``.
* ``status``: the attribute when it is an eventx status, else ``occurred``.
* ``date``: the attribute (the date as the article writes it) resolved with
  :func:`eventx.resolve_date` — the resolver eventx applies to its own model's date
  text — without a publication date, so day-and-month dates get no year.
* Fields LangExtract is not asked for get neutral values: ``summary`` and protest
  ``grievance`` = the extraction text; ``aid_kind="military"``; protest
  ``form="statement"``; claim ``text`` = the ``content`` attribute (else the extraction
  text), ``speaker`` from ``speaker``/``speaker_country``, ``quote_type="indirect"``,
  ``claim_type="assertion"``; ids ``e1``…/``c1``… in LangExtract's order. No eventx
  normalization, cleaning or grounding runs on these records.
* Usage: with ``--proxy-log`` (``bench/usage_proxy.py``), requests and tokens are
  summed per article: requests sent while the article ran (only those tagged with
  its id, when the run tagged its requests). ``chunks`` is LangExtract's chunk count.
* An article whose ``lx.extract`` call raised becomes a failed result (``error``).

Per-article seconds, requests and tokens are printed and written to ``--stats``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import eventx

EVENT_CLASSES = ("meeting", "aid_delivery", "diplomatic_protest")
STATUSES = {"occurred", "planned", "pledged", "reported", "denied"}
HEDGES = ("about", "approximately", "around", "nearly", "almost", "some", "roughly", "up to")
NUMBER = re.compile(
    rf"^(?P<hedge>(?:{'|'.join(HEDGES)})\s+)?"
    r"(?P<num>\d{1,3}(?:[.,\s]\d{3})+|\d+(?:\.\d+)?)\s*"
    r"(?P<mult>thousand|million|k\b)?\s*(?:of\s+)?(?P<rest>.*)$",
    re.IGNORECASE,
)

Attrs = dict[str, Any]


# ---------------------------------------------------------------------------
# Attribute values
# ---------------------------------------------------------------------------


def text_value(attrs: Attrs, key: str) -> str | None:
    """A single string attribute (a list: its first item); None when empty."""
    value = attrs.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, dict):
        return None
    text = str(value).strip()
    return text or None


def list_value(attrs: Attrs, key: str) -> list[str]:
    """A list attribute; a string is split at commas and semicolons."""
    value = attrs.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[;,]", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def country_code(value: str | None) -> str | None:
    """A three-letter code as given (upper-cased); anything else is dropped."""
    code = (value or "").strip().upper()
    return code if re.fullmatch(r"[A-Z]{3}", code) else None


def actor(name: str | None, country: str | None) -> eventx.Actor:
    """An actor from a name attribute and a country attribute."""
    return eventx.Actor(name=name or "unknown", kind="other", country=country_code(country))


def role(attrs: Attrs, key: str) -> eventx.Actor:
    """The actor of one role, e.g. ``donor`` with ``donor_country``."""
    return actor(text_value(attrs, key), text_value(attrs, f"{key}_country"))


def participants(attrs: Attrs) -> list[eventx.Actor]:
    """Meeting participants, paired with their countries by position."""
    names = list_value(attrs, "participants")
    countries = list_value(attrs, "participant_countries")
    actors = [
        actor(name, countries[i] if i < len(countries) else None) for i, name in enumerate(names)
    ]
    return actors or [actor(None, None)]


def parse_number(text: str) -> float:
    """'2,000' / '2.000' / '2 000' → 2000; '1.5' → 1.5."""
    if re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})+", text):
        return float(re.sub(r"[.,\s]", "", text))
    return float(text)


def aid_item(entry: str) -> eventx.AidItem:
    """One item string ("about 100 trucks") as an AidItem."""
    match = NUMBER.match(entry.strip())
    if match is None:
        return eventx.AidItem(description=entry, category="other")
    quantity = parse_number(match["num"])
    multiplier = (match["mult"] or "").lower()
    quantity *= {"thousand": 1_000, "k": 1_000, "million": 1_000_000}.get(multiplier, 1)
    return eventx.AidItem(
        description=match["rest"].strip() or entry,
        category="other",
        quantity=quantity,
        approximate=bool(match["hedge"]),
    )


def status(attrs: Attrs) -> str:
    """The status attribute when it is an eventx status, else ``occurred``."""
    value = (text_value(attrs, "status") or "").lower()
    return value if value in STATUSES else "occurred"


def date_ref(attrs: Attrs, event_status: str, language: str | None) -> eventx.DateRef | None:
    """The date attribute resolved by eventx's date resolver (no publication date)."""
    text = text_value(attrs, "date")
    if text is None:
        return None
    direction = "future" if event_status in ("planned", "pledged") else "past"
    return eventx.resolve_date(text, direction=direction, language=language)


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


def evidence(extraction: dict[str, Any], text: str) -> eventx.Evidence:
    """LangExtract's span as eventx evidence, offsets and alignment as LangExtract gave."""
    interval = extraction.get("char_interval") or {}
    start, end = interval.get("start_pos"), interval.get("end_pos")
    status_ = extraction.get("alignment_status")
    if start is None or end is None or end <= start:
        return eventx.Evidence(quote=extraction["extraction_text"])
    exact = status_ == "match_exact"
    return eventx.Evidence(
        quote=text[start:end],
        start=start,
        end=end,
        match="exact" if exact else "fuzzy",
        score=100.0 if exact else None,
    )


def event_record(
    extraction: dict[str, Any], record_id: str, text: str, language: str | None
) -> eventx.MeetingEvent | eventx.AidDelivery | eventx.DiplomaticProtest:
    """A meeting, aid delivery or diplomatic protest from one extraction."""
    attrs: Attrs = extraction.get("attributes") or {}
    span = extraction["extraction_text"]
    event_status = status(attrs)
    common: dict[str, Any] = {
        "id": record_id,
        "summary": span,
        "status": event_status,
        "date": date_ref(attrs, event_status, language),
        "evidence": [evidence(extraction, text)],
    }
    kind = extraction["extraction_class"]
    if kind == "meeting":
        return eventx.MeetingEvent(**common, participants=participants(attrs))
    if kind == "aid_delivery":
        return eventx.AidDelivery(
            **common,
            donor=role(attrs, "donor"),
            recipient=role(attrs, "recipient"),
            items=[aid_item(entry) for entry in list_value(attrs, "items")],
            aid_kind="military",
        )
    return eventx.DiplomaticProtest(
        **common,
        protester=role(attrs, "protester"),
        target=role(attrs, "target"),
        form="statement",
        grievance=span,
    )


def claim_record(extraction: dict[str, Any], record_id: str, text: str) -> eventx.Claim:
    """A claim from one extraction."""
    attrs: Attrs = extraction.get("attributes") or {}
    return eventx.Claim(
        id=record_id,
        speaker=role(attrs, "speaker"),
        text=text_value(attrs, "content") or extraction["extraction_text"],
        quote_type="indirect",
        claim_type="assertion",
        evidence=[evidence(extraction, text)],
    )


def article_extraction(
    document: dict[str, Any], language: str | None
) -> tuple[eventx.ArticleExtraction, list[eventx.ResultWarning]]:
    """Every usable extraction of one document as eventx records, plus warnings."""
    text = document.get("text") or ""
    events: list[Any] = []
    claims: list[eventx.Claim] = []
    warnings: list[eventx.ResultWarning] = []
    for extraction in document.get("extractions") or []:
        kind = extraction.get("extraction_class")
        if not str(extraction.get("extraction_text") or "").strip():
            warnings.append(_warning("langextract_empty_text", f"empty {kind} dropped"))
        elif kind in EVENT_CLASSES:
            events.append(event_record(extraction, f"e{len(events) + 1}", text, language))
        elif kind == "claim":
            claims.append(claim_record(extraction, f"c{len(claims) + 1}", text))
        else:
            warnings.append(_warning("langextract_unknown_class", f"class {kind!r} dropped"))
    return eventx.ArticleExtraction(events=events, claims=claims), warnings


def _warning(code: str, message: str) -> eventx.ResultWarning:
    return eventx.ResultWarning(code=code, message=message)


# ---------------------------------------------------------------------------
# Usage from the proxy log
# ---------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of a file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def article_requests(
    log: list[dict[str, Any]], article_id: str, run: dict[str, Any]
) -> list[dict[str, Any]]:
    """The proxy's requests sent while the article ran; only those tagged with its id when
    the run tagged its requests."""
    started, ended = run.get("started", 0.0), run.get("ended", 0.0)
    window = [e for e in log if started <= e.get("sent", -1) <= ended]
    tagged = [e for e in window if e.get("tag") == article_id]
    return tagged or [e for e in window if e.get("tag") is None]


def usage(requests: Iterable[dict[str, Any]]) -> eventx.Usage:
    """Requests and tokens summed."""
    entries = list(requests)
    return eventx.Usage(
        requests=len(entries),
        prompt_tokens=sum(e.get("prompt_tokens") or 0 for e in entries),
        completion_tokens=sum(e.get("completion_tokens") or 0 for e in entries),
    )


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def check_text(document: dict[str, Any], run: dict[str, Any]) -> list[eventx.ResultWarning]:
    """A warning when eventx reads the source file as a different text (offsets differ)."""
    source = run.get("source")
    if not source or not Path(source).exists():
        return []
    if eventx.load_article(source).text == document.get("text"):
        return []
    message = f"{source}: eventx reads a different text than LangExtract saw; offsets may differ"
    return [_warning("langextract_text_mismatch", message)]


def to_result(
    document: dict[str, Any], log: list[dict[str, Any]] | None
) -> eventx.ExtractionResult:
    """One eventx result from one raw LangExtract record."""
    run = document.get("run") or {}
    article_id = document["document_id"]
    text = document.get("text") or ""
    language = eventx.detect_language(text) if text.strip() else None
    result = eventx.ExtractionResult(
        article_id=article_id,
        source=run.get("source"),
        language=language,
        language_source="detected" if language else None,
        model=run.get("model", "unknown"),
        mode="langextract",
        prompt_hash=run.get("prompt_hash", ""),
        chunks=run.get("chunks") or 1,
        warnings=check_text(document, run),
    )
    if log is not None:
        result.usage = usage(article_requests(log, article_id, run))
        result.attempts = result.usage.requests
    if run.get("error"):
        category = "api" if "Inference" in run["error"] else "invalid_output"
        result.error = eventx.ErrorRecord(category=category, message=run["error"], attempts=1)
        return result
    result.extraction, warnings = article_extraction(document, language)
    result.warnings += warnings
    return result


def article_stats(document: dict[str, Any], result: eventx.ExtractionResult) -> dict[str, Any]:
    """Seconds, requests, tokens and extraction counts of one article."""
    run = document.get("run") or {}
    extractions = document.get("extractions") or []
    return {
        "article_id": result.article_id,
        "seconds": run.get("seconds"),
        "chunks": run.get("chunks"),
        "requests": result.usage.requests,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "extractions": len(extractions),
        "classes": dict(Counter(e.get("extraction_class") for e in extractions)),
        "alignment": dict(Counter(str(e.get("alignment_status")) for e in extractions)),
        "chunks_unparsed": len(run.get("parse_errors") or []),
        "error": run.get("error"),
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums and per-article means over all articles."""
    keys = ("seconds", "requests", "prompt_tokens", "completion_tokens", "extractions")
    sums = {key: round(sum(row[key] or 0 for row in rows), 3) for key in keys}
    count = max(len(rows), 1)
    return {
        "articles": len(rows),
        "sum": sums,
        "mean": {key: round(value / count, 1) for key, value in sums.items()},
        "chunks_unparsed": sum(row["chunks_unparsed"] for row in rows),
        "failed": sum(1 for row in rows if row["error"]),
    }


def print_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Per-article stats on stderr."""
    head = f"{'article':<24}{'sec':>8}{'req':>5}{'prompt':>8}{'compl':>7}{'extr':>6}{'unparsed':>9}"
    lines = [head]
    for row in rows:
        lines.append(
            f"{row['article_id']:<24}{row['seconds'] or 0:>8.1f}{row['requests']:>5}"
            f"{row['prompt_tokens']:>8}{row['completion_tokens']:>7}{row['extractions']:>6}"
            f"{row['chunks_unparsed']:>9}{_error_note(row['error'])}"
        )
    mean = summary["mean"]
    lines.append(
        f"{'mean':<24}{mean['seconds']:>8.1f}{mean['requests']:>5.1f}"
        f"{mean['prompt_tokens']:>8.0f}{mean['completion_tokens']:>7.0f}{mean['extractions']:>6.1f}"
    )
    print("\n".join(lines), file=sys.stderr)


def _error_note(error: str | None) -> str:
    return f"  error: {error[:60]}" if error else ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="PREFIX.raw.jsonl from langextract_run.py")
    parser.add_argument("--out", type=Path, help="eventx results (default PREFIX.jsonl)")
    parser.add_argument("--proxy-log", type=Path, help="usage_proxy.py log, for usage")
    parser.add_argument("--stats", type=Path, help="stats JSON (default PREFIX.stats.json)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Convert, write results and stats."""
    args = parse_args(argv)
    prefix = str(args.raw).removesuffix(".jsonl").removesuffix(".raw")
    out = args.out or Path(f"{prefix}.jsonl")
    stats_path = args.stats or Path(f"{prefix}.stats.json")
    log = read_jsonl(args.proxy_log) if args.proxy_log else None
    documents = read_jsonl(args.raw)
    results = [to_result(document, log) for document in documents]
    with out.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(result.model_dump_json(exclude_none=False) + "\n")
    rows = [article_stats(d, r) for d, r in zip(documents, results, strict=True)]
    summary = totals(rows)
    first_run = (documents[0].get("run") or {}) if documents else {}
    stats = {"settings": first_run.get("settings"), "articles": rows, "totals": summary}
    stats_path.write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
    print_table(rows, summary)
    print(f"wrote {out} and {stats_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
