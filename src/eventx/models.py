"""The eventx data contract: what the model fills and what eventx returns.

Field descriptions are written for two readers at once: the LLM (they are sent
with the JSON Schema as part of the prompt) and the people who use the output.

Fields marked ``readOnly`` in the JSON Schema (``json_schema_extra``) are filled
by eventx itself, never by the model: they are removed from the schema the model
sees, and any value the model sends for them is overwritten.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from eventx._version import __version__

SCHEMA_VERSION = "1.2"
"""Version of the output contract; bumped whenever a field changes meaning."""

READ_ONLY: dict[str, Any] = {"readOnly": True}
"""JSON Schema marker for fields that eventx fills and the model never sees."""

ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
PARTIAL_ISO_DATE = r"^(\d{4}(-\d{2}(-\d{2})?)?|--\d{2}(-\d{2})?)$"


class _Model(BaseModel):
    """Base for all eventx models: unknown keys are ignored, values are validated."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def clear_read_only(model: BaseModel) -> None:
    """Reset every read-only field of ``model``, recursively, to its default.

    Read-only fields are eventx's to fill; whatever a model sent for them is discarded.
    """
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("readOnly"):
            setattr(model, name, info.get_default(call_default_factory=True))
            continue
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                clear_read_only(item)


# ---------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------


class MatchKind(StrEnum):
    """How an evidence quote was located in the original article text."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    FUZZY = "fuzzy"


class ActorKind(StrEnum):
    """What kind of entity an actor is."""

    PERSON = "person"
    STATE = "state"
    GOVERNMENT = "government"
    ORGANIZATION = "organization"
    IGO = "igo"
    MEDIA = "media"
    OTHER = "other"


class EventStatus(StrEnum):
    """occurred: it happened; planned: announced or expected; pledged: promised; reported:
    attributed to a source, unconfirmed; denied: the article says it did not happen."""

    OCCURRED = "occurred"
    PLANNED = "planned"
    PLEDGED = "pledged"
    REPORTED = "reported"
    DENIED = "denied"


class DatePrecision(StrEnum):
    """How much of a date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class MeetingFormat(StrEnum):
    """The format of a meeting."""

    BILATERAL = "bilateral"
    MULTILATERAL = "multilateral"
    SUMMIT = "summit"
    PHONE = "phone"
    VISIT = "visit"


class AidKind(StrEnum):
    """The kind of aid delivered or pledged."""

    MILITARY = "military"
    HUMANITARIAN = "humanitarian"
    ECONOMIC = "economic"


class ProtestForm(StrEnum):
    """The diplomatic form a protest took."""

    SUMMONED_AMBASSADOR = "summoned_ambassador"
    NOTE = "note"
    DEMARCHE = "demarche"
    STATEMENT = "statement"
    EXPULSION = "expulsion"
    RECALL = "recall"


class QuoteType(StrEnum):
    """Whether a claim is quoted word for word or paraphrased by the article."""

    DIRECT = "direct"
    INDIRECT = "indirect"


class ClaimType(StrEnum):
    """What a claim does."""

    ASSERTION = "assertion"
    ACCUSATION = "accusation"
    WARNING = "warning"
    DENIAL = "denial"
    INTENTION = "intention"
    EVALUATION = "evaluation"


class Stance(StrEnum):
    """The speaker's attitude toward what the claim is about."""

    SUPPORTIVE = "supportive"
    CRITICAL = "critical"
    CONCERNED = "concerned"
    NEUTRAL = "neutral"


# ---------------------------------------------------------------------------
# Shared parts
# ---------------------------------------------------------------------------


class Evidence(_Model):
    """A verbatim span of the article that supports a record."""

    quote: str = Field(
        min_length=1,
        description=(
            "Text copied character for character from the article body, in the article's "
            "own language (never translated), one sentence or clause long."
        ),
    )
    start: int | None = Field(
        default=None,
        ge=0,
        description="Character offset of the quote's first character in the original text.",
        json_schema_extra=READ_ONLY,
    )
    end: int | None = Field(
        default=None,
        ge=0,
        description="Character offset just past the quote's last character (text[start:end]).",
        json_schema_extra=READ_ONLY,
    )
    match: MatchKind | None = Field(
        default=None,
        description="How the quote was located: exact, normalized or fuzzy; null if not found.",
        json_schema_extra=READ_ONLY,
    )
    score: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Alignment score 0-100 (100 for exact and normalized matches).",
        json_schema_extra=READ_ONLY,
    )
    model_quote: str | None = Field(
        default=None,
        description="The model's own wording of the quote, when it differs from the article's "
        "text at start:end (which `quote` then holds); null when they are equal.",
        json_schema_extra=READ_ONLY,
    )


class Actor(_Model):
    """A person, state, government, organization or outlet taking part in a record."""

    name: str = Field(description="The name exactly as the article writes it.")
    canonical_name: str | None = Field(
        default=None,
        description="Common English name, e.g. 'Ken Nakatani', 'Japan', 'NATO'.",
    )
    kind: ActorKind = Field(description="What kind of entity this is.")
    country: ISO3 | None = Field(
        default=None,
        description=(
            "ISO 3166-1 alpha-3 code of the state the actor is or belongs to (JPN, UKR, RUS); "
            "null for international organizations and when unknown."
        ),
    )
    title: str | None = Field(
        default=None, description="Office or role in English, e.g. 'Minister of Defence'."
    )
    organization: str | None = Field(
        default=None,
        description="English name of the body the person acts for, e.g. 'Ministry of Defense'.",
    )


class DateRule(StrEnum):
    """How eventx turned a date expression into its value (see docs/normalization.md)."""

    EXPLICIT = "explicit"
    """The text states the date as far as its precision goes, year included."""
    PUBLICATION_YEAR = "publication_year"
    """Day and/or month from the text; the year from the publication date."""
    RELATIVE = "relative"
    """A relative expression ('yesterday', 'вчора') counted from the publication date."""
    YEAR_UNKNOWN = "year_unknown"
    """Day and/or month from the text; no publication date, so no year ('--09-12')."""
    UNRESOLVED = "unresolved"
    """Not understood, or relative with no publication date to count from: no value."""


class DateRef(_Model):
    """A date expression as written, and the value eventx resolved it to."""

    text: str = Field(
        description="The date expression exactly as written in the article, e.g. '12. September'."
    )
    value: str | None = Field(
        default=None,
        pattern=PARTIAL_ISO_DATE,
        description=(
            "ISO value as far as known: '2025-04-09', '2025-04', '2025', or '--09-12' / '--09' "
            "when the year is not known. Never an invented year."
        ),
        json_schema_extra=READ_ONLY,
    )
    precision: DatePrecision = Field(
        default=DatePrecision.UNKNOWN,
        description="How much of the date is known.",
        json_schema_extra=READ_ONLY,
    )
    rule: DateRule | None = Field(
        default=None,
        description="How the value was obtained: explicit, publication_year, relative, "
        "year_unknown or unresolved.",
        json_schema_extra=READ_ONLY,
    )


class Place(_Model):
    """Where an event took place."""

    name: str = Field(description="The place name as written.")
    canonical_name: str | None = Field(default=None, description="English name, e.g. 'Tokyo'.")
    country: ISO3 | None = Field(default=None, description="ISO 3166-1 alpha-3 country code.")


class Plover(_Model):
    """PLOVER event type and mode."""

    event: str = Field(description="PLOVER event type, e.g. CONSULT, AID, ACCUSE, AGREE.")
    mode: str | None = Field(default=None, description="PLOVER mode, e.g. visit, disapprove.")


class AidItem(_Model):
    """One kind of goods, money or service in an aid delivery."""

    description: str = Field(description="What is given, in English, e.g. 'trucks'.")
    category: Literal[
        "vehicles", "weapons", "ammunition", "equipment", "food", "medical", "funds", "other"
    ] = Field(description="Broad category of the item.")
    quantity: float | None = Field(default=None, ge=0, description="How many, when stated.")
    approximate: bool = Field(
        default=False, description="True when the quantity is hedged ('about', 'etwa', 'близько')."
    )
    unit: str | None = Field(default=None, description="Unit of the quantity, e.g. 'units'.")
    value: float | None = Field(default=None, ge=0, description="Monetary value, when stated.")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the value."
    )


# ---------------------------------------------------------------------------
# Events and claims
# ---------------------------------------------------------------------------


RoleValue = Actor | list[Actor]
"""What a role holds: one actor, or a list of actors (a meeting's participants)."""


def _is_actor_field(annotation: Any) -> bool:
    """True for ``Actor``, ``Actor | None`` and ``list[Actor]`` annotations."""
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (None,)
        return isinstance(item, type) and issubclass(item, Actor)
    if get_origin(annotation) in (Union, UnionType):
        options = [option for option in get_args(annotation) if option is not NoneType]
        return len(options) == 1 and _is_actor_field(options[0])
    return isinstance(annotation, type) and issubclass(annotation, Actor)


def _check_roles(model: type[RecordBase], actor_fields: list[str]) -> None:
    wrong = [name for name in model.ROLES if name not in actor_fields]
    if wrong:
        raise TypeError(
            f"{model.__name__}.ROLES names {wrong}: a role must be a field holding an Actor, "
            "an optional Actor or a list of Actors"
        )
    stray = [name for name in model.PARTIES if name not in model.ROLES]
    if stray:
        raise TypeError(f"{model.__name__}.PARTIES names {stray}, which are not in ROLES")


class RecordBase(_Model):
    """What every record (event or claim) says about itself; see docs/extending.md.

    Class-level declarations, filled in and checked once the class is complete:

    * ``TYPE``: the record's type, the value of an event's ``type`` field or ``claim``;
    * ``ROLES``: the fields that hold actors (an ``Actor``, an optional ``Actor`` or a
      list of actors), in display order; by default every such field, in field order;
    * ``PARTIES``: the *principal parties*, the roles that say who the record is between
      (fusion joins records only when these agree; evaluation always scores them); by
      default the required roles. Other roles (a meeting's host, a protest's summoned
      official) still name actors of the record: they count in :meth:`actors`.
    """

    TYPE: ClassVar[str]
    ROLES: ClassVar[tuple[str, ...]] = ()
    PARTIES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.declare_roles()

    @classmethod
    def __pydantic_on_complete__(cls) -> None:
        super().__pydantic_on_complete__()
        cls.declare_roles()

    @classmethod
    def declare_roles(cls) -> None:
        """Fill ``TYPE``, and ``ROLES`` and ``PARTIES`` where the class does not set them,
        from the fields; check them. Done when the class is complete (its annotations
        resolved); a class completed later (``model_rebuild()``) is declared again then.

        Raises:
            TypeError: a declared role is not an actor field, or a party not a role.
        """
        if not cls.__pydantic_complete__:
            return
        fields = cls.model_fields
        tag = fields["type"].default if "type" in fields else None
        if isinstance(tag, str):
            cls.TYPE = tag
        actor_fields = [name for name, info in fields.items() if _is_actor_field(info.annotation)]
        if "ROLES" not in cls.__dict__:
            cls.ROLES = tuple(actor_fields)
        if "PARTIES" not in cls.__dict__:
            cls.PARTIES = tuple(name for name in cls.ROLES if fields[name].is_required())
        _check_roles(cls, actor_fields)

    def roles(self) -> dict[str, RoleValue]:
        """Role name → the actor, or list of actors, in that role, in ``ROLES`` order.

        Roles the record leaves empty (an optional actor not named, an empty list) are
        left out.
        """
        found: dict[str, RoleValue] = {}
        for name in self.ROLES:
            value = getattr(self, name)
            if value is not None and value != []:
                found[name] = value
        return found

    def actors(self, *, principal: bool = False) -> list[Actor]:
        """Every actor the record names, role by role (a meeting's host, a protest's
        summoned official included); only the principal parties' with ``principal``.

        An actor named in two roles (a host who is also a participant) is listed twice.
        """
        wanted = self.PARTIES if principal else self.ROLES
        return [
            actor
            for name, value in self.roles().items()
            if name in wanted
            for actor in (value if isinstance(value, list) else [value])
        ]


class EventBase(RecordBase):
    """Base of every event type: the fields all events share.

    A new event type subclasses it with a ``type: Literal["name"] = "name"`` field and
    its own fields, and is registered with :func:`eventx.registry.register_event_type`.
    ``REFERENCES`` names the fields that hold the id of another record of the same
    extraction (a protest's ``trigger``): they are renamed along when record ids are.
    """

    REFERENCES: ClassVar[tuple[str, ...]] = ()

    id: str = Field(description="Short unique id, e.g. 'e1'.")
    summary: str = Field(description="One English sentence saying who did what, when, where.")
    status: EventStatus
    date: DateRef | None = None
    location: Place | None = None
    evidence: list[Evidence] = Field(min_length=1, description="Verbatim quotes, at least one.")
    confidence: float = Field(default=1.0, ge=0, le=1)
    plover: Plover | None = Field(
        default=None,
        description="PLOVER event type and mode, assigned by eventx.",
        json_schema_extra=READ_ONLY,
    )
    cameo: str | None = Field(
        default=None,
        description="CAMEO event code, assigned by eventx.",
        json_schema_extra=READ_ONLY,
    )

    def all_evidence(self) -> list[Evidence]:
        """Every evidence quote of the event."""
        return list(self.evidence)

    def codes(self) -> tuple[Plover | None, str | None]:
        """The PLOVER and CAMEO codes of a type that has no coding table in
        :mod:`eventx.normalize.codes`: none, unless the type overrides this method.
        The built-in types are coded by their tables."""
        return None, None


class MeetingEvent(EventBase):
    """A meeting, talks, visit or call between named actors."""

    ROLES = ("participants", "host")
    PARTIES = ("participants",)

    type: Literal["meeting"] = "meeting"
    participants: list[Actor] = Field(
        min_length=1, description="Everyone who met, including the host."
    )
    format: MeetingFormat | None = Field(default=None, description="The meeting's format.")
    forum: str | None = Field(
        default=None,
        description='The gathering it was part of, e.g. "NATO defence ministers\' meeting".',
    )
    host: Actor | None = Field(default=None, description="Who hosted, when stated.")
    topics: list[str] = Field(default_factory=list, description="Topics discussed, in English.")
    outcomes: list[str] = Field(
        default_factory=list, description="Agreements or results, in English."
    )


class AidDelivery(EventBase):
    """Aid handed over or promised by a donor to a recipient."""

    ROLES = ("donor", "recipient")
    PARTIES = ("donor", "recipient")

    type: Literal["aid_delivery"] = "aid_delivery"
    donor: Actor = Field(description="Who gives the aid.")
    recipient: Actor = Field(description="Who receives it.")
    items: list[AidItem] = Field(default_factory=list, description="What is given.")
    aid_kind: AidKind = Field(description="military, humanitarian or economic.")


class DiplomaticProtest(EventBase):
    """A formal diplomatic protest: an ambassador summoned, a note, a demarche, an expulsion."""

    ROLES = ("protester", "target", "summoned_official")
    PARTIES = ("protester", "target")
    REFERENCES = ("trigger",)

    type: Literal["diplomatic_protest"] = "diplomatic_protest"
    protester: Actor = Field(description="The state or official protesting.")
    target: Actor = Field(description="The state protested against.")
    form: ProtestForm = Field(description="The diplomatic form of the protest.")
    summoned_official: Actor | None = Field(
        default=None, description="The diplomat summoned or expelled, when any."
    )
    grievance: str = Field(description="What is protested, in English.")
    trigger: str | None = Field(
        default=None, description="Id of the event protested against, when it is in this answer."
    )


Event = Annotated[MeetingEvent | AidDelivery | DiplomaticProtest, Field(discriminator="type")]
"""Any event record; ``type`` tells which. Registering an event type
(:mod:`eventx.registry`) adds it to the union the models validate with."""


class Claim(RecordBase):
    """A statement the article attributes to a named speaker."""

    TYPE = "claim"
    ROLES = ("speaker",)
    PARTIES = ("speaker",)

    id: str = Field(description="Short unique id, e.g. 'c1'.")
    speaker: Actor = Field(description="Who made the statement.")
    reported_via: str | None = Field(
        default=None, description="The outlet or agency the article cites, e.g. 'NHK', 'Reuters'."
    )
    text: str = Field(description="The claim as one standalone English sentence.")
    quote: Evidence | None = Field(
        default=None,
        description="The speaker's words verbatim from the article, when quoted directly.",
    )
    quote_type: QuoteType = Field(description="direct (quoted) or indirect (paraphrased).")
    claim_type: ClaimType = Field(description="What the statement does.")
    about: list[str] = Field(
        default_factory=list, description="English names of the entities the claim is about."
    )
    stance: Stance | None = Field(
        default=None, description="The speaker's attitude toward what the claim is about."
    )
    evidence: list[Evidence] = Field(min_length=1, description="Verbatim quotes, at least one.")
    confidence: float = Field(default=1.0, ge=0, le=1)
    cameo: str | None = Field(
        default=None,
        description="CAMEO statement code (01x), assigned by eventx.",
        json_schema_extra=READ_ONLY,
    )

    def all_evidence(self) -> list[Evidence]:
        """Every evidence quote of the claim, its verbatim ``quote`` last."""
        return [*self.evidence, *([self.quote] if self.quote is not None else [])]


Record = Event | Claim
"""Any record of an extraction: an event or a claim."""


class ArticleExtraction(_Model):
    """Every meeting, aid delivery, diplomatic protest and attributed claim in one article."""

    events: list[Event] = Field(
        default_factory=list, description="Meetings, aid deliveries and diplomatic protests."
    )
    claims: list[Claim] = Field(
        default_factory=list, description="Statements attributed to named speakers."
    )
    dateline: DateRef | None = Field(
        default=None,
        description=(
            "The article's own publication date as written in its text (e.g. a dateline "
            "'10/04/2025'), when the text states one; null otherwise."
        ),
    )

    def records(self) -> list[Record]:
        """Every record: the events, then the claims."""
        return [*self.events, *self.claims]


# ---------------------------------------------------------------------------
# Input and result
# ---------------------------------------------------------------------------


class Article(_Model):
    """One input article."""

    id: str = Field(min_length=1, description="Stable id of the article.")
    text: str = Field(description="The original text, exactly as read.")
    title: str | None = Field(default=None, description="Headline, when known.")
    url: str | None = Field(default=None, description="Where the article was published.")
    language: str | None = Field(default=None, description="BCP 47 language tag, when known.")
    published_at: date | None = Field(default=None, description="Publication date, when known.")
    source: str | None = Field(default=None, description="File or feed the article came from.")
    encoding: str | None = Field(
        default=None,
        description="Character encoding the text was decoded from (a Python codec name).",
    )


class Usage(_Model):
    """Requests and tokens summed over every attempt for one article."""

    requests: int = Field(default=0, description="HTTP requests sent, failed ones included.")
    prompt_tokens: int = Field(default=0, description="Prompt tokens over all answered requests.")
    completion_tokens: int = Field(default=0, description="Completion tokens over all answers.")
    cost_usd: float | None = Field(
        default=None, description="Estimated cost in USD, when the model's price is known."
    )

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class ArticleBudget(_Model):
    """The per-article limits an extraction ran under; what was spent is in ``usage``."""

    max_requests: int = Field(
        description="HTTP requests allowed for the article: retries, re-asks and chunks included."
    )
    max_tokens: int | None = Field(
        default=None,
        description="Prompt plus completion tokens allowed for the article; null: no limit.",
    )


class ErrorCategory(StrEnum):
    """Why an article failed."""

    CONFIGURATION = "configuration"
    INPUT = "input"
    TRANSIENT = "transient"
    API = "api"
    INVALID_OUTPUT = "invalid_output"
    UNGROUNDED = "ungrounded"
    TRUNCATED = "truncated"
    REFUSED = "refused"
    REPLAY = "replay"
    BUDGET = "budget"


class ErrorRecord(_Model):
    """Why extraction failed for an article."""

    category: ErrorCategory
    message: str
    attempts: int = 0


class ResultWarning(_Model):
    """Something the user should know about a successful result."""

    code: str = Field(description="Machine-readable code, e.g. 'ungrounded_record_dropped'.")
    message: str
    record_id: str | None = None


class LanguageSource(StrEnum):
    """Where an :class:`ExtractionResult`'s language came from."""

    INPUT = "input"
    """Given with the article."""
    DETECTED = "detected"
    """Detected by eventx from the cleaned text."""


class Cleaning(_Model):
    """How much page junk was removed before the model saw the article."""

    original_chars: int = Field(description="Characters of the original text.")
    cleaned_chars: int = Field(description="Characters the model was sent.")
    removed_spans: int = Field(description="Separate stretches of the original removed.")


class ExtractionResult(_Model):
    """What eventx returns for one article: one line of the output JSONL."""

    article_id: str
    source: str | None = None
    title: str | None = None
    url: str | None = None
    language: str | None = Field(
        default=None, description="ISO 639-1 / BCP 47 language code, given or detected."
    )
    language_source: LanguageSource | None = Field(
        default=None, description="Whether the language was given with the article or detected."
    )
    published_at: date | None = None
    encoding: str | None = Field(
        default=None, description="Character encoding the article was decoded from."
    )
    extraction: ArticleExtraction | None = None
    warnings: list[ResultWarning] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    attempts: int = Field(default=0, description="Model answers requested, re-asks included.")
    model: str
    mode: str
    eventx_version: str = __version__
    schema_version: str = SCHEMA_VERSION
    prompt_hash: str
    cleaning: Cleaning | None = Field(
        default=None, description="What cleaning removed; null when cleaning is off."
    )
    chunks: int = Field(
        default=1, description="Chunks the article was split into, one model call each."
    )
    cached: bool = Field(
        default=False,
        description="True when the answer came from the run store's cache: nothing paid for it.",
    )
    budget: ArticleBudget | None = Field(
        default=None,
        description="The request and token budget the article was extracted under; null when "
        "it never reached the model.",
    )
    error: ErrorRecord | None = None

    @property
    def ok(self) -> bool:
        """True when the article was extracted without error."""
        return self.error is None


# ---------------------------------------------------------------------------
# Fusion across articles
# ---------------------------------------------------------------------------


class FusedSource(_Model):
    """One article's record of a fused event."""

    article_id: str = Field(description="The article the record comes from.")
    record_id: str = Field(description="The record's id within that article, e.g. 'e3'.")
    source: str | None = Field(default=None, description="File or feed of the article.")
    url: str | None = Field(default=None, description="Where the article was published.")
    summary: str = Field(description="The record's own one-sentence summary.")
    evidence: list[Evidence] = Field(description="The record's verbatim evidence.")
    joined_by: list[str] = Field(
        default_factory=list,
        description=(
            "The rule that joined this record to the ones listed before it, one finding per "
            "item, e.g. 'donor JPN', 'quantity 100 ≈ 100'; empty for the first record."
        ),
    )


class FusedEvent(_Model):
    """One real-world event and every article record that reports it."""

    id: str = Field(description="Stable id derived from the member records, e.g. 'fx-1a2b…'.")
    type: Literal["meeting", "aid_delivery", "diplomatic_protest"]
    event: Event = Field(description="The most complete member record, as the representative.")
    date: DateRef | None = Field(
        default=None, description="The most precise date among the member records."
    )
    parties: list[str] = Field(
        default_factory=list,
        description=(
            "Normalized keys (ISO3 codes, IGO or canonical names) of the event's principal "
            "parties: participants; donor and recipient; protester and target."
        ),
    )
    sources: list[FusedSource] = Field(
        min_length=1, description="Every record of the event, in input order."
    )
