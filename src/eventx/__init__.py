"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extraction.extractor("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
"""

from eventx._version import __version__
from eventx.analysis.evaluate import Evaluation, evaluate
from eventx.analysis.export import (
    ResultWriter,
    load_results,
    open_writer,
    read_results,
    result_rows,
    write_rows,
)
from eventx.analysis.fuse import fuse
from eventx.analysis.gold import GoldArticle, load_gold
from eventx.analysis.report import render_report
from eventx.batchapi.files import BatchLimits
from eventx.batchapi.jobs import BatchClient, batch_status, collect_batches, submit_batches
from eventx.batchapi.ledger import BatchInfo
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
from eventx.extraction.grounding import GroundingPolicy
from eventx.ingest.chunk import split_into_chunks
from eventx.ingest.clean import CleanedText, OffsetMap, clean
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
from eventx.normalize.countries import resolve_country
from eventx.normalize.dates import resolve_date
from eventx.normalize.records import normalize_extraction
from eventx.settings import Mode, Settings

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
