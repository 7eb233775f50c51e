"""What ended an article's attempts, as an eventx error: transient or not, and why."""

from __future__ import annotations

import json

import openai
from pydantic import ValidationError

from eventx import errors
from eventx.errors import first_line
from eventx.extraction.replay import is_replay_miss
from eventx.extraction.retry import is_transient_status

SOFT_FAILURES: tuple[type[errors.ExtractionError], ...] = (
    errors.InvalidOutputError,
    errors.TruncatedOutputError,
)
"""Failures of one ask that leave the article's other asks standing: the model could not
answer this part well, but the article may still have records from its other parts."""


def is_transient(exception: BaseException) -> bool:
    """True for a fault worth retrying: a connection error, a timeout, 408/409/429/5xx."""
    if is_replay_miss(exception):
        return False
    if isinstance(exception, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exception, openai.APIStatusError):
        return is_transient_status(exception.status_code)
    return False


def failure_kind(cause: BaseException) -> tuple[type[errors.ExtractionError], str]:
    """Map the exception that ended the attempts to an eventx error class and message."""
    if is_replay_miss(cause):
        return errors.ReplayError, (
            "no recorded response matches this request; the prompt, model or article "
            "changed since the cassette was recorded (re-record it with --record)"
        )
    if isinstance(cause, openai.APIStatusError | openai.APIConnectionError):
        kind = errors.TransientFaultError if is_transient(cause) else errors.ApiError
        return kind, describe_api_error(cause)
    if isinstance(cause, ValidationError):
        return errors.InvalidOutputError, f"the answer stayed invalid: {validation_summary(cause)}"
    if isinstance(cause, json.JSONDecodeError):
        return errors.InvalidOutputError, f"the answer stayed invalid: {first_line(cause)}"
    return errors.InvalidOutputError, f"{type(cause).__name__}: {first_line(cause)}"


def validation_summary(error: ValidationError, limit: int = 3) -> str:
    """The first ``limit`` errors of a validation error, each with its path: what a user
    needs to see which field of the answer was wrong."""
    details = error.errors()
    shown = [
        f"{'.'.join(map(str, item['loc'])) or 'answer'}: {first_line(ValueError(item['msg']))}"
        for item in details[:limit]
    ]
    more = f" (and {len(details) - limit} more)" if len(details) > limit else ""
    return f"{len(details)} error(s): " + "; ".join(shown) + more


def describe_api_error(error: openai.APIError) -> str:
    """One line saying what the endpoint answered, or why it could not be reached."""
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code} from the model endpoint: {first_line(error)}"
    if isinstance(error, openai.APITimeoutError):
        return "the request to the model endpoint timed out"
    return f"could not reach the model endpoint ({first_line(error)})"
