"""``eventx extract --engine ray``: inputs read on the driver, extracted on a Ray cluster.

The driver reads the inputs with the same loaders as a single-machine run (files,
directories, globs, stdin, JSONL feeds), drops the articles the output location already
holds, and hands the rest to the cluster in chunks of ``chunk_size`` articles, so its
memory stays bounded however many there are. Each chunk is one Ray Data job: the actor
pool extracts, and its rows are written to the output directory (Parquet, or JSON lines)
as blocks finish. A collector actor counts what the workers finish, for progress and the
summary.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Unpack

import ray
import ray.data

from eventx.errors import InputError
from eventx.models import Article
from eventx.ray.pipeline import Actors, extraction, prepare_job
from eventx.ray.resume import Digests, digest, is_finished, scan_output
from eventx.ray.worker import INPUT_ERROR, Job
from eventx.runs.run import Inputs, RunInterrupted, articles_of
from eventx.runs.summary import RunSummary
from eventx.settings import SettingOverrides

RayFormat = Literal["parquet", "jsonl"]
Progress = Callable[[RunSummary], None]
"""Called about twice a second with the run's summary so far."""
POLL_SECONDS = 0.5
DEFAULT_CHUNK = 10_000


class Collector:
    """Counts what the workers finish (a Ray actor; workers send one summary per batch)."""

    def __init__(self) -> None:
        self.summary = RunSummary()

    def add(self, part: RunSummary) -> None:
        """Add one batch's counts."""
        self.summary.merge(part)

    def get(self) -> RunSummary:
        """The counts so far."""
        return self.summary


def run(
    inputs: Inputs,
    output: str | Path,
    *,
    format: RayFormat = "parquet",
    address: str | None = None,
    replay: str | Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    actors: Actors = 2,
    batch_size: int = 16,
    num_cpus: float = 0.5,
    chunk_size: int = DEFAULT_CHUNK,
    **settings: Unpack[SettingOverrides],
) -> RunSummary:
    """Extract every article of ``inputs`` on a Ray cluster into the directory ``output``.

    Running it again resumes: articles the output holds (same model, mode, prompt and
    schema version) are skipped, files a killed job cut short are set aside first.

    Args:
        inputs: files, directories, globs, ``-`` (stdin), or :class:`~eventx.Article` objects.
        output: a directory (or a URI such as ``s3://bucket/events/``) of Parquet files
            or, with ``format="jsonl"``, JSON-lines files: one row per event and claim,
            error rows for failed articles (see :mod:`eventx.ray`).
        address: the Ray cluster (``ray://host:10001``, ``host:6379`` or ``auto``); by
            default ``RAY_ADDRESS`` or, without it, a local Ray started for the run.
        replay: answer from the cassettes in this directory (every node must see it).
        limit: finish at most this many articles in this run.
        progress: called about twice a second with the summary so far.
        actors / batch_size / num_cpus: the actor pool (see :func:`eventx.ray.extract`).
        chunk_size: articles handed to the cluster at a time.
        **settings: any :class:`~eventx.Settings` field, resolved on the driver.

    Raises:
        ConfigurationError: bad settings or a local model.
        RunInterrupted: on Ctrl-C; what was written is kept, and a re-run resumes.
    """
    pool = _Pool(actors, batch_size, num_cpus)
    with _connected(address), _quiet_ray_data(progress is not None):
        collector = ray.remote(num_cpus=0)(Collector).remote()
        job = prepare_job(settings, replay=replay, collector=collector)
        feed = _Feed(scan_output(str(output), job.fingerprint).digests, limit)
        try:
            for chunk in feed.chunks(articles_of(inputs), chunk_size):
                rows = pool.extract(chunk, job)
                _write_watched(
                    rows, str(output), format, lambda: _so_far(collector, feed), progress
                )
        except KeyboardInterrupt:
            raise RunInterrupted(_so_far(collector, feed, interrupted=True)) from None
        summary = _so_far(collector, feed)
    summary.output = str(output)
    return summary


@dataclass(frozen=True)
class _Pool:
    """How the driver's chunks are extracted: the actor pool's shape."""

    actors: Actors
    batch_size: int
    num_cpus: float

    def extract(self, chunk: list[dict[str, Any]], job: Job) -> ray.data.Dataset:
        """The rows of one chunk, in blocks of one batch (no re-blocking needed)."""
        blocks = ray.data.from_items(
            chunk, override_num_blocks=math.ceil(len(chunk) / self.batch_size)
        )
        return extraction(
            blocks,
            job,
            actors=self.actors,
            batch_size=self.batch_size,
            num_cpus=self.num_cpus,
            split_blocks=False,
        )


class _Feed:
    """Rows for the cluster: finished articles skipped, duplicates and input errors marked."""

    def __init__(self, finished: Digests, limit: int | None) -> None:
        self.finished = finished
        self.limit = limit
        self.skipped = 0
        self.taken = 0
        self._seen: set[bytes] = set()

    def chunks(self, items: Iterable[Article | InputError], size: int) -> Iterator[list[Any]]:
        """The rows to extract, ``size`` at a time."""
        rows: Iterator[dict[str, Any]] = (
            row for item in items if (row := self._row(item)) is not None
        )
        if self.limit is not None:
            rows = itertools.islice(rows, self.limit)
        while chunk := list(itertools.islice(rows, size)):
            yield chunk

    def _row(self, item: Article | InputError) -> dict[str, Any] | None:
        if isinstance(item, InputError):
            return self._take({"id": item.article_id or "unknown", INPUT_ERROR: str(item)})
        if digest(item.id) in self._seen:
            article_id = f"{item.id} (duplicate from {item.source})"
            message = (
                f"duplicate article id {item.id!r} (from {item.source}): an earlier input "
                "already has it; give every article a unique id"
            )
            return self._take({"id": article_id, INPUT_ERROR: message})
        self._seen.add(digest(item.id))
        return self._take(item.model_dump(mode="json", exclude_none=True))

    def _take(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if is_finished(self.finished, str(row["id"])):
            self.skipped += 1
            return None
        self.taken += 1
        return row


@contextmanager
def _connected(address: str | None) -> Iterator[None]:
    """Ray as the caller left it, else connected (or started) for the run and shut down."""
    if ray.is_initialized():
        yield
        return
    ray.init(address=address, logging_level=logging.WARNING)
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _quiet_ray_data(quiet: bool) -> Iterator[None]:
    """Without Ray Data's own progress bars and logs while the caller shows progress."""
    if not quiet:
        yield
        return
    context, logger = ray.data.DataContext.get_current(), logging.getLogger("ray.data")
    saved = context.enable_progress_bars, logger.level
    context.enable_progress_bars = False
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        context.enable_progress_bars, _ = saved
        logger.setLevel(saved[1])


def _write_watched(
    rows: ray.data.Dataset,
    output: str,
    format: RayFormat,
    so_far: Callable[[], RunSummary],
    progress: Progress | None,
) -> None:
    """Write ``rows`` in a thread; report progress from this one until it is done."""
    failure: list[BaseException] = []

    def write() -> None:
        try:
            _write(rows, output, format)
        except BaseException as error:  # handed to the driver's thread below
            failure.append(error)

    writer = threading.Thread(target=write, name="eventx-ray-write", daemon=True)
    writer.start()
    while writer.is_alive():
        writer.join(POLL_SECONDS)
        if progress is not None:
            progress(so_far())
    if failure:
        raise failure[0]


def _write(rows: ray.data.Dataset, output: str, format: RayFormat) -> None:
    if format == "jsonl":
        rows.write_json(output, force_ascii=False, date_format="iso")
    else:
        rows.write_parquet(output)


def _so_far(collector: Any, feed: _Feed, *, interrupted: bool = False) -> RunSummary:
    summary: RunSummary = ray.get(collector.get.remote())
    summary.skipped = feed.skipped
    summary.interrupted = interrupted
    return summary
