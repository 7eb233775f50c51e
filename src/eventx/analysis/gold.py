"""The gold annotation format: what a person marks in an article, for evaluation.

One entry per article (YAML: a top-level ``articles`` list; or JSONL: one entry a
line)::

    articles:
      - id: 000_6d0568a9ee7619e7            # the article id eventx gives the article
        source: ../seeds/000_6d0568a9ee7619e7.txt   # relative to the gold file
        body: {start: "NHK: Das japanische", end: "entschieden ablehnt."}
        events:
          - type: aid_delivery               # meeting | aid_delivery | diplomatic_protest
            status: pledged                  # optional
            date: "--09-12"                  # optional ISO partial value
            donor: {name: Japan, country: JPN}
            recipient: {name: Ukraine, country: UKR}
            items: [{description: vehicles, quantity: 100}]
            evidence: ["verbatim quote from the body"]   # optional
        claims:
          - speaker: {name: Ken Nakatani, country: JPN, aliases: [Nakatani]}
            content: One English sentence saying what was claimed.
            evidence: ["verbatim quote"]

Meetings list ``participants``; protests name ``protester`` and ``target``. Any
role of any event type, a registered one included (docs/extending.md), can be given
under ``roles``, by the role's name: one actor, or a list of actors::

          - type: sanction
            roles:
              imposer: {name: European Union}
              target: {name: Russia, country: RUS}

The named fields ``participants``, ``donor``, ``recipient``, ``protester`` and
``target`` are shorthands for ``roles`` entries of the same name. The body runs
from the first character of ``body.start`` to the last of ``body.end`` (both
verbatim from the article); everything else is page junk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from eventx.errors import InputError
from eventx.registry import event_type

SHORTHAND_ROLES = ("participants", "donor", "recipient", "protester", "target")
"""The roles a gold event may give as fields of their own instead of under ``roles``."""


class _Gold(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldActor(_Gold):
    """An actor as gold names it: English canonical name, ISO3 country, other names."""

    name: str = Field(description="English canonical name, e.g. 'Ken Nakatani', 'Japan', 'NATO'.")
    country: str | None = Field(
        description="ISO 3166-1 alpha-3 code; left out for international organizations.",
        default=None,
        pattern=r"^[A-Za-z]{3}$",
    )
    aliases: list[str] = Field(
        description="Other names that also count as this actor.", default_factory=list
    )


class GoldItem(_Gold):
    """One aid item: what, and how many when the article says."""

    description: str = Field(description="What is given, in English.")
    quantity: float | None = Field(description="How many, when the article says.", default=None)
    approximate: bool = Field(
        description="True when the quantity is hedged ('etwa').", default=False
    )


GoldRole = GoldActor | list[GoldActor]


class GoldEvent(_Gold):
    """A gold event; the role fields that apply depend on ``type``."""

    type: str = Field(
        description="The event type: meeting, aid_delivery, diplomatic_protest, or a "
        "registered type."
    )
    status: str | None = Field(
        description="occurred, planned, pledged, reported or denied.", default=None
    )
    date: str | None = Field(
        description="ISO partial value as far as the text supports: '2025-04-09', "
        "'2025-04', '--09-12', '--07'; left out when the text gives no date.",
        default=None,
    )
    participants: list[GoldActor] = Field(
        description="Meetings: everyone who met.", default_factory=list
    )
    donor: GoldActor | None = Field(description="Aid deliveries: who gives.", default=None)
    recipient: GoldActor | None = Field(description="Aid deliveries: who receives.", default=None)
    items: list[GoldItem] = Field(
        description="Aid deliveries: what is given.", default_factory=list
    )
    protester: GoldActor | None = Field(
        description="Diplomatic protests: who protests.", default=None
    )
    target: GoldActor | None = Field(
        description="Diplomatic protests: who is protested against.", default=None
    )
    roles: dict[str, GoldRole] = Field(
        description="Actors by role name, for any role of the type (one actor or a list); "
        "the role fields above are shorthands for the roles of the same name.",
        default_factory=dict,
    )
    evidence: list[str] = Field(
        description="Verbatim quotes from the body (optional).", default_factory=list
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            event_type(value)
        except KeyError as error:
            raise ValueError(error.args[0]) from None
        return value

    @model_validator(mode="after")
    def _known_roles(self) -> Self:
        unknown = sorted(set(self.roles) - set(event_type(self.type).ROLES))
        if unknown:
            raise ValueError(f"{self.type} has no role {', '.join(unknown)}")
        return self

    def role(self, name: str) -> GoldRole | None:
        """The gold value of role ``name``: from ``roles``, else from its shorthand field."""
        if name in self.roles:
            return self.roles[name]
        value: GoldRole | None = getattr(self, name) if name in SHORTHAND_ROLES else None
        return value

    def actors(self) -> list[GoldActor]:
        """Every actor the gold event names, role by role in the type's order."""
        found: list[GoldActor] = []
        for name in event_type(self.type).ROLES:
            value = self.role(name)
            found += value if isinstance(value, list) else [value] if value else []
        return found


class GoldClaim(_Gold):
    """A gold claim: who said it and what, in English."""

    speaker: GoldActor = Field(description="Who made the statement.")
    content: str = Field(description="The claim as one standalone English sentence.")
    evidence: list[str] = Field(
        description="Verbatim quotes from the body (optional; used to match claims).",
        default_factory=list,
    )


class GoldBody(_Gold):
    """The article body: from the first character of ``start`` to the last of ``end``."""

    start: str = Field(description="The body's first words, verbatim.", min_length=1)
    end: str = Field(
        description="The body's last words, verbatim (first occurrence after start).", min_length=1
    )


class GoldArticle(_Gold):
    """The gold annotation of one article."""

    id: str = Field(description="The article id eventx gives the article (a .txt file's stem).")
    source: str | None = Field(
        description="The article file, relative to the gold file.", default=None
    )
    body: GoldBody | None = Field(
        description="Where the body lies; without it, the whole text.", default=None
    )
    events: list[GoldEvent] = Field(description="Every event in the body.", default_factory=list)
    claims: list[GoldClaim] = Field(
        description="Every attributed claim in the body.", default_factory=list
    )


def load_gold(path: Path | str) -> list[GoldArticle]:
    """Read a gold file (``.yaml``/``.yml`` with an ``articles`` list, or ``.jsonl``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read gold file {path}: {error.strerror}") from None
    entries = _gold_entries(path, text)
    articles = []
    for number, entry in enumerate(entries, start=1):
        try:
            article = GoldArticle.model_validate(entry)
        except ValidationError as error:
            where = f"{path} entry {number}"
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise InputError(
                f"{where}: {problems}", article_id=str(entry.get("id", where))
            ) from None
        if article.source is not None:  # relative to the gold file
            article.source = str(path.parent / article.source)
        articles.append(article)
    return articles


def _gold_entries(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        if path.suffix == ".jsonl":
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = yaml.safe_load(text) or {}
            entries = data.get("articles", []) if isinstance(data, dict) else data
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{path} is not valid gold: {error}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError(f"{path}: expected a list of article entries")
    return entries


def body_span(article: GoldArticle, text: str) -> tuple[int, int]:
    """Character span of the article body, from the gold body markers."""
    if article.body is None:
        return (0, len(text))
    start = text.find(article.body.start)
    end = text.find(article.body.end, max(start, 0))
    if start < 0 or end < 0:
        marker = article.body.start if start < 0 else article.body.end
        raise InputError(f"body marker {marker!r} is not in the text", article_id=article.id)
    return (start, end + len(article.body.end))
