"""``eventx batch submit|status|collect``: thin layers over the Batch API functions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

import eventx
from eventx.cli.common import EXIT_FAILED_ARTICLES, configuration_errors
from eventx.cli.options import BUDGET, ENDPOINT, setting_options

_DB = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run store (SQLite).  [default: OUTPUT.eventx.db]",
)


@click.group()
def batch() -> None:
    """Extract through the OpenAI Batch API: half the price, answers within 24 hours.

    `submit` uploads the requests, `status` shows how the batches stand, `collect`
    validates, grounds and writes the answers. Run `collect` again until every
    batch is collected; it never fetches or pays for anything twice.
    """


@batch.command("submit")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="JSONL file that `collect` will write; the run store lives beside it.",
)
@_DB
@setting_options(*ENDPOINT, "schema_profile", "examples", "max_output_tokens")
@click.option("--retry-failed", is_flag=True, help="Submit failed articles again.")
@click.option(
    "--max-requests-per-file",
    type=click.IntRange(1),
    default=None,
    help="Requests per batch, at most 50000 (files also stay under 190 MB).  [default: 50000]",
)
def batch_submit(
    inputs: tuple[Path, ...],
    output: Path,
    db: Path | None,
    retry_failed: bool,
    max_requests_per_file: int | None,
    **settings: Any,
) -> None:
    """Submit articles (.txt files, directories, .jsonl) as Batch API requests."""
    with configuration_errors():
        report = eventx.batch_submit(
            list(inputs),
            output,
            store=db,
            retry_failed=retry_failed,
            max_requests_per_file=max_requests_per_file,
            **settings,
        )
    click.echo(
        f"submitted: {report.submitted} requests in {len(report.batches)} batches"
        + "".join(f"\n  {batch_id}" for batch_id in report.batches)
        + f"\nskipped:   {report.already_finished} finished, {report.already_pending} pending "
        f"in a batch, {report.cached} cached, {report.duplicates} duplicate ids"
        + f"\nrejected:  {report.rejected} (recorded as failed)",
        err=True,
    )


@batch.command("status")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The run's output JSONL (its store is beside it).",
)
@_DB
@setting_options("base_url")
def batch_status(output: Path | None, db: Path | None, base_url: str | None) -> None:
    """Show each batch of a run: id, status, completed/failed/total, created, collected."""
    if output is None and db is None:
        raise click.UsageError("give the run's output (-o) or its store (--db)")
    with configuration_errors():
        infos = eventx.batch_status(output, store=db, base_url=base_url)
    click.echo("batch\tstatus\tcompleted\tfailed\ttotal\tcreated\tcollected")
    for info in infos:
        fields = (info.id, info.status, info.completed, info.failed, info.total, info.created_at)
        click.echo("\t".join(map(str, fields)) + "\t" + (info.collected_at or "-"))


@batch.command("collect")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="JSONL file to write, one result per article (appended to).",
)
@_DB
@setting_options(*ENDPOINT, "grounding", "max_reasks", *BUDGET, "concurrency")
def batch_collect(output: Path, db: Path | None, **settings: Any) -> None:
    """Collect the answers of finished batches into the output JSONL."""
    from eventx.cli.console import print_result_line, print_summary

    with configuration_errors():
        report = eventx.batch_collect(output, store=db, **settings)
    summary = report.summary
    for number, result in enumerate(report.results, start=1):
        print_result_line(number, result)
    collected, running = len(report.collected), len(report.waiting)
    click.echo(f"batches:   {collected} collected, {running} running", err=True)
    for info in report.waiting:
        click.echo(f"  {info.id}: {info.status} ({info.completed}/{info.total} done)", err=True)
    print_summary(summary)
    click.echo(f"written:   {report.lines_written} lines", err=True)
    if summary.failed:
        sys.exit(EXIT_FAILED_ARTICLES)
