"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extract("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
"""

from eventx._version import __version__
from eventx.config import Mode, Settings
from eventx.countries import resolve_country
from eventx.dates import resolve_date
from eventx.errors import (
    ApiError,
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
from eventx.fuse import fuse, read_results
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
    DateRule,
    DiplomaticProtest,
    ErrorRecord,
    Event,
    Evidence,
    ExtractionResult,
    FusedEvent,
    FusedSource,
    MeetingEvent,
    Place,
    ResultWarning,
    Usage,
)
from eventx.normalize import normalize_extraction

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "AidDelivery",
    "AidItem",
    "ApiError",
    "Article",
    "ArticleExtraction",
    "Claim",
    "ConfigurationError",
    "DateRef",
    "DateRule",
    "DiplomaticProtest",
    "ErrorRecord",
    "Event",
    "EventxError",
    "Evidence",
    "ExtractionError",
    "ExtractionResult",
    "Extractor",
    "FusedEvent",
    "FusedSource",
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
    "extract",
    "fuse",
    "iter_articles",
    "load_article",
    "normalize_extraction",
    "read_results",
    "resolve_country",
    "resolve_date",
]
