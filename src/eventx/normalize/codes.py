"""PLOVER and CAMEO codes, assigned deterministically from a record's fields.

Each built-in record type has an ordered list of :class:`CodeRule`; the first rule
whose condition holds gives the code. The same lists render the tables in
docs/codes.md (:func:`rules_markdown`), and a test checks the two agree. An event
type without a list here (a registered one) codes itself with its ``codes()``
method, which gives no codes unless the type overrides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventx.models import (
    AidKind,
    Claim,
    ClaimType,
    EventBase,
    EventStatus,
    MeetingEvent,
    MeetingFormat,
    Plover,
    ProtestForm,
    Stance,
)


@dataclass(frozen=True)
class CodeRule:
    """One row of a coding table: when ``applies`` holds, the record gets these codes."""

    condition: str
    plover: str | None
    mode: str | None
    cameo: str
    cameo_label: str
    applies: Callable[[Any], bool]

    @property
    def plover_code(self) -> Plover | None:
        """The PLOVER event type and mode, as the record carries them."""
        return Plover(event=self.plover, mode=self.mode) if self.plover else None


def _always(_: Any) -> bool:
    return True


# -- meetings --------------------------------------------------------------------------


def _third_location(event: MeetingEvent) -> bool:
    place = event.location.country if event.location else None
    countries = {actor.country for actor in event.participants if actor.country}
    return place is not None and len(countries) >= 2 and place not in countries


MEETING_RULES: tuple[CodeRule, ...] = (
    CodeRule("status planned (announced, expected)", "AGREE", None, "036",
             "Express intent to meet or negotiate", lambda e: e.status is EventStatus.PLANNED),
    CodeRule("format phone", "CONSULT", "phone", "041", "Discuss by telephone",
             lambda e: e.format is MeetingFormat.PHONE),
    CodeRule("a host is named", "CONSULT", "visit", "043", "Host a visit",
             lambda e: e.host is not None),
    CodeRule("format visit", "CONSULT", "visit", "042", "Make a visit",
             lambda e: e.format is MeetingFormat.VISIT),
    CodeRule("held in a country none of ≥2 participant countries is", "CONSULT", "third-party",
             "044", "Meet at 'third' location", _third_location),
    CodeRule("format multilateral or summit", "CONSULT", "multilateral", "040",
             "Consult, not specified below",
             lambda e: e.format in (MeetingFormat.MULTILATERAL, MeetingFormat.SUMMIT)),
    CodeRule("any other meeting", "CONSULT", None, "040", "Consult, not specified below",
             _always),
)  # fmt: skip

# -- aid -------------------------------------------------------------------------------

_AID_DIGIT = {AidKind.ECONOMIC: "1", AidKind.MILITARY: "2", AidKind.HUMANITARIAN: "3"}
_PROMISED = (EventStatus.PLEDGED, EventStatus.PLANNED)


def _pledge_rule(kind: AidKind) -> CodeRule:
    return CodeRule(
        f"status pledged or planned, aid_kind {kind.value}", "AGREE", None,
        f"033{_AID_DIGIT[kind]}", f"Express intent to provide {kind.value} aid",
        lambda e: e.status in _PROMISED and e.aid_kind is kind,
    )  # fmt: skip


def _delivery_rule(kind: AidKind) -> CodeRule:
    return CodeRule(
        f"any other status, aid_kind {kind.value}", "AID", kind.value,
        f"07{_AID_DIGIT[kind]}", f"Provide {kind.value} aid",
        lambda e: e.status not in _PROMISED and e.aid_kind is kind,
    )  # fmt: skip


AID_RULES: tuple[CodeRule, ...] = (
    *(_pledge_rule(kind) for kind in _AID_DIGIT),
    *(_delivery_rule(kind) for kind in _AID_DIGIT),
)

# -- diplomatic protests ---------------------------------------------------------------

_OFFICIAL_COMPLAINT = (ProtestForm.SUMMONED_AMBASSADOR, ProtestForm.NOTE, ProtestForm.DEMARCHE)
_BREAK = (ProtestForm.EXPULSION, ProtestForm.RECALL)

PROTEST_RULES: tuple[CodeRule, ...] = (
    CodeRule("form summoned_ambassador, note or demarche", "ACCUSE", "disapprove", "114",
             "Complain officially", lambda e: e.form in _OFFICIAL_COMPLAINT),
    CodeRule("form statement (public condemnation)", "ACCUSE", "disapprove", "111",
             "Criticize or denounce", lambda e: e.form is ProtestForm.STATEMENT),
    CodeRule("form expulsion or recall", "SANCTION", None, "161",
             "Reduce or break diplomatic relations", lambda e: e.form in _BREAK),
)  # fmt: skip

# -- claims ----------------------------------------------------------------------------

_JUDGING = (ClaimType.ASSERTION, ClaimType.EVALUATION)
_NEGATIVE = (Stance.CRITICAL, Stance.CONCERNED)

CLAIM_RULES: tuple[CodeRule, ...] = (
    CodeRule("claim_type denial", None, None, "016", "Reject accusation, deny responsibility",
             lambda c: c.claim_type is ClaimType.DENIAL),
    CodeRule("claim_type intention", None, None, "014", "Consider policy option",
             lambda c: c.claim_type is ClaimType.INTENTION),
    CodeRule("claim_type accusation or warning", None, None, "012",
             "Make pessimistic comment",
             lambda c: c.claim_type in (ClaimType.ACCUSATION, ClaimType.WARNING)),
    CodeRule("assertion or evaluation, stance critical or concerned", None, None, "012",
             "Make pessimistic comment",
             lambda c: c.claim_type in _JUDGING and c.stance in _NEGATIVE),
    CodeRule("assertion or evaluation, stance supportive", None, None, "013",
             "Make optimistic comment",
             lambda c: c.claim_type in _JUDGING and c.stance is Stance.SUPPORTIVE),
    CodeRule("any other claim (neutral or no stance)", None, None, "010", "Make statement",
             _always),
)  # fmt: skip

EVENT_RULES: dict[str, tuple[CodeRule, ...]] = {
    "meeting": MEETING_RULES,
    "aid_delivery": AID_RULES,
    "diplomatic_protest": PROTEST_RULES,
}


def first_rule(rules: Sequence[CodeRule], record: Any) -> CodeRule:
    """The first rule of ``rules`` that applies to ``record``."""
    for rule in rules:
        if rule.applies(record):
            return rule
    raise LookupError(f"no coding rule applies to {record!r}")  # pragma: no cover


def code_event(event: EventBase) -> None:
    """Set ``event.plover`` and ``event.cameo`` from the event's own fields: by the rules
    of its type in :data:`EVENT_RULES`, else by the type's own ``codes()``."""
    rules = EVENT_RULES.get(event.TYPE)
    if rules is None:
        event.plover, event.cameo = event.codes()
        return
    rule = first_rule(rules, event)
    event.plover = rule.plover_code
    event.cameo = rule.cameo


def code_claim(claim: Claim) -> None:
    """Set ``claim.cameo`` (a CAMEO 01x statement code) from its claim_type and stance."""
    claim.cameo = first_rule(CLAIM_RULES, claim).cameo


def rules_markdown() -> str:
    """The coding tables as Markdown, exactly as they appear in docs/codes.md."""
    sections = [
        ("MeetingEvent", MEETING_RULES),
        ("AidDelivery", AID_RULES),
        ("DiplomaticProtest", PROTEST_RULES),
        ("Claim", CLAIM_RULES),
    ]
    return "\n".join(_table(title, rules) for title, rules in sections)


def _table(title: str, rules: Sequence[CodeRule]) -> str:
    lines = [
        f"### {title}",
        "",
        "| # | when | PLOVER | mode | CAMEO | CAMEO label |",
        "|---|---|---|---|---|---|",
    ]
    for number, rule in enumerate(rules, start=1):
        cells = [str(number), rule.condition, rule.plover or "—", rule.mode or "—"]
        lines.append("| " + " | ".join([*cells, rule.cameo, rule.cameo_label]) + " |")
    return "\n".join(lines) + "\n"
