"""The ``eventx`` command line: a thin layer over the public API.

Exit codes: 0 every article extracted; 1 some articles failed (their error records
are in the output); 2 bad usage or configuration (nothing was extracted).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar, cast
from urllib.parse import urlsplit

import click

from eventx import __version__
from eventx.batch import RunSummary, extract_all
from eventx.batchapi import (
    DEFAULT_CONCURRENCY,
    BatchClient,
    batch_status,
    collect_batches,
    submit_batches,
)
from eventx.batchfiles import MAX_REQUESTS_PER_FILE, BatchLimits
from eventx.batchstore import BatchLedger
from eventx.config import Mode
from eventx.contract import stale_schemas, write_schemas
from eventx.errors import BatchApiError, ConfigurationError
from eventx.extract import Extractor
from eventx.ground import GroundingPolicy
from eventx.load import iter_articles
from eventx.models import ExtractionResult
from eventx.replay import CassetteDeck, RecordingInfo
from eventx.store import RunStore, default_db_path

EXIT_FAILED_ARTICLES = 1
EXIT_USAGE = 2
REPLAY_BASE = "http://replay.invalid"
T = TypeVar("T")


@click.group()
@click.version_option(__version__, prog_name="eventx")
@click.option("-v", "--verbose", is_flag=True, help="Log every request, retry and re-ask.")
def main(verbose: bool) -> None:
    """Turn news articles into typed, grounded records of political events and claims."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    else:  # per-article outcomes are reported by eventx itself; keep library chatter out
        logging.getLogger("instructor").addHandler(logging.NullHandler())


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="JSONL file to write, one result per article.  [default: stdout]",
)
@click.option("--model", help="Model name.  [env: EVENTX_MODEL]")
@click.option(
    "--base-url",
    help="OpenAI-compatible endpoint.  [env: EVENTX_BASE_URL, OPENAI_BASE_URL]",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    help="How the schema is sent and the answer read.  [env: EVENTX_MODE; default: tools]",
)
@click.option(
    "--grounding",
    type=click.Choice([p.value for p in GroundingPolicy]),
    help="If evidence is not in the article.  [env: EVENTX_GROUNDING; default: drop]",
)
@click.option(
    "--max-reasks",
    type=click.IntRange(0, 10),
    help="Re-asks after an invalid answer.  [env: EVENTX_MAX_REASKS; default: 2]",
)
@click.option(
    "--max-output-tokens",
    type=click.IntRange(1),
    help="Output token limit sent with each request.  [env: EVENTX_MAX_OUTPUT_TOKENS]",
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Stop after this many articles."
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
def extract(
    inputs: tuple[Path, ...],
    output: Path | None,
    limit: int | None,
    replay: Path | None,
    record: Path | None,
    **settings: Any,
) -> None:
    """Extract events and claims from articles (.txt files, directories, .jsonl).

    Unset options come from EVENTX_* / OPENAI_* environment variables, except in
    --replay mode, where the model and mode the cassettes were recorded with apply.
    """
    if replay and record:
        raise click.UsageError("--replay and --record cannot be used together")
    deck = (
        CassetteDeck(replay, "replay")
        if replay
        else CassetteDeck(record, "record")
        if record
        else None
    )
    extractor = _extractor(settings, deck)
    if deck is not None and deck.mode == "record":
        deck.write_info(_recording_info(extractor))
    summary = RunSummary()
    articles = _limited(iter_articles(inputs), limit)
    with extractor, _open_output(output) as sink:
        for result in extract_all(articles, extractor, cassettes=deck):
            sink.write(result.model_dump_json() + "\n")
            sink.flush()
            summary.add(result)
            _progress(summary.articles, result)
    _print_summary(summary, output)
    if summary.failed:
        sys.exit(EXIT_FAILED_ARTICLES)


@main.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write into.",
)
@click.option("--check", is_flag=True, help="Only check that the files are up to date.")
def schema(out: Path, check: bool) -> None:
    """Write one JSON Schema file per public model (the data contract)."""
    if check:
        stale = stale_schemas(out)
        if stale:
            raise click.ClickException(
                f"out of date in {out}: {', '.join(stale)}; run `eventx schema --out {out}`"
            )
        click.echo(f"{out}: up to date")
        return
    for path in write_schemas(out):
        click.echo(f"wrote {path}")


def _extractor(settings: dict[str, Any], deck: CassetteDeck | None) -> Extractor:
    info = _replay_info(deck) if deck is not None and deck.mode == "replay" else None
    if info is not None:
        settings = _replay_settings(settings, info)
    try:
        extractor = Extractor(**settings)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    if info is not None and info.prompt_hash != extractor.prompt_hash:
        raise click.UsageError(
            f"the cassettes were recorded with prompt {info.prompt_hash}, but this eventx "
            f"sends prompt {extractor.prompt_hash}; re-record them with --record"
        )
    return extractor


def _replay_info(deck: CassetteDeck) -> RecordingInfo:
    if not deck.directory.is_dir():
        raise click.UsageError(f"no cassette directory at {deck.directory}")
    info = deck.read_info()
    if info is None:
        raise click.UsageError(f"{deck.directory} has no recording.json; record with --record")
    return info


def _replay_settings(settings: dict[str, Any], info: RecordingInfo) -> dict[str, Any]:
    return {
        **settings,
        "model": settings.get("model") or info.model,
        "mode": settings.get("mode") or info.mode,
        "base_url": REPLAY_BASE + info.endpoint_path,
        "api_key": "replay",
    }


def _recording_info(extractor: Extractor) -> RecordingInfo:
    base_url = extractor.settings.base_url or "https://api.openai.com/v1"
    return RecordingInfo(
        model=extractor.settings.model,
        mode=extractor.settings.mode.value,
        prompt_hash=extractor.prompt_hash,
        eventx_version=__version__,
        endpoint_path=urlsplit(base_url).path.rstrip("/"),
    )


def _limited(items: Iterator[Any], limit: int | None) -> Iterator[Any]:
    for count, item in enumerate(items):
        if limit is not None and count >= limit:
            return
        yield item


@contextmanager
def _open_output(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as sink:
        yield sink


def _progress(number: int, result: ExtractionResult) -> None:
    if result.error is not None:
        line = f"FAILED ({result.error.category.value}): {result.error.message}"
    else:
        extraction = result.extraction
        events = len(extraction.events) if extraction else 0
        claims = len(extraction.claims) if extraction else 0
        line = f"{events} events, {claims} claims, {len(result.warnings)} warnings"
    click.echo(f"[{number}] {result.article_id}: {line}", err=True)


def _print_summary(summary: RunSummary, output: Path | None) -> None:
    by_type = ", ".join(f"{name} {count}" for name, count in sorted(summary.events.items()))
    lines = [
        f"articles:  {summary.articles} ({summary.articles - summary.failed} ok, "
        f"{summary.failed} failed)",
        f"events:    {sum(summary.events.values())}" + (f" ({by_type})" if by_type else ""),
        f"claims:    {summary.claims}",
        f"warnings:  {summary.warnings}",
        f"requests:  {summary.requests}",
        f"tokens:    {summary.prompt_tokens} prompt + {summary.completion_tokens} completion",
    ]
    if summary.cost_usd:
        lines.append(f"cost:      ~${summary.cost_usd:.4f}")
    if summary.failures:
        lines.append("failures:  " + ", ".join(f"{k} {v}" for k, v in summary.failures.items()))
    if output is not None:
        lines.append(f"output:    {output}")
    click.echo("\n".join(lines), err=True)


# -- the Batch API -----------------------------------------------------------------------


@main.group()
def batch() -> None:
    """Extract through the OpenAI Batch API: half the price, answers within 24 hours.

    `submit` uploads the requests, `status` shows how the batches stand, `collect`
    validates, grounds and writes the answers. Run `collect` again until every
    batch is collected; it never fetches or pays for anything twice.
    """


def _endpoint_options(function: Any) -> Any:
    options = [
        click.option("--model", help="Model (deployment) name.  [env: EVENTX_MODEL]"),
        click.option(
            "--base-url",
            help="OpenAI-compatible endpoint.  [env: EVENTX_BASE_URL, OPENAI_BASE_URL]",
        ),
        click.option(
            "--mode",
            type=click.Choice([m.value for m in Mode]),
            help="How the schema is sent and the answer read.  [env: EVENTX_MODE]",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


_DB_OPTION = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run store.  [default: <output>.eventx.db]",
)


@batch.command("submit")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="JSONL file that `collect` will write; the run store lives beside it.",
)
@_DB_OPTION
@_endpoint_options
@click.option(
    "--max-output-tokens",
    type=click.IntRange(1),
    help="Output token limit sent with each request.  [env: EVENTX_MAX_OUTPUT_TOKENS]",
)
@click.option("--retry-failed", is_flag=True, help="Submit failed articles again.")
@click.option(
    "--max-requests-per-file",
    type=click.IntRange(1, MAX_REQUESTS_PER_FILE),
    default=MAX_REQUESTS_PER_FILE,
    show_default=True,
    help="Requests per batch (files also stay under 190 MB).",
)
def batch_submit(
    inputs: tuple[Path, ...],
    output: Path,
    db: Path | None,
    retry_failed: bool,
    max_requests_per_file: int,
    **settings: Any,
) -> None:
    """Submit articles (.txt files, directories, .jsonl) as Batch API requests."""
    limits = BatchLimits(max_requests=max_requests_per_file)
    with _batch_failures(), RunStore(db or default_db_path(output)) as store:
        extractor, client = _batch_clients(store, settings)
        report = asyncio.run(
            _with_clients(
                extractor,
                client,
                submit_batches(
                    iter_articles(inputs),
                    extractor,
                    store,
                    client,
                    limits=limits,
                    retry_failed=retry_failed,
                ),
            )
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
@_DB_OPTION
@click.option(
    "--base-url", help="OpenAI-compatible endpoint.  [env: EVENTX_BASE_URL, OPENAI_BASE_URL]"
)
def batch_status_command(output: Path | None, db: Path | None, base_url: str | None) -> None:
    """Show each batch of a run: id, status, completed/failed/total, created, collected."""
    path = _store_path(output, db)
    with _batch_failures(), RunStore(path) as store:
        client = BatchClient(base_url=base_url)
        infos = asyncio.run(_with_clients(None, client, batch_status(store, client)))
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
@_DB_OPTION
@_endpoint_options
@click.option(
    "--grounding",
    type=click.Choice([p.value for p in GroundingPolicy]),
    help="If evidence is not in the article.  [env: EVENTX_GROUNDING; default: drop]",
)
@click.option(
    "--max-reasks",
    type=click.IntRange(0, 10),
    help="Live re-asks after an invalid answer.  [env: EVENTX_MAX_REASKS; default: 2]",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Answers validated (and re-asked) at once.",
)
def batch_collect(output: Path, db: Path | None, concurrency: int, **settings: Any) -> None:
    """Collect the answers of finished batches into the output JSONL."""
    with _batch_failures(), RunStore(db or default_db_path(output)) as store:
        extractor, client = _batch_clients(store, settings)
        report = asyncio.run(
            _with_clients(
                extractor,
                client,
                collect_batches(store, extractor, client, output, concurrency=concurrency),
            )
        )
    summary = RunSummary()
    for number, result in enumerate(report.results, start=1):
        summary.add(result)
        _progress(number, result)
    collected, running = len(report.collected), len(report.waiting)
    click.echo(f"batches:   {collected} collected, {running} running", err=True)
    for info in report.waiting:
        click.echo(f"  {info.id}: {info.status} ({info.completed}/{info.total} done)", err=True)
    _print_summary(summary, output)
    click.echo(f"written:   {report.lines_written} lines", err=True)
    if summary.failed:
        sys.exit(EXIT_FAILED_ARTICLES)


def _store_path(output: Path | None, db: Path | None) -> Path:
    if db is None and output is None:
        raise click.UsageError("give the run's output (-o) or its store (--db)")
    path = db or default_db_path(cast(Path, output))
    if not path.is_file():
        raise click.UsageError(f"no run store at {path}; submit a batch first")
    return path


def _batch_clients(store: RunStore, settings: dict[str, Any]) -> tuple[Extractor, BatchClient]:
    """The extractor and Batch API client; model and mode default to the store's."""
    bound = BatchLedger(store).fingerprint() or {}
    settings = {
        **settings,
        "model": settings.get("model") or bound.get("model"),
        "mode": settings.get("mode") or bound.get("mode"),
    }
    extractor = Extractor(**settings)
    return extractor, BatchClient(base_url=settings.get("base_url"))


async def _with_clients(extractor: Extractor | None, client: BatchClient, work: Awaitable[T]) -> T:
    try:
        return await work
    finally:
        await client.aclose()
        if extractor is not None:
            await extractor.aclose()


@contextmanager
def _batch_failures() -> Iterator[None]:
    """Turn configuration and Batch API errors into clean messages."""
    try:
        yield
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    except BatchApiError as error:
        raise click.ClickException(str(error)) from None
