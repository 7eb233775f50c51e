"""``eventx extract``: a thin layer over :func:`eventx.run` and :func:`eventx.estimate`."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import eventx
from eventx.cli.common import EXIT_FAILED_ARTICLES, EXIT_INTERRUPTED, configuration_errors
from eventx.cli.options import (
    BUDGET,
    ENDPOINT,
    LOCAL,
    PACING,
    PROMPT,
    QUALITY,
    TEXT,
    setting_options,
)
from eventx.cli.ray_engine import run_on_ray


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    default=None,
    help="File to write: .jsonl (one result per article, as they arrive), .csv or .parquet "
    "(a row per event and claim, written when the run ends); with --engine ray, a directory "
    "(or URI) of Parquet or JSON-lines files.  [default: JSONL to stdout]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Output format; must agree with the output's suffix.  [default: from the suffix, "
    "else jsonl]",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run store (SQLite) for resuming.  [default: OUTPUT.eventx.db; in memory for stdout]",
)
@setting_options(*ENDPOINT, *LOCAL, *PROMPT, *QUALITY, *BUDGET, *PACING, *TEXT)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="Finish at most this many articles in this run (finished ones are skipped).",
)
@click.option("--dry-run", is_flag=True, help="Count articles, tokens and cost; send nothing.")
@click.option("--retry-failed", is_flag=True, help="Extract again the articles that failed.")
@click.option(
    "--restart", is_flag=True, help="Forget earlier progress in the run store and start over."
)
@click.option(
    "--replay",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Answer from the cassettes in this directory; no network, no key.",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Record every exchange with the endpoint into cassettes in this directory.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this process, with a run store; ray: a Ray cluster, resuming from the "
    "output directory (needs eventx[ray]).",
)
@click.option(
    "--ray-address",
    default=None,
    help="Ray cluster to run on (host:6379, ray://host:10001, auto).  [default: RAY_ADDRESS, "
    "else a local Ray for the run]",
)
@click.option(
    "--actors",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Actors extracting in parallel with --engine ray (each one an extractor with "
    "--concurrency requests in flight).",
)
def extract(
    inputs: tuple[Path, ...],
    output: str | None,
    output_format: str | None,
    db: Path | None,
    limit: int | None,
    dry_run: bool,
    retry_failed: bool,
    restart: bool,
    replay: Path | None,
    record: Path | None,
    engine: str,
    ray_address: str | None,
    actors: int,
    **settings: Any,
) -> None:
    """Extract events and claims from articles: files, directories, globs, - for stdin.

    Results are written as they arrive, one JSONL line per article, failed articles
    included. Progress is kept in a run store, so running the same command again
    resumes: finished articles are skipped, and no answer is paid for twice.

    With --engine ray the articles are extracted on a Ray cluster into the directory
    -o names; running the same command again skips what it already holds.

    Unset options come from EVENTX_* / OPENAI_* environment variables, except in
    --replay mode, where the model and mode the cassettes were recorded with apply.
    Exit codes: 0 all articles extracted, 1 some failed, 2 usage or configuration
    error, 130 interrupted (run the same command again to resume).
    """
    from eventx.cli.console import RunProgress, print_estimate, print_summary

    if dry_run:
        with configuration_errors():
            counted = output if engine == "local" else None  # no store on Ray
            estimate = eventx.estimate(
                list(inputs), counted, store=db, replay=replay, limit=limit, **settings
            )
        print_estimate(estimate)
        return
    if engine == "ray":
        local_only = {"--db": db is not None, "--restart": restart, "--retry-failed": retry_failed}
        run_on_ray(
            inputs,
            output,
            output_format=output_format,
            address=ray_address,
            actors=actors,
            limit=limit,
            replay=replay,
            local_only=local_only | {"--record": record is not None},
            total=_total(inputs, limit),
            settings=settings,
        )
        return
    if output is not None and Path(output).is_dir():
        raise click.BadParameter(
            f"{output} is a directory (only --engine ray writes one)", param_hint="'-o'"
        )
    target = Path(output) if output is not None else "-"
    run = eventx.run  # imports the pipeline: openai, instructor, the models
    # Their objects live as long as the run: keep its full garbage collections from
    # walking them again and again (8% of the CPU time of a run of 2,000 articles).
    gc.freeze()
    try:
        with configuration_errors(), RunProgress(_total(inputs, limit)) as progress:
            summary = run(
                list(inputs),
                target,
                format=output_format,
                store=db,
                restart=restart,
                retry_failed=retry_failed,
                replay=replay,
                record=record,
                limit=limit,
                progress=progress,
                **settings,
            )
    except eventx.RunInterrupted as interrupted:
        print_summary(interrupted.summary)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        gc.unfreeze()
    print_summary(summary)
    if summary.failed:
        sys.exit(EXIT_FAILED_ARTICLES)


def _total(inputs: tuple[Path, ...], limit: int | None) -> Callable[[], int | None]:
    """How many articles the inputs hold, counted only when a progress bar needs it."""

    def count() -> int | None:
        if any(str(path) == "-" for path in inputs):
            return limit
        found = sum(1 for _ in eventx.iter_articles(inputs))
        return min(found, limit) if limit is not None else found

    return count
