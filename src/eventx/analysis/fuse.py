"""Fusion: one record per real-world event, however many articles report it.

Two event records are joined when nothing in them conflicts and something positive
ties them together (rules and examples: docs/fusion.md):

* always required: the same record type and PLOVER event type (a pledge never joins a
  delivery, a planned meeting never joins a held one), compatible dates (equal, or
  one partial and consistent with the other, e.g. ``--09-12`` and ``2025-09-12``; an
  unknown date conflicts with nothing), and type-specific compatibility:

  - meetings: the smaller set of parties (ISO3 codes, IGO or canonical names) lies
    within the larger and holds at least two; formats compatible;
  - aid: same donor, same recipient, same aid kind; quantities of comparable items
    agree within :data:`QUANTITY_TOLERANCE` when either is approximate, exactly when
    neither is;
  - protests: same protester, same target, same form;

* at least one anchor: a known date shared to the month or day, a matching item
  quantity (aid), or the same forum (meetings). Type and parties alone never join.

Clustering is complete-linkage and greedy in input order: a record joins the first
fused event with which it conflicts with no member and is anchored to at least one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from eventx.models import (
    Actor,
    ActorKind,
    AidDelivery,
    AidItem,
    DatePrecision,
    DateRef,
    DiplomaticProtest,
    Event,
    ExtractionResult,
    FusedEvent,
    FusedSource,
    MeetingEvent,
    MeetingFormat,
)

QUANTITY_TOLERANCE = 0.2
"""Relative difference allowed between quantities when either is approximate ('about 100')."""

_FORMAT_GROUPS = {
    MeetingFormat.BILATERAL: "bilateral",
    MeetingFormat.VISIT: "bilateral",
    MeetingFormat.MULTILATERAL: "multilateral",
    MeetingFormat.SUMMIT: "multilateral",
    MeetingFormat.PHONE: "phone",
}
_GENERIC_CATEGORIES = frozenset({"equipment", "other"})
_MATERIAL_CATEGORIES = frozenset({"vehicles", "weapons", "ammunition", "equipment", "medical"})
_PRECISION_RANK = {
    DatePrecision.DAY: 3,
    DatePrecision.MONTH: 2,
    DatePrecision.YEAR: 1,
    DatePrecision.UNKNOWN: 0,
}


class _IncompatibleError(Exception):
    """Two records cannot be the same event."""


@dataclass
class _Member:
    result: ExtractionResult
    event: Event
    joined_by: list[str] = field(default_factory=list)


@dataclass
class _Cluster:
    members: list[_Member]

    def admit(self, candidate: _Member) -> list[str] | None:
        """The findings that join ``candidate`` to this cluster, or None if it may not."""
        best: list[str] | None = None
        for member in self.members:
            try:
                findings, anchored = _compare(member.event, candidate.event)
            except _IncompatibleError:
                return None
            if anchored and (best is None or len(findings) > len(best)):
                best = findings
        return best


def fuse(results: Iterable[ExtractionResult]) -> list[FusedEvent]:
    """Group the event records of ``results`` into one :class:`FusedEvent` per real-world
    event. Failed results are skipped; every event record lands in exactly one group."""
    clusters: list[_Cluster] = []
    for member in _members(results):
        for cluster in clusters:
            findings = cluster.admit(member)
            if findings is not None:
                member.joined_by = findings
                cluster.members.append(member)
                break
        else:
            clusters.append(_Cluster([member]))
    return [_fused(cluster) for cluster in clusters]


def _compare(first: Event, second: Event) -> tuple[list[str], bool]:
    """Compare two event records: the findings that tie them and whether any of them is
    an anchor. Raises ``_IncompatibleError`` when they cannot be the same event."""
    if first.type != second.type or _plover(first) != _plover(second):
        raise _IncompatibleError
    date_finding, date_anchor = _compare_dates(first.date, second.date)
    if isinstance(first, MeetingEvent) and isinstance(second, MeetingEvent):
        findings, anchor = _compare_meetings(first, second)
    elif isinstance(first, AidDelivery) and isinstance(second, AidDelivery):
        findings, anchor = _compare_aid(first, second)
    elif isinstance(first, DiplomaticProtest) and isinstance(second, DiplomaticProtest):
        findings, anchor = _compare_protests(first, second), False
    else:  # pragma: no cover - same type string implies same class
        raise _IncompatibleError
    return [f"same type {first.type}", *findings, date_finding], date_anchor or anchor


# -- comparisons -----------------------------------------------------------------------


def _plover(event: Event) -> str | None:
    return event.plover.event if event.plover else None


def _compare_dates(first: DateRef | None, second: DateRef | None) -> tuple[str, bool]:
    a, b = _date_parts(first), _date_parts(second)
    if a is None or b is None:
        return "date not known on both sides", False
    shared = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if any(x != y for x, y in shared):
        raise _IncompatibleError
    anchored = a[1] is not None and b[1] is not None
    return f"date {_value(first)} ~ {_value(second)}", anchored


def _value(ref: DateRef | None) -> str:
    return ref.value if ref is not None and ref.value else "?"


def _date_parts(ref: DateRef | None) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day) of a partial ISO value, None where unknown; None if no value."""
    if ref is None or not ref.value:
        return None
    parts: list[int | None] = [int(part) for part in ref.value.lstrip("-").split("-")]
    if ref.value.startswith("--"):
        parts.insert(0, None)
    parts += [None] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


def _compare_meetings(first: MeetingEvent, second: MeetingEvent) -> tuple[list[str], bool]:
    a, b = _parties(first.participants), _parties(second.participants)
    smaller, larger = sorted((a, b), key=len)
    if len(smaller) < 2 or not smaller <= larger:
        raise _IncompatibleError
    formats = {_FORMAT_GROUPS[f] for f in (first.format, second.format) if f is not None}
    if len(formats) > 1:
        raise _IncompatibleError
    findings = ["participants " + ", ".join(sorted(smaller))]
    same_forum = _same(first.forum, second.forum)
    if same_forum:
        findings.append(f"forum {first.forum}")
    return findings, same_forum


def _compare_aid(first: AidDelivery, second: AidDelivery) -> tuple[list[str], bool]:
    donor = _same_party(first.donor, second.donor)
    recipient = _same_party(first.recipient, second.recipient)
    if first.aid_kind != second.aid_kind:
        raise _IncompatibleError
    findings = [f"donor {donor}", f"recipient {recipient}", f"aid_kind {first.aid_kind.value}"]
    quantity = _compare_items(first.items, second.items)
    if quantity is not None:
        findings.append(quantity)
    return findings, quantity is not None


def _compare_protests(first: DiplomaticProtest, second: DiplomaticProtest) -> list[str]:
    protester = _same_party(first.protester, second.protester)
    target = _same_party(first.target, second.target)
    if first.form != second.form:
        raise _IncompatibleError
    return [f"protester {protester}", f"target {target}", f"form {first.form.value}"]


def _compare_items(first: list[AidItem], second: list[AidItem]) -> str | None:
    """A finding for the first pair of comparable items whose quantities agree; None when
    no pair is comparable. Raises ``_IncompatibleError`` when all comparable pairs differ."""
    comparable = [
        (a, b)
        for a in first
        for b in second
        if a.quantity is not None and b.quantity is not None and _comparable(a, b)
    ]
    for a, b in comparable:
        if _quantities_agree(a, b):
            sign = "≈" if a.approximate or b.approximate else "="
            return f"quantity {a.quantity:g} {sign} {b.quantity:g} ({a.category}/{b.category})"
    if comparable:
        raise _IncompatibleError
    return None


def _comparable(a: AidItem, b: AidItem) -> bool:
    if a.category == b.category:
        return True
    categories = {a.category, b.category}
    generic = categories & _GENERIC_CATEGORIES
    return bool(generic) and ("other" in generic or categories <= _MATERIAL_CATEGORIES)


def _quantities_agree(a: AidItem, b: AidItem) -> bool:
    x, y = a.quantity or 0.0, b.quantity or 0.0
    if not (a.approximate or b.approximate):
        return x == y
    return abs(x - y) <= QUANTITY_TOLERANCE * max(x, y)


def _same_party(first: Actor, second: Actor) -> str:
    a, b = party_key(first), party_key(second)
    if a is None or a != b:
        raise _IncompatibleError
    return a


def _parties(actors: Iterable[Actor]) -> set[str]:
    return {key for actor in actors if (key := party_key(actor)) is not None}


def party_key(actor: Actor) -> str | None:
    """The key an actor is matched on: its ISO3 country for states, governments and
    persons who have one, the canonical name of an IGO, else the canonical name."""
    if actor.kind is ActorKind.IGO:
        return actor.canonical_name or actor.name
    if actor.country and actor.kind in (ActorKind.STATE, ActorKind.GOVERNMENT, ActorKind.PERSON):
        return actor.country
    name = actor.organization if actor.kind is ActorKind.PERSON else None
    return name or actor.canonical_name or None


def _same(first: str | None, second: str | None) -> bool:
    if not first or not second:
        return False
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


# -- output ----------------------------------------------------------------------------


def _members(results: Iterable[ExtractionResult]) -> Iterator[_Member]:
    for result in results:
        if result.extraction is not None:
            for event in result.extraction.events:
                yield _Member(result, event)


def _fused(cluster: _Cluster) -> FusedEvent:
    members = cluster.members
    representative = max(members, key=_completeness).event
    dated = [m.event.date for m in members if m.event.date is not None]
    keys = sorted({key for m in members for key in _parties(_event_actors(m.event))})
    return FusedEvent(
        id=_fused_id(members),
        type=representative.type,
        event=representative,
        date=max(dated, key=_date_rank) if dated else None,
        parties=keys,
        sources=[_source(member) for member in members],
    )


def _completeness(member: _Member) -> tuple[int, float]:
    return (_date_rank(member.event.date), member.event.confidence)


def _date_rank(ref: DateRef | None) -> int:
    if ref is None or not ref.value:
        return 0
    known_year = 0 if ref.value.startswith("--") else 1
    return 2 * _PRECISION_RANK[ref.precision] + known_year


def _event_actors(event: Event) -> list[Actor]:
    if isinstance(event, MeetingEvent):
        return list(event.participants)
    if isinstance(event, AidDelivery):
        return [event.donor, event.recipient]
    return [event.protester, event.target]


def _fused_id(members: list[_Member]) -> str:
    names = "\n".join(f"{m.result.article_id}#{m.event.id}" for m in members)
    return "fx-" + hashlib.sha256(names.encode()).hexdigest()[:12]


def _source(member: _Member) -> FusedSource:
    result, event = member.result, member.event
    return FusedSource(
        article_id=result.article_id,
        record_id=event.id,
        source=result.source,
        url=result.url,
        summary=event.summary,
        evidence=event.evidence,
        joined_by=member.joined_by,
    )
