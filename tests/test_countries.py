"""Country and IGO names in many languages and inflections → ISO3 and canonical names."""

from __future__ import annotations

import pycountry
import pytest
from babel import Locale

from eventx.normalize.countries import (
    english_name,
    find_country_mention,
    is_iso3,
    resolve_country,
    resolve_igo,
)


@pytest.mark.parametrize(
    ("name", "language", "code"),
    [
        # English and German, with the German genitive -s
        ("Japan", None, "JPN"),
        ("Japans", "de", "JPN"),
        ("Russlands", None, "RUS"),
        ("Frankreichs", "de", "FRA"),
        ("der Ukraine", "de", "UKR"),
        ("Nordkorea", "de", "PRK"),
        ("the United States", "en", "USA"),
        ("Iran's", "en", "IRN"),
        # Ukrainian: nominative from CLDR, other cases by stripping the ending
        ("Японія", "uk", "JPN"),
        ("Японії", None, "JPN"),
        ("Японію", "uk", "JPN"),
        ("Росія", None, "RUS"),
        ("Росії", "uk", "RUS"),
        ("України", None, "UKR"),
        ("Литві", "uk", "LTU"),
        ("Німеччиною", None, "DEU"),
        ("Сполучених Штатів", "uk", "USA"),
        ("Південної Кореї", "uk", "KOR"),
        # Russian
        ("России", "ru", "RUS"),
        ("Украины", None, "UKR"),
        ("Японией", "ru", "JPN"),
        # Vietnamese: "Nga" is Russia, never Nigeria
        ("Nhật Bản", "vi", "JPN"),
        ("Nga", "vi", "RUS"),
        ("Nga", None, "RUS"),
        ("Nigeria", "vi", "NGA"),
        # capitals standing for their governments
        ("Tokio", "de", "JPN"),
        ("Kiew", "de", "UKR"),
        ("Києва", "uk", "UKR"),
        ("Москви", "uk", "RUS"),
        ("Moskau", None, "RUS"),
        ("Washington", "en", "USA"),
        ("Peking", "de", "CHN"),
        ("Bắc Kinh", "vi", "CHN"),
    ],
)
def test_country_names_resolve_to_iso3(name: str, language: str | None, code: str) -> None:
    assert resolve_country(name, language) == code


def test_similar_stems_stay_apart() -> None:
    assert resolve_country("Австрії") == "AUT"
    assert resolve_country("Австралії") == "AUS"
    assert resolve_country("Niger") == "NER"
    assert resolve_country("Nigeria") == "NGA"


@pytest.mark.parametrize("name", ["Hakkanen", "Kyodo", "Brüssel", "", "Кореї", "NATO"])
def test_what_is_not_a_country_or_is_ambiguous_stays_none(name: str) -> None:
    # "Кореї" is the genitive of both Koreas' short names: never guessed
    assert resolve_country(name) is None


def test_capitals_can_be_left_out() -> None:
    assert resolve_country("Tokio", capitals=False) is None
    assert resolve_country("Japans", "de", capitals=False) == "JPN"


def test_a_country_mentioned_in_a_longer_name_is_found_only_when_it_is_the_only_one() -> None:
    assert find_country_mention("Міністерство оборони Японії", "uk") == "JPN"
    assert find_country_mention("Ministry of Foreign Affairs of Russia", "en") == "RUS"
    assert find_country_mention("Japan–Russia commission", "en") is None
    assert find_country_mention("Verteidigungsministerium", "de") is None
    assert (
        find_country_mention("Ministry of Foreign Affairs of the Democratic Republic of the Congo")
        == "COD"
    )


def test_short_words_are_mentions_only_in_the_articles_language() -> None:
    assert find_country_mention("Bộ Ngoại giao Nga", "vi") == "RUS"
    assert find_country_mention("Bộ Ngoại giao Nga") is None
    assert find_country_mention("Công ty Anh Minh", "vi") is None  # 'Anh' is also a name
    assert find_country_mention("Friends of us", "en") is None


def test_iso3_codes_and_english_names() -> None:
    assert is_iso3("JPN")
    assert not is_iso3("XYZ")
    assert not is_iso3(None)
    assert english_name("USA") == "United States"
    assert english_name("PRK") == "North Korea"
    assert english_name("XYZ") is None


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("NATO", "NATO"),
        ("НАТО", "NATO"),
        ("Nordatlantikpakt-Organisation", "NATO"),
        ("Північноатлантичного альянсу", "NATO"),
        ("EU", "European Union"),
        ("Євросоюз", "European Union"),
        ("ООН", "United Nations"),
        ("Vereinte Nationen", "United Nations"),
        ("Liên Hợp Quốc", "United Nations"),
    ],
)
def test_igos_get_their_canonical_english_name(name: str, canonical: str) -> None:
    igo = resolve_igo(name)
    assert igo is not None
    assert igo.name == canonical


def test_a_name_containing_an_igo_is_not_the_igo() -> None:
    assert resolve_igo("NATO-Verteidigungsminister") is None
    assert resolve_igo("Japan") is None


@pytest.mark.parametrize("language", ["en", "de", "uk", "ru", "vi"])
def test_every_cldr_name_of_a_language_resolves_to_its_own_country(language: str) -> None:
    territories = Locale(language).territories
    alpha3 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}
    names = {name: alpha3[code] for code, name in territories.items() if code in alpha3}
    assert len(names) == 249
    wrong = {name: resolve_country(name, language) for name in names}
    assert {name: code for name, code in wrong.items() if code != names[name]} == {}
