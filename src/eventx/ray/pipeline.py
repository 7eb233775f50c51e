"""The Ray Data plan of an extraction: the anti-join, then the actor pool.

::

    articles ─► drop finished (tasks; anti-join against the output's keys)
             ─► repartition into blocks of one batch
             ─► map_batches(ExtractBatch) on an actor pool (one Extractor per actor)
             ─► rows (written by the caller: write_parquet / write_json)

Blocks of one batch keep what a killed actor takes with it small: Ray retries the
task of the block it was working on, and only that block's articles are asked again.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import ray
import ray.data

from eventx.errors import ConfigurationError
from eventx.extraction.replay import CassetteDeck
from eventx.ray.limiter import limiter_actor
from eventx.ray.resume import Digests, drop_finished
from eventx.ray.rows import fingerprint_id
from eventx.ray.worker import ExtractBatch, Job
from eventx.runs.run import build_extractor
from eventx.settings import SettingOverrides

Actors = int | tuple[int, int]
"""A fixed pool size, or (min, max) for a pool Ray Data scales with the backlog."""


def prepare_job(
    settings: SettingOverrides,
    *,
    replay: str | Path | None = None,
    shared_limits: bool = True,
    collector: Any = None,
) -> Job:
    """Resolve the settings on the driver, check them, and start the shared limiter.

    Raises:
        ConfigurationError: bad settings, a local model (it serves one machine: serve it
            and give ``base_url``/``base_urls`` instead), cassettes of another prompt.
    """
    deck = CassetteDeck(Path(replay).resolve(), "replay") if replay is not None else None
    with build_extractor(settings, deck) as probe:
        resolved, fingerprint = probe.settings, fingerprint_id(probe.fingerprint)
    if resolved.local is not None:
        raise ConfigurationError(
            "a local model serves one machine; on Ray, serve it (vLLM, llama.cpp) and give "
            "base_url or base_urls"
        )
    return Job(
        settings=resolved.model_dump(),
        fingerprint=fingerprint,
        limiter=limiter_actor(resolved) if shared_limits else None,
        collector=collector,
        replay=str(deck.directory) if deck is not None else None,
    )


def without_finished(dataset: ray.data.Dataset, finished: Digests) -> ray.data.Dataset:
    """``dataset`` less the articles whose ids are among ``finished`` (sorted digests)."""
    if not len(finished):
        return dataset
    return dataset.map_batches(
        cast(Any, _drop_finished),  # ray's stubs expect one argument; fn_kwargs adds one
        fn_kwargs={"finished": ray.put(finished)},
        batch_format="pyarrow",
        num_cpus=0.25,
    )


def _drop_finished(batch: pa.Table, finished: ray.ObjectRef[Digests]) -> pa.Table:
    """:func:`drop_finished` with the keys read from the object store (zero-copy)."""
    return drop_finished(batch, ray.get(finished))


def extraction(
    dataset: ray.data.Dataset,
    job: Job,
    *,
    actors: Actors,
    batch_size: int,
    num_cpus: float,
    split_blocks: bool = True,
) -> ray.data.Dataset:
    """The rows of every article of ``dataset``, extracted by a pool of actors.

    ``split_blocks`` re-blocks the input into blocks of one batch; a caller whose blocks
    are that size already (the driver's chunks) skips the extra tasks."""
    low, high = (actors, actors) if isinstance(actors, int) else actors
    if not 1 <= low <= high:
        raise ConfigurationError(f"actors must be at least 1 (and min <= max), got {actors!r}")
    if batch_size < 1:
        raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
    calls = batches_in_flight(int(job.settings["concurrency"]), batch_size)
    pool = ray.data.ActorPoolStrategy(
        min_size=low,
        max_size=high,
        max_tasks_in_flight_per_actor=calls,
        max_concurrent_calls_per_actor=calls,
    )
    blocks = dataset.repartition(target_num_rows_per_block=batch_size) if split_blocks else dataset
    return blocks.map_batches(
        ExtractBatch,
        fn_constructor_kwargs={"job": job},
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=pool,
        num_cpus=num_cpus,
    )


def batches_in_flight(concurrency: int, batch_size: int) -> int:
    """Batches an actor works on at once: enough articles in progress to keep four times its
    ``concurrency`` requests busy (a batch is done only when its slowest article is, and
    the next one takes a scheduling round trip to arrive)."""
    return max(2, math.ceil(4 * concurrency / batch_size))
