"""The requests of one extractor: what every request shares, and the body of each.

A :class:`RequestPlan` holds what is fixed for an extractor: the mode, the schema
profile, the prompt's fixed parts (instructions, schema outline, worked examples) and
the asks each part of an article gets (every record type at once, or one request per
type). Instructor shapes the request for the mode; :meth:`RequestPlan.adapt` then puts
it in the form the server takes.

Modes, and what instructor does for each: ``tools`` and ``json_schema`` as instructor's
modes of the same name; ``json`` is instructor's ``json_schema`` mode with the schema
outlined in eventx's own system message and ``response_format`` turned into
``json_object`` (with the schema inside, for servers that make it a grammar);
``md_json`` is instructor's, schema and fenced answer included.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import instructor
from instructor.processing.response import handle_response_model

from eventx.extraction.answers import Ask, ModelAnswer, answer_model
from eventx.extraction.examples import examples_text, resolve_examples
from eventx.extraction.grounding import Ungrounded, reask_message
from eventx.extraction.prompt import (
    TASKS,
    PromptParts,
    build_messages,
    model_facing_schema,
    prompt_hash,
    schema_outline,
)
from eventx.extraction.tokens import count_message_tokens
from eventx.extraction.verify import Verdict, check_digest
from eventx.ingest.prepare import PreparedArticle
from eventx.ingest.tokens import count_tokens
from eventx.models import ArticleExtraction
from eventx.servers import SERVERS, Mode
from eventx.settings import Settings

INSTRUCTOR_MODES = {
    Mode.TOOLS: instructor.Mode.TOOLS,
    Mode.JSON_SCHEMA: instructor.Mode.JSON_SCHEMA,
    Mode.JSON: instructor.Mode.JSON_SCHEMA,
    Mode.MD_JSON: instructor.Mode.MD_JSON,
}
CHECK_OUTPUT_TOKENS = 20
"""Room for a check's answer, ``{"holds": false}``."""
DEFAULT_OUTPUT_ESTIMATE = 2_000
"""Output tokens counted against the token rate when ``max_output_tokens`` is not set."""


@dataclass(frozen=True)
class RequestPlan:
    """What every request of one extractor shares."""

    settings: Settings
    parts: PromptParts

    @classmethod
    def of(cls, settings: Settings) -> RequestPlan:
        """The plan ``settings`` describe (examples are read and checked here)."""
        profile = settings.schema_profile
        schema = None
        if settings.mode is Mode.JSON:
            schema = schema_outline(model_facing_schema(ArticleExtraction, profile))
        examples = examples_text(resolve_examples(settings.examples), profile)
        return cls(settings, PromptParts(schema=schema, examples=examples))

    @property
    def prompt_hash(self) -> str:
        """A short hash of everything fixed in the prompt, the wording of re-asks, of
        checks (with ``verify``) and of the claim sweep (with ``sweep_claims``) included."""
        fixed = self.parts.instructions + reask_message([Ungrounded("e1", "…")])
        if self.settings.verify:
            fixed += check_digest()
        if self.settings.sweep_claims:
            fixed += TASKS["sweep"]
        parts = PromptParts(fixed, self.parts.schema, self.parts.examples)
        return prompt_hash(ArticleExtraction, parts, self.settings.schema_profile)

    def response_model(self, ask: Ask) -> type[ModelAnswer]:
        """The answer model of ``ask``, as instructor takes it."""
        return instructor_model(answer_model(self.settings.schema_profile, ask.task))

    def instructor_request(
        self, prepared: PreparedArticle, ask: Ask, found: str | None = None
    ) -> dict[str, Any]:
        """The arguments of instructor's ``create`` for one ask."""
        task = found if ask.task == "missing" else TASKS.get(ask.task or "")
        request: dict[str, Any] = {
            "response_model": self.response_model(ask),
            "max_retries": self.settings.max_reasks,
            "strict": False,
            "model": self.settings.model,
            "messages": build_messages(
                prepared.for_model(ask.part), ask.part.label, parts=self.parts, task=task
            ),
        }
        if self.settings.max_output_tokens is not None:
            request["max_tokens"] = self.settings.max_output_tokens
        if self.settings.temperature is not None:
            request["temperature"] = self.settings.temperature
        return request

    def check_request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The arguments of instructor's ``create`` for one check of an event."""
        request: dict[str, Any] = {
            "response_model": Verdict,
            "max_retries": 1,
            "strict": False,
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": CHECK_OUTPUT_TOKENS,
        }
        if self.settings.temperature is not None:
            request["temperature"] = self.settings.temperature
        return request

    def body(self, prepared: PreparedArticle, ask: Ask) -> dict[str, Any]:
        """The JSON body sent to ``/chat/completions`` for one ask (first answer)."""
        request = self.instructor_request(prepared, ask)
        response_model = request.pop("response_model")
        for instructor_only in ("max_retries", "strict"):
            request.pop(instructor_only)
        mode = INSTRUCTOR_MODES[self.settings.mode]
        _, body = handle_response_model(response_model, mode, **request)
        return self.adapt(body)

    def adapt(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request as the server takes it. In ``json`` mode ``response_format`` is
        ``json_object``, carrying the schema where the server makes it a grammar."""
        if self.settings.mode is not Mode.JSON:
            return body
        response_format: dict[str, Any] = {"type": "json_object"}
        server = self.settings.server_kind
        if server is not None and SERVERS[server].json_object_schema:
            schema = body.get("response_format", {}).get("json_schema", {}).get("schema")
            if schema is not None:
                response_format["schema"] = schema
        return {**body, "response_format": response_format}


def recall_task(found: ArticleExtraction) -> str:
    """What a recall pass asks: the records found so far, and for the ones missing."""
    listed = [
        {"type": record.TYPE, "evidence": [item.quote for item in record.evidence]}
        for record in found.records()
    ]
    return (
        "These records were already found in this article: "
        + json.dumps(listed, ensure_ascii=False)
        + "\nExtract only the meetings, aid deliveries, diplomatic protests and claims that "
        "are missing from this list. Return empty lists when nothing is missing."
    )


@functools.cache
def instructor_model(model: type[ModelAnswer]) -> type[ModelAnswer]:
    """``model`` wrapped once the way instructor wraps every response model.

    Handed a plain model, instructor builds a new class around it for every request, and
    the new class's JSON Schema (kept in a cache of 256 classes), which costs CPU time and
    memory; handed a model it wrapped already, it uses it as is.
    """
    wrapped: type[ModelAnswer] = instructor.response_schema(model)
    _walk_once(wrapped)
    return wrapped


_WALKED: set[type] = set()
"""Answer models instructor's walk for async validators has passed."""


def _walk_once(model: type[ModelAnswer]) -> None:
    """Let instructor check ``model`` for async validators once, not on every request.

    Instructor walks the whole response model looking for async validators (which it
    refuses) six times per request, about 2.5 ms an article. An answer model is built
    once and never changes, so its first walk answers for every request; any other model
    is walked as instructor walks it.
    """
    from instructor.v2.core import patch
    from instructor.v2.validation import async_validators

    walk = async_validators.reject_async_validators
    walk(model)  # raises as instructor would if the model declared async validators
    _WALKED.add(model)
    if hasattr(walk, "__wrapped__"):
        return

    @functools.wraps(walk)
    def reject_async_validators(response_model: Any) -> None:
        if not (isinstance(response_model, type) and response_model in _WALKED):
            walk(response_model)

    for module in (async_validators, patch):  # patch imported it by name
        if getattr(module, walk.__name__, None) is walk:
            setattr(module, walk.__name__, reject_async_validators)


def estimate_request_tokens(body: dict[str, Any]) -> int:
    """Tokens a request counts against a token rate limit: messages, schema, and output.

    The output part is the request's ``max_tokens``, or :data:`DEFAULT_OUTPUT_ESTIMATE`.
    """
    schema = json.dumps([body.get("tools"), body.get("response_format")], ensure_ascii=False)
    output = body.get("max_tokens") or DEFAULT_OUTPUT_ESTIMATE
    return count_message_tokens(body["messages"]) + schema_tokens(schema) + output


@functools.lru_cache(maxsize=16)
def schema_tokens(schema_json: str) -> int:
    """Tokens of a schema as sent (cached: the same schema goes with every request)."""
    return count_tokens(schema_json)
