"""What every command shares: exit codes, and errors turned into clean messages.

Exit codes: 0 success; 1 some articles failed (their error records are in the output),
or a measured threshold was missed; 2 bad usage, configuration or unreadable input
(nothing was done); 130 interrupted (the run can be resumed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

import eventx

EXIT_FAILED_ARTICLES = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class InputProblem(click.ClickException):
    """Unreadable gold, predictions, results or articles: exit status 2, one line."""

    exit_code = EXIT_USAGE


@contextmanager
def configuration_errors() -> Iterator[None]:
    """Turn configuration, Batch API and input errors into clean messages (exit 2, or 1)."""
    try:
        yield
    except eventx.ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    except eventx.InputError as error:
        raise InputProblem(str(error)) from None
    except eventx.BatchApiError as error:
        raise click.ClickException(str(error)) from None
