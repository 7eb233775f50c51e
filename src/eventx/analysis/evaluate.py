"""Evaluation: predicted records against hand-written gold annotations.

:func:`evaluate` (gold format: :mod:`eventx.analysis.gold`) pairs predicted records with
gold records article by article, one to one, maximizing the summed match score (an
optimal assignment, ``scipy.optimize.linear_sum_assignment``); a pair counts only
when the record types agree and the score reaches :data:`MATCH_THRESHOLD`.

Match scores (each 0-1):

* actors agree when their ISO3 countries are equal (case-insensitive), or when a
  name agrees: the predicted canonical name or name against the gold name and
  aliases, casefolded, ``rapidfuzz`` token-set ratio >= :data:`NAME_SIMILARITY`;
* a role holding one actor scores 1 when the actors agree (or both are absent); a
  role holding a list (participants) scores the F1 of a one-to-one actor pairing;
* dates agree when their ISO partial values are equal; a value that is a less
  precise form of the other (``--04-09`` or ``2025-04`` for ``2025-04-09``) scores half;
* items score the F1 of an item pairing (equal quantity, or similar description);
* claims score speaker agreement and content similarity: the better of text
  similarity (token-set ratio) and the overlap of predicted evidence with gold evidence.

The roles scored are the type's principal parties (``PARTIES``: participants; donor
and recipient; protester and target), always, and any other role the gold event
gives; the data only one type has is scored by :data:`TYPE_SCORES` (aid items). This
holds for every event type, a registered one included. An event's score is the mean
of its role scores (and of date, when gold gives one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from eventx.analysis.gold import (
    GoldActor,
    GoldArticle,
    GoldClaim,
    GoldEvent,
    GoldItem,
    GoldRole,
    body_span,
)
from eventx.errors import ConfigurationError
from eventx.ingest.load import load_article
from eventx.models import (
    Actor,
    AidDelivery,
    AidItem,
    Claim,
    DateRef,
    Event,
    EventBase,
    Evidence,
    ExtractionResult,
    MeetingEvent,
    Record,
    RoleValue,
)
from eventx.registry import event_types

MATCH_THRESHOLD = 0.5
"""Lowest match score at which a predicted record counts as finding a gold record."""

NAME_SIMILARITY = 85.0
"""Lowest token-set ratio (0-100) at which two actor names agree."""

TEXT_SIMILARITY = 60.0
"""Lowest token-set ratio at which a claim's content, or an item description, agrees."""

G = TypeVar("G", bound=BaseModel)
P = TypeVar("P", bound=BaseModel)


# ---------------------------------------------------------------------------
# Gold format
# ---------------------------------------------------------------------------
# Reading predictions
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------


def _fold(text: str | None) -> str:
    return (text or "").casefold().strip()


def actors_agree(gold: GoldActor | None, pred: Actor | None) -> bool:
    """True when ``pred`` is the gold actor: same ISO3 country, or an agreeing name."""
    if gold is None or pred is None:
        return gold is None and pred is None
    if gold.country and pred.country and _fold(gold.country) == _fold(pred.country):
        return True
    gold_names = [_fold(name) for name in [gold.name, *gold.aliases]]
    pred_names = [_fold(name) for name in (pred.canonical_name, pred.name) if name]
    return any(
        fuzz.token_set_ratio(g, p) >= NAME_SIMILARITY for g in gold_names for p in pred_names
    )


def _date_parts(value: str | None) -> tuple[str | None, str | None, str | None]:
    if not value:
        return (None, None, None)
    if value.startswith("--"):
        month_day = value[2:].split("-")
        return (None, month_day[0], month_day[1] if len(month_day) > 1 else None)
    parts = value.split("-")
    return (parts[0], *(parts[i] if len(parts) > i else None for i in (1, 2)))  # type: ignore[return-value]


def date_score(gold: str | None, pred: DateRef | None) -> float:
    """1 for equal ISO partial values, 0.5 when one is a less precise form of the other."""
    value = pred.value if pred is not None else None
    if _fold(gold) == _fold(value):
        return 1.0
    gold_parts, pred_parts = _date_parts(gold), _date_parts(value)
    known = [(g, p) for g, p in zip(gold_parts, pred_parts, strict=True) if g and p]
    return 0.5 if known and all(g == p for g, p in known) else 0.0


def pair_up(scores: list[list[float]], threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one pairs (row, column, score) maximizing the summed score, above threshold."""
    if not scores or not scores[0]:
        return []
    rows, cols = _assignment()(scores, maximize=True)
    return [
        (int(r), int(c), scores[r][c])
        for r, c in zip(rows, cols, strict=True)
        if scores[r][c] >= threshold
    ]


def _assignment() -> Callable[..., Any]:
    """scipy's optimal assignment, from the ``eval`` extra."""
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        raise ConfigurationError(
            'evaluation needs scipy, which is not installed: pip install "eventx[eval]"'
        ) from None
    return cast(Callable[..., Any], linear_sum_assignment)


def _matrix(
    gold: Sequence[G], pred: Sequence[P], score: Callable[[G, P], float]
) -> list[list[float]]:
    return [[score(g, p) for p in pred] for g in gold]


def _set_f1(gold: Sequence[G], pred: Sequence[P], score: Callable[[G, P], float]) -> float:
    if not gold and not pred:
        return 1.0
    matched = len(pair_up(_matrix(gold, pred, score), 1.0))
    return 2 * matched / (len(gold) + len(pred))


def _actor_score(gold: GoldActor, pred: Actor) -> float:
    return 1.0 if actors_agree(gold, pred) else 0.0


def _item_score(gold: GoldItem, pred: AidItem) -> float:
    if gold.quantity is not None and pred.quantity is not None:
        return 1.0 if gold.quantity == pred.quantity else 0.0
    similar = fuzz.token_set_ratio(_fold(gold.description), _fold(pred.description))
    return 1.0 if similar >= TEXT_SIMILARITY else 0.0


def participants_score(gold: GoldEvent, pred: MeetingEvent) -> float:
    """F1 of a one-to-one pairing of gold and predicted participants."""
    return _set_f1(gold.participants, pred.participants, _actor_score)


def items_score(gold: GoldEvent, pred: AidDelivery) -> float:
    """F1 of a one-to-one pairing of gold and predicted aid items."""
    return _set_f1(gold.items, pred.items, _item_score)


def role_score(gold: GoldRole | None, pred: RoleValue | None) -> float:
    """Agreement (0-1) of one role: the actors agree, or, when either side is a list,
    the F1 of a one-to-one pairing of the actors."""
    if isinstance(gold, list) or isinstance(pred, list):
        return _set_f1(_as_list(gold), _as_list(pred), _actor_score)
    return float(actors_agree(gold, pred))


def _as_list(value: GoldRole | RoleValue | None) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _scored_roles(gold: GoldEvent, pred: EventBase) -> list[str]:
    """The principal parties, then every other role the gold event gives."""
    return [r for r in pred.ROLES if r in pred.PARTIES or gold.role(r) is not None]


def _role_scores(gold: GoldEvent, pred: EventBase) -> dict[str, float]:
    """Per-field agreement (0-1) of a predicted event with a gold event of the same type."""
    fields = {
        name: role_score(gold.role(name), getattr(pred, name)) for name in _scored_roles(gold, pred)
    }
    for name, score in TYPE_SCORES.get(pred.TYPE, {}).items():
        fields[name] = score(gold, pred)
    return fields


TYPE_SCORES: dict[str, dict[str, Callable[[GoldEvent, Any], float]]] = {
    "aid_delivery": {"items": items_score},
}
"""Scores of the data only one event type has, by type and field, after its roles."""


def quantities_agree(gold: GoldEvent, pred: AidDelivery) -> bool:
    """True when the stated item quantities of both are the same (as multisets)."""
    gold_quantities = Counter(i.quantity for i in gold.items if i.quantity is not None)
    pred_quantities = Counter(i.quantity for i in pred.items if i.quantity is not None)
    return gold_quantities == pred_quantities


TYPE_CHECKS: dict[str, dict[str, Callable[[GoldEvent, Any], bool]]] = {
    "aid_delivery": {"quantities": quantities_agree},
}
"""Field checks of matched events that count in the field table but not in the match
score, by type and field."""


def event_score(gold: GoldEvent, pred: EventBase) -> float:
    """How well ``pred`` matches ``gold`` (0-1); 0 when the types differ."""
    if gold.type != pred.TYPE:
        return 0.0
    scores = list(_role_scores(gold, pred).values())
    if gold.date is not None:
        scores.append(date_score(gold.date, pred.date))
    return sum(scores) / len(scores)


def _spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for quote in quotes:
        start = text.find(quote)
        if start >= 0:
            spans.append((start, start + len(quote)))
    return spans


def _located(evidence: Iterable[Evidence]) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in evidence if e.start is not None and e.end is not None]


def _overlap(gold_spans: list[tuple[int, int]], pred_spans: list[tuple[int, int]]) -> float:
    """Share of the gold evidence characters covered by predicted evidence."""
    total = sum(end - start for start, end in gold_spans)
    if not total:
        return 0.0
    covered = {i for start, end in pred_spans for i in range(start, end)}
    return sum(1 for start, end in gold_spans for i in range(start, end) if i in covered) / total


def content_score(gold: GoldClaim, pred: Claim, text: str | None) -> float:
    """The better of English text similarity and evidence overlap with gold (0-1)."""
    similar = fuzz.token_set_ratio(_fold(gold.content), _fold(pred.text)) / 100
    if text is None or not gold.evidence:
        return similar
    return max(similar, _overlap(_spans(text, gold.evidence), _located(pred.evidence)))


def claim_score(gold: GoldClaim, pred: Claim, text: str | None) -> float:
    """Speaker agreement and content similarity, averaged; 0 when the content disagrees."""
    content = content_score(gold, pred, text)
    if content * 100 < TEXT_SIMILARITY:
        return 0.0
    return (float(actors_agree(gold.speaker, pred.speaker)) + content) / 2


# ---------------------------------------------------------------------------
# Tallies
# ---------------------------------------------------------------------------


class Tally(BaseModel):
    """Gold, predicted and matched record counts of one kind, with P/R/F1."""

    gold: int = 0
    predicted: int = 0
    matched: int = 0

    @property
    def precision(self) -> float:
        """Matched over predicted (1.0 when nothing was predicted)."""
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Matched over gold (1.0 when gold has none)."""
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.gold + self.predicted
        return 2 * self.matched / total if total else 1.0


class FieldTally(BaseModel):
    """How often a field of matched records agrees with gold."""

    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        """Correct over total (1.0 when nothing was compared)."""
        return self.correct / self.total if self.total else 1.0


class Mismatch(BaseModel):
    """A gold record nothing matched, or a predicted record matching no gold."""

    article_id: str
    kind: str
    side: Literal["missed", "spurious"]
    record: str = Field(description="Record id (predicted) or index (gold), and a summary.")


class Evaluation(BaseModel):
    """Everything :func:`evaluate` measures."""

    articles: int = 0
    failed: list[str] = Field(default_factory=list, description="Gold articles that failed.")
    missing: list[str] = Field(default_factory=list, description="Gold articles not predicted.")
    without_text: list[str] = Field(
        default_factory=list, description="Gold articles whose text was not available."
    )
    tallies: dict[str, Tally] = Field(
        default_factory=lambda: {kind: Tally() for kind in (*event_types(), "claim")},
        description="Per record type: every known event type, then claim.",
    )
    fields: dict[str, FieldTally] = Field(default_factory=dict)
    evidence: int = Field(default=0, description="Predicted evidence quotes.")
    located: int = Field(default=0, description="Evidence quotes with offsets in the text.")
    records: int = Field(default=0, description="Predicted records with located evidence.")
    junk: int = Field(default=0, description="Records whose evidence is all outside the body.")
    mismatches: list[Mismatch] = Field(default_factory=list)

    @property
    def events(self) -> Tally:
        """All event types together (micro-averaged)."""
        parts = [tally for kind, tally in self.tallies.items() if kind != "claim"]
        return Tally(
            gold=sum(t.gold for t in parts),
            predicted=sum(t.predicted for t in parts),
            matched=sum(t.matched for t in parts),
        )

    @property
    def overall(self) -> Tally:
        """Events and claims together (micro-averaged)."""
        return Tally(
            gold=sum(t.gold for t in self.tallies.values()),
            predicted=sum(t.predicted for t in self.tallies.values()),
            matched=sum(t.matched for t in self.tallies.values()),
        )

    @property
    def grounding_rate(self) -> float:
        """Share of predicted evidence quotes located in the article text."""
        return self.located / self.evidence if self.evidence else 1.0

    @property
    def junk_rate(self) -> float:
        """Share of records (with located evidence) whose evidence lies outside the body."""
        return self.junk / self.records if self.records else 0.0

    def field(self, name: str) -> FieldTally:
        """The tally of one field, created on first use."""
        return self.fields.setdefault(name, FieldTally())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: counts and every rate."""
        return {
            "articles": self.articles,
            "failed": self.failed,
            "missing": self.missing,
            "without_text": self.without_text,
            "records": {
                kind: _tally_json(tally)
                for kind, tally in {
                    **self.tallies,
                    "events": self.events,
                    "overall": self.overall,
                }.items()
            },
            "fields": {
                name: {**tally.model_dump(), "accuracy": round(tally.accuracy, 4)}
                for name, tally in sorted(self.fields.items())
            },
            "grounding": {
                "evidence": self.evidence,
                "located": self.located,
                "rate": round(self.grounding_rate, 4),
            },
            "junk": {"records": self.records, "junk": self.junk, "rate": round(self.junk_rate, 4)},
            "mismatches": [m.model_dump() for m in self.mismatches],
        }


def _tally_json(tally: Tally) -> dict[str, Any]:
    rates = {"precision": tally.precision, "recall": tally.recall, "f1": tally.f1}
    return {**tally.model_dump(), **{k: round(v, 4) for k, v in rates.items()}}


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


def evaluate(
    gold: Sequence[GoldArticle],
    predictions: Iterable[ExtractionResult],
    texts: dict[str, str] | None = None,
) -> Evaluation:
    """Score ``predictions`` against ``gold``, article by article.

    ``texts`` maps article ids to their original text; articles not in it are read
    from the gold entry's ``source``. The text locates the body and gold evidence.
    Predictions for articles gold does not cover are ignored.
    """
    by_id = {result.article_id: result for result in predictions}
    evaluation = Evaluation(articles=len(gold))
    for article in gold:
        result = by_id.get(article.id)
        if result is None:
            evaluation.missing.append(article.id)
        elif result.error is not None:
            evaluation.failed.append(article.id)
        text = (texts or {}).get(article.id) or _source_text(article)
        if text is None:
            evaluation.without_text.append(article.id)
        _score_article(evaluation, article, result, text)
    return evaluation


def _source_text(article: GoldArticle) -> str | None:
    return load_article(article.source).text if article.source else None


def _score_article(
    evaluation: Evaluation,
    article: GoldArticle,
    result: ExtractionResult | None,
    text: str | None,
) -> None:
    extraction = result.extraction if result is not None else None
    events = list(extraction.events) if extraction else []
    claims = list(extraction.claims) if extraction else []
    for kind in event_types():
        gold_events = [e for e in article.events if e.type == kind]
        pred_events = [e for e in events if e.type == kind]
        pairs = _match(evaluation, article.id, kind, gold_events, pred_events, event_score)
        for gold_event, pred_event in pairs:
            _count_event_fields(evaluation, gold_event, pred_event)
    claim_pairs = _match(
        evaluation,
        article.id,
        "claim",
        article.claims,
        claims,
        lambda g, p: claim_score(g, p, text),
    )
    for gold_claim, pred_claim in claim_pairs:
        _count_claim_fields(evaluation, gold_claim, pred_claim, text)
    _count_evidence(evaluation, article, [*events, *claims], text)


def _match(
    evaluation: Evaluation,
    article_id: str,
    kind: str,
    gold: Sequence[G],
    pred: Sequence[P],
    score: Callable[[G, P], float],
) -> list[tuple[G, P]]:
    pairs = pair_up(_matrix(gold, pred, score), MATCH_THRESHOLD)
    tally = evaluation.tallies.setdefault(kind, Tally())
    tally.gold += len(gold)
    tally.predicted += len(pred)
    tally.matched += len(pairs)
    matched_gold = {g for g, _, _ in pairs}
    matched_pred = {p for _, p, _ in pairs}
    unmatched = [
        *(("missed", i, r) for i, r in enumerate(gold) if i not in matched_gold),
        *(("spurious", i, r) for i, r in enumerate(pred) if i not in matched_pred),
    ]
    evaluation.mismatches.extend(
        Mismatch(article_id=article_id, kind=kind, side=side, record=_describe(i, r))
        for side, i, r in unmatched
    )
    return [(gold[g], pred[p]) for g, p, _ in pairs]


def _describe(index: int, record: BaseModel) -> str:
    """One line naming a record: predicted by id and summary, gold by position and actors."""
    if isinstance(record, Claim):
        return f"{record.id}: {record.text}"
    if isinstance(record, EventBase):
        return f"{record.id}: {record.summary}"
    if isinstance(record, GoldClaim):
        return f"gold #{index + 1}: {record.speaker.name}: {record.content}"
    if isinstance(record, GoldEvent):
        actors = [actor.name for actor in record.actors()]
        return f"gold #{index + 1}: {record.type} ({', '.join(actors)})"
    return f"#{index + 1}"


def _count_event_fields(evaluation: Evaluation, gold: GoldEvent, pred: Event) -> None:
    for name, score in _role_scores(gold, pred).items():
        _count(evaluation, f"{gold.type}.{name}", score == 1.0)
    for name, check in TYPE_CHECKS.get(pred.type, {}).items():
        _count(evaluation, f"{gold.type}.{name}", check(gold, pred))
    _count(evaluation, "event.date", date_score(gold.date, pred.date) == 1.0)
    if gold.status is not None:
        _count(evaluation, "event.status", _fold(gold.status) == _fold(pred.status.value))


def _count_claim_fields(
    evaluation: Evaluation, gold: GoldClaim, pred: Claim, text: str | None
) -> None:
    _count(evaluation, "claim.speaker", actors_agree(gold.speaker, pred.speaker))
    similar = fuzz.token_set_ratio(_fold(gold.content), _fold(pred.text))
    _count(evaluation, "claim.content", similar >= TEXT_SIMILARITY)
    if text is not None and gold.evidence:
        overlap = _overlap(_spans(text, gold.evidence), _located(pred.evidence))
        _count(evaluation, "claim.evidence", overlap >= 0.5)


def _count(evaluation: Evaluation, name: str, correct: bool) -> None:
    tally = evaluation.field(name)
    tally.total += 1
    tally.correct += int(correct)


def _count_evidence(
    evaluation: Evaluation,
    article: GoldArticle,
    records: Sequence[Record],
    text: str | None,
) -> None:
    body = body_span(article, text) if text is not None else None
    for record in records:
        evidence = record.all_evidence()
        located = _located(evidence)
        evaluation.evidence += len(evidence)
        evaluation.located += len(located)
        if not located or body is None:
            continue
        evaluation.records += 1
        if all(end <= body[0] or start >= body[1] for start, end in located):
            evaluation.junk += 1


def format_evaluation(evaluation: Evaluation) -> str:
    """The evaluation as a plain-text table for the terminal."""
    kinds = {**evaluation.tallies, "events": evaluation.events, "overall": evaluation.overall}
    lines = [
        f"{'records':<20}{'gold':>6}{'pred':>6}{'match':>6}{'P':>8}{'R':>8}{'F1':>8}",
        *(
            f"{kind:<20}{t.gold:>6}{t.predicted:>6}{t.matched:>6}"
            f"{t.precision:>8.3f}{t.recall:>8.3f}{t.f1:>8.3f}"
            for kind, t in kinds.items()
        ),
        "",
        f"{'field (matched)':<28}{'correct':>8}{'total':>6}{'acc':>8}",
        *(
            f"{name:<28}{t.correct:>8}{t.total:>6}{t.accuracy:>8.3f}"
            for name, t in sorted(evaluation.fields.items())
        ),
        "",
        f"grounding rate: {evaluation.grounding_rate:.3f} "
        f"({evaluation.located}/{evaluation.evidence} evidence quotes located)",
        f"junk rate:      {evaluation.junk_rate:.3f} "
        f"({evaluation.junk}/{evaluation.records} records with evidence outside the body)",
        f"articles:       {evaluation.articles} in gold, {len(evaluation.failed)} failed, "
        f"{len(evaluation.missing)} not predicted",
    ]
    if evaluation.mismatches:
        lines += ["", "missed (in gold, not predicted) and spurious (predicted, not in gold):"]
        lines += [
            f"  {m.side:<9}{m.kind:<20}{m.article_id}  {_shorten(m.record)}"
            for m in evaluation.mismatches
        ]
    if evaluation.without_text:
        lines.append(
            f"no text:        {', '.join(evaluation.without_text)} (junk and evidence overlap "
            "not measured; give the articles with --articles or a gold `source`)"
        )
    return "\n".join(lines)


def _shorten(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
