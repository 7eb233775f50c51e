"""The asks of one article: which requests it gets, and what happens when one fails.

Each part of an article (a chunk, or the whole text) gets one ask for every record
type at once, one for events and one for claims (``claims_apart``), or one ask per
record type (``per_type``); then, with ``passes`` above
1, recall asks that list what was found and ask for what is missing; with
``sweep_claims``, last, one ask per sentence that reports speech and no claim covers
(:mod:`eventx.extraction.sweep`). An ask whose
answer was cut off at the output limit is asked again as two halves of its text, up to
:data:`MAX_SPLIT_DEPTH` times. An ask that ends invalid keeps whatever its earlier
answers had grounded, and the article goes on with its other asks; only when every ask
failed and nothing was kept does the article fail, with the first ask's error.

The asking itself is a coroutine function given to :func:`ask_article`, so the sync and
async extraction paths share this logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from eventx import errors
from eventx.extraction.answers import ArticleCall, Ask
from eventx.extraction.failures import SOFT_FAILURES
from eventx.extraction.merge import merge_parts
from eventx.extraction.requests import recall_task
from eventx.extraction.sweep import sweep_parts
from eventx.ingest.chunk import Chunk, sentence_spans
from eventx.ingest.prepare import Part
from eventx.models import ArticleExtraction, ResultWarning

MAX_SPLIT_DEPTH = 2
"""How many times an ask cut off at the output limit is halved (into at most 4 asks)."""

AskFn = Callable[[Ask, str | None], Awaitable[list[ArticleExtraction]]]
"""Asks the model once (re-asks included); returns the answers to keep (salvaged ones
first). Raises the error that ended the ask."""


@dataclass
class _Outcome:
    kept: list[ArticleExtraction] = field(default_factory=list)
    succeeded: int = 0
    failures: list[errors.ExtractionError] = field(default_factory=list)


async def ask_article(
    call: ArticleCall,
    tasks: tuple[str | None, ...],
    passes: int,
    ask: AskFn,
    classify: Callable[[Exception], errors.ExtractionError],
    *,
    sweep_claims: bool = False,
) -> list[ArticleExtraction]:
    """Every ask of the article's parts, then the claim sweep's asks when
    ``sweep_claims``; the answers to keep, in order.

    Raises:
        ExtractionError: when every ask failed and no record was kept, or at once for a
            failure that is not the model's (transient faults, budgets, API errors).
    """
    outcome = _Outcome()
    for part in call.prepared.parts:
        found: list[ArticleExtraction] = []
        for task in tasks:
            found += await _one(call, Ask(part, task), None, ask, classify, outcome)
        for _ in range(passes - 1):
            listing = recall_task(merge_parts(found).extraction) if found else None
            found += await _one(call, Ask(part, "missing"), listing, ask, classify, outcome)
        outcome.kept += found
    if sweep_claims:
        await _sweep(call, ask, classify, outcome)
    if outcome.failures and not outcome.succeeded and not _has_records(outcome.kept):
        raise outcome.failures[0]
    return outcome.kept


async def _sweep(
    call: ArticleCall,
    ask: AskFn,
    classify: Callable[[Exception], errors.ExtractionError],
    outcome: _Outcome,
) -> None:
    """The claim sweep's asks. One the article's budget does not allow ends the sweep,
    with the warning ``sweep_stopped``: the records of the other asks stand."""
    for excerpt in sweep_parts(call.prepared, outcome.kept):
        try:
            outcome.kept += await _one(call, Ask(excerpt, "sweep"), None, ask, classify, outcome)
        except errors.BudgetExceededError as error:
            message = f"the claim sweep stopped at sentence {excerpt.chunk.number}: {error.detail}"
            call.warnings.append(ResultWarning(code="sweep_stopped", message=message))
            return


async def _one(
    call: ArticleCall,
    request: Ask,
    listing: str | None,
    ask: AskFn,
    classify: Callable[[Exception], errors.ExtractionError],
    outcome: _Outcome,
) -> list[ArticleExtraction]:
    try:
        kept = await ask(request, listing)
    except Exception as exc:
        error = classify(exc)
        salvaged = call.finish(None)
        if not isinstance(error, SOFT_FAILURES):
            raise error from exc
        halves = _halves(request) if isinstance(error, errors.TruncatedOutputError) else []
        if halves:
            call.warnings.append(_warning("answer_split", request, error))
            kept = list(salvaged)
            for half in halves:
                kept += await _one(call, half, listing, ask, classify, outcome)
            return kept
        outcome.failures.append(error)
        call.warnings.append(_warning("ask_failed", request, error))
        return salvaged
    outcome.succeeded += 1
    return kept


def _has_records(answers: list[ArticleExtraction]) -> bool:
    return any(answer.events or answer.claims for answer in answers)


def _warning(code: str, ask: Ask, error: errors.ExtractionError) -> ResultWarning:
    what = {None: "every record type", "sweep": "claims"}.get(ask.task, ask.task)
    where = _where(ask)
    messages = {
        "answer_split": f"the answer for {what} in {where} was cut off at the output limit; "
        "asked again in two halves",
        "ask_failed": f"no usable answer for {what} in {where} ({error.detail}); records "
        "grounded by earlier answers were kept",
    }
    return ResultWarning(code=code, message=messages[code])


def _where(ask: Ask) -> str:
    """The ask's text, as a warning names it."""
    number = ask.part.chunk.number
    if ask.task == "sweep":
        return f"sentence {number} the claim sweep asked about"
    return f"part {number}" if ask.part.count > 1 or ask.depth else "the article"


def _halves(ask: Ask) -> list[Ask]:
    """The ask's text cut in two at the sentence boundary nearest its middle, or nothing
    when it was halved often enough or has a single sentence."""
    if ask.depth >= MAX_SPLIT_DEPTH:
        return []
    chunk = ask.part.chunk
    ends = [end for _, end in sentence_spans(chunk.text)][:-1]
    if not ends:
        return []
    middle = min(ends, key=lambda end: abs(end - len(chunk.text) / 2))
    return [
        Ask(_sub_part(ask.part, 0, middle), ask.task, ask.depth + 1),
        Ask(_sub_part(ask.part, middle, len(chunk.text)), ask.task, ask.depth + 1),
    ]


def _sub_part(part: Part, start: int, end: int) -> Part:
    chunk = part.chunk
    piece = Chunk(chunk.number, chunk.start + start, chunk.start + end, chunk.text[start:end])
    return Part(piece, max(part.count, 2), part.offsets.slice(start, end))
