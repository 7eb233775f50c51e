"""eventx: typed, grounded records of political events and attributed claims from news.

>>> import eventx
>>> result = eventx.extract("...article text...", model="gpt-4.1-mini")  # doctest: +SKIP
>>> result.extraction.events  # doctest: +SKIP
"""

from eventx._version import __version__
from eventx.config import Mode, Settings
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
from eventx.export import ResultWriter, open_writer, read_results, result_rows, write_rows
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
    "ResultWriter",
    "Settings",
    "TransientFaultError",
    "TruncatedOutputError",
    "UngroundedEvidenceError",
    "Usage",
    "__version__",
    "extract",
    "iter_articles",
    "load_article",
    "open_writer",
    "read_results",
    "result_rows",
    "write_rows",
]
