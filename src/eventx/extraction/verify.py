"""A yes/no check of each event against its own evidence, asked of the model (``verify``).

Small models mislabel: a worried statement becomes a diplomatic protest, a meeting an
aid delivery. Asked one narrow question about one passage ("does this passage say that
Japan formally protested to Russia: summoned an ambassador, sent a note …?"), the same
model answers far better than while writing a whole extraction. Each event with located
evidence is asked once; an event the model says the passage does not state is dropped
with the warning ``not_confirmed_dropped``. A check that gets no usable answer keeps the
event and says so (``check_failed``). Claims and registered event types are not checked.

The questions are short and share one fixed system message, so a server's prefix cache
serves it from the second check on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field

from eventx.models import Actor, ArticleExtraction, ResultWarning

CHECK_INSTRUCTIONS = """\
You check records extracted from news articles. You get a passage of an article and one \
question about it. Answer true only when the passage itself states what the question \
asks. Answer false when it states something else (an opinion, a worry, a report of \
another kind of event) or does not say it. Answer with one JSON object: {"holds": true} \
or {"holds": false}.
"""

QUESTIONS = {
    "meeting": "Does the passage say that {participants} met, held talks, visited one another "
    "or spoke by phone (held or planned)?",
    "aid_delivery": "Does the passage say that {donor} gives, delivers or pledges aid (weapons, "
    "money, goods or equipment) to {recipient}?",
    "diplomatic_protest": "Does the passage say that {protester} formally protested to "
    "{target}: summoned an ambassador or diplomat, sent a protest note or a demarche, or "
    "expelled or recalled a diplomat?",
}
"""The question for each event type, its roles filled in by name."""


class Verdict(BaseModel):
    """The model's answer to one check."""

    holds: bool = Field(description="True when the passage states what the question asks.")


CheckFn = Callable[[list[dict[str, str]]], Awaitable[bool]]
"""Sends one check's messages and returns the model's verdict."""


def check_digest() -> str:
    """Everything fixed in the checks' prompts, for the prompt hash."""
    return CHECK_INSTRUCTIONS + json.dumps(QUESTIONS, sort_keys=True)


def check_messages(record: Any, text: str) -> list[dict[str, str]] | None:
    """The messages that ask whether ``record``'s evidence states it; None for a record
    that is not checked (a claim, a registered type, no located evidence)."""
    question = QUESTIONS.get(record.TYPE)
    passage = " … ".join(
        text[item.start : item.end]
        for item in record.evidence
        if item.start is not None and item.end is not None
    )
    if question is None or not passage:
        return None
    names = {role: _names(value) for role, value in record.roles().items()}
    filled = question.format_map(_Missing(names))
    return [
        {"role": "system", "content": CHECK_INSTRUCTIONS},
        {"role": "user", "content": f"Passage: «{passage}»\n\nQuestion: {filled}"},
    ]


async def verify_events(
    extraction: ArticleExtraction, text: str, check: CheckFn
) -> list[ResultWarning]:
    """Ask ``check`` about every event of ``extraction``; drop those it does not confirm.

    Returns the warnings: one per event dropped, and one per check that failed (the
    event is then kept).
    """
    warnings: list[ResultWarning] = []
    kept = []
    for event in extraction.events:
        messages = check_messages(event, text)
        if messages is None:
            kept.append(event)
            continue
        try:
            holds = await check(messages)
        except Exception as error:
            kept.append(event)
            warnings.append(_warning("check_failed", event.id, f"kept unchecked: {error}"))
            continue
        if holds:
            kept.append(event)
        else:
            message = f"dropped the record: the model did not confirm its {event.TYPE}"
            warnings.append(_warning("not_confirmed_dropped", event.id, message))
    extraction.events = kept
    return warnings


def _names(value: Actor | list[Actor]) -> str:
    actors = value if isinstance(value, list) else [value]
    return " and ".join(actor.canonical_name or actor.name for actor in actors)


def _warning(code: str, record_id: str, message: str) -> ResultWarning:
    return ResultWarning(code=code, message=message, record_id=record_id)


class _Missing(dict[str, str]):
    """Format values; a role the record leaves empty reads as "someone"."""

    def __missing__(self, key: str) -> str:
        return "someone"
