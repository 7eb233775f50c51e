"""The eventx error hierarchy.

Every error eventx raises on purpose derives from :class:`EventxError`::

    EventxError
    ├── ConfigurationError          bad or missing settings (no model endpoint, bad option)
    ├── InputError                  an article that cannot be read or is not valid
    ├── BatchApiError               a Batch API call (upload, create, poll, download) failed
    └── ExtractionError             the model could not produce a usable answer
        ├── TransientFaultError     429 / 5xx / timeouts / connection errors, retries exhausted
        ├── ApiError                a non-retryable API error (401, 400, 404 …)
        ├── InvalidOutputError      schema-invalid or malformed output, re-asks exhausted
        ├── UngroundedEvidenceError evidence not found in the article (policy "fail")
        ├── TruncatedOutputError    the answer was cut off (finish_reason=length)
        ├── RefusalError            the model refused to answer
        ├── ReplayError             no recorded response matches the request (replay mode)
        └── BudgetExceededError     the article's request or token budget would be crossed

Errors carry context: the article id, the failure category, the attempts made
and the usage spent so far, so a batch can record them and go on.
"""

from __future__ import annotations

from eventx.models import ErrorCategory, ErrorRecord, Usage


class EventxError(Exception):
    """Base class of every error eventx raises on purpose."""


class ConfigurationError(EventxError):
    """Settings are missing or invalid; nothing was sent to any model."""


class InputError(EventxError):
    """An article could not be read or is not a valid article."""

    def __init__(self, message: str, *, article_id: str | None = None) -> None:
        prefix = f"article {article_id!r}: " if article_id else ""
        super().__init__(prefix + message)
        self.article_id = article_id


class BatchApiError(EventxError):
    """A Batch API call (file upload, batch creation, polling, download) failed.

    Raised after transient faults have been retried; nothing is recorded as
    submitted or collected for the call that failed, so the command can be re-run.
    """


class ExtractionError(EventxError):
    """Extraction failed for one article after the allowed attempts."""

    category: ErrorCategory = ErrorCategory.INVALID_OUTPUT

    def __init__(
        self,
        message: str,
        *,
        article_id: str,
        attempts: int,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(f"article {article_id!r}: {message} (attempts: {attempts})")
        self.article_id = article_id
        self.attempts = attempts
        self.usage = usage or Usage()
        self.detail = message

    def to_record(self) -> ErrorRecord:
        """The error as it is written into an :class:`~eventx.ExtractionResult`."""
        return ErrorRecord(category=self.category, message=self.detail, attempts=self.attempts)


class TransientFaultError(ExtractionError):
    """Rate limits, server errors or network faults persisted through every retry."""

    category = ErrorCategory.TRANSIENT


class ApiError(ExtractionError):
    """The API rejected the request in a way retrying cannot fix (e.g. 401, 400)."""

    category = ErrorCategory.API


class InvalidOutputError(ExtractionError):
    """The model's answers stayed malformed or schema-invalid through every re-ask."""

    category = ErrorCategory.INVALID_OUTPUT


class UngroundedEvidenceError(ExtractionError):
    """Evidence could not be located in the article and the policy is ``fail``."""

    category = ErrorCategory.UNGROUNDED


class TruncatedOutputError(ExtractionError):
    """The model's answer was cut off at the output token limit."""

    category = ErrorCategory.TRUNCATED


class RefusalError(ExtractionError):
    """The model refused to answer."""

    category = ErrorCategory.REFUSED


class ReplayError(ExtractionError):
    """Replay mode found no recorded response for the request."""

    category = ErrorCategory.REPLAY


class BudgetExceededError(ExtractionError):
    """The next request would cross the article's request or token budget; not sent.

    ``budget`` names the budget (``"requests"`` or ``"tokens"``), ``limit`` its
    value and ``needed`` what sending the next request would have brought the
    article to. Neither retried nor re-asked: the budget is the article's last word.
    """

    category = ErrorCategory.BUDGET

    def __init__(
        self,
        message: str,
        *,
        budget: str,
        limit: int,
        needed: int,
        article_id: str,
        attempts: int,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message, article_id=article_id, attempts=attempts, usage=usage)
        self.budget = budget
        self.limit = limit
        self.needed = needed


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (at most ``limit`` characters), or its
    class name when the message is empty: for one-line error summaries."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
