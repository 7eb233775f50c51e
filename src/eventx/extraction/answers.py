"""What one article's extraction accumulates while the model answers: the answer models,
grounding while an answer is validated, salvage across re-asks, and the request budget.

An article is asked in one or more *asks* (a chunk of it, for every record type or for
one type, or for what earlier asks missed). Instructor validates each answer of an ask
against an answer model (:func:`answer_model`) whose validator grounds every quote in
the text the model saw. When quotes are missing and a re-ask may follow, the records of
that answer whose evidence *was* found are kept aside (salvaged) before the re-ask is
requested; the ask's result is the last answer merged with everything salvaged, so a
re-ask never loses a grounded record an earlier answer had.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pydantic import model_validator

from eventx.extraction.grounding import (
    ArticleIndex,
    Locator,
    MappedIndex,
    Ungrounded,
    ground,
    reask_message,
)
from eventx.extraction.merge import merge_parts
from eventx.extraction.prompt import model_facing_schema
from eventx.ingest.prepare import Part, PreparedArticle
from eventx.models import (
    Article,
    ArticleBudget,
    ArticleExtraction,
    ResultWarning,
    Usage,
    clear_read_only,
)
from eventx.normalize.countries import country_code, is_iso3
from eventx.settings import SchemaProfile


@dataclass
class Ask:
    """One request's worth of an article: a part, and what it asks for."""

    part: Part
    task: str | None = None
    """A record type (``meeting``, ``claim`` …), ``missing`` for a recall pass, ``sweep``
    for the claim sweep, or None."""
    depth: int = 0
    """How many times the part was halved after an answer was cut off."""


@dataclass
class ArticleCall:
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
    ask_answers: int = 0
    ask_missing: list[Ungrounded] = field(default_factory=list)
    salvaged: list[ArticleExtraction] = field(default_factory=list)
    """Grounded records of the current ask's earlier answers, kept across its re-asks."""
    sequence: int = 0
    """Answers kept so far: their record ids are prefixed with it until the final numbering."""
    warnings: list[ResultWarning] = field(default_factory=list)
    """What the asks met that the result should say (an ask that failed, an answer split)."""
    original: ArticleIndex = field(init=False)

    def __post_init__(self) -> None:
        self.original = ArticleIndex(self.prepared.article.text, self.fuzzy_threshold)

    @property
    def article(self) -> Article:
        return self.prepared.article

    def begin(self, ask: Ask) -> None:
        """Ground the next answers against the ask's part; reset its answer count."""
        derived = ArticleIndex(ask.part.chunk.text, self.fuzzy_threshold)
        self.index = MappedIndex(derived, ask.part.offsets, self.original)
        self.ask_answers, self.ask_missing, self.salvaged = 0, [], []

    def salvage(self, answer: ArticleExtraction) -> None:
        """Keep the records of ``answer`` whose evidence was found, before a re-ask."""
        kept = answer.model_copy(deep=True)
        for record in kept.records():
            record.evidence = [item for item in record.evidence if item.match is not None]
        kept.events = [event for event in kept.events if event.evidence]
        kept.claims = [claim for claim in kept.claims if claim.evidence]
        if kept.events or kept.claims:
            self.salvaged.append(self._tagged(kept, []))

    def finish(self, answer: ArticleExtraction | None) -> list[ArticleExtraction]:
        """The ask's answers to keep: what was salvaged, then the last answer (if any)."""
        kept = list(self.salvaged)
        if answer is not None:
            extraction = ArticleExtraction(
                events=answer.events, claims=answer.claims, dateline=answer.dateline
            )
            kept.append(self._tagged(extraction, self.ask_missing))
        self.salvaged = []
        return kept

    def _tagged(
        self, extraction: ArticleExtraction, missing: list[Ungrounded]
    ) -> ArticleExtraction:
        """Give the records ids no other answer of the article has (``3:e1``)."""
        self.sequence += 1
        prefix = f"{self.sequence}:"
        renamed = _renamed(extraction, lambda old: prefix + old)
        self.ungrounded += [
            Ungrounded(renamed.get(m.record_id, m.record_id), m.quote) for m in missing
        ]
        return extraction

    def merge(self, answers: list[ArticleExtraction]) -> ArticleExtraction:
        """Every kept answer merged into one extraction, records numbered e1…, c1…"""
        merged = merge_parts(answers)
        final = _renamed(merged.extraction, _numbering(merged.extraction))
        self.ungrounded = [
            Ungrounded(final.get(kept, kept), item.quote)
            for item in self.ungrounded
            for kept in [merged.redirect.get(item.record_id, item.record_id)]
        ]
        return merged.extraction

    def count_response(self, response: Any) -> None:
        self.answers += 1
        self.ask_answers += 1
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
                f"request budget spent: {sent} of {limit} requests sent (retries, re-asks, "
                "passes and chunks included); raise max_requests_per_article to allow more"
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
        return self.ask_answers >= self.max_attempts or spent


def _renamed(extraction: ArticleExtraction, name: Any) -> dict[str, str]:
    """Rename every record id with ``name(old)``, references along; return old → new."""
    records = extraction.records()
    renamed = {record.id: name(record.id) for record in records}
    for record in records:
        record.id = renamed[record.id]
        for reference in getattr(type(record), "REFERENCES", ()):
            target = getattr(record, reference, None)
            if target in renamed:
                setattr(record, reference, renamed[target])
    return renamed


def _numbering(extraction: ArticleExtraction) -> Any:
    """``e1, e2 …`` for events and ``c1, c2 …`` for claims, in order."""
    final = {id(event): f"e{n}" for n, event in enumerate(extraction.events, start=1)}
    final |= {id(claim): f"c{n}" for n, claim in enumerate(extraction.claims, start=1)}
    by_old = {record.id: final[id(record)] for record in extraction.records()}
    return lambda old: by_old[old]


_current_call: ContextVar[ArticleCall | None] = ContextVar("eventx_current_call", default=None)


@contextmanager
def active(call: ArticleCall) -> Iterator[None]:
    """Make ``call`` the one answers are grounded for, inside the block."""
    token = _current_call.set(call)
    try:
        yield
    finally:
        _current_call.reset(token)


def current_call() -> ArticleCall:
    """The article being extracted (set by :func:`active`)."""
    call = _current_call.get()
    if call is None:  # pragma: no cover - only reachable by misuse of private functions
        raise RuntimeError("no extraction in progress")
    return call


class ModelAnswer(ArticleExtraction):
    """An :class:`ArticleExtraction` as the model sends it; grounded while validated.

    Its schema is the model-facing one. Records without ids are numbered. Quotes that
    cannot be located raise a validation error, which instructor turns into a re-ask
    (after the grounded records are salvaged), except on the last allowed answer, where
    the grounding policy decides.
    """

    profile: ClassVar[SchemaProfile] = "full"
    """The schema profile the model is offered."""
    task: ClassVar[str | None] = None
    """The record type the answer is narrowed to, if any."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return model_facing_schema(ArticleExtraction, cls.profile, _schema_task(cls.task))

    @model_validator(mode="before")
    @classmethod
    def _number_records(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        numbered = dict(data)
        for key, letter in (("events", "e"), ("claims", "c")):
            items = numbered.get(key)
            if isinstance(items, list):
                numbered[key] = [_with_id(item, f"{letter}{n}") for n, item in enumerate(items, 1)]
        return numbered

    @model_validator(mode="before")
    @classmethod
    def _country_codes(cls, data: Any) -> Any:
        """Country values as codes: small models write ``Japan``, ``JP`` or ``jpn`` where the
        schema asks for ``JPN``; a re-ask for that costs an answer and can lose records."""
        return _with_country_codes(data)

    @model_validator(mode="after")
    def _ground_quotes(self) -> Self:
        clear_read_only(self)
        call = _current_call.get()
        if call is None or call.index is None:
            return self
        missing = ground(self, call.index)
        if missing and not call.final_answer:
            call.salvage(self)
            raise ValueError(reask_message(missing))
        call.ask_missing = missing
        return self


def _with_id(item: Any, fallback: str) -> Any:
    """A record as the model sent it, with ``fallback`` as its id when it has none."""
    if not isinstance(item, dict) or item.get("id"):
        return item
    return {**item, "id": fallback}


def _with_country_codes(data: Any) -> Any:
    """``data`` with every string ``country`` value that is not an ISO 3166-1 alpha-3
    code replaced by the code it stands for, or by None (the actor's name still is
    resolved to a country by normalization)."""
    if isinstance(data, list):
        return [_with_country_codes(item) for item in data]
    if not isinstance(data, dict):
        return data
    fixed = {key: _with_country_codes(value) for key, value in data.items()}
    country = fixed.get("country")
    if isinstance(country, str) and not is_iso3(country):
        fixed["country"] = country_code(country)
    return fixed


def _schema_task(task: str | None) -> str | None:
    """The record type a task narrows the schema to (a recall pass asks for every type,
    the claim sweep for claims)."""
    if task == "sweep":
        return "claim"
    return None if task in (None, "missing") else task


@functools.cache
def answer_model(profile: SchemaProfile, task: str | None) -> type[ModelAnswer]:
    """The answer model of one profile and task (its schema is what the model is offered)."""
    if profile == "full" and task is None:
        return ModelAnswer
    name = f"ModelAnswer_{profile}_{task or 'all'}"
    namespace = {"profile": profile, "task": task, "__module__": __name__}
    model: type[ModelAnswer] = type(name, (ModelAnswer,), namespace)
    return model
