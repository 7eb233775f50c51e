"""``eventx extract --engine ray``: the same job on a Ray cluster, over :mod:`eventx.ray`.

``eventx.ray`` (and so ray) is imported only here, only when the engine is asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import eventx
from eventx.cli.common import EXIT_FAILED_ARTICLES, EXIT_INTERRUPTED, configuration_errors

RAY_HINT = 'the Ray engine needs ray: pip install "eventx[ray]"'
LOCAL_ONLY = ("--db", "--restart", "--retry-failed", "--record")
"""Options of the run store and cassette recording, which the Ray engine does not have."""


def run_on_ray(
    inputs: tuple[Path, ...],
    output: str | None,
    *,
    output_format: str | None,
    address: str | None,
    actors: int,
    limit: int | None,
    replay: Path | None,
    local_only: dict[str, bool],
    total: Callable[[], int | None],
    settings: dict[str, Any],
) -> None:
    """Run the extraction on Ray; print the summary; exit 1 when articles failed."""
    fmt = _checked(output, output_format, local_only)
    assert output is not None
    ray_engine = _import_ray_engine()
    from eventx.cli.console import RunProgress, print_summary

    try:
        with configuration_errors(), RunProgress(total) as progress:
            summary = ray_engine.run(
                list(inputs),
                output,
                format=fmt,
                address=address,
                replay=replay,
                limit=limit,
                progress=progress.update,
                actors=actors,
                **settings,
            )
    except eventx.RunInterrupted as interrupted:
        print_summary(interrupted.summary)
        sys.exit(EXIT_INTERRUPTED)
    print_summary(summary)
    if summary.failed:
        sys.exit(EXIT_FAILED_ARTICLES)


def _checked(output: str | None, output_format: str | None, local_only: dict[str, bool]) -> str:
    """The output format, once the options fit the Ray engine."""
    given = [flag for flag, used in local_only.items() if used]
    if given:
        raise click.UsageError(f"{', '.join(given)}: the local engine only (no run store on Ray)")
    if output is None or ("://" not in output and Path(output).is_file()):
        raise click.UsageError("--engine ray writes a directory of files: give -o DIR")
    if output_format not in (None, "parquet", "jsonl"):
        raise click.UsageError("--engine ray writes parquet or jsonl files")
    return output_format or "parquet"


def _import_ray_engine() -> Any:
    try:
        import eventx.ray
    except ImportError:
        raise click.UsageError(RAY_HINT) from None
    return eventx.ray
