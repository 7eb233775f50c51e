"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extract("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
>>> eventx.run(["articles/"], "events.jsonl")  # doctest: +SKIP

The public API is what this module exports (``__all__``); the subpackages
(``eventx.ingest``, ``eventx.extraction``, ``eventx.normalize``, ``eventx.runs``,
``eventx.batchapi``, ``eventx.analysis``, ``eventx.cli``) show the pipeline and are
internal. Names are imported on first use, so ``import eventx`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eventx._version import __version__

if TYPE_CHECKING:
    from eventx.analysis.evaluate import Evaluation, evaluate, format_evaluation
    from eventx.analysis.export import load_results, open_writer, read_results
    from eventx.analysis.fuse import fuse
    from eventx.analysis.gold import GoldArticle, load_gold
    from eventx.analysis.report import read_texts, render_report, source_texts
    from eventx.batchapi.api import (
        BatchInfo,
        CollectReport,
        SubmitReport,
        batch_collect,
        batch_status,
        batch_submit,
    )
    from eventx.contract import stale_schemas, write_schemas
    from eventx.errors import (
        ApiError,
        BatchApiError,
        BudgetExceededError,
        ConfigurationError,
        EventxError,
        ExtractionError,
        InputError,
        InvalidOutputError,
        RefusalError,
        ReplayError,
        TransientFaultError,
        TruncatedOutputError,
        UngroundedEvidenceError,
    )
    from eventx.extraction.extractor import Extractor, extract
    from eventx.ingest.language import detect_language
    from eventx.ingest.load import iter_articles, load_article
    from eventx.models import (
        SCHEMA_VERSION,
        Actor,
        AidDelivery,
        AidItem,
        Article,
        ArticleBudget,
        ArticleExtraction,
        Claim,
        Cleaning,
        DateRef,
        DateRule,
        DiplomaticProtest,
        ErrorCategory,
        ErrorRecord,
        Event,
        EventBase,
        EventStatus,
        Evidence,
        ExtractionResult,
        FusedEvent,
        FusedSource,
        LanguageSource,
        MeetingEvent,
        Place,
        Plover,
        ResultWarning,
        Usage,
    )
    from eventx.normalize.countries import resolve_country
    from eventx.normalize.dates import resolve_date
    from eventx.normalize.records import normalize_extraction
    from eventx.registry import event_types, register_event_type, unregister_event_type
    from eventx.runs.run import RunInterrupted, estimate, run
    from eventx.runs.summary import RunEstimate, RunSummary
    from eventx.servers import Mode
    from eventx.settings import GroundingPolicy, Settings

_EXPORTS: dict[str, tuple[str, str]] = {
    **{
        name: ("eventx.models", name)
        for name in [
            "SCHEMA_VERSION",
            "Actor",
            "AidDelivery",
            "AidItem",
            "Article",
            "ArticleBudget",
            "ArticleExtraction",
            "Claim",
            "Cleaning",
            "DateRef",
            "DateRule",
            "DiplomaticProtest",
            "ErrorCategory",
            "ErrorRecord",
            "Event",
            "EventBase",
            "EventStatus",
            "Evidence",
            "ExtractionResult",
            "FusedEvent",
            "FusedSource",
            "LanguageSource",
            "MeetingEvent",
            "Place",
            "Plover",
            "ResultWarning",
            "Usage",
        ]
    },
    **{
        name: ("eventx.errors", name)
        for name in [
            "ApiError",
            "BatchApiError",
            "BudgetExceededError",
            "ConfigurationError",
            "EventxError",
            "ExtractionError",
            "InputError",
            "InvalidOutputError",
            "RefusalError",
            "ReplayError",
            "TransientFaultError",
            "TruncatedOutputError",
            "UngroundedEvidenceError",
        ]
    },
    **{name: ("eventx.settings", name) for name in ("GroundingPolicy", "Settings")},
    "Mode": ("eventx.servers", "Mode"),
    **{name: ("eventx.runs.run", name) for name in ("RunInterrupted", "estimate", "run")},
    **{name: ("eventx.runs.summary", name) for name in ("RunEstimate", "RunSummary")},
    **{
        name: ("eventx.batchapi.api", name)
        for name in (
            "BatchInfo",
            "CollectReport",
            "SubmitReport",
            "batch_collect",
            "batch_status",
            "batch_submit",
        )
    },
    **{
        name: ("eventx.registry", name)
        for name in ("event_types", "register_event_type", "unregister_event_type")
    },
    "Extractor": ("eventx.extraction.extractor", "Extractor"),
    "extract": ("eventx.extraction.extractor", "extract"),
    "iter_articles": ("eventx.ingest.load", "iter_articles"),
    "load_article": ("eventx.ingest.load", "load_article"),
    "detect_language": ("eventx.ingest.language", "detect_language"),
    "resolve_country": ("eventx.normalize.countries", "resolve_country"),
    "resolve_date": ("eventx.normalize.dates", "resolve_date"),
    "normalize_extraction": ("eventx.normalize.records", "normalize_extraction"),
    "Evaluation": ("eventx.analysis.evaluate", "Evaluation"),
    "evaluate": ("eventx.analysis.evaluate", "evaluate"),
    "format_evaluation": ("eventx.analysis.evaluate", "format_evaluation"),
    "load_results": ("eventx.analysis.export", "load_results"),
    "open_writer": ("eventx.analysis.export", "open_writer"),
    "read_results": ("eventx.analysis.export", "read_results"),
    "fuse": ("eventx.analysis.fuse", "fuse"),
    "GoldArticle": ("eventx.analysis.gold", "GoldArticle"),
    "load_gold": ("eventx.analysis.gold", "load_gold"),
    "read_texts": ("eventx.analysis.report", "read_texts"),
    "render_report": ("eventx.analysis.report", "render_report"),
    "source_texts": ("eventx.analysis.report", "source_texts"),
    "stale_schemas": ("eventx.contract", "stale_schemas"),
    "write_schemas": ("eventx.contract", "write_schemas"),
}
"""Each public name and where it lives: (module, attribute)."""

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "AidDelivery",
    "AidItem",
    "ApiError",
    "Article",
    "ArticleBudget",
    "ArticleExtraction",
    "BatchApiError",
    "BatchInfo",
    "BudgetExceededError",
    "Claim",
    "Cleaning",
    "CollectReport",
    "ConfigurationError",
    "DateRef",
    "DateRule",
    "DiplomaticProtest",
    "ErrorCategory",
    "ErrorRecord",
    "Evaluation",
    "Event",
    "EventBase",
    "EventStatus",
    "EventxError",
    "Evidence",
    "ExtractionError",
    "ExtractionResult",
    "Extractor",
    "FusedEvent",
    "FusedSource",
    "GoldArticle",
    "GroundingPolicy",
    "InputError",
    "InvalidOutputError",
    "LanguageSource",
    "MeetingEvent",
    "Mode",
    "Place",
    "Plover",
    "RefusalError",
    "ReplayError",
    "ResultWarning",
    "RunEstimate",
    "RunInterrupted",
    "RunSummary",
    "Settings",
    "SubmitReport",
    "TransientFaultError",
    "TruncatedOutputError",
    "UngroundedEvidenceError",
    "Usage",
    "__version__",
    "batch_collect",
    "batch_status",
    "batch_submit",
    "detect_language",
    "estimate",
    "evaluate",
    "event_types",
    "extract",
    "format_evaluation",
    "fuse",
    "iter_articles",
    "load_article",
    "load_gold",
    "load_results",
    "normalize_extraction",
    "open_writer",
    "read_results",
    "read_texts",
    "register_event_type",
    "render_report",
    "resolve_country",
    "resolve_date",
    "run",
    "source_texts",
    "stale_schemas",
    "unregister_event_type",
    "write_schemas",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'eventx' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
