"""Extraction: one instructor call per article (per chunk of a long one), two retry
policies kept apart.

* Transient faults (429, 408, 409, 5xx, timeouts, connection errors) are retried
  around each single HTTP request by tenacity, honouring ``Retry-After``; the
  openai SDK's own retries are switched off so attempts never multiply.
* Invalid answers (malformed JSON, schema violations, evidence not found in the
  article) are re-asked by instructor with the validation error, ``max_reasks`` times.

The article is prepared first (cleaned, language settled, split when long: see
:mod:`eventx.ingest.prepare`); each chunk is one call, grounded against the text the model
saw with offsets translated to the original, and the chunks' records are merged.
Usage is counted on every response that comes back, across both policies and all
chunks. Every request passes one budget check before it is counted and sent
(:meth:`Extractor._within_budget`): when the article's request or token budget would
be crossed, nothing is sent and the article fails with :class:`~eventx.errors.BudgetExceededError`,
which neither tenacity nor instructor retries. This is the only module that imports
openai or instructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Self, Unpack

import instructor
import openai
from instructor.core import InstructorRetryException
from instructor.processing.response import handle_response_model
from pydantic import ValidationError, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from eventx import errors
from eventx.errors import first_line
from eventx.extraction.grounding import (
    ArticleIndex,
    Locator,
    MappedIndex,
    Ungrounded,
    drop_ungrounded,
    flag_ungrounded,
    ground,
    reask_message,
)
from eventx.extraction.local import LocalServer, context_size, cpu_threads
from eventx.extraction.merge import merge_parts, number_ids
from eventx.extraction.pricing import estimate_cost
from eventx.extraction.prompt import (
    INSTRUCTIONS,
    build_messages,
    model_facing_schema,
    prompt_hash,
)
from eventx.extraction.ratelimit import RateLimiter
from eventx.extraction.redact import redact, scrub_error
from eventx.extraction.replay import is_replay_miss
from eventx.extraction.retry import BackoffWait, is_transient_status
from eventx.extraction.tokens import count_message_tokens, count_tokens
from eventx.ingest.prepare import Part, PreparedArticle, prepare
from eventx.models import (
    SCHEMA_VERSION,
    Article,
    ArticleBudget,
    ArticleExtraction,
    ErrorCategory,
    ErrorRecord,
    ExtractionResult,
    Usage,
    clear_read_only,
)
from eventx.normalize.records import normalize_extraction
from eventx.servers import SERVERS, Mode, mode_advice, refused_mode
from eventx.settings import GroundingPolicy, SettingOverrides, Settings

OnError = Literal["raise", "record"]
SleepFn = Callable[[float], None]
AsyncSleepFn = Callable[[float], Awaitable[None]]

_INSTRUCTOR_MODES = {
    Mode.TOOLS: instructor.Mode.TOOLS,
    Mode.JSON_SCHEMA: instructor.Mode.JSON_SCHEMA,
    Mode.JSON: instructor.Mode.JSON,
    Mode.MD_JSON: instructor.Mode.MD_JSON,
}
LOCAL_ENDPOINT = "http://127.0.0.1/v1"
"""Where a local model is served (its port is chosen when it starts)."""
DEFAULT_OUTPUT_ESTIMATE = 2_000
"""Output tokens counted against the token rate when ``max_output_tokens`` is not set."""


@dataclass
class _Call:
    """Everything one article's extraction accumulates while instructor works."""

    prepared: PreparedArticle
    max_attempts: int
    fuzzy_threshold: float
    budget: ArticleBudget
    usage: Usage = field(default_factory=Usage)
    prepaid_requests: int = 0
    """Requests sent elsewhere (Batch API answers): counted against the request budget."""
    answers: int = 0
    ungrounded: list[Ungrounded] = field(default_factory=list)
    index: Locator | None = None
    prefilled: list[Any] = field(default_factory=list)
    """Answers obtained elsewhere (the Batch API), used before any request is sent."""
    part_answers: int = 0
    part_missing: list[Ungrounded] = field(default_factory=list)
    original: ArticleIndex = field(init=False)

    def __post_init__(self) -> None:
        self.original = ArticleIndex(self.prepared.article.text, self.fuzzy_threshold)

    @property
    def article(self) -> Article:
        return self.prepared.article

    def begin(self, part: Part) -> None:
        """Ground the next answers against ``part``; reset its answer count."""
        derived = ArticleIndex(part.chunk.text, self.fuzzy_threshold)
        self.index = MappedIndex(derived, part.offsets, self.original)
        self.part_answers, self.part_missing = 0, []

    def finish(self, part: Part, answer: ArticleExtraction) -> ArticleExtraction:
        """The part's records, ids numbered when there are several parts."""
        extraction = ArticleExtraction(
            events=answer.events, claims=answer.claims, dateline=answer.dateline
        )
        missing = self.part_missing
        if part.label is not None:
            renamed = number_ids(extraction, part.chunk.number)
            missing = [Ungrounded(renamed.get(m.record_id, m.record_id), m.quote) for m in missing]
        self.ungrounded.extend(missing)
        return extraction

    def merge(self, parts: list[ArticleExtraction]) -> ArticleExtraction:
        """The parts merged into one extraction; ungrounded quotes follow merged records."""
        merged = merge_parts(parts)
        self.ungrounded = [
            Ungrounded(merged.redirect.get(item.record_id, item.record_id), item.quote)
            for item in self.ungrounded
        ]
        return merged.extraction

    def count_response(self, response: Any) -> None:
        self.answers += 1
        self.part_answers += 1
        usage = getattr(response, "usage", None)
        self.usage.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
        self.usage.completion_tokens += getattr(usage, "completion_tokens", 0) or 0

    @property
    def requests_sent(self) -> int:
        """Requests counted against the budget: sent live, or answered by the Batch API."""
        return self.usage.requests + self.prepaid_requests

    def budget_overrun(self, tokens: int) -> tuple[str, int, int, str] | None:
        """(budget, limit, needed, message) when sending a request estimated at ``tokens``
        would cross the article's budget; None when it may be sent."""
        sent = self.requests_sent
        if sent + 1 > self.budget.max_requests:
            limit = self.budget.max_requests
            message = (
                f"request budget spent: {sent} of {limit} requests sent (retries, re-asks "
                "and chunks included); raise max_requests_per_article to allow more"
            )
            return "requests", limit, sent + 1, message
        used, limit_tokens = self.usage.total_tokens, self.budget.max_tokens
        if limit_tokens is not None and used + tokens > limit_tokens:
            message = (
                f"token budget would be crossed: {used:,} tokens used + {tokens:,} estimated "
                f"for the next request > {limit_tokens:,}; raise max_tokens_per_article"
            )
            return "tokens", limit_tokens, used + tokens, message
        return None

    @property
    def final_answer(self) -> bool:
        """No re-ask can follow: re-asks are used up, or the request budget is."""
        spent = self.requests_sent >= self.budget.max_requests
        return self.part_answers >= self.max_attempts or spent


_current_call: ContextVar[_Call | None] = ContextVar("eventx_current_call", default=None)


class ModelAnswer(ArticleExtraction):
    """An :class:`ArticleExtraction` as the model sends it; grounded while validated.

    Its schema is the model-facing one (no read-only fields). Quotes that cannot be
    located raise a validation error, which instructor turns into a re-ask, except
    on the last allowed answer, where the grounding policy decides.
    """

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return model_facing_schema(ArticleExtraction)

    @model_validator(mode="after")
    def _ground_quotes(self) -> Self:
        clear_read_only(self)
        call = _current_call.get()
        if call is None or call.index is None:
            return self
        missing = ground(self, call.index)
        if missing and not call.final_answer:
            raise ValueError(reask_message(missing))
        call.part_missing = missing
        return self


def is_transient(exception: BaseException) -> bool:
    """True for a fault worth retrying: a connection error, a timeout, 408/409/429/5xx."""
    if is_replay_miss(exception):
        return False
    if isinstance(exception, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exception, openai.APIStatusError):
        return is_transient_status(exception.status_code)
    return False


class Extractor:
    """Extracts events and claims from articles with an OpenAI-compatible model.

    Args:
        client: an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client to use instead of
            building one (its own retries are switched off). Settings such as
            ``base_url`` and ``api_key`` are then ignored.
        sleep / async_sleep: how to wait between transient retries and for the rate
            limiter (for simulations and tests); ``time.sleep`` / ``asyncio.sleep`` by default.
        limiter: a :class:`~eventx.extraction.ratelimit.RateLimiter` to share; by default one is
            built from the ``rpm`` / ``tpm`` settings and shared by this extractor's calls.
        **settings: any :class:`~eventx.settings.Settings` field (``model``, ``base_url``,
            ``api_key``, ``mode``, ``max_reasks``, ``grounding`` …); unset ones come
            from ``EVENTX_*`` / ``OPENAI_*`` environment variables.

    Raises:
        ConfigurationError: when no client is given and no endpoint is configured.
    """

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        *,
        sleep: SleepFn | None = None,
        async_sleep: AsyncSleepFn | None = None,
        limiter: RateLimiter | None = None,
        **settings: Unpack[SettingOverrides],
    ) -> None:
        self.settings = Settings.resolve(**settings)
        if client is None:
            self.settings.require_endpoint()
        self._client = client
        self._sync_client: openai.OpenAI | None = None
        self._async_client: openai.AsyncOpenAI | None = None
        self._sleep = sleep or time.sleep
        self._async_sleep = async_sleep or asyncio.sleep
        self.prompt_hash = prompt_hash(ArticleExtraction)
        self.limiter = limiter or _limiter_for(self.settings)
        self.in_flight: asyncio.Semaphore | None = None
        """Bounds concurrent async requests when set (the batch runner sets it), so other
        articles are prepared and validated while requests are out."""
        self._local: LocalServer | None = None

    # -- public API ---------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client eventx built (a client passed in is left to its owner) and
        stop the local model server, if one was started."""
        if self._client is None and self._sync_client is not None:
            self._sync_client.close()
        self._sync_client = None
        if self._local is not None:
            self._local.stop()
            self._local = None

    def start(self) -> None:
        """Start the local model server now rather than at the first request (a no-op for
        any other endpoint): a run starts it before recording any cassette."""
        self._start_local()

    @property
    def endpoint(self) -> str | None:
        """Where requests go: the base URL, the local server's, or None for OpenAI."""
        if self.settings.local is not None:
            return self._local.base_url if self._local is not None else LOCAL_ENDPOINT
        return self.settings.base_url

    async def aclose(self) -> None:
        """Close the async HTTP client eventx built, and the sync one."""
        if self._client is None and self._async_client is not None:
            await self._async_client.close()
        self._async_client = None
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def extract(self, article: Article | str, *, on_error: OnError = "raise") -> ExtractionResult:
        """Extract every event and claim from one article.

        Raises:
            ExtractionError: when attempts run out (unless ``on_error="record"``, which
                returns a result whose ``error`` field says what went wrong).
        """
        call = self._new_call(_as_article(article))
        create = instructor.patch(create=self._sync_create, mode=self._instructor_mode)
        with _active(call):
            try:
                parts = [self._ask(call, create, part) for part in call.prepared.parts]
            except Exception as exc:
                return self._failed(call, exc, on_error)
        return self._succeeded(call, call.merge(parts), on_error)

    async def aextract(
        self,
        article: Article | str,
        *,
        on_error: OnError = "raise",
        answer_bodies: list[dict[str, Any]] | None = None,
    ) -> ExtractionResult:
        """Async twin of :meth:`extract`.

        ``answer_bodies`` are chat-completion bodies obtained elsewhere (e.g. from the
        Batch API), one per request of :meth:`request_bodies`: they are validated and
        grounded like live answers, and only a re-ask, if one is needed, is sent live.
        """
        call = self._new_call(_as_article(article))
        create = instructor.patch(create=self._async_create, mode=self._instructor_mode)
        with _active(call):
            try:
                answers = _completions(answer_bodies, len(call.prepared.parts))
                parts = [
                    await self._aask(call, create, part, answers[number])
                    for number, part in enumerate(call.prepared.parts)
                ]
            except Exception as exc:
                return self._failed(call, exc, on_error)
        return self._succeeded(call, call.merge(parts), on_error)

    @property
    def fingerprint(self) -> dict[str, str]:
        """What this extractor's results depend on: model, mode, prompt and schema version.

        A run store is bound to one fingerprint; the response cache is keyed on it.
        """
        return {
            "model": self.settings.model,
            "mode": self.settings.mode.value,
            "prompt_hash": self.prompt_hash,
            "schema_version": SCHEMA_VERSION,
        }

    def failed_result(
        self, article: Article | str, category: ErrorCategory, message: str
    ) -> ExtractionResult:
        """The result recorded for an article that got no usable answer (or never reached
        the model): what is known of the article, this extractor's settings, the error."""
        fields: dict[str, Any] = {"article_id": article}
        if isinstance(article, Article):
            fields = article.model_dump(
                include={"source", "title", "url", "language", "published_at"}
            )
            fields["article_id"] = article.id
        return ExtractionResult(
            **fields,
            model=self.settings.model,
            mode=self.settings.mode.value,
            prompt_hash=self.prompt_hash,
            error=ErrorRecord(category=category, message=message),
        )

    def request_bodies(self, article: Article | str) -> list[dict[str, Any]]:
        """The JSON bodies eventx sends to ``/chat/completions`` for ``article``.

        One per part: a long article is split into chunks, one request each. Used
        to build Batch API request files: the same model, messages and schema as
        live requests, so batch answers are read exactly like live ones.
        """
        return request_bodies(_as_article(article), self.settings)

    # -- requests -----------------------------------------------------------------

    @property
    def _instructor_mode(self) -> instructor.Mode:
        return _INSTRUCTOR_MODES[self.settings.mode]

    def _new_call(self, article: Article) -> _Call:
        prepared = prepare(article, self.settings)
        budget = ArticleBudget(
            max_requests=self.settings.request_budget(len(prepared.parts)),
            max_tokens=self.settings.max_tokens_per_article,
        )
        return _Call(
            prepared=prepared,
            max_attempts=self.settings.max_attempts,
            fuzzy_threshold=self.settings.fuzzy_threshold,
            budget=budget,
        )

    def _ask(self, call: _Call, create: Any, part: Part) -> ArticleExtraction:
        call.begin(part)
        answer = create(**_instructor_request(call.prepared, part, self.settings))
        return call.finish(part, answer)

    async def _aask(
        self, call: _Call, create: Any, part: Part, prefilled: Any = None
    ) -> ArticleExtraction:
        call.begin(part)
        call.prefilled = [prefilled] if prefilled is not None else []
        answer = await create(**_instructor_request(call.prepared, part, self.settings))
        return call.finish(part, answer)

    def _sync_create(self, **kwargs: Any) -> Any:
        call = _require_call()
        if call.prefilled:
            response = call.prefilled.pop(0)
            call.prepaid_requests += 1
        else:
            retrying = Retrying(sleep=self._sleep, **self._transient_policy(call))
            for attempt in retrying:
                with attempt:
                    response = self._send(call, kwargs)
        call.count_response(response)
        self._check_completion(call, response)
        return response

    async def _async_create(self, **kwargs: Any) -> Any:
        call = _require_call()
        if call.prefilled:
            response = call.prefilled.pop(0)
            call.prepaid_requests += 1
        else:
            retrying = AsyncRetrying(sleep=self._async_sleep, **self._transient_policy(call))
            async for attempt in retrying:
                with attempt:
                    response = await self._send_async(call, kwargs)
        call.count_response(response)
        self._check_completion(call, response)
        return response

    def _check_completion(self, call: _Call, response: Any) -> None:
        """Fail at once on an answer that is a refusal or was cut off at the output limit.

        Read from the completion itself (``message.refusal``, ``finish_reason``), before
        instructor parses it; neither is re-asked.
        """
        choices = getattr(response, "choices", None) or []
        if not choices:
            return
        choice = choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal or choice.finish_reason == "content_filter":
            reason = refusal or "its content filter stopped the answer"
            raise errors.RefusalError(f"the model refused: {reason}", **self._error_context(call))
        if choice.finish_reason == "length":
            raise errors.TruncatedOutputError(
                "the answer was cut off at the output token limit (finish_reason=length); "
                "raise max_output_tokens",
                **self._error_context(call),
            )

    def _within_budget(self, call: _Call, body: dict[str, Any]) -> int:
        """The request's token estimate, once the article's budget allows sending it.

        The one budget check every request passes (transient retries, re-asks, chunks,
        re-asks of Batch API answers), before it is counted, paced or sent.

        Raises:
            BudgetExceededError: the request would cross the request or token budget.
        """
        tokens = estimate_request_tokens(body)
        overrun = call.budget_overrun(tokens)
        if overrun is not None:
            budget, limit, needed, message = overrun
            raise errors.BudgetExceededError(
                message, budget=budget, limit=limit, needed=needed, **self._error_context(call)
            )
        return tokens

    def _adapted(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request as this server takes it: in ``json`` mode, a server whose
        ``json_object`` takes a schema gets it there, and constrains the answer to it."""
        profile = SERVERS.get(self.settings.server_kind) if self.settings.server_kind else None
        if self.settings.mode is not Mode.JSON or profile is None or not profile.json_object_schema:
            return body
        schema = model_facing_schema(ArticleExtraction)
        return {**body, "response_format": {"type": "json_object", "schema": schema}}

    def _send(self, call: _Call, kwargs: dict[str, Any]) -> Any:
        kwargs = self._adapted(kwargs)
        tokens = self._within_budget(call, kwargs)
        if (delay := self.limiter.reserve(tokens)) > 0:
            self._sleep(delay)
        while (delay := self.limiter.admit(tokens)) > 0:
            self._sleep(delay)
        call.usage.requests += 1
        with self._observed():
            raw = self._openai().chat.completions.with_raw_response.create(**kwargs)
        self.limiter.observe(raw.status_code, raw.headers)
        return raw.parse()

    async def _send_async(self, call: _Call, kwargs: dict[str, Any]) -> Any:
        kwargs = self._adapted(kwargs)
        tokens = self._within_budget(call, kwargs)
        if (delay := self.limiter.reserve(tokens)) > 0:
            await self._async_sleep(delay)
        async with self.in_flight or contextlib.nullcontext():
            while (delay := self.limiter.admit(tokens)) > 0:
                await self._async_sleep(delay)
            call.usage.requests += 1
            with self._observed():
                raw = await self._async_openai().chat.completions.with_raw_response.create(**kwargs)
        self.limiter.observe(raw.status_code, raw.headers)
        return raw.parse()

    @contextmanager
    def _observed(self) -> Iterator[None]:
        """Let the rate limiter see error responses (429s above all) before they propagate."""
        try:
            yield
        except openai.APIStatusError as error:
            self.limiter.observe(error.status_code, error.response.headers)
            scrub_error(error, self._secrets())  # before instructor logs it
            self._refuse_mode(error)
            raise

    def _refuse_mode(self, error: openai.APIStatusError) -> None:
        """A server that does not take this mode's request shape is a configuration error,
        never a transient fault to retry."""
        mode, body = self.settings.mode, redact(error.response.text, self._secrets())
        if refused_mode(error.status_code, body, mode):
            server = self.settings.server_kind
            raise errors.ConfigurationError(
                f"the model endpoint refused the {mode.value} request shape "
                f"(HTTP {error.status_code}: {first_line(ValueError(body), 200)}); "
                f"{mode_advice(mode, server)}"
            ) from None

    def _secrets(self) -> tuple[str | None, ...]:
        return self.settings.api_key, getattr(self._client, "api_key", None)

    def _transient_policy(self, call: _Call) -> dict[str, Any]:
        backoff = BackoffWait(max_wait=self.settings.max_retry_wait)

        def wait(state: RetryCallState) -> float:
            # No backoff before a retry the request budget will refuse anyway.
            return 0.0 if call.requests_sent >= call.budget.max_requests else backoff(state)

        return {
            "stop": stop_after_attempt(self.settings.max_transient_retries + 1),
            "wait": wait,
            "retry": retry_if_exception(is_transient),
            "reraise": True,
        }

    def _openai(self) -> openai.OpenAI:
        if self._sync_client is None:
            if isinstance(self._client, openai.OpenAI):
                self._sync_client = self._client.with_options(max_retries=0)
            elif self._client is not None:
                raise errors.ConfigurationError("extract() needs a sync openai.OpenAI client")
            else:
                self._sync_client = openai.OpenAI(**self._client_options())
        return self._sync_client

    def _async_openai(self) -> openai.AsyncOpenAI:
        if self._async_client is None:
            if isinstance(self._client, openai.AsyncOpenAI):
                self._async_client = self._client.with_options(max_retries=0)
            elif self._client is not None:
                raise errors.ConfigurationError("aextract() needs an openai.AsyncOpenAI client")
            else:
                self._async_client = openai.AsyncOpenAI(**self._client_options())
        return self._async_client

    def _client_options(self) -> dict[str, Any]:
        return {
            "api_key": self.settings.client_api_key(),
            "base_url": self._start_local() or self.settings.base_url,
            "timeout": self.settings.timeout,
            "max_retries": 0,
        }

    def _start_local(self) -> str | None:
        """Start the local model server on first use; its base URL (None without one)."""
        settings = self.settings
        if settings.local is None:
            return None
        if self._local is None:
            output = settings.max_output_tokens or DEFAULT_OUTPUT_ESTIMATE
            prompt = count_tokens(INSTRUCTIONS) + _schema_tokens(
                json.dumps(model_facing_schema(ArticleExtraction))
            )
            server = LocalServer(
                settings.local,
                context=settings.local_context
                or context_size(prompt + settings.max_chunk_tokens, output, settings.max_attempts),
                threads=settings.local_threads or cpu_threads(),
                alias=settings.model,
            )
            server.start()
            self._local = server
        return self._local.base_url

    # -- results ------------------------------------------------------------------

    def _succeeded(
        self, call: _Call, extraction: ArticleExtraction, on_error: OnError
    ) -> ExtractionResult:
        policy = self.settings.grounding
        if call.ungrounded and policy is GroundingPolicy.FAIL:
            error = errors.UngroundedEvidenceError(
                reask_message(call.ungrounded), **self._error_context(call)
            )
            return self._failed(call, error, on_error)
        warnings = (
            flag_ungrounded(call.ungrounded)
            if policy is GroundingPolicy.KEEP
            else drop_ungrounded(extraction)
        )
        language = call.prepared.language
        warnings += normalize_extraction(extraction, call.article, language=language)
        return self._result(call, extraction=extraction, warnings=warnings)

    def _failed(self, call: _Call, exc: Exception, on_error: OnError) -> ExtractionResult:
        error = exc if isinstance(exc, errors.ExtractionError) else self._classify(call, exc)
        if on_error == "raise":
            if error is exc or error is exc.__cause__:
                raise error
            raise error from exc
        return self._result(call, error=error.to_record())

    def _classify(self, call: _Call, exc: Exception) -> errors.ExtractionError:
        cause = (exc.__cause__ if isinstance(exc, InstructorRetryException) else exc) or exc
        if isinstance(cause, errors.ExtractionError):  # the budget stopped the call
            return cause
        # An eventx error raised mid-call (e.g. a misconfigured client) is not the model's fault.
        if isinstance(cause, errors.EventxError):
            raise cause
        kind, message = _failure_kind(cause)
        return kind(redact(message, self._secrets()), **self._error_context(call))

    def _error_context(self, call: _Call) -> dict[str, Any]:
        self._price(call.usage)
        return {"article_id": call.article.id, "attempts": call.answers, "usage": call.usage}

    def _price(self, usage: Usage) -> None:
        usage.cost_usd = estimate_cost(self.settings.model, usage, self.endpoint)

    def _result(self, call: _Call, **fields: Any) -> ExtractionResult:
        article, prepared = call.article, call.prepared
        self._price(call.usage)
        return ExtractionResult(
            article_id=article.id,
            source=article.source,
            title=article.title,
            url=article.url,
            language=prepared.language,
            language_source=prepared.language_source,
            published_at=article.published_at,
            encoding=article.encoding,
            cleaning=prepared.cleaning,
            chunks=len(prepared.parts),
            usage=call.usage,
            attempts=call.answers,
            budget=call.budget,
            model=self.settings.model,
            mode=self.settings.mode.value,
            prompt_hash=self.prompt_hash,
            **fields,
        )


def _instructor_request(
    prepared: PreparedArticle, part: Part, settings: Settings
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "response_model": ModelAnswer,
        "max_retries": settings.max_reasks,
        "strict": False,
        "model": settings.model,
        "messages": build_messages(prepared.for_model(part), part.label),
    }
    if settings.max_output_tokens is not None:
        request["max_tokens"] = settings.max_output_tokens
    if settings.temperature is not None:
        request["temperature"] = settings.temperature
    return request


def request_bodies(article: Article, settings: Settings) -> list[dict[str, Any]]:
    """The JSON bodies of the chat-completions requests for ``article`` under ``settings``.

    One per part (a long article is split into chunks); cleaning and language
    detection apply as in a live extraction.
    """
    prepared = prepare(article, settings)
    return [_request_body(prepared, part, settings) for part in prepared.parts]


def _request_body(prepared: PreparedArticle, part: Part, settings: Settings) -> dict[str, Any]:
    """The body instructor sends for ``part``: the request with the schema put where the
    mode puts it (tools, ``response_format`` or the system message)."""
    request = _instructor_request(prepared, part, settings)
    response_model = request.pop("response_model")
    for instructor_only in ("max_retries", "strict"):
        request.pop(instructor_only)
    _, body = handle_response_model(response_model, _INSTRUCTOR_MODES[settings.mode], **request)
    return body


def estimate_request_tokens(body: dict[str, Any]) -> int:
    """Tokens a request counts against a token rate limit: messages, schema, and output.

    The output part is the request's ``max_tokens``, or :data:`DEFAULT_OUTPUT_ESTIMATE`.
    """
    schema = json.dumps([body.get("tools"), body.get("response_format")], ensure_ascii=False)
    output = body.get("max_tokens") or DEFAULT_OUTPUT_ESTIMATE
    return count_message_tokens(body["messages"]) + _schema_tokens(schema) + output


@functools.lru_cache(maxsize=16)
def _schema_tokens(schema_json: str) -> int:
    return count_tokens(schema_json)


def _completions(bodies: list[dict[str, Any]] | None, parts: int) -> list[Any]:
    """Answers obtained elsewhere, one per part, as chat completions (None: ask live)."""
    if bodies is None:
        return [None] * parts
    if len(bodies) != parts:
        raise ValueError(f"{len(bodies)} answers for an article sent in {parts} parts")
    return [openai.types.chat.ChatCompletion.model_validate(body) for body in bodies]


def _limiter_for(settings: Settings) -> RateLimiter:
    rpm, tpm, explicit = settings.rate_limits()
    return RateLimiter(rpm, tpm, explicit=explicit)


def _failure_kind(cause: BaseException) -> tuple[type[errors.ExtractionError], str]:
    """Map the exception that ended the attempts to an eventx error class and message."""
    if is_replay_miss(cause):
        return errors.ReplayError, (
            "no recorded response matches this request; the prompt, model or article "
            "changed since the cassette was recorded (re-record it with --record)"
        )
    if isinstance(cause, openai.APIStatusError | openai.APIConnectionError):
        kind = errors.TransientFaultError if is_transient(cause) else errors.ApiError
        return kind, _describe_api_error(cause)
    if isinstance(cause, ValidationError):
        return errors.InvalidOutputError, f"the answer stayed invalid: {validation_summary(cause)}"
    if isinstance(cause, json.JSONDecodeError):
        return errors.InvalidOutputError, f"the answer stayed invalid: {first_line(cause)}"
    return errors.InvalidOutputError, f"{type(cause).__name__}: {first_line(cause)}"


def validation_summary(error: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` errors of a validation error, each with its path: what a user
    needs to see which field of the answer was wrong."""
    details = error.errors()
    shown = [
        f"{'.'.join(map(str, item['loc'])) or 'answer'}: {first_line(ValueError(item['msg']))}"
        for item in details[:limit]
    ]
    more = f" (and {len(details) - limit} more)" if len(details) > limit else ""
    return f"{len(details)} error(s): " + "; ".join(shown) + more


def _describe_api_error(error: openai.APIError) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code} from the model endpoint: {first_line(error)}"
    if isinstance(error, openai.APITimeoutError):
        return "the request to the model endpoint timed out"
    return f"could not reach the model endpoint ({first_line(error)})"


def _as_article(article: Article | str) -> Article:
    if isinstance(article, Article):
        return article
    return Article(id="article", text=article)


def _require_call() -> _Call:
    call = _current_call.get()
    if call is None:  # pragma: no cover - only reachable by misuse of private functions
        raise RuntimeError("no extraction in progress")
    return call


@contextmanager
def _active(call: _Call) -> Iterator[None]:
    token = _current_call.set(call)
    try:
        yield
    finally:
        _current_call.reset(token)


def extract(text: str | Article, **settings: Unpack[SettingOverrides]) -> ExtractionResult:
    """Extract events and claims from one article text in a single call.

    ``settings`` are passed to :class:`Extractor`; see there. Raises on failure.
    """
    with Extractor(**settings) as extractor:
        return extractor.extract(text)
