"""Date expressions as written → ISO values with a precision and the rule used.

The model copies a date expression (``DateRef.text``); eventx resolves it with
dateparser. Which parts the text itself states is found by parsing it twice against
two probe dates in different years, months and days: what stays the same in both
parses comes from the text, what moves comes from the reference date.

* everything stays → ``explicit`` (the text states the year);
* only the year moves → day/month from the text, year from the publication date
  (``publication_year``) or, with no publication date, none at all (``year_unknown``,
  ``--09-12``);
* the day or month moves too → a relative expression ("yesterday", "вчора"), counted
  from the publication date (``relative``), or ``unresolved`` without one.

Planned events resolve forward from the publication date, everything else backward.
See docs/normalization.md.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from dateparser.date import DateDataParser

from eventx.models import DatePrecision, DateRef, DateRule

Direction = Literal["past", "future"]

_PROBES = (datetime(2000, 3, 15), datetime(2004, 8, 20))
_PRECISIONS = {
    "day": DatePrecision.DAY,
    "time": DatePrecision.DAY,
    "month": DatePrecision.MONTH,
    "year": DatePrecision.YEAR,
}
_LEADING_WORDS = re.compile(
    r"^(am|im|an|on|in|at|au|le|el|vào|ngày|в|у|во|з|с|от|від)\s+", re.IGNORECASE
)
# Locative/prepositional month names ("в липні", "в июле") that dateparser does not know,
# mapped to the genitive or nominative form it does.
_MONTH_FORMS = {
    "січні": "січня", "лютому": "лютого", "березні": "березня", "квітні": "квітня",
    "травні": "травня", "червні": "червня", "липні": "липня", "серпні": "серпня",
    "вересні": "вересня", "жовтні": "жовтня", "листопаді": "листопада", "грудні": "грудня",
    "январе": "января", "феврале": "февраля", "марте": "марта", "апреле": "апреля",
    "мае": "мая", "июне": "июня", "июле": "июля", "августе": "августа",
    "сентябре": "сентября", "октябре": "октября", "ноябре": "ноября", "декабре": "декабря",
}  # fmt: skip


@dataclass(frozen=True)
class _Parsed:
    when: date
    precision: DatePrecision


def resolve_date(
    text: str,
    *,
    published: date | None = None,
    direction: Direction = "past",
    language: str | None = None,
) -> DateRef:
    """Resolve one date expression as written into a :class:`DateRef`.

    Args:
        text: the expression as the article writes it ("12. September", "вчора").
        published: the article's publication date, when known.
        direction: ``"future"`` for announced or planned events, ``"past"`` otherwise.
        language: BCP 47 tag of the article, when known (helps dateparser).
    """
    first, second = (_parse(text, probe, "past", language) for probe in _PROBES)
    if first is None or second is None or first.precision != second.precision:
        return DateRef(text=text, rule=DateRule.UNRESOLVED)
    precision = first.precision
    if _fields(first) == _fields(second):
        return _ref(text, first.when, precision, DateRule.EXPLICIT)
    if _fields(first)[1:] != _fields(second)[1:] or precision is DatePrecision.YEAR:
        return _relative(text, published, direction, language)
    if published is None:
        return _ref(text, first.when, precision, DateRule.YEAR_UNKNOWN, with_year=False)
    anchored = _parse(text, _midnight(published), direction, language)
    if anchored is None:  # pragma: no cover - parsed against the probes, so parses here
        return DateRef(text=text, rule=DateRule.UNRESOLVED)
    return _ref(text, anchored.when, precision, DateRule.PUBLICATION_YEAR)


def _relative(
    text: str, published: date | None, direction: Direction, language: str | None
) -> DateRef:
    if published is None:
        return DateRef(text=text, rule=DateRule.UNRESOLVED)
    anchored = _parse(text, _midnight(published), direction, language)
    if anchored is None:  # pragma: no cover - parsed against the probes, so parses here
        return DateRef(text=text, rule=DateRule.UNRESOLVED)
    return _ref(text, anchored.when, anchored.precision, DateRule.RELATIVE)


def _ref(
    text: str, when: date, precision: DatePrecision, rule: DateRule, *, with_year: bool = True
) -> DateRef:
    return DateRef(
        text=text, value=_iso(when, precision, with_year), precision=precision, rule=rule
    )


def _iso(when: date, precision: DatePrecision, with_year: bool) -> str:
    month_day = {
        DatePrecision.DAY: f"-{when.month:02d}-{when.day:02d}",
        DatePrecision.MONTH: f"-{when.month:02d}",
    }.get(precision, "")
    return (f"{when.year:04d}" if with_year else "-") + month_day


def _fields(parsed: _Parsed) -> tuple[int, ...]:
    when = parsed.when
    if parsed.precision is DatePrecision.DAY:
        return (when.year, when.month, when.day)
    if parsed.precision is DatePrecision.MONTH:
        return (when.year, when.month)
    return (when.year,)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _parse(text: str, base: datetime, direction: Direction, language: str | None) -> _Parsed | None:
    for candidate in _candidates(text):
        parsed = _dateparser(candidate, base, direction, language)
        if parsed is not None:
            return parsed
    return None


def _candidates(text: str) -> list[str]:
    cleaned = " ".join(text.split())
    words = [_MONTH_FORMS.get(word.casefold(), word) for word in cleaned.split(" ")]
    inflected = " ".join(words)
    stripped = _LEADING_WORDS.sub("", inflected)
    return list(dict.fromkeys([cleaned, inflected, stripped]))


def _dateparser(
    text: str, base: datetime, direction: Direction, language: str | None
) -> _Parsed | None:
    settings: dict[str, object] = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": direction}
    if language is None:  # numeric dates: day first, as most of the world writes them
        settings |= {"DATE_ORDER": "DMY", "PREFER_LOCALE_DATE_ORDER": False}
    languages = [language.split("-")[0].lower()] if language else None
    with warnings.catch_warnings():  # dateparser's own deprecation noise
        warnings.simplefilter("ignore")
        try:
            data = DateDataParser(languages=languages, settings=settings).get_date_data(text)
        except ValueError:  # an unsupported language code
            return None if languages is None else _dateparser(text, base, direction, None)
    precision = _PRECISIONS.get(data.period or "")
    if data.date_obj is None or precision is None:
        return None
    return _Parsed(data.date_obj.date(), precision)


def publication_day(ref: DateRef) -> date | None:
    """The day a resolved dateline states, when it states a full day with its year."""
    if ref.rule is DateRule.EXPLICIT and ref.precision is DatePrecision.DAY and ref.value:
        return date.fromisoformat(ref.value)
    return None


def resolve_dateline(text: str, language: str | None = None) -> date | None:
    """The publication date a dateline states, when it states a full day with its year."""
    return publication_day(resolve_date(text, language=language))
