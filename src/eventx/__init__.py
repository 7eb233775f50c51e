"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extract("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
"""

from eventx._version import __version__
from eventx.batchapi import BatchClient, batch_status, collect_batches, submit_batches
from eventx.batchfiles import BatchLimits
from eventx.batchstore import BatchInfo
from eventx.chunk import split_into_chunks
from eventx.clean import CleanedText, OffsetMap, clean
from eventx.config import Mode, Settings
from eventx.countries import resolve_country
from eventx.dates import resolve_date
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
from eventx.evaluate import Evaluation, evaluate
from eventx.export import (
    ResultWriter,
    load_results,
    open_writer,
    read_results,
    result_rows,
    write_rows,
)
from eventx.extract import Extractor, extract
from eventx.fuse import fuse
from eventx.gold import GoldArticle, load_gold
from eventx.ground import GroundingPolicy
from eventx.language import detect_language
from eventx.load import iter_articles, load_article
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
    ErrorRecord,
    Event,
    Evidence,
    ExtractionResult,
    FusedEvent,
    FusedSource,
    LanguageSource,
    MeetingEvent,
    Place,
    ResultWarning,
    Usage,
)
from eventx.normalize import normalize_extraction
from eventx.report import render_report

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
    "BatchClient",
    "BatchInfo",
    "BatchLimits",
    "BudgetExceededError",
    "Claim",
    "CleanedText",
    "Cleaning",
    "ConfigurationError",
    "DateRef",
    "DateRule",
    "DiplomaticProtest",
    "ErrorRecord",
    "Evaluation",
    "Event",
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
    "OffsetMap",
    "Place",
    "RefusalError",
    "ReplayError",
    "ResultWarning",
    "ResultWriter",
    "Settings",
    "TransientFaultError",
    "TruncatedOutputError",
    "UngroundedEvidenceError",
    "Usage",
    "__version__",
    "batch_status",
    "clean",
    "collect_batches",
    "detect_language",
    "evaluate",
    "extract",
    "fuse",
    "iter_articles",
    "load_article",
    "load_gold",
    "load_results",
    "normalize_extraction",
    "open_writer",
    "read_results",
    "render_report",
    "resolve_country",
    "resolve_date",
    "result_rows",
    "split_into_chunks",
    "submit_batches",
    "write_rows",
]
