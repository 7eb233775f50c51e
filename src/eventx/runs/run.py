"""Runs: extract many articles into an output, resumably — the library behind ``eventx extract``.

:func:`run` owns the whole path of a run's output, from the name given to the last
line written: it settles the format, refuses to write over a file no run store
accounts for, opens the run store beside the output (``<output>.eventx.db``), brings a
JSONL output in line with the store after a crash, extracts every article with the
live runner (results written as they arrive), and writes a CSV or Parquet table from
the store at the end. Running it again with the same arguments resumes.

:func:`estimate` counts what a run would send, sending nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Unpack
from urllib.parse import urlsplit

from eventx._version import __version__
from eventx.analysis.export import OutputFormat
from eventx.errors import ConfigurationError, InputError
from eventx.extraction.extractor import Extractor
from eventx.extraction.replay import REQUEST_SETTINGS, CassetteDeck, RecordingInfo
from eventx.ingest.load import iter_articles
from eventx.models import Article, ExtractionResult
from eventx.runs.estimate import estimate_run
from eventx.runs.output import (
    OutputTarget,
    check_output_is_ours,
    jsonl_sink,
    output_format,
    output_path,
    write_line,
    write_table,
)
from eventx.runs.runner import Runner
from eventx.runs.store import RunStore, default_db_path
from eventx.runs.summary import RunEstimate, RunSummary
from eventx.settings import SettingOverrides, Settings

REPLAY_BASE = "http://replay.invalid"
"""Where replayed requests go: nowhere (``.invalid`` never resolves); cassettes answer them."""
DRY_RUN_KEY = "dry-run"
"""The key a dry run builds its extractor with when none is configured; nothing is sent."""

Inputs = str | Path | Article | Iterable[str | Path | Article]
"""Files, directories, globs or ``-`` (stdin), as paths or strings, and/or articles."""
Progress = Callable[[ExtractionResult, RunSummary], None]
"""Called after each result is committed and written, with the run's summary so far."""


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C); ``summary`` counts what was finished.

    Everything finished before the interruption is committed and written; running
    the same call again resumes. Derives from :class:`KeyboardInterrupt`, so code that
    does not handle it is interrupted as before.
    """

    def __init__(self, summary: RunSummary) -> None:
        super().__init__("the run was interrupted; run it again to resume")
        self.summary = summary


@dataclass(frozen=True)
class _Plan:
    """Where a run reads cassettes from, writes to and keeps its store."""

    output: OutputTarget
    path: Path | None
    format: OutputFormat
    store: Path | None
    deck: CassetteDeck | None


def run(
    inputs: Inputs,
    output: OutputTarget = None,
    *,
    format: str | None = None,
    store: str | Path | None = None,
    restart: bool = False,
    retry_failed: bool = False,
    replay: str | Path | None = None,
    record: str | Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    **settings: Unpack[SettingOverrides],
) -> RunSummary:
    """Extract every article of ``inputs`` into ``output``; resume where an earlier run stopped.

    Args:
        inputs: files (``.txt``, ``.html``, ``.jsonl``, ``.pdf``, ``.docx``), directories,
            globs, ``-`` for stdin, or :class:`~eventx.Article` objects.
        output: a file (format from ``format`` or its suffix: ``.jsonl``, ``.csv``,
            ``.parquet``), an open text stream for JSONL lines (``-`` is stdout), or None
            to keep results in the run store only.
        format: ``jsonl``, ``csv`` or ``parquet``; must agree with the output's suffix.
        store: the run store (SQLite); default ``<output>.eventx.db`` for a file output,
            in memory otherwise.
        restart: forget earlier progress (and the output) and start over.
        retry_failed: extract the articles that failed in earlier runs again.
        replay: answer from the cassettes in this directory (no network, no key); the
            model and mode default to the ones the cassettes were recorded with.
        record: record every exchange with the endpoint into cassettes in this directory.
        limit: finish at most this many articles in this run (articles finished in an
            earlier run are skipped and not counted).
        progress: called with each result and the summary so far.
        **settings: any :class:`~eventx.Settings` field; unset ones come from the
            environment (``EVENTX_*``, ``OPENAI_*``).

    Returns:
        The run's summary: articles, failures (with the first message per category),
        records, usage and cost.

    Raises:
        ConfigurationError: bad settings, no endpoint, an output that contradicts its
            format or that no run store accounts for, a store made with other settings.
        RunInterrupted: on Ctrl-C, after committing what was finished.
    """
    plan = _plan(output, format, store, replay, record)
    if not restart:
        check_output_is_ours(plan.path, plan.store)
    with build_extractor(settings, plan.deck) as extractor, _store(plan, restart) as run_store:
        if retry_failed:
            run_store.retry_failed()
        return _extract_all(extractor, run_store, articles_of(inputs), plan, limit, progress)


def estimate(
    inputs: Inputs,
    output: OutputTarget = None,
    *,
    store: str | Path | None = None,
    replay: str | Path | None = None,
    limit: int | None = None,
    **settings: Unpack[SettingOverrides],
) -> RunEstimate:
    """What :func:`run` would send with the same arguments: articles, requests, tokens and
    cost; nothing is sent and nothing is written. Articles an existing run store finished
    or cached are counted apart."""
    plan = _plan(output, None, store, replay, None)
    existing = plan.store if plan.store is not None and plan.store.exists() else None
    with (
        build_extractor(settings, plan.deck, dry_run=True) as extractor,
        RunStore(existing) if existing else nullcontext() as run_store,
    ):
        return estimate_run(articles_of(inputs), extractor, run_store, limit=limit)


def _plan(
    output: OutputTarget,
    format: str | None,
    store: str | Path | None,
    replay: str | Path | None,
    record: str | Path | None,
) -> _Plan:
    if replay is not None and record is not None:
        raise ConfigurationError("replay and record cannot be used together")
    path = output_path(output)
    chosen = output_format(output, format)
    store_path = Path(store) if store is not None else _default_store(path)
    deck = (
        CassetteDeck(replay, "replay")
        if replay is not None
        else CassetteDeck(record, "record")
        if record is not None
        else None
    )
    return _Plan(output, path, chosen, store_path, deck)


def _default_store(path: Path | None) -> Path | None:
    """``<output>.eventx.db`` beside a file output; in memory for a stream or ``/dev/null``."""
    if path is None or path == Path(os.devnull):
        return None
    return default_db_path(path)


def build_extractor(
    settings: SettingOverrides, deck: CassetteDeck | None, *, dry_run: bool = False
) -> Extractor:
    """The extractor of a run: replay settings from the recording, a key for dry runs.

    Raises:
        ConfigurationError: bad settings, or cassettes recorded with another prompt.
    """
    overrides: dict[str, Any] = dict(settings)
    info = _replay_info(deck) if deck is not None and deck.mode == "replay" else None
    if info is not None:
        recorded = {**info.settings, "model": info.model, "mode": info.mode}
        overrides |= {
            name: value for name, value in recorded.items() if overrides.get(name) is None
        }
        overrides |= {
            "base_url": REPLAY_BASE + info.endpoint_path,
            "base_urls": (),
            "api_key": "replay",
            "local": None,
        }
    extractor = Extractor(**overrides) if not dry_run else _dry_run_extractor(overrides)
    if info is not None and info.prompt_hash != extractor.prompt_hash:
        raise ConfigurationError(
            f"the cassettes were recorded with prompt {info.prompt_hash}, but this eventx "
            f"sends prompt {extractor.prompt_hash}; re-record them with --record"
        )
    if deck is not None and deck.mode == "record":
        deck.write_info(_recording_info(extractor))
    return extractor


def _dry_run_extractor(overrides: dict[str, Any]) -> Extractor:
    """An extractor for counting: nothing is sent, so no endpoint needs to be configured."""
    try:
        return Extractor(**overrides)
    except ConfigurationError:
        if overrides.get("api_key") or overrides.get("base_url"):
            raise
        return Extractor(**{**overrides, "api_key": DRY_RUN_KEY})


def _replay_info(deck: CassetteDeck) -> RecordingInfo:
    if not deck.directory.is_dir():
        raise ConfigurationError(f"no cassette directory at {deck.directory}")
    info = deck.read_info()
    if info is None:
        raise ConfigurationError(f"{deck.directory} has no recording.json; record with --record")
    return info


def _recording_info(extractor: Extractor) -> RecordingInfo:
    base_url = extractor.settings.base_url or "https://api.openai.com/v1"
    return RecordingInfo(
        model=extractor.settings.model,
        mode=extractor.settings.mode.value,
        prompt_hash=extractor.prompt_hash,
        eventx_version=__version__,
        endpoint_path=urlsplit(base_url).path.rstrip("/"),
        settings=_request_settings(extractor.settings),
    )


def _request_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape the requests, as JSON values (the server as it was known)."""
    values = settings.model_dump(mode="json", include=set(REQUEST_SETTINGS))
    kind = settings.server_kind
    values["server"] = kind.value if kind is not None else None
    return values


@contextmanager
def _store(plan: _Plan, restart: bool) -> Iterator[RunStore]:
    """The run store, emptied (with the output) on restart."""
    with RunStore(plan.store) as run_store:
        if restart:
            run_store.restart()
            if plan.path is not None:
                plan.path.unlink(missing_ok=True)
        yield run_store


def articles_of(inputs: Inputs) -> Iterator[Article | InputError]:
    """Articles from paths, globs, directories and ``-``, read lazily; articles as given."""
    items = [inputs] if isinstance(inputs, str | Path | Article) else inputs
    for item in items:
        if isinstance(item, Article):
            yield item
        else:
            yield from iter_articles([item])


def _extract_all(
    extractor: Extractor,
    run_store: RunStore,
    articles: Iterator[Article | InputError],
    plan: _Plan,
    limit: int | None,
    progress: Progress | None,
) -> RunSummary:
    runner = Runner(extractor, run_store, cassettes=plan.deck, limit=limit)
    summary = runner.summary
    summary.store = str(plan.store) if plan.store is not None else None
    summary.output = _describe(plan.output)
    jsonl = plan.output if plan.format == "jsonl" else None
    try:
        extractor.start()
        with jsonl_sink(jsonl, run_store) as sink:
            runner.sink = _writer(sink, summary, progress)
            runner.run(articles)
    except KeyboardInterrupt:
        summary.interrupted = True
        _write_table(run_store, plan)
        raise RunInterrupted(summary) from None
    _write_table(run_store, plan)
    return summary


def _write_table(run_store: RunStore, plan: _Plan) -> None:
    """Write a CSV or Parquet output from the store (after a resume, it holds every result)."""
    if plan.path is not None and plan.format != "jsonl":
        write_table(run_store, plan.path, plan.format)


def _writer(
    sink: IO[str] | None, summary: RunSummary, progress: Progress | None
) -> Callable[[ExtractionResult], None]:
    def write(result: ExtractionResult) -> None:
        if sink is not None:
            write_line(sink, result)
        if progress is not None:
            progress(result, summary)

    return write


def _describe(output: OutputTarget) -> str | None:
    if output is None:
        return None
    path = output_path(output)
    return str(path) if path is not None else "-"
