"""Normalization: the model proposes, eventx checks and normalizes.

Applied to every successful extraction (:func:`normalize_extraction`):

* actors: international organizations → kind ``igo`` with their canonical English
  name and no country; states and governments named by a country or capital →
  ISO 3166-1 alpha-3 and the country's English name; any proposed code that is not
  a real ISO 3166 code is dropped with a warning; unresolvable values stay null;
* places: country codes checked; a place that is a country gets its code and name;
* dates: ``DateRef.text`` resolved against the publication date (``published_at``,
  else the article's own dateline) — see :mod:`eventx.normalize.dates`;
* codes: PLOVER and CAMEO for every event, CAMEO 01x for every claim — see
  :mod:`eventx.normalize.codes`.

Every actor of a record (``actors()``: all its roles, a meeting's host and a protest's
summoned official included) is normalized, whatever the record's type.

Rules and examples: docs/normalization.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from eventx.models import (
    Actor,
    ActorKind,
    Article,
    ArticleExtraction,
    DateRef,
    Event,
    EventStatus,
    Place,
    Record,
    ResultWarning,
)
from eventx.normalize.codes import code_claim, code_event
from eventx.normalize.countries import (
    english_name,
    find_country_mention,
    is_iso3,
    resolve_country,
    resolve_igo,
)
from eventx.normalize.dates import Direction, publication_day, resolve_date

_GOVERNING = (ActorKind.STATE, ActorKind.GOVERNMENT)
_MENTION_KINDS = (ActorKind.GOVERNMENT, ActorKind.ORGANIZATION, ActorKind.MEDIA)


@dataclass
class _Context:
    language: str | None
    published: date | None = None
    warnings: list[ResultWarning] = field(default_factory=list)

    def warn(self, code: str, message: str, record_id: str | None) -> None:
        self.warnings.append(ResultWarning(code=code, message=message, record_id=record_id))


def normalize_extraction(
    extraction: ArticleExtraction, article: Article, *, language: str | None = None
) -> list[ResultWarning]:
    """Normalize ``extraction`` in place (countries, names, dates, codes); return warnings.

    ``language`` is the article's BCP 47 language when known (detected or given).
    """
    context = _Context(language=language)
    stated = _dateline(extraction, article, context)  # checked and resolved in any case
    context.published = article.published_at or stated
    for event in extraction.events:
        _normalize_event(event, context)
    for claim in extraction.claims:
        _normalize_actors(claim, context)
        code_claim(claim)
    return context.warnings


def _dateline(extraction: ArticleExtraction, article: Article, context: _Context) -> date | None:
    dateline = extraction.dateline
    if dateline is None:
        return None
    if " ".join(dateline.text.split()) not in " ".join(article.text.split()):
        context.warn(
            "dateline_not_in_text",
            f"the dateline {dateline.text!r} does not occur in the article; ignored",
            None,
        )
        extraction.dateline = None
        return None
    extraction.dateline = resolve_date(dateline.text, language=context.language)
    return publication_day(extraction.dateline)


def _normalize_event(event: Event, context: _Context) -> None:
    if event.date is not None:
        event.date = _resolve(event.date, event.status, context)
    if event.location is not None:
        normalize_place(event.location, context.language, context.warnings, event.id)
    _normalize_actors(event, context)
    code_event(event)


def _normalize_actors(record: Record, context: _Context) -> None:
    for actor in record.actors():
        normalize_actor(actor, context.language, context.warnings, record.id)


def _resolve(ref: DateRef, status: EventStatus, context: _Context) -> DateRef:
    direction: Direction = "future" if status is EventStatus.PLANNED else "past"
    return resolve_date(
        ref.text, published=context.published, direction=direction, language=context.language
    )


def normalize_actor(
    actor: Actor,
    language: str | None,
    warnings: list[ResultWarning],
    record_id: str | None = None,
) -> None:
    """Normalize one actor in place; append a warning for every value eventx dropped or
    corrected."""
    context = _Context(language=language, warnings=warnings)
    igo = resolve_igo(actor.name) or resolve_igo(actor.canonical_name or "")
    if igo is not None:
        actor.kind, actor.canonical_name, actor.country = ActorKind.IGO, igo.name, None
        return
    if actor.organization and (body := resolve_igo(actor.organization)) is not None:
        actor.organization = body.name
    actor.country = _checked_code(actor.country, f"actor {actor.name!r}", context, record_id)
    if actor.kind in _GOVERNING:
        _resolve_governing(actor, context, record_id)
    if actor.country is None and actor.kind in _MENTION_KINDS:
        actor.country = find_country_mention(actor.name, language) or find_country_mention(
            actor.canonical_name or "", "en"
        )


def _resolve_governing(actor: Actor, context: _Context, record_id: str | None) -> None:
    code = resolve_country(actor.name, context.language) or resolve_country(
        actor.canonical_name or "", "en"
    )
    if code is None:
        return
    if actor.country is not None and actor.country != code:
        context.warn(
            "country_corrected",
            f"{actor.name!r} is {code}, not {actor.country} as proposed",
            record_id,
        )
    actor.country = code
    actor.canonical_name = english_name(code) or actor.canonical_name


def normalize_place(
    place: Place,
    language: str | None,
    warnings: list[ResultWarning],
    record_id: str | None = None,
) -> None:
    """Normalize one place in place: check its country code; a place that is a country
    (or a capital) gets that country's code, a country also its English name."""
    context = _Context(language=language, warnings=warnings)
    place.country = _checked_code(place.country, f"place {place.name!r}", context, record_id)
    country = resolve_country(place.name, language, capitals=False)
    if country is not None:
        if place.country is not None and place.country != country:
            context.warn(
                "country_corrected",
                f"place {place.name!r} is {country}, not {place.country} as proposed",
                record_id,
            )
        place.country, place.canonical_name = country, english_name(country)
        return
    capital_of = resolve_country(place.name, language)
    if capital_of is not None and place.country is None:
        place.country = capital_of


def _checked_code(
    code: str | None, owner: str, context: _Context, record_id: str | None
) -> str | None:
    if code is None or is_iso3(code):
        return code
    context.warn(
        "invalid_country_code",
        f"{owner}: {code!r} is not an ISO 3166-1 alpha-3 code; dropped",
        record_id,
    )
    return None
