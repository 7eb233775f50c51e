"""Merging the answers of one article's parts (chunks, or several passes) into one.

A record of a later part is the *same* as a record already kept when both are of
the same type and they share evidence (see :func:`merge_parts`); record ids are made
unique across parts with :func:`number_ids`.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventx.extraction.grounding import _fold
from eventx.models import ArticleExtraction, Claim, Evidence, Record


def number_ids(extraction: ArticleExtraction, chunk: int) -> dict[str, str]:
    """Make record ids unique across chunks: ``e1`` of chunk 2 becomes ``p2-e1``.

    References to other records (a protest's trigger: an event type's ``REFERENCES``)
    are renamed along; returns the old → new id map.
    """
    renamed = {record.id: f"p{chunk}-{record.id}" for record in extraction.records()}
    for record in extraction.records():
        record.id = renamed[record.id]
    rename_references(extraction, renamed)
    return renamed


def rename_references(extraction: ArticleExtraction, renamed: dict[str, str]) -> None:
    """Point every reference to an id in ``renamed`` at the id it maps to."""
    for event in extraction.events:
        for name in event.REFERENCES:
            target = getattr(event, name)
            if target in renamed:
                setattr(event, name, renamed[target])


def _span(evidence: Evidence) -> tuple[int, int] | None:
    if evidence.start is None or evidence.end is None:
        return None
    return evidence.start, evidence.end


def _overlap(first: Evidence, second: Evidence) -> float:
    """Share of the shorter span that two grounded spans have in common (0-1)."""
    one, other = _span(first), _span(second)
    if one is None or other is None:
        return 0.0
    common = min(one[1], other[1]) - max(one[0], other[0])
    shorter = min(one[1] - one[0], other[1] - other[0])
    return max(common, 0) / shorter if shorter > 0 else 0.0


def _same_evidence(first: Evidence, second: Evidence) -> float:
    if _fold(first.quote) == _fold(second.quote):
        return 1.0
    return _overlap(first, second)


def _match_score(kept: Record, candidate: Record) -> float:
    """How strongly two records of different chunks look like the same record (0-1)."""
    if kept.TYPE != candidate.TYPE:
        return 0.0
    return max(
        (_same_evidence(a, b) for a in kept.evidence for b in candidate.evidence), default=0.0
    )


def _repeats(first: Evidence, second: Evidence) -> bool:
    """Equal quotes (normalized) or the very same span."""
    same_span = _span(first) is not None and _span(first) == _span(second)
    return same_span or _fold(first.quote) == _fold(second.quote)


def absorb_evidence(kept: Record, duplicate: Record) -> None:
    """Add the duplicate's evidence that the kept record lacks."""
    for evidence in duplicate.evidence:
        if not any(_repeats(evidence, own) for own in kept.evidence):
            kept.evidence.append(evidence)


def _best_match(kept: list[Record], candidate: Record, taken: set[int]) -> Record | None:
    scored = [
        (_match_score(record, candidate), -index, record)
        for index, record in enumerate(kept)
        if id(record) not in taken
    ]
    best = max(scored, default=None, key=lambda item: item[:2])
    return best[2] if best is not None and best[0] > 0 else None


@dataclass(frozen=True)
class Merged:
    """The merged extraction, and which record ids were merged into which."""

    extraction: ArticleExtraction
    redirect: dict[str, str]


def merge_parts(parts: list[ArticleExtraction]) -> Merged:
    """Merge the extractions of consecutive chunks into one.

    A record of a later chunk is the *same* as a record already kept when both are
    of the same type (event type, or claim) and they share evidence: two quotes equal
    after normalization, or two grounded spans that overlap. Each later record is
    matched to the kept record that shares the most (the share of the shorter span
    in common; equal quotes count as complete), at most one per chunk; the kept record
    gains the other's evidence that is not a repeat (same span or equal quote), and
    references pointing at the duplicate (triggers) are redirected.
    Records within one chunk are never merged with each other.
    """
    merged = ArticleExtraction()
    redirect: dict[str, str] = {}
    for part in parts:
        kept, taken = merged.records(), set[int]()
        for record in part.records():
            same = _best_match(kept, record, taken)
            if same is None:
                _append(merged, record)
                continue
            taken.add(id(same))
            absorb_evidence(same, record)
            redirect[record.id] = same.id
    merged.dateline = next((part.dateline for part in parts if part.dateline), None)
    rename_references(merged, redirect)
    return Merged(merged, redirect)


def _append(extraction: ArticleExtraction, record: Record) -> None:
    if isinstance(record, Claim):
        extraction.claims.append(record)
    else:
        extraction.events.append(record)
