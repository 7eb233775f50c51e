"""Checks on an article's records once they are grounded and normalized: precision guards
that need no model.

* **Parties that name nobody.** A record whose principal party is a placeholder
  ("unknown", "unnamed sources", "N/A", "невідомо") says nothing checkable: a claim needs
  a named speaker, an event named parties. A placeholder in a list role (one of a
  meeting's participants) is taken out of the list; the record is dropped when no
  principal party is left.
* **One event told twice.** Small models often return the same event once per sentence
  that mentions it. Events of the same type and status between the same parties (by
  name) whose dates, places and triggers do not disagree are merged into the first: its
  evidence grows by theirs, and a date it lacks is taken from them. Two meetings of the
  same people on different days or in different places, or one held and one planned,
  stay apart.

The placeholder words are a short hand-written list in the languages of the development
articles: no library names "unknown person" words across languages, and the list only
has to catch what models write when they have no name.
"""

from __future__ import annotations

import re

from eventx.extraction.merge import absorb_evidence, rename_references
from eventx.models import ArticleExtraction, Event, EventBase, ResultWarning
from eventx.normalize.countries import name_key

_PLACEHOLDERS = """
    a an the n na none null nil nobody someone somebody not specified given stated
    mentioned unknown unnamed anonymous unidentified unspecified source sources
    unbekannt unbekannter unbekannte quelle quellen
    неизвестно неизвестный неизвестные источник источники
    невідомо невідомий невідомі джерело джерела
    desconocido desconocida fuente fuentes inconnu inconnue sconosciuto fonte fonti
    nieznany nieznane źródło źródła necunoscut necunoscută sursă surse
"""
PLACEHOLDER_WORDS = frozenset(_PLACEHOLDERS.split())
"""Words that, alone or together, name nobody."""

_WORDS = re.compile(r"\w+")


def is_placeholder(name: str) -> bool:
    """True when ``name`` names nobody: no word at all, or only placeholder words."""
    words = _WORDS.findall(name.casefold())
    return all(word in PLACEHOLDER_WORDS for word in words)


def drop_unnamed(extraction: ArticleExtraction) -> list[ResultWarning]:
    """Take placeholder actors out of list roles; drop the records left without a named
    principal party. Returns a warning per record dropped."""
    dropped: list[ResultWarning] = []
    for record in extraction.records():
        for role in record.PARTIES:
            value = getattr(record, role)
            if isinstance(value, list):
                setattr(record, role, [a for a in value if not is_placeholder(a.name)])
        parties = record.actors(principal=True)
        if not parties or any(is_placeholder(actor.name) for actor in parties):
            dropped.append(
                ResultWarning(
                    code="unnamed_party_dropped",
                    message="dropped the record: a principal party names nobody",
                    record_id=record.id,
                )
            )
    ids = {warning.record_id for warning in dropped}
    extraction.events = [event for event in extraction.events if event.id not in ids]
    extraction.claims = [claim for claim in extraction.claims if claim.id not in ids]
    return dropped


def merge_restated_events(extraction: ArticleExtraction) -> list[ResultWarning]:
    """Merge events that restate an earlier one (see the module docstring); returns a
    warning per event merged away."""
    kept: list[Event] = []
    merged: dict[str, str] = {}
    for event in extraction.events:
        first = next((earlier for earlier in kept if _restates(event, earlier)), None)
        if first is None:
            kept.append(event)
            continue
        _absorb(first, event)
        merged[event.id] = first.id
    extraction.events = kept
    rename_references(extraction, merged)  # a protest's trigger follows its event
    return [
        ResultWarning(
            code="restated_event_merged",
            message=f"merged into {into}: the same event between the same parties",
            record_id=gone,
        )
        for gone, into in merged.items()
    ]


def _restates(event: EventBase, earlier: EventBase) -> bool:
    if event.TYPE != earlier.TYPE or event.status != earlier.status:
        return False
    if _party_names(event) != _party_names(earlier) or not _party_names(event):
        return False
    return (
        _agree(_date_key(event), _date_key(earlier))
        and _agree(_place_key(event), _place_key(earlier))
        and all(_agree(getattr(event, r), getattr(earlier, r)) for r in event.REFERENCES)
    )


def _agree(first: str | None, second: str | None) -> bool:
    """Unknown on either side agrees; two known values must be equal."""
    return first is None or second is None or first == second


def _date_key(event: EventBase) -> str | None:
    if event.date is None:
        return None
    return event.date.value or name_key(event.date.text) or None


def _place_key(event: EventBase) -> str | None:
    place = getattr(event, "location", None)
    if place is None:
        return None
    return name_key(place.canonical_name or place.name) or None


def _party_names(event: EventBase) -> frozenset[str]:
    return frozenset(
        name_key(actor.canonical_name or actor.name) for actor in event.actors(principal=True)
    )


def _absorb(first: Event, other: Event) -> None:
    absorb_evidence(first, other)
    if first.date is None:
        first.date = other.date
