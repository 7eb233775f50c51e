"""Extraction: instructor calls per article, two retry policies kept apart.

* Transient faults (429, 408, 409, 5xx, timeouts, connection errors) are retried
  around each single HTTP request by tenacity, honouring ``Retry-After``; the
  openai SDK's own retries are switched off so attempts never multiply.
* Invalid answers (malformed JSON, schema violations, evidence not found in the
  article) are re-asked by instructor with the validation error, ``max_reasks`` times;
  grounded records of an answer that is re-asked are kept (:mod:`eventx.extraction.answers`).

The article is prepared first (cleaned, language settled, split when long: see
:mod:`eventx.ingest.prepare`); its parts are asked as :mod:`eventx.extraction.asks`
plans (one request for every record type, or one per type, then recall passes), each
answer grounded against the text the model saw with offsets translated to the
original, and the answers' records merged. Usage is counted on every response that
comes back, across both policies and all asks. Every request passes one budget check
before it is counted and sent (:meth:`Extractor._within_budget`): when the article's
request or token budget would be crossed, nothing is sent and the article fails with
:class:`~eventx.errors.BudgetExceededError`, which neither tenacity nor instructor retries.
Only the modules of :mod:`eventx.extraction` import openai or instructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Self, TypeVar, Unpack

import instructor
import openai
from instructor.core import InstructorRetryException
from openai._constants import RAW_RESPONSE_HEADER
from openai.types.chat import ChatCompletion
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from eventx import errors
from eventx.errors import first_line
from eventx.extraction.answers import ArticleCall, Ask, active, current_call
from eventx.extraction.asks import ask_article
from eventx.extraction.checks import drop_unnamed, merge_restated_events
from eventx.extraction.endpoints import is_endpoint_fault, pool_for
from eventx.extraction.failures import failure_kind, is_transient
from eventx.extraction.grounding import (
    drop_ungrounded,
    drop_unsupported,
    flag_ungrounded,
    reask_message,
    removed_text_warnings,
)
from eventx.extraction.local import LocalServer, context_size, cpu_threads
from eventx.extraction.pricing import estimate_cost
from eventx.extraction.ratelimit import RateLimiter
from eventx.extraction.redact import redact, scrub_error
from eventx.extraction.requests import (
    DEFAULT_OUTPUT_ESTIMATE,
    INSTRUCTOR_MODES,
    RequestPlan,
    estimate_request_tokens,
)
from eventx.extraction.retry import BackoffWait
from eventx.extraction.verify import CheckFn, verify_events
from eventx.ingest.prepare import prepare
from eventx.ingest.tokens import count_tokens
from eventx.models import (
    SCHEMA_VERSION,
    Article,
    ArticleBudget,
    ArticleExtraction,
    ErrorCategory,
    ErrorRecord,
    ExtractionResult,
    Usage,
)
from eventx.normalize.records import normalize_extraction
from eventx.servers import mode_advice, refused_mode
from eventx.settings import GroundingPolicy, SettingOverrides, Settings

__all__ = [
    "DEFAULT_OUTPUT_ESTIMATE",
    "Extractor",
    "estimate_request_tokens",
    "extract",
    "is_transient",
]

OnError = Literal["raise", "record"]
SleepFn = Callable[[float], None]
AsyncSleepFn = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")

CHAT_COMPLETIONS = "/chat/completions"
_RAW_RESPONSE: Any = {"headers": {RAW_RESPONSE_HEADER: "true"}}
"""Options of a request posted through the SDK: the response itself (status, headers,
then ``parse()``), the switch its ``with_raw_response`` sets.

Requests are posted as they are, not through ``chat.completions.create``: the bodies
instructor builds are plain JSON already, and ``create`` walks every body through the
SDK's typed-dict transform first, about 1 ms of CPU a request for a prompt of two
messages and a schema.
"""

LOCAL_ENDPOINT = "http://127.0.0.1/v1"
"""Where a local model is served (its port is chosen when it starts)."""


class Extractor:
    """Extracts events and claims from articles with an OpenAI-compatible model.

    Args:
        client: an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client to use instead of
            building one (its own retries are switched off). Settings such as
            ``base_url`` and ``api_key`` are then ignored.
        sleep / async_sleep: how to wait between transient retries and for the rate
            limiter (for simulations and tests); ``time.sleep`` / ``asyncio.sleep`` by default.
        limiter: a :class:`~eventx.extraction.ratelimit.RateLimiter` to share; by default one
            is built from the ``rpm`` / ``tpm`` settings and shared by this extractor's calls.
        **settings: any :class:`~eventx.Settings` field (``model``, ``base_url``,
            ``local``, ``mode``, ``max_reasks``, ``examples`` …); unset ones come from
            ``EVENTX_*`` / ``OPENAI_*`` environment variables.

    Raises:
        ConfigurationError: when no client is given and no endpoint is configured, or the
            settings are invalid (an examples file that does not check out, a mode the
            server does not take).
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
        self.plan = RequestPlan.of(self.settings)
        self.prompt_hash = self.plan.prompt_hash
        self._client = client
        self._sync_client: openai.OpenAI | None = None
        self._async_client: openai.AsyncOpenAI | None = None
        self.endpoints = pool_for(self.settings.base_urls) if client is None else None
        """The endpoint pool when ``base_urls`` names a fleet (requests, failures, circuits)."""
        self._pooled: dict[tuple[str, bool], Any] = {}
        self._sleep = sleep or time.sleep
        self._async_sleep = async_sleep or asyncio.sleep
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
        for key in [key for key in self._pooled if not key[1]]:  # the fleet's sync clients
            self._pooled.pop(key).close()
        if self._local is not None:
            self._local.stop()
            self._local = None

    async def aclose(self) -> None:
        """Close the async HTTP client eventx built, and the sync one."""
        if self._client is None and self._async_client is not None:
            await self._async_client.close()
        self._async_client = None
        for key in [key for key in self._pooled if key[1]]:  # the fleet's async clients
            await self._pooled.pop(key).close()
        self.close()

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

        async def ask(request: Ask, listing: str | None) -> list[ArticleExtraction]:
            call.begin(request)
            answer = create(**self.plan.instructor_request(call.prepared, request, listing))
            return call.finish(answer)

        async def check(messages: list[dict[str, str]]) -> bool:
            return bool(create(**self.plan.check_request(messages)).holds)

        return _run_now(self._extract(call, ask, on_error, check))

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
        prefilled = list(answer_bodies or [])

        async def ask(request: Ask, listing: str | None) -> list[ArticleExtraction]:
            call.begin(request)
            if prefilled:
                call.prefilled = [_completion(prefilled.pop(0))]
            request_body = self.plan.instructor_request(call.prepared, request, listing)
            return call.finish(await create(**request_body))

        async def check(messages: list[dict[str, str]]) -> bool:
            return bool((await create(**self.plan.check_request(messages))).holds)

        return await self._extract(call, ask, on_error, check)

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
        """The JSON bodies eventx sends to ``/chat/completions`` for ``article``'s first asks.

        One per ask: a long article is split into chunks, and each chunk is asked once, or
        once per record type. Used to build Batch API request files and to count a dry
        run: the same model, messages and schema as live requests, so batch answers are
        read exactly like live ones.
        """
        prepared = prepare(_as_article(article), self.settings)
        return [
            self.plan.body(prepared, Ask(part, task))
            for part in prepared.parts
            for task in self.settings.tasks
        ]

    # -- asking -------------------------------------------------------------------

    async def _extract(
        self,
        call: ArticleCall,
        ask: Callable[[Ask, str | None], Awaitable[list[ArticleExtraction]]],
        on_error: OnError,
        check: CheckFn,
    ) -> ExtractionResult:
        passes = self.settings.passes
        with active(call):
            try:
                kept = await ask_article(
                    call,
                    self.settings.tasks,
                    passes,
                    ask,
                    lambda exc: self._classify(call, exc),
                    sweep_claims=self.settings.sweep_claims,
                )
            except Exception as exc:
                return self._failed(call, exc, on_error)
            extraction = call.merge(kept)
            if self.settings.verify:
                call.warnings += await verify_events(extraction, call.article.text, check)
        return self._succeeded(call, extraction, on_error)

    @property
    def _instructor_mode(self) -> instructor.Mode:
        return INSTRUCTOR_MODES[self.settings.mode]

    def _new_call(self, article: Article) -> ArticleCall:
        prepared = prepare(article, self.settings)
        budget = ArticleBudget(
            max_requests=self.settings.request_budget(len(prepared.parts)),
            max_tokens=self.settings.max_tokens_per_article,
        )
        return ArticleCall(
            prepared=prepared,
            max_attempts=self.settings.max_attempts,
            fuzzy_threshold=self.settings.fuzzy_threshold,
            budget=budget,
        )

    def _sync_create(self, **kwargs: Any) -> Any:
        call = current_call()
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
        call = current_call()
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

    def _check_completion(self, call: ArticleCall, response: Any) -> None:
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

    def _within_budget(self, call: ArticleCall, body: dict[str, Any]) -> int:
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

    def _send(self, call: ArticleCall, kwargs: dict[str, Any]) -> Any:
        kwargs = self.plan.adapt(kwargs)
        tokens = self._within_budget(call, kwargs)
        if (delay := self.limiter.reserve(tokens)) > 0:
            self._sleep(delay)
        while (delay := self.limiter.admit(tokens)) > 0:
            self._sleep(delay)
        call.usage.requests += 1
        with self._observed(), self._endpoint() as base_url:
            raw: Any = self._openai(base_url).post(
                CHAT_COMPLETIONS, cast_to=ChatCompletion, body=kwargs, options=_RAW_RESPONSE
            )
        self.limiter.observe(raw.status_code, raw.headers)
        return raw.parse()

    async def _send_async(self, call: ArticleCall, kwargs: dict[str, Any]) -> Any:
        kwargs = self.plan.adapt(kwargs)
        tokens = self._within_budget(call, kwargs)
        if (delay := await self.limiter.areserve(tokens)) > 0:
            await self._async_sleep(delay)
        async with self.in_flight or contextlib.nullcontext():
            while (delay := await self.limiter.aadmit(tokens)) > 0:
                await self._async_sleep(delay)
            call.usage.requests += 1
            with self._observed(), self._endpoint() as base_url:
                client = self._async_openai(base_url)
                raw: Any = await client.post(
                    CHAT_COMPLETIONS, cast_to=ChatCompletion, body=kwargs, options=_RAW_RESPONSE
                )
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

    def _transient_policy(self, call: ArticleCall) -> dict[str, Any]:
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

    @contextmanager
    def _endpoint(self) -> Iterator[str | None]:
        """Where one request goes: the least busy endpoint of the pool whose circuit is
        closed, held while the request is out (None: the one configured endpoint)."""
        if self.endpoints is None:
            yield None
            return
        with self.endpoints.lease(is_endpoint_fault) as endpoint:
            yield endpoint.url

    def _openai(self, base_url: str | None = None) -> openai.OpenAI:
        if base_url is not None:
            pooled: openai.OpenAI = self._pooled_client(base_url, is_async=False)
            return pooled
        if self._sync_client is None:
            if isinstance(self._client, openai.OpenAI):
                self._sync_client = self._client.with_options(max_retries=0)
            elif self._client is not None:
                raise errors.ConfigurationError("extract() needs a sync openai.OpenAI client")
            else:
                self._sync_client = openai.OpenAI(**self._client_options())
        return self._sync_client

    def _async_openai(self, base_url: str | None = None) -> openai.AsyncOpenAI:
        if base_url is not None:
            pooled: openai.AsyncOpenAI = self._pooled_client(base_url, is_async=True)
            return pooled
        if self._async_client is None:
            if isinstance(self._client, openai.AsyncOpenAI):
                self._async_client = self._client.with_options(max_retries=0)
            elif self._client is not None:
                raise errors.ConfigurationError("aextract() needs an openai.AsyncOpenAI client")
            else:
                self._async_client = openai.AsyncOpenAI(**self._client_options())
        return self._async_client

    def _pooled_client(self, base_url: str, *, is_async: bool) -> Any:
        """The client of one endpoint of the pool, built on first use."""
        key = (base_url, is_async)
        if key not in self._pooled:
            kind = openai.AsyncOpenAI if is_async else openai.OpenAI
            self._pooled[key] = kind(**{**self._client_options(), "base_url": base_url})
        return self._pooled[key]

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
            prompt = count_tokens(self.plan.parts.system()) + settings.max_chunk_tokens
            server = LocalServer(
                settings.local,
                context=settings.local_context
                or context_size(prompt, output, settings.max_attempts),
                threads=settings.local_threads or cpu_threads(),
                alias=settings.model,
            )
            server.start()
            self._local = server
        return self._local.base_url

    # -- results ------------------------------------------------------------------

    def _succeeded(
        self, call: ArticleCall, extraction: ArticleExtraction, on_error: OnError
    ) -> ExtractionResult:
        policy = self.settings.grounding
        if call.ungrounded and policy is GroundingPolicy.FAIL:
            error = errors.UngroundedEvidenceError(
                reask_message(call.ungrounded), **self._error_context(call)
            )
            return self._failed(call, error, on_error)
        warnings = call.warnings + removed_text_warnings(call.ungrounded)
        warnings += (
            flag_ungrounded(call.ungrounded)
            if policy is GroundingPolicy.KEEP
            else drop_ungrounded(extraction)
        )
        if self.settings.actors_near_evidence:
            warnings += drop_unsupported(extraction, call.article.text)
        language = call.prepared.language
        warnings += normalize_extraction(extraction, call.article, language=language)
        warnings += drop_unnamed(extraction)
        if self.settings.merge_restated:
            warnings += merge_restated_events(extraction)
        return self._result(call, extraction=extraction, warnings=warnings)

    def _failed(self, call: ArticleCall, exc: Exception, on_error: OnError) -> ExtractionResult:
        error = exc if isinstance(exc, errors.ExtractionError) else self._classify(call, exc)
        if on_error == "raise":
            if error is exc or error is exc.__cause__:
                raise error
            raise error from exc
        return self._result(call, error=error.to_record())

    def _classify(self, call: ArticleCall, exc: Exception) -> errors.ExtractionError:
        """The eventx error for what ended an ask; an eventx error that is not about the
        answer (a misconfigured client, a refused mode) is raised as it is."""
        cause = (exc.__cause__ if isinstance(exc, InstructorRetryException) else exc) or exc
        if isinstance(cause, errors.ExtractionError):  # the budget stopped the call
            return cause
        # An eventx error raised mid-call (e.g. a misconfigured client) is not the model's fault.
        if isinstance(cause, errors.EventxError):
            raise cause
        kind, message = failure_kind(cause)
        return kind(redact(message, self._secrets()), **self._error_context(call))

    def _error_context(self, call: ArticleCall) -> dict[str, Any]:
        self._price(call.usage)
        return {"article_id": call.article.id, "attempts": call.answers, "usage": call.usage}

    def _price(self, usage: Usage) -> None:
        usage.cost_usd = estimate_cost(self.settings.model, usage, self.endpoint)

    def _result(self, call: ArticleCall, **fields: Any) -> ExtractionResult:
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


def _completion(body: dict[str, Any]) -> Any:
    """An answer obtained elsewhere (the Batch API) as a chat completion."""
    return openai.types.chat.ChatCompletion.model_validate(body)


def _run_now(work: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine that never waits (the sync extraction path) to its end."""
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise RuntimeError("the sync extraction path waited on an event loop")


def _limiter_for(settings: Settings) -> RateLimiter:
    rpm, tpm, explicit = settings.rate_limits()
    return RateLimiter(rpm, tpm, explicit=explicit)


def _as_article(article: Article | str) -> Article:
    if isinstance(article, Article):
        return article
    return Article(id="article", text=article)


def extract(text: str | Article, **settings: Unpack[SettingOverrides]) -> ExtractionResult:
    """Extract events and claims from one article text in a single call.

    ``settings`` are passed to :class:`Extractor`; see there. Raises on failure.
    """
    with Extractor(**settings) as extractor:
        return extractor.extract(text)
