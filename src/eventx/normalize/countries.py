"""Country and international-organization names → ISO 3166-1 alpha-3 and canonical names.

Sources, in the order they are tried (see docs/normalization.md):

1. ``data/country_aliases.yaml``: what CLDR lacks — capitals standing for their
   governments (Kiew, Київ, Tokio, Moskau …) and a few short or historic forms.
2. CLDR territory names for every base locale babel ships, the article's language
   first, then English, then all locales (a name that means two countries in two
   languages counts only when the article's language or English settles it);
   pycountry's English names (official and common) join the English list.
3. Inflected forms, by rule against those same CLDR names, never by guessing:
   a Latin-script name plus a genitive ``-s``/``-es``/``'s`` (Japans, Russlands), and
   Cyrillic names compared word by word after a case ending is stripped
   (Японії, Японію → Японія; Литві → Литва; России → Россия). A stem that two
   countries share resolves to nothing.

Whatever none of these resolves stays ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pycountry
import yaml
from babel import Locale, UnknownLocaleError, localedata

_LEADING_ARTICLES = frozenset(
    {"the", "der", "die", "das", "des", "dem", "den", "la", "le", "les", "el", "los"}
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Noun endings (uk, ru, be) and the adjective endings of names like "Південна Корея" /
# "Южной Кореи"; the longest matching ending is stripped.
_CYRILLIC_ENDINGS = tuple(
    sorted(
        (
            "ією", "ими", "ами", "ями", "ого", "его", "ому", "ему",
            "єм", "єю", "ою", "ею", "ію", "ії", "ія", "ой", "ей", "ий", "ый", "ій", "ої",
            "ую", "юю", "ая", "яя", "ое", "ее", "ом", "ем", "им", "ым", "их", "ых",
            "ам", "ям", "ах", "ях", "ів", "ов", "ев",
            "а", "я", "о", "е", "є", "и", "ы", "і", "ї", "у", "ю", "ь", "й",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_MIN_STEM = 3
_MAX_MENTION_WORDS = 6
MIN_MENTION_LENGTH = 4
"""Shorter words ('Anh', 'US', 'Mỹ') are country mentions only in the article's language."""


@dataclass(frozen=True)
class Igo:
    """An international organization: its canonical English name and its aliases."""

    name: str
    full_name: str
    aliases: tuple[str, ...]


def name_key(text: str) -> str:
    """The comparison form of a name: NFKC, case-folded, apostrophes and spaces unified,
    surrounding punctuation and a leading article ('the', 'die', 'la' …) removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[’ʼ`‘]", "'", text)
    text = re.sub(r"[\s\u00a0]+", " ", text).strip(" .,;:!?()[]\"'«»„“”")
    first, _, rest = text.partition(" ")
    return rest if rest and first in _LEADING_ARTICLES else text


def is_iso3(code: str | None) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 code of a current country."""
    return bool(code) and code in _alpha3_codes()


def country_code(value: str) -> str | None:
    """The alpha-3 code a model's ``country`` value stands for: an alpha-3 or alpha-2 code
    in any case (``jpn``, ``JP``) or an English country name (``Japan``); None otherwise."""
    code = value.strip().upper()
    if is_iso3(code):
        return code
    if len(code) == 2:
        return _alpha2_to_alpha3().get(code)
    return resolve_country(value, "en", capitals=False)


def english_name(alpha3: str) -> str | None:
    """The CLDR English short name of a country ('Japan', 'Russia', 'United States')."""
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        return None
    return str(Locale("en").territories.get(country.alpha_2, country.name))


def resolve_country(name: str, language: str | None = None, *, capitals: bool = True) -> str | None:
    """The ISO 3166-1 alpha-3 code ``name`` stands for, or ``None`` when it is not a
    country name (or, with ``capitals``, a capital) eventx can resolve unambiguously.

    ``language`` (a BCP 47 tag such as ``"uk"`` or ``"de-AT"``) is tried first.
    """
    key = name_key(name)
    if not key:
        return None
    aliases = _aliases() if capitals else _aliases(groups=("other_names",))
    for found in (
        _exact(key, language, aliases),
        _genitive(key, language, aliases),
        _cyrillic(key, aliases),
    ):
        if found is not None:
            return found
    return None


def find_country_mention(text: str, language: str | None = None) -> str | None:
    """The one country a longer name mentions ('Міністерство оборони Японії' → JPN), or
    ``None`` when it mentions none or several.

    Word sequences are matched longest first, so 'Democratic Republic of the Congo'
    is not also read as 'Congo'. Only the article's language, English, the alias table
    and Cyrillic case forms are consulted, never all CLDR locales; a word shorter than
    :data:`MIN_MENTION_LENGTH` counts only as a name in the article's own language
    (Vietnamese 'Nga' in a Vietnamese article, not the alias 'Anh' in any text)."""
    words = name_key(text).split(" ")
    taken = [False] * len(words)
    found: set[str] = set()
    for size in range(min(_MAX_MENTION_WORDS, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            if any(taken[start : start + size]):
                continue
            code = _mention(" ".join(words[start : start + size]), language)
            if code is not None:
                found.add(code)
                taken[start : start + size] = [True] * size
    return next(iter(found)) if len(found) == 1 else None


def resolve_igo(name: str) -> Igo | None:
    """The international organization ``name`` names ('НАТО', 'EU', 'Vereinte Nationen')."""
    return _igo_index().get(name_key(name))


# -- lookups -------------------------------------------------------------------------


def _mention(key: str, language: str | None) -> str | None:
    if len(key) < MIN_MENTION_LENGTH:
        codes = _locale_index(_base_language(language)).get(key, set())
        return next(iter(codes)) if len(codes) == 1 else None
    if key in _aliases():
        return _aliases()[key]
    for index in (_locale_index(_base_language(language)), _locale_index("en")):
        codes = index.get(key, set())
        if len(codes) == 1:
            return next(iter(codes))
    return _cyrillic(key, _aliases())


def _exact(key: str, language: str | None, aliases: dict[str, str]) -> str | None:
    if key in aliases:
        return aliases[key]
    for index in (_locale_index(_base_language(language)), _locale_index("en")):
        codes = index.get(key, set())
        if len(codes) == 1:
            return next(iter(codes))
    codes = _all_locales_index().get(key, set())
    return next(iter(codes)) if len(codes) == 1 else None


def _genitive(key: str, language: str | None, aliases: dict[str, str]) -> str | None:
    if _CYRILLIC.search(key):
        return None
    for suffix in ("'s", "es", "s"):
        if key.endswith(suffix) and len(key) - len(suffix) >= _MIN_STEM:
            found = _exact(key[: -len(suffix)], language, aliases)
            if found is not None:
                return found
    return None


def _cyrillic(key: str, aliases: dict[str, str]) -> str | None:
    if not _CYRILLIC.search(key):
        return None
    stems = _stems(key)
    codes = set(_cyrillic_stem_index().get(stems, set()))
    codes.update(_alias_stems(tuple(aliases.items())).get(stems, set()))
    return next(iter(codes)) if len(codes) == 1 else None


def _stems(key: str) -> tuple[str, ...]:
    return tuple(_stem(word) for word in key.split(" "))


def _stem(word: str) -> str:
    for ending in _CYRILLIC_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def _base_language(language: str | None) -> str | None:
    if not language:
        return None
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] or None


# -- indexes (built once, on first use) ------------------------------------------------


@cache
def _alpha3_codes() -> frozenset[str]:
    return frozenset(country.alpha_3 for country in pycountry.countries)


@cache
def _alpha2_to_alpha3() -> dict[str, str]:
    return {country.alpha_2: country.alpha_3 for country in pycountry.countries}


@cache
def _locale_index(language: str | None) -> dict[str, set[str]]:
    if language is None:
        return {}
    try:
        territories = Locale.parse(language).territories
    except (UnknownLocaleError, ValueError):
        return {}
    index: dict[str, set[str]] = {}
    for alpha2, label in territories.items():
        alpha3 = _alpha2_to_alpha3().get(alpha2)
        if alpha3 is not None:
            index.setdefault(name_key(label), set()).add(alpha3)
    if language == "en":
        for country in pycountry.countries:
            for attribute in ("name", "official_name", "common_name"):
                label = getattr(country, attribute, None)
                if label:
                    index.setdefault(name_key(label), set()).add(country.alpha_3)
    return index


@cache
def _base_locales() -> tuple[str, ...]:
    return tuple(code for code in localedata.locale_identifiers() if "_" not in code)


@cache
def _all_locales_index() -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for language in _base_locales():
        for key, codes in _locale_index(language).items():
            index.setdefault(key, set()).update(codes)
    return index


@cache
def _cyrillic_stem_index() -> dict[tuple[str, ...], set[str]]:
    index: dict[tuple[str, ...], set[str]] = {}
    for key, codes in _all_locales_index().items():
        if _CYRILLIC.search(key):
            index.setdefault(_stems(key), set()).update(codes)
    return index


@cache
def _alias_stems(aliases: tuple[tuple[str, str], ...]) -> dict[tuple[str, ...], set[str]]:
    index: dict[tuple[str, ...], set[str]] = {}
    for name, code in aliases:
        if _CYRILLIC.search(name):
            index.setdefault(_stems(name), set()).add(code)
    return index


def _load_data(name: str) -> Any:
    text = resources.files("eventx.normalize").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def _aliases(groups: tuple[str, ...] = ("capitals", "other_names")) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name, group in _load_data("country_aliases.yaml").items():
        if name not in groups:
            continue
        for alpha3, names in group.items():
            if alpha3 not in _alpha3_codes():
                raise ValueError(f"country_aliases.yaml: {alpha3} is not an ISO 3166 code")
            for alias in names:
                aliases[name_key(alias)] = alpha3
    return aliases


@cache
def _igo_index() -> dict[str, Igo]:
    index: dict[str, Igo] = {}
    for entry in _load_data("igos.yaml"):
        igo = Igo(entry["name"], entry["full_name"], tuple(entry.get("aliases", ())))
        for alias in (igo.name, igo.full_name, *igo.aliases):
            index[name_key(alias)] = igo
    return index
