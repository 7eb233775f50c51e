"""The ``eventx`` command line: a thin layer over the public API.

Exit codes: 0 every article extracted; 1 some articles failed (their error records
are in the output); 2 bad usage or configuration (nothing was extracted).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar, cast
from urllib.parse import urlsplit

import click

from eventx import __version__
from eventx.analysis.evaluate import evaluate, format_table
from eventx.analysis.export import load_results, open_writer, read_results, write_rows
from eventx.analysis.fuse import fuse as fuse_results
from eventx.analysis.gold import load_gold
from eventx.analysis.report import article_texts, render_report, source_texts
from eventx.batchapi.files import MAX_REQUESTS_PER_FILE, BatchLimits
from eventx.batchapi.jobs import BatchClient, batch_status, collect_batches, submit_batches
from eventx.batchapi.ledger import BatchLedger
from eventx.cli.console import RunProgress, print_estimate, print_result_line, print_summary
from eventx.contract import stale_schemas, write_schemas
from eventx.errors import BatchApiError, ConfigurationError, InputError
from eventx.extraction.extractor import Extractor
from eventx.extraction.grounding import GroundingPolicy
from eventx.extraction.replay import CassetteDeck, RecordingInfo
from eventx.ingest.load import iter_articles
from eventx.models import Article, ExtractionResult
from eventx.runs.runner import (
    DEFAULT_CONCURRENCY,
    BatchRunner,
    RunSummary,
    estimate_run,
    sync_output,
)
from eventx.runs.store import RunStore, default_db_path
from eventx.settings import Mode

T = TypeVar("T")
EXIT_FAILED_ARTICLES = 1
EXIT_USAGE = 2
REPLAY_BASE = "http://replay.invalid"
DRY_RUN_BASE = "http://dry-run.invalid/v1"


@click.group()
@click.version_option(__version__, prog_name="eventx")
@click.option("-v", "--verbose", is_flag=True, help="Log every request, retry and re-ask.")
def main(verbose: bool) -> None:
    """Turn news articles into typed, grounded records of political events and claims."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    else:  # per-article outcomes are reported by eventx itself; keep library chatter out
        logging.getLogger("instructor").addHandler(logging.NullHandler())


_BUDGET_OPTIONS = (
    click.option(
        "--max-requests-per-article",
        type=click.IntRange(1, 1_000_000),
        help="HTTP requests one article may send, retries, re-asks and chunks included.  "
        "[env: EVENTX_MAX_REQUESTS_PER_ARTICLE; default: (retries+1) x (re-asks+1) per chunk]",
    ),
    click.option(
        "--max-tokens-per-article",
        type=click.IntRange(1),
        help="Prompt plus completion tokens one article may use; a request that would cross "
        "it is not sent.  [env: EVENTX_MAX_TOKENS_PER_ARTICLE; default: no limit]",
    ),
)


def _budget_options(command: Any) -> Any:
    """The per-article budget options (see docs/retries.md, "Bounded cost")."""
    for option in reversed(_BUDGET_OPTIONS):
        command = option(command)
    return command


_MODEL = click.option("--model", help="Model (deployment) name.  [env: EVENTX_MODEL]")
_BASE_URL = click.option(
    "--base-url", help="OpenAI-compatible endpoint.  [env: EVENTX_BASE_URL, OPENAI_BASE_URL]"
)
_MODE = click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    help="How the schema is sent and the answer read.  [env: EVENTX_MODE; default: tools]",
)
_GROUNDING = click.option(
    "--grounding",
    type=click.Choice([p.value for p in GroundingPolicy]),
    help="If evidence is not in the article.  [env: EVENTX_GROUNDING; default: drop]",
)
_MAX_REASKS = click.option(
    "--max-reasks",
    type=click.IntRange(0, 10),
    help="Re-asks after an invalid answer.  [env: EVENTX_MAX_REASKS; default: 2]",
)
_MAX_OUTPUT_TOKENS = click.option(
    "--max-output-tokens",
    type=click.IntRange(1),
    help="Output token limit sent with each request.  [env: EVENTX_MAX_OUTPUT_TOKENS]",
)
_DB = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run store (SQLite) for resuming.  [default: OUTPUT.eventx.db; in memory for stdout]",
)


def _endpoint_options(function: Any) -> Any:
    """--model, --base-url and --mode."""
    return _MODEL(_BASE_URL(_MODE(function)))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="JSONL file to write, one result per article.  [default: stdout]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Output format; csv and parquet give a row per event and per claim, written from "
    "the run store when the run ends.  [default: from the output's suffix, else jsonl]",
)
@_DB
@_endpoint_options
@_GROUNDING
@_MAX_REASKS
@_MAX_OUTPUT_TOKENS
@_budget_options
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    envvar="EVENTX_CONCURRENCY",
    default=DEFAULT_CONCURRENCY,
    help=f"Requests in flight at most.  [env: EVENTX_CONCURRENCY; default: {DEFAULT_CONCURRENCY}]",
)
@click.option(
    "--rpm",
    type=click.IntRange(1),
    help="Requests per minute.  [env: EVENTX_RPM; default: 500 for OpenAI, none elsewhere]",
)
@click.option(
    "--tpm",
    type=click.IntRange(1),
    help="Tokens per minute.  [env: EVENTX_TPM; default: 200000 for OpenAI, none elsewhere]",
)
@click.option(
    "--no-clean",
    "clean",
    flag_value=False,
    default=None,
    help="Send the text as read, page junk included.  [env: EVENTX_CLEAN=0]",
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="Stop after this many articles."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Count articles, tokens and cost; send nothing.",
)
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
def extract(
    inputs: tuple[Path, ...],
    output: Path | None,
    output_format: str | None,
    db: Path | None,
    concurrency: int,
    limit: int | None,
    dry_run: bool,
    retry_failed: bool,
    restart: bool,
    replay: Path | None,
    record: Path | None,
    **settings: Any,
) -> None:
    """Extract events and claims from articles: files, directories, globs, - for stdin.

    Results are written as they arrive, one JSONL line per article, failed articles
    included. Progress is kept in a run store, so running the same command again
    resumes: finished articles are skipped, and no answer is paid for twice.

    Unset options come from EVENTX_* / OPENAI_* environment variables, except in
    --replay mode, where the model and mode the cassettes were recorded with apply.
    Exit codes: 0 all articles extracted, 1 some failed, 2 usage or configuration error.
    """
    if replay and record:
        raise click.UsageError("--replay and --record cannot be used together")
    deck = _deck(replay, record)
    extractor = _extractor(settings, deck, dry_run=dry_run)
    articles = _limited(iter_articles(inputs), limit)
    with extractor, _run_store(db, output, restart=restart, dry_run=dry_run) as store:
        if dry_run:
            estimate = estimate_run(articles, extractor, store if store.path else None)
            print_estimate(estimate, extractor.settings.model)
            return
        if deck is not None and deck.mode == "record":
            deck.write_info(_recording_info(extractor))
        if retry_failed:
            store.retry_failed()
        table = _table_format(output, output_format)
        jsonl = None if table else output
        summary = _run(extractor, store, articles, jsonl, concurrency, deck, _total(inputs, limit))
        if table and output is not None:
            write_rows(store.finished_results(), output, table)
    print_summary(summary, output, store.path)
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


def _deck(replay: Path | None, record: Path | None) -> CassetteDeck | None:
    if replay is not None:
        return CassetteDeck(replay, "replay")
    if record is not None:
        return CassetteDeck(record, "record")
    return None


def _extractor(
    settings: dict[str, Any], deck: CassetteDeck | None, *, dry_run: bool = False
) -> Extractor:
    info = _replay_info(deck) if deck is not None and deck.mode == "replay" else None
    if info is not None:
        settings = _replay_settings(settings, info)
    elif dry_run:  # nothing is sent: an endpoint is not needed to count
        settings = {**settings, "base_url": settings.get("base_url") or DRY_RUN_BASE}
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


@contextmanager
def _run_store(
    db: Path | None, output: Path | None, *, restart: bool, dry_run: bool
) -> Iterator[RunStore]:
    path = db or (default_db_path(output) if output is not None else None)
    if dry_run and path is not None and not path.exists():
        path = None  # a dry run leaves nothing behind
    if not dry_run:
        _check_output_is_ours(output, path, restart=restart)
    try:
        store = RunStore(path)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    with store:
        if restart and not dry_run:
            store.restart()
            if output is not None:
                output.unlink(missing_ok=True)
        yield store


def _check_output_is_ours(output: Path | None, store: Path | None, *, restart: bool) -> None:
    """Refuse to append to an output that no run store accounts for."""
    if restart or output is None or not output.exists() or output.stat().st_size == 0:
        return
    if store is None or not store.exists():
        raise click.UsageError(
            f"{output} already exists and has no run store ({store}) to resume from; "
            "pass --restart to overwrite it, or choose another output"
        )


def _run(
    extractor: Extractor,
    store: RunStore,
    articles: Iterator[Article | InputError],
    output: Path | None,
    concurrency: int,
    deck: CassetteDeck | None,
    total: Callable[[], int | None],
) -> RunSummary:
    if output is not None:
        sync_output(store, output)
    runner = BatchRunner(extractor, store, concurrency=concurrency, cassettes=deck)
    try:
        with _open_output(output) as sink, RunProgress(runner.summary, total) as progress:

            def write(result: ExtractionResult) -> None:
                sink.write(result.model_dump_json() + "\n")
                sink.flush()
                progress.update(result)

            runner.sink = write
            return runner.run(articles)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None


def _table_format(output: Path | None, output_format: str | None) -> str | None:
    """``csv`` or ``parquet`` when a table is asked for (by option or suffix), else None."""
    chosen = output_format or (output.suffix.lower().lstrip(".") if output else None)
    if chosen not in ("csv", "parquet"):
        return None
    if output is None:
        raise click.UsageError(f"--format {chosen} needs an output file (-o)")
    return chosen


def _total(inputs: tuple[Path, ...], limit: int | None) -> Callable[[], int | None]:
    """How many articles the inputs hold, counted only when a progress bar needs it."""

    def count() -> int | None:
        if any(str(path) == "-" for path in inputs):
            return limit
        found = sum(1 for _ in iter_articles(inputs))
        return min(found, limit) if limit is not None else found

    return count


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
    with output.open("a", encoding="utf-8") as sink:
        yield sink


# ---------------------------------------------------------------------------
# eval, report
# ---------------------------------------------------------------------------

EXIT_BELOW_MIN_F1 = 1


class _InputProblem(click.ClickException):
    """Unreadable gold, predictions or articles: exit status 2 with a one-line message."""

    exit_code = EXIT_USAGE


@main.command(name="eval")
@click.option(
    "--gold",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Gold annotations (.yaml or .jsonl; format in docs/evaluation.md).",
)
@click.option(
    "--pred",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Predictions: the JSONL written by `eventx extract`.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="Article files or directories.  [default: each gold entry's source]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
@click.option(
    "--min-f1",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit with status 1 when the overall F1 (events and claims) is below this.",
)
def eval_command(
    gold: Path, pred: Path, articles: tuple[Path, ...], as_json: bool, min_f1: float | None
) -> None:
    """Measure predictions against gold annotations: P/R/F1, field accuracy, grounding, junk."""
    try:
        texts = article_texts(articles) if articles else None
        evaluation = evaluate(load_gold(gold), load_results(pred), texts)
    except InputError as error:
        where = f"article {error.article_id}: " if error.article_id else ""
        raise _InputProblem(f"{where}{error}") from None
    if as_json:
        click.echo(json.dumps(evaluation.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_table(evaluation))
    if min_f1 is not None and evaluation.overall.f1 < min_f1:
        click.echo(f"overall F1 {evaluation.overall.f1:.3f} is below --min-f1 {min_f1}", err=True)
        sys.exit(EXIT_BELOW_MIN_F1)


@main.command()
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="The inputs given to `eventx extract`.  [default: each result's source file]",
)
@click.option("--title", default="eventx report", show_default=True, help="Report title.")
def report(results: Path, output: Path, articles: tuple[Path, ...], title: str) -> None:
    """Write a self-contained HTML report: highlighted evidence, records, failures, summary."""
    try:
        loaded = load_results(results)
    except InputError as error:
        raise _InputProblem(str(error)) from None
    texts = article_texts(articles) if articles else source_texts(loaded)
    missing = [r.article_id for r in loaded if r.error is None and r.article_id not in texts]
    if missing:
        click.echo(f"no article text for {', '.join(missing)}; pass --articles", err=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_report(loaded, texts, title=title), encoding="utf-8")
    click.echo(f"wrote {output} ({len(loaded)} articles)", err=True)


@main.command()
@click.argument("results", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Table file to write (.csv or .parquet).",
)
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Table format.  [default: from the output's suffix]",
)
@click.option("--no-errors", is_flag=True, help="Leave out the rows of failed articles.")
def convert(results: Path, output: Path, table_format: str | None, no_errors: bool) -> None:
    """Turn an `extract` output (JSONL) into a table: a row per event, claim, failed article.

    Exits 1 when some lines of RESULTS are not extraction results (they are skipped).
    """
    try:
        writer = open_writer(output, table_format, include_errors=not no_errors)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    skipped = 0
    with writer:
        for item in read_results(results):
            if isinstance(item, InputError):
                click.echo(f"skipped {item}", err=True)
                skipped += 1
            else:
                writer.write(item)
    click.echo(f"{writer.results} results, {writer.rows} rows: {output}", err=True)
    if skipped:
        sys.exit(EXIT_FAILED_ARTICLES)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="JSONL file to write, one fused event per line.  [default: stdout]",
)
def fuse(inputs: tuple[Path, ...], output: Path | None) -> None:
    """Merge the event records of `eventx extract` outputs into one record per real-world
    event, listing every article that reports it."""
    try:
        results = [result for path in inputs for result in load_results(path)]
    except InputError as error:
        raise click.UsageError(str(error)) from None
    fused = fuse_results(results)
    with _open_output(output) as sink:
        for event in fused:
            sink.write(event.model_dump_json() + "\n")
    records = sum(len(event.sources) for event in fused)
    shared = sum(1 for event in fused if len({s.article_id for s in event.sources}) > 1)
    click.echo(
        f"records:   {records} from {len(results)} results\n"
        f"fused:     {len(fused)} events ({shared} reported by several articles)",
        err=True,
    )


# ---------------------------------------------------------------------------
# batch: the OpenAI Batch API
# ---------------------------------------------------------------------------


@main.group()
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
@_endpoint_options
@_MAX_OUTPUT_TOKENS
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
@_DB
@_BASE_URL
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
@_DB
@_endpoint_options
@_GROUNDING
@_MAX_REASKS
@_budget_options
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
    for result in report.results:
        summary.add(result)
        print_result_line(summary.articles, result)
    collected, running = len(report.collected), len(report.waiting)
    click.echo(f"batches:   {collected} collected, {running} running", err=True)
    for info in report.waiting:
        click.echo(f"  {info.id}: {info.status} ({info.completed}/{info.total} done)", err=True)
    print_summary(summary, output, store.path)
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
