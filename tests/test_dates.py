"""Date expressions in several languages → ISO value, precision and rule."""

from __future__ import annotations

from datetime import date

import pytest

from eventx.normalize.dates import resolve_date, resolve_dateline

PUBLISHED = date(2025, 4, 10)


@pytest.mark.parametrize(
    ("text", "language", "value", "precision"),
    [
        ("12 вересня 2024", "uk", "2024-09-12", "day"),
        ("12 сентября 2024 года", "ru", "2024-09-12", "day"),
        ("im April 2023", "de", "2023-04", "month"),
        ("September 2025", None, "2025-09", "month"),
        ("tháng 4 năm 2024", "vi", "2024-04", "month"),
        ("2023", None, "2023", "year"),
        ("10/04/2025", None, "2025-04-10", "day"),  # day first when the language is unknown
    ],
)
def test_a_date_stated_with_its_year_is_explicit(
    text: str, language: str | None, value: str, precision: str
) -> None:
    for published in (None, PUBLISHED):
        ref = resolve_date(text, published=published, language=language)
        assert (ref.value, ref.precision, ref.rule) == (value, precision, "explicit")
        assert ref.text == text


@pytest.mark.parametrize(
    ("text", "language", "partial", "with_year", "precision"),
    [
        ("12. September", "de", "--09-12", "2024-09-12", "day"),
        ("Am 9. April", None, "--04-09", "2025-04-09", "day"),
        ("9 April", "en", "--04-09", "2025-04-09", "day"),
        ("ngày 9 tháng 4", "vi", "--04-09", "2025-04-09", "day"),
        ("в липні", "uk", "--07", "2024-07", "month"),
        ("в июле", None, "--07", "2024-07", "month"),
    ],
)
def test_a_date_without_a_year_takes_it_from_the_publication_date_or_stays_partial(
    text: str, language: str | None, partial: str, with_year: str, precision: str
) -> None:
    alone = resolve_date(text, language=language)
    assert (alone.value, alone.precision, alone.rule) == (partial, precision, "year_unknown")
    anchored = resolve_date(text, published=PUBLISHED, language=language)
    assert (anchored.value, anchored.precision) == (with_year, precision)
    assert anchored.rule == "publication_year"


def test_planned_events_resolve_forward_and_past_ones_backward() -> None:
    assert resolve_date("в липні", published=PUBLISHED, direction="future").value == "2025-07"
    assert resolve_date("в липні", published=PUBLISHED, direction="past").value == "2024-07"
    assert resolve_date("9. April", published=PUBLISHED, direction="future").value == "2026-04-09"
    assert resolve_date("9. April", published=PUBLISHED, direction="past").value == "2025-04-09"


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        ("yesterday", "en", "2025-04-09"),
        ("gestern", "de", "2025-04-09"),
        ("вчора", "uk", "2025-04-09"),
        ("вчера", None, "2025-04-09"),
        ("hôm qua", "vi", "2025-04-09"),
        ("позавчора", None, "2025-04-08"),
    ],
)
def test_relative_dates_count_from_the_publication_date(
    text: str, language: str | None, value: str
) -> None:
    ref = resolve_date(text, published=PUBLISHED, language=language)
    assert (ref.value, ref.precision, ref.rule) == (value, "day", "relative")


def test_relative_dates_without_a_publication_date_stay_unresolved() -> None:
    ref = resolve_date("вчора")
    assert (ref.value, ref.precision, ref.rule) == (None, "unknown", "unresolved")


def test_next_weekday_of_a_planned_event_lies_ahead() -> None:
    ref = resolve_date("next Tuesday", published=PUBLISHED, direction="future", language="en")
    assert (ref.value, ref.rule) == ("2025-04-15", "relative")  # 2025-04-10 is a Thursday


@pytest.mark.parametrize("text", ["irgendwann", "last week", "bald"])
def test_what_has_no_day_month_or_year_stays_unresolved(text: str) -> None:
    ref = resolve_date(text, published=PUBLISHED)
    assert (ref.value, ref.precision, ref.rule) == (None, "unknown", "unresolved")


def test_an_unsupported_language_code_falls_back_to_detection() -> None:
    assert resolve_date("12. September 2024", language="xx").value == "2024-09-12"


def test_a_dateline_gives_a_publication_date_only_when_it_states_a_full_day() -> None:
    assert resolve_dateline("10/04/2025") == date(2025, 4, 10)
    assert resolve_dateline("10.04.2025", "de") == date(2025, 4, 10)
    assert resolve_dateline("April 2025") is None
    assert resolve_dateline("12. September") is None
