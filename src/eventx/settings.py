"""Configuration: explicit arguments first, then ``EVENTX_*``, then ``OPENAI_*`` variables.

==========================  ======================================  ==================
setting                     environment variables (first wins)      default
==========================  ======================================  ==================
model                       EVENTX_MODEL, OPENAI_MODEL              ``gpt-4.1-mini``
base_url                    EVENTX_BASE_URL, OPENAI_BASE_URL        the OpenAI API
api_key                     EVENTX_API_KEY, OPENAI_API_KEY          none
mode                        EVENTX_MODE                             ``tools``
timeout (seconds)           EVENTX_TIMEOUT                          120
max_reasks                  EVENTX_MAX_REASKS                       2
max_transient_retries       EVENTX_MAX_RETRIES                      5
max_output_tokens           EVENTX_MAX_OUTPUT_TOKENS                not sent
grounding                   EVENTX_GROUNDING                        ``drop``
rpm (requests per minute)   EVENTX_RPM                              see below
tpm (tokens per minute)     EVENTX_TPM                              see below
clean                       EVENTX_CLEAN                            true
max_chunk_tokens            EVENTX_MAX_CHUNK_TOKENS                 6000
chunk_overlap_tokens        EVENTX_CHUNK_OVERLAP_TOKENS             300
max_requests_per_article    EVENTX_MAX_REQUESTS_PER_ARTICLE         see below
max_tokens_per_article      EVENTX_MAX_TOKENS_PER_ARTICLE           no limit
==========================  ======================================  ==================

Rate limits: unset, they default to 500 requests and 200,000 tokens a minute (OpenAI's
first usage tier) when talking to OpenAI, and to no client-side limit for any other
endpoint; either way, limits the provider announces in ``x-ratelimit-limit-*`` headers
replace the defaults. Limits set explicitly are never raised by the provider's headers.

Budget: unset, an article may send ``(max_transient_retries + 1) × (max_reasks + 1)``
requests per chunk, the most its retries and re-asks can ever take, so the default
never cuts a retry path short; a budget set explicitly caps the article as a whole.
See docs/retries.md, "Bounded cost".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from eventx.errors import ConfigurationError
from eventx.extraction.grounding import DEFAULT_FUZZY_THRESHOLD, GroundingPolicy
from eventx.ingest.chunk import DEFAULT_CHUNK_OVERLAP_TOKENS, DEFAULT_MAX_CHUNK_TOKENS

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_OPENAI_RPM = 500
DEFAULT_OPENAI_TPM = 200_000
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


class Mode(StrEnum):
    """How the schema is given to the model and the answer read back."""

    TOOLS = "tools"
    """A forced function call (OpenAI, Azure, vLLM, Ollama, most servers)."""
    JSON_SCHEMA = "json_schema"
    """``response_format`` with the JSON Schema (OpenAI, vLLM, Ollama, llama.cpp)."""
    JSON = "json"
    """``response_format=json_object`` with the schema in the prompt."""
    MD_JSON = "md_json"
    """Schema in the prompt, JSON in a fenced block: for servers without structured output."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings for an :class:`~eventx.Extractor`. Build with :meth:`resolve`."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: Mode = Mode.TOOLS
    timeout: float = 120.0
    max_reasks: int = 2
    max_transient_retries: int = 5
    max_retry_wait: float = 60.0
    max_output_tokens: int | None = None
    temperature: float | None = None
    grounding: GroundingPolicy = GroundingPolicy.DROP
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    rpm: int | None = None
    tpm: int | None = None
    clean: bool = True
    max_chunk_tokens: int = DEFAULT_MAX_CHUNK_TOKENS
    chunk_overlap_tokens: int = DEFAULT_CHUNK_OVERLAP_TOKENS
    max_requests_per_article: int | None = None
    max_tokens_per_article: int | None = None

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``overrides`` (None means unset), then the environment, then defaults."""
        env = os.environ if env is None else env
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values = {name: value for name, value in overrides.items() if value is not None}
        for name, variables in _ENV.items():
            if name not in values and (raw := _first(env, variables)) is not None:
                values[name] = raw
        return cls(**_coerce(values))

    @property
    def max_attempts(self) -> int:
        """Model answers requested per article: the first one plus the re-asks."""
        return self.max_reasks + 1

    def request_budget(self, chunks: int) -> int:
        """HTTP requests an article sent in ``chunks`` parts may send, all included.

        ``max_requests_per_article`` when set; otherwise the most the retry policies
        can take: ``(max_transient_retries + 1) × (max_reasks + 1)`` per chunk.
        """
        if self.max_requests_per_article is not None:
            return self.max_requests_per_article
        return (self.max_transient_retries + 1) * self.max_attempts * max(chunks, 1)

    def require_endpoint(self) -> None:
        """Raise :class:`ConfigurationError` unless a key or a custom endpoint is set."""
        if not self.api_key and not self.base_url:
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


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in _TRUE | _FALSE:
        raise ValueError(value)
    return text in _TRUE


_ENV: dict[str, tuple[str, ...]] = {
    "model": ("EVENTX_MODEL", "OPENAI_MODEL"),
    "base_url": ("EVENTX_BASE_URL", "OPENAI_BASE_URL"),
    "api_key": ("EVENTX_API_KEY", "OPENAI_API_KEY"),
    "mode": ("EVENTX_MODE",),
    "timeout": ("EVENTX_TIMEOUT",),
    "max_reasks": ("EVENTX_MAX_REASKS",),
    "max_transient_retries": ("EVENTX_MAX_RETRIES",),
    "max_output_tokens": ("EVENTX_MAX_OUTPUT_TOKENS",),
    "grounding": ("EVENTX_GROUNDING",),
    "rpm": ("EVENTX_RPM",),
    "tpm": ("EVENTX_TPM",),
    "clean": ("EVENTX_CLEAN",),
    "max_chunk_tokens": ("EVENTX_MAX_CHUNK_TOKENS",),
    "chunk_overlap_tokens": ("EVENTX_CHUNK_OVERLAP_TOKENS",),
    "max_requests_per_article": ("EVENTX_MAX_REQUESTS_PER_ARTICLE",),
    "max_tokens_per_article": ("EVENTX_MAX_TOKENS_PER_ARTICLE",),
}

_CONVERTERS: dict[str, Any] = {
    "mode": Mode,
    "timeout": float,
    "max_reasks": int,
    "max_transient_retries": int,
    "max_retry_wait": float,
    "max_output_tokens": int,
    "temperature": float,
    "grounding": GroundingPolicy,
    "fuzzy_threshold": float,
    "rpm": int,
    "tpm": int,
    "clean": _to_bool,
    "max_chunk_tokens": int,
    "chunk_overlap_tokens": int,
    "max_requests_per_article": int,
    "max_tokens_per_article": int,
}

_LIMITS: dict[str, tuple[float, float]] = {
    "timeout": (1, 3600),
    "max_reasks": (0, 10),
    "max_transient_retries": (0, 20),
    "max_retry_wait": (0, 3600),
    "max_output_tokens": (1, 10_000_000),
    "temperature": (0, 2),
    "fuzzy_threshold": (50, 100),
    "rpm": (1, 100_000_000),
    "tpm": (1, 10_000_000_000),
    "max_chunk_tokens": (100, 10_000_000),
    "chunk_overlap_tokens": (0, 100_000),
    "max_requests_per_article": (1, 1_000_000),
    "max_tokens_per_article": (1, 10_000_000_000),
}


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    coerced: dict[str, Any] = {}
    for name, value in values.items():
        converter = _CONVERTERS.get(name)
        try:
            coerced[name] = converter(value) if converter else value
        except ValueError:
            raise ConfigurationError(_bad_value(name, value, converter)) from None
        low, high = _LIMITS.get(name, (float("-inf"), float("inf")))
        if converter in (int, float) and not low <= coerced[name] <= high:
            raise ConfigurationError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return coerced


def _bad_value(name: str, value: Any, converter: Any) -> str:
    if isinstance(converter, type) and issubclass(converter, StrEnum):
        choices = ", ".join(member.value for member in converter)
        return f"{name} must be one of: {choices}; got {value!r}"
    if converter is _to_bool:
        return f"{name} must be true or false (1/0, yes/no, on/off), got {value!r}"
    kind = "a number" if converter is float else "a whole number"
    return f"{name} must be {kind}, got {value!r}"
