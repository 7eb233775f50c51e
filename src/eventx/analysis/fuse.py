"""Fusion: one record per real-world event, however many articles report it.

Two event records are joined when nothing in them conflicts and something positive
ties them together (rules and examples: docs/fusion.md):

* always required, for every event type: the same record type and PLOVER event type
  (a pledge never joins a delivery, a planned meeting never joins a held one),
  compatible dates (equal, or one partial and consistent with the other, e.g.
  ``--09-12`` and ``2025-09-12``; an unknown date conflicts with nothing), and the
  same principal parties (the type's ``PARTIES``, compared by :func:`party_key`): a
  single-actor role (donor, protester, target…) holds the same key on both sides; a
  list role (a meeting's participants) holds, on the smaller side, at least two keys,
  all of them within the larger side's;
* type-specific compatibility, for the built-in types (:data:`TYPE_RULES`):

  - meetings: formats compatible;
  - aid: same aid kind; quantities of comparable items agree within
    :data:`QUANTITY_TOLERANCE` when either is approximate, exactly when neither is;
  - protests: same form;

* at least one anchor: a known date shared to the month or day, a matching item
  quantity (aid), or the same forum (meetings). Type and parties alone never join.

Clustering is complete-linkage and greedy in input order: a record joins the first
fused event with which it conflicts with no member and is anchored to at least one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eventx.models import (
    Actor,
    ActorKind,
    AidDelivery,
    AidItem,
    DatePrecision,
    DateRef,
    DiplomaticProtest,
    Event,
    EventBase,
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
    if first.TYPE != second.TYPE or _plover(first) != _plover(second):
        raise _IncompatibleError
    date_finding, date_anchor = _compare_dates(first.date, second.date)
    parties = _compare_parties(first, second)
    findings, anchor = TYPE_RULES.get(first.TYPE, _no_rule)(first, second)
    return [f"same type {first.TYPE}", *parties, *findings, date_finding], date_anchor or anchor


# -- comparisons -----------------------------------------------------------------------


def _plover(event: EventBase) -> str | None:
    return event.plover.event if event.plover else None


def _compare_parties(first: EventBase, second: EventBase) -> list[str]:
    """One finding per principal role; raises ``_IncompatibleError`` when one differs."""
    findings = []
    for role in first.PARTIES:
        a, b = getattr(first, role), getattr(second, role)
        if isinstance(a, list) or isinstance(b, list):
            findings.append(f"{role} " + ", ".join(sorted(_same_group(a or [], b or []))))
        elif a is not None or b is not None:
            findings.append(f"{role} {_same_party(a, b)}")
    return findings


def _same_group(first: list[Actor], second: list[Actor]) -> set[str]:
    """The keys of the smaller group, which must hold two and lie within the larger."""
    smaller, larger = sorted((_parties(first), _parties(second)), key=len)
    if len(smaller) < 2 or not smaller <= larger:
        raise _IncompatibleError
    return smaller


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
    formats = {_FORMAT_GROUPS[f] for f in (first.format, second.format) if f is not None}
    if len(formats) > 1:
        raise _IncompatibleError
    same_forum = _same(first.forum, second.forum)
    return ([f"forum {first.forum}"] if same_forum else []), same_forum


def _compare_aid(first: AidDelivery, second: AidDelivery) -> tuple[list[str], bool]:
    if first.aid_kind != second.aid_kind:
        raise _IncompatibleError
    findings = [f"aid_kind {first.aid_kind.value}"]
    quantity = _compare_items(first.items, second.items)
    if quantity is not None:
        findings.append(quantity)
    return findings, quantity is not None


def _compare_protests(
    first: DiplomaticProtest, second: DiplomaticProtest
) -> tuple[list[str], bool]:
    if first.form != second.form:
        raise _IncompatibleError
    return [f"form {first.form.value}"], False


def _no_rule(first: EventBase, second: EventBase) -> tuple[list[str], bool]:
    return [], False


TypeRule = Callable[[Any, Any], tuple[list[str], bool]]

TYPE_RULES: dict[str, TypeRule] = {
    "meeting": _compare_meetings,
    "aid_delivery": _compare_aid,
    "diplomatic_protest": _compare_protests,
}
"""Comparisons of the data only one event type has, after its principal parties and
dates: findings, and whether one of them anchors. Raise ``_IncompatibleError`` on a
conflict. A type without an entry is compared by type, PLOVER, parties and date only."""


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


def _same_party(first: Actor | None, second: Actor | None) -> str:
    a = party_key(first) if first is not None else None
    b = party_key(second) if second is not None else None
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
    keys = sorted({key for m in members for key in _parties(m.event.actors(principal=True))})
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
