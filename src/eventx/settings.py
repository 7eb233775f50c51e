"""Settings: one typed model, each setting declared once.

A setting is a field of :class:`Settings`: its type and bounds, its default, the
environment variables it is read from (:class:`Env`), whether it is a command-line
option (:class:`Option`), and its help text (the field's description). The command
line options (:mod:`eventx.cli.options`) and the settings table in
``docs/configuration.md`` are generated from these fields.

Values are taken in this order: explicit arguments (``None`` means unset), then the
first non-empty environment variable the setting names (``EVENTX_*`` before
``OPENAI_*``), then the default. An invalid value raises
:class:`~eventx.errors.ConfigurationError` naming the setting and the variable it
came from.

Rate limits: unset, they default to 500 requests and 200,000 tokens a minute (OpenAI's
first usage tier) when talking to OpenAI, and to no client-side limit for any other
endpoint; either way, limits the provider announces in ``x-ratelimit-limit-*`` headers
replace the defaults. Limits set explicitly are never raised by the provider's headers.

Budget: unset, an article may send ``(max_transient_retries + 1) × (max_reasks + 1)``
requests per chunk, the most its retries and re-asks can ever take, so the default
never cuts a retry path short; a budget set explicitly caps the article as a whole.

pydantic-settings was considered and not used: its sources would need overriding to
keep explicit-argument-first resolution with several variables per setting, and the
click options and docs table are generated from the same field metadata anyway.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from eventx.errors import ConfigurationError
from eventx.servers import SERVERS, Mode, Server, server_of

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_OPENAI_RPM = 500
DEFAULT_OPENAI_TPM = 200_000
DEFAULT_FUZZY_THRESHOLD = 90.0
"""Minimum rapidfuzz partial_ratio (0-100) for a fuzzy evidence match; tuned so that one or
two changed words in a clause still match while a different sentence does not."""
RECORD_TYPES = ("meeting", "aid_delivery", "diplomatic_protest", "claim")
"""The asks of one part when every record type gets a request of its own."""
SWEEP_ASKS_PER_PART = 4
"""Sentences the claim sweep asks about per part of an article, at most."""
LOCAL_MAX_OUTPUT_TOKENS = 2048
"""The output limit of a local model when none is set."""
LOCAL_CONCURRENCY = 2
"""Requests in flight to a local model when none is set: the server answers one at a time,
and a second request lets eventx prepare the next while the model works."""
LOCAL_TIMEOUT = 1800.0
"""Seconds to wait for one answer of a local model when no timeout is set."""
LOCAL_LEVERS: dict[str, Any] = {
    "schema_profile": "compact",
    "examples": "builtin",
    "max_chunk_tokens": 300,
    "chunk_overlap_tokens": 40,
    "sweep_claims": True,
}
"""The prompt levers a local (small) model gets unless told otherwise: the ones that
raised F1 on a 1.5B model on the development articles (docs/benchmarks.md). A small model
finds more in a few sentences at a time than in a whole article."""
LOCAL_SERVER_API_KEY = "not-needed"
"""Sent when a custom ``base_url`` is set without a key: local servers ignore it."""

NOT_CONFIGURED = """\
No model endpoint is configured, so eventx has nowhere to send the article. \
For OpenAI, set OPENAI_API_KEY (or EVENTX_API_KEY, or pass api_key=...). \
For Azure OpenAI, set EVENTX_BASE_URL=https://<resource>.openai.azure.com/openai/v1/ \
with EVENTX_API_KEY=<key> and EVENTX_MODEL=<deployment>. \
For a local OpenAI-compatible server (vLLM, Ollama, llama.cpp, LiteLLM), set \
EVENTX_BASE_URL (e.g. http://localhost:11434/v1 for Ollama, http://localhost:8000/v1 for \
vLLM) and EVENTX_MODEL; no key is needed. \
To run without any endpoint, replay recorded responses with `eventx extract --replay DIR`."""


class GroundingPolicy(StrEnum):
    """What to do with evidence that stays ungrounded after the re-asks."""

    DROP = "drop"
    """Drop the ungrounded evidence; drop a record left without evidence (default)."""
    KEEP = "keep"
    """Keep the evidence with null offsets and ``match``, flagged in the warnings."""
    FAIL = "fail"
    """Fail the article with :class:`~eventx.errors.UngroundedEvidenceError`."""


@dataclass(frozen=True)
class Env:
    """The environment variables a setting is read from, first match wins."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)


@dataclass(frozen=True)
class Option:
    """The setting is a command-line option (``--max-reasks``, or ``--clean/--no-clean``)."""

    default_text: str | None = None
    """What the help shows as the default when the default is not a plain value."""


SchemaProfile = Literal["full", "compact"]
_FROM_ENV_OPENAI = "the OpenAI API"
_T = TypeVar("_T")


class Settings(BaseModel):
    """Resolved settings for an :class:`~eventx.Extractor` and a run. Build with :meth:`resolve`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: Annotated[
        str,
        Field(min_length=1, description="Model (deployment) name."),
        Env("EVENTX_MODEL", "OPENAI_MODEL"),
        Option(),
    ] = DEFAULT_MODEL
    base_url: Annotated[
        str | None,
        Field(description="OpenAI-compatible endpoint."),
        Env("EVENTX_BASE_URL", "OPENAI_BASE_URL"),
        Option(default_text=_FROM_ENV_OPENAI),
    ] = None
    base_urls: Annotated[
        tuple[str, ...] | None,
        Field(
            description="Several OpenAI-compatible endpoints serving the same model (a vLLM "
            "fleet), comma-separated: each request goes to the least busy one whose circuit "
            "is closed. Replaces base_url.",
        ),
        Env("EVENTX_BASE_URLS"),
        Option(default_text="none"),
    ] = None
    api_key: Annotated[
        str | None,
        Field(repr=False, description="API key; never a command-line option."),
        Env("EVENTX_API_KEY", "OPENAI_API_KEY"),
    ] = None
    server: Annotated[
        Server | None,
        Field(description="The kind of OpenAI-compatible server, when the endpoint does not tell."),
        Env("EVENTX_SERVER"),
        Option(default_text="from the endpoint"),
    ] = None
    mode: Annotated[
        Mode,
        Field(description="How the schema is sent and the answer read."),
        Env("EVENTX_MODE"),
        Option(default_text="the server's best, else tools"),
    ] = Mode.TOOLS
    local: Annotated[
        str | None,
        Field(
            description="Run a local model: a .gguf file or a known name (e.g. qwen2.5-1.5b), "
            "served by llama.cpp on loopback for the run; needs eventx[local].",
        ),
        Env("EVENTX_LOCAL_MODEL"),
        Option(default_text="none"),
    ] = None
    local_threads: Annotated[
        int | None,
        Field(ge=1, le=1024, description="CPU threads of the local model server."),
        Env("EVENTX_LOCAL_THREADS"),
    ] = None
    local_context: Annotated[
        int | None,
        Field(ge=512, le=1_048_576, description="Context size of the local model server."),
        Env("EVENTX_LOCAL_CONTEXT"),
    ] = None
    timeout: Annotated[
        float,
        Field(ge=1, le=3600, description="Seconds to wait for one answer."),
        Env("EVENTX_TIMEOUT"),
    ] = 120.0
    schema_profile: Annotated[
        SchemaProfile,
        Field(
            description="The fields the model is offered: full, or compact (the essential "
            "fields only, for small models).",
        ),
        Env("EVENTX_SCHEMA_PROFILE"),
        Option(),
    ] = "full"
    examples: Annotated[
        str,
        Field(
            min_length=1,
            description="Worked examples in the prompt: builtin, none, or a YAML/JSON file "
            "of {text, extraction} entries.",
        ),
        Env("EVENTX_EXAMPLES"),
        Option(),
    ] = "none"
    per_type: Annotated[
        bool,
        Field(description="Ask for each record type in a request of its own (small models)."),
        Env("EVENTX_PER_TYPE"),
        Option(),
    ] = False
    claims_apart: Annotated[
        bool,
        Field(
            description="Ask for claims in a request of their own and for events in another "
            "(small models)."
        ),
        Env("EVENTX_CLAIMS_APART"),
        Option(),
    ] = False
    sweep_claims: Annotated[
        bool,
        Field(
            description="After the asks, ask about each sentence that reports speech and no "
            "claim covers yet, one short request each (small models)."
        ),
        Env("EVENTX_SWEEP_CLAIMS"),
        Option(),
    ] = False
    passes: Annotated[
        int,
        Field(
            ge=1,
            le=3,
            description="Passes over each part: after the first, ask for what is missing.",
        ),
        Env("EVENTX_PASSES"),
        Option(),
    ] = 1
    max_reasks: Annotated[
        int,
        Field(ge=0, le=10, description="Re-asks after an invalid answer."),
        Env("EVENTX_MAX_REASKS"),
        Option(),
    ] = 2
    max_transient_retries: Annotated[
        int,
        Field(ge=0, le=20, description="Retries of rate limits, 5xx and network faults."),
        Env("EVENTX_MAX_RETRIES"),
    ] = 5
    max_retry_wait: Annotated[
        float,
        Field(ge=0, le=3600, description="Longest wait before one retry, in seconds."),
    ] = 60.0
    max_output_tokens: Annotated[
        int | None,
        Field(ge=1, le=10_000_000, description="Output token limit sent with each request."),
        Env("EVENTX_MAX_OUTPUT_TOKENS"),
        Option(default_text="not sent"),
    ] = None
    temperature: Annotated[
        float | None,
        Field(ge=0, le=2, description="Sampling temperature; the server's default when unset."),
        Env("EVENTX_TEMPERATURE"),
    ] = None
    grounding: Annotated[
        GroundingPolicy,
        Field(description="What to do with evidence that is not in the article."),
        Env("EVENTX_GROUNDING"),
        Option(),
    ] = GroundingPolicy.DROP
    actors_near_evidence: Annotated[
        bool,
        Field(
            description="Drop records none of whose actors is named in or near their evidence.",
        ),
        Env("EVENTX_ACTORS_NEAR_EVIDENCE"),
        Option(),
    ] = False
    verify: Annotated[
        bool,
        Field(
            description="Ask the model, event by event, whether the evidence states the event; "
            "drop those it does not confirm (one short request per event).",
        ),
        Env("EVENTX_VERIFY"),
        Option(),
    ] = False
    merge_restated: Annotated[
        bool,
        Field(
            description="Merge events of one type and status between the same parties whose "
            "dates, places and triggers do not disagree (one event told twice).",
        ),
        Env("EVENTX_MERGE_RESTATED"),
        Option(),
    ] = False
    fuzzy_threshold: Annotated[
        float,
        Field(ge=50, le=100, description="Lowest alignment score (0-100) of a fuzzy match."),
    ] = DEFAULT_FUZZY_THRESHOLD
    rpm: Annotated[
        int | None,
        Field(ge=1, le=100_000_000, description="Requests per minute."),
        Env("EVENTX_RPM"),
        Option(default_text="500 for OpenAI, none elsewhere"),
    ] = None
    tpm: Annotated[
        int | None,
        Field(ge=1, le=10_000_000_000, description="Tokens per minute."),
        Env("EVENTX_TPM"),
        Option(default_text="200000 for OpenAI, none elsewhere"),
    ] = None
    concurrency: Annotated[
        int,
        Field(ge=1, le=1024, description="Requests in flight at most in a batch run."),
        Env("EVENTX_CONCURRENCY"),
        Option(),
    ] = 16
    clean: Annotated[
        bool,
        Field(description="Remove page junk before the model sees the text."),
        Env("EVENTX_CLEAN"),
        Option(),
    ] = True
    max_chunk_tokens: Annotated[
        int,
        Field(ge=100, le=10_000_000, description="Longest text sent in one request."),
        Env("EVENTX_MAX_CHUNK_TOKENS"),
        Option(),
    ] = 6000
    chunk_overlap_tokens: Annotated[
        int,
        Field(ge=0, le=100_000, description="Overlap of consecutive chunks of a long article."),
        Env("EVENTX_CHUNK_OVERLAP_TOKENS"),
        Option(),
    ] = 300
    max_requests_per_article: Annotated[
        int | None,
        Field(
            ge=1,
            le=1_000_000,
            description="HTTP requests one article may send, retries, re-asks and chunks included.",
        ),
        Env("EVENTX_MAX_REQUESTS_PER_ARTICLE"),
        Option(default_text="(retries+1) x (re-asks+1) per chunk"),
    ] = None
    max_tokens_per_article: Annotated[
        int | None,
        Field(
            ge=1,
            le=10_000_000_000,
            description="Prompt plus completion tokens one article may use; a request that "
            "would cross it is not sent.",
        ),
        Env("EVENTX_MAX_TOKENS_PER_ARTICLE"),
        Option(default_text="no limit"),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _local_defaults(cls, data: Any) -> Any:
        """A local model answers to its own name, writes at most 2,048 tokens an answer unless
        told otherwise (a small model can repeat itself until the context is full), is given
        30 minutes an answer (a CPU reads about 50 and writes about 10 tokens a second), is
        sent two requests at a time (its server answers one at a time), and decodes greedily
        (temperature 0: the same article gives the same answer). It gets the prompt levers
        of :data:`LOCAL_LEVERS`."""
        if not isinstance(data, dict) or not data.get("local"):
            return data
        local = str(data["local"])
        name = Path(local).stem if local.lower().endswith(".gguf") else local
        levers = {key: value for key, value in LOCAL_LEVERS.items() if data.get(key) is None}
        return {
            **data,
            **levers,
            "model": data.get("model") or name,
            "max_output_tokens": data.get("max_output_tokens") or LOCAL_MAX_OUTPUT_TOKENS,
            "timeout": data.get("timeout") or LOCAL_TIMEOUT,
            "concurrency": data.get("concurrency") or LOCAL_CONCURRENCY,
            "temperature": 0.0 if data.get("temperature") is None else data["temperature"],
        }

    @model_validator(mode="before")
    @classmethod
    def _mode_for_the_server(cls, data: Any) -> Any:
        """An unset mode becomes the best one the server takes, else ``tools``."""
        if not isinstance(data, dict) or data.get("mode") is not None:
            return data
        server = data.get("server") or (
            Server.LLAMA_CPP_PYTHON if data.get("local") else server_of(data.get("base_url"))
        )
        known = server is not None and str(server) in {member.value for member in Server}
        mode = SERVERS[Server(str(server))].default_mode if known else Mode.TOOLS
        return {**data, "mode": mode}

    @model_validator(mode="after")
    def _mode_the_server_takes(self) -> Settings:
        profile = SERVERS.get(self.server_kind) if self.server_kind else None
        if profile is not None and self.mode not in profile.modes:
            accepted = ", ".join(mode.value for mode in profile.modes)
            raise ValueError(f"{profile.name} does not take mode {self.mode.value}; use {accepted}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _endpoint_pool(cls, data: Any) -> Any:
        """``base_urls`` as a tuple (a comma-separated string is split), duplicates and empty
        entries dropped; when it names any endpoint, ``base_url`` becomes the first, so the
        server kind, the mode and the rate-limit defaults follow the fleet.

        Declared after the other ``before`` validators, so it runs first."""
        if not isinstance(data, dict) or data.get("base_urls") is None:
            return data
        urls = split_urls(data["base_urls"])
        if urls and data.get("local"):
            raise ValueError("base_urls and local cannot be used together")
        return {**data, "base_urls": urls or None, **({"base_url": urls[0]} if urls else {})}

    @property
    def server_kind(self) -> Server | None:
        """The server the settings talk to: set, the local backend's, or told by the endpoint."""
        if self.server is not None:
            return self.server
        if self.local is not None:
            return Server.LLAMA_CPP_PYTHON
        return server_of(self.base_url)

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``overrides`` (None means unset), then the environment, then defaults.

        Raises:
            ConfigurationError: naming the setting (and the variable it came from) when a
                value is invalid, or the name of an unknown setting.
        """
        env = os.environ if env is None else env
        unknown = set(overrides) - set(cls.model_fields)
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values = {name: value for name, value in overrides.items() if value is not None}
        origins = dict.fromkeys(values, "")
        for name, info in cls.model_fields.items():
            if name not in values and (found := _from_env(env, info)) is not None:
                origins[name], values[name] = found
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise ConfigurationError(_explain(error, origins, values)) from None

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with ``overrides`` applied (None means unchanged), validated again."""
        values = {name: value for name, value in overrides.items() if value is not None}
        unknown = set(values) - set(type(self).model_fields)
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        try:
            return type(self).model_validate({**self.model_dump(), **values})
        except ValidationError as error:
            raise ConfigurationError(_explain(error, dict.fromkeys(values, ""), values)) from None

    @classmethod
    def env_names(cls, name: str) -> tuple[str, ...]:
        """The environment variables setting ``name`` is read from (empty when none)."""
        env = _metadata(cls.model_fields[name], Env)
        return env.names if env is not None else ()

    @classmethod
    def option_of(cls, name: str) -> Option | None:
        """How setting ``name`` appears on the command line; None when it does not."""
        return _metadata(cls.model_fields[name], Option)

    @property
    def max_attempts(self) -> int:
        """Model answers requested per article: the first one plus the re-asks."""
        return self.max_reasks + 1

    @property
    def asks_per_part(self) -> int:
        """Requests each part of an article is asked in, re-asks aside: one, or one per
        record type, or two (events, claims), plus the recall passes and, with
        ``sweep_claims``, room for the sweep's asks."""
        sweep = SWEEP_ASKS_PER_PART if self.sweep_claims else 0
        return len(self.tasks) + self.passes - 1 + sweep

    @property
    def tasks(self) -> tuple[str | None, ...]:
        """What each part of an article is asked first: every record type at once
        (``None``), events and claims apart, or each record type apart."""
        if self.per_type:
            return RECORD_TYPES
        return ("events", "claim") if self.claims_apart else (None,)

    def request_budget(self, chunks: int) -> int:
        """HTTP requests an article sent in ``chunks`` parts may send, all included.

        ``max_requests_per_article`` when set; otherwise the most the retry policies
        can take: ``(max_transient_retries + 1) × (max_reasks + 1)`` per ask, for every
        ask of every chunk.
        """
        if self.max_requests_per_article is not None:
            return self.max_requests_per_article
        retries = (self.max_transient_retries + 1) * self.max_attempts
        return retries * self.asks_per_part * max(chunks, 1)

    def require_endpoint(self) -> None:
        """Raise :class:`ConfigurationError` unless a key, a custom endpoint or a local model
        is set."""
        if not self.api_key and not self.base_url and not self.local:
            raise ConfigurationError(NOT_CONFIGURED)

    def rate_limits(self) -> tuple[int | None, int | None, bool]:
        """(requests/min, tokens/min, set explicitly) to start pacing with."""
        if self.rpm is not None or self.tpm is not None:
            return self.rpm, self.tpm, True
        if self.base_url is None:
            return DEFAULT_OPENAI_RPM, DEFAULT_OPENAI_TPM, False
        return None, None, False

    def client_api_key(self) -> str:
        """The key to hand the client: a placeholder for keyless local servers."""
        return self.api_key or LOCAL_SERVER_API_KEY


class SettingOverrides(TypedDict, total=False):
    """Keyword arguments that set :class:`Settings` fields (checked by mypy; pinned by a test
    to the fields of :class:`Settings`). ``None`` means unset."""

    model: str | None
    base_url: str | None
    base_urls: Sequence[str] | str | None
    api_key: str | None
    server: Server | str | None
    mode: Mode | str | None
    local: str | None
    local_threads: int | None
    local_context: int | None
    timeout: float | None
    schema_profile: Literal["full", "compact"] | None
    examples: str | None
    per_type: bool | None
    claims_apart: bool | None
    sweep_claims: bool | None
    passes: int | None
    max_reasks: int | None
    max_transient_retries: int | None
    max_retry_wait: float | None
    max_output_tokens: int | None
    temperature: float | None
    grounding: GroundingPolicy | str | None
    actors_near_evidence: bool | None
    verify: bool | None
    merge_restated: bool | None
    fuzzy_threshold: float | None
    rpm: int | None
    tpm: int | None
    concurrency: int | None
    clean: bool | None
    max_chunk_tokens: int | None
    chunk_overlap_tokens: int | None
    max_requests_per_article: int | None
    max_tokens_per_article: int | None


def split_urls(value: Any) -> tuple[str, ...]:
    """Endpoint URLs from a comma-separated string or a sequence, in order, each once."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _metadata(info: FieldInfo, kind: type[_T]) -> _T | None:
    return next((item for item in info.metadata if isinstance(item, kind)), None)


def _from_env(env: Mapping[str, str], info: FieldInfo) -> tuple[str, str] | None:
    found = _metadata(info, Env)
    for variable in found.names if found is not None else ():
        value = env.get(variable, "").strip()
        if value:
            return variable, value
    return None


def _explain(error: ValidationError, origins: dict[str, str], values: dict[str, Any]) -> str:
    """One line per invalid setting: where the value came from, the rule it breaks."""
    lines = []
    for detail in error.errors():
        if not detail["loc"]:  # a rule across settings
            lines.append(detail["msg"].removeprefix("Value error, "))
            continue
        name = str(detail["loc"][0])
        rule = f"{name} {_rule(detail, Settings.model_fields.get(name))}"
        origin = origins.get(name, "")
        value = values.get(name)
        lines.append(f"{origin}={value!s}: {rule}" if origin else f"{rule}, got {value!r}")
    return "; ".join(lines)


def _rule(detail: ErrorDetails, info: FieldInfo | None) -> str:
    kind, context = detail["type"], detail.get("ctx") or {}
    bounds = _bounds(info)
    if kind in ("greater_than_equal", "less_than_equal") and bounds is not None:
        return f"must be between {bounds[0]:g} and {bounds[1]:g}"
    if kind == "enum":
        return f"must be one of: {context.get('expected', '').replace(chr(39), '')}".replace(
            " or ", ", "
        )
    rules = {
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "bool_parsing": "must be true or false (1/0, yes/no, on/off)",
        "string_too_short": "must not be empty",
    }
    return rules.get(kind, detail["msg"].lower())


def _bounds(info: FieldInfo | None) -> tuple[float, float] | None:
    if info is None:
        return None
    low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    if low is None or high is None:
        return None
    return float(low), float(high)
