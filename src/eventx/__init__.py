"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extract("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
"""

from eventx._version import __version__
from eventx.batchapi import BatchClient, batch_status, collect_batches, submit_batches
from eventx.batchfiles import BatchLimits
from eventx.batchstore import BatchInfo
from eventx.config import Mode, Settings
from eventx.errors import (
    ApiError,
    BatchApiError,
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
from eventx.extract import Extractor, extract
from eventx.ground import GroundingPolicy
from eventx.load import iter_articles, load_article
from eventx.models import (
    SCHEMA_VERSION,
    Actor,
    AidDelivery,
    AidItem,
    Article,
    ArticleExtraction,
    Claim,
    DateRef,
    DiplomaticProtest,
    ErrorRecord,
    Event,
    Evidence,
    ExtractionResult,
    MeetingEvent,
    Place,
    ResultWarning,
    Usage,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "AidDelivery",
    "AidItem",
    "ApiError",
    "Article",
    "ArticleExtraction",
    "BatchApiError",
    "BatchClient",
    "BatchInfo",
    "BatchLimits",
    "Claim",
    "ConfigurationError",
    "DateRef",
    "DiplomaticProtest",
    "ErrorRecord",
    "Event",
    "EventxError",
    "Evidence",
    "ExtractionError",
    "ExtractionResult",
    "Extractor",
    "GroundingPolicy",
    "InputError",
    "InvalidOutputError",
    "MeetingEvent",
    "Mode",
    "Place",
    "RefusalError",
    "ReplayError",
    "ResultWarning",
    "Settings",
    "TransientFaultError",
    "TruncatedOutputError",
    "UngroundedEvidenceError",
    "Usage",
    "__version__",
    "batch_status",
    "collect_batches",
    "extract",
    "iter_articles",
    "load_article",
    "submit_batches",
]
