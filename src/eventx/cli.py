"""The ``eventx`` command line: a thin layer over the public API.

Exit codes: 0 every article extracted; 1 some articles failed (their error records
are in the output); 2 bad usage or configuration (nothing was extracted).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import click

from eventx import __version__
from eventx.batch import RunSummary, extract_all
from eventx.config import Mode
from eventx.contract import stale_schemas, write_schemas
from eventx.errors import ConfigurationError, InputError
from eventx.extract import Extractor
from eventx.fuse import fuse as fuse_results
from eventx.fuse import read_results
from eventx.ground import GroundingPolicy
from eventx.load import iter_articles
from eventx.models import ExtractionResult
from eventx.replay import CassetteDeck, RecordingInfo

EXIT_FAILED_ARTICLES = 1
EXIT_USAGE = 2
REPLAY_BASE = "http://replay.invalid"


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
        results = [result for path in inputs for result in read_results(path)]
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
