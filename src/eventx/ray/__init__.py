"""eventx on Ray Data: extraction as a step of a distributed pipeline (``eventx[ray]``).

::

    import ray
    import eventx.ray

    articles = ray.data.read_json("s3://bucket/articles/")  # id, text, optional metadata
    rows = eventx.ray.extract(
        articles,
        resume_from="s3://bucket/events/",
        base_urls="http://vllm-0:8000/v1,http://vllm-1:8000/v1",
    )
    rows.write_parquet("s3://bucket/events/")

* :func:`extract` maps a dataset of articles to rows, on a pool of actors each holding
  one :class:`~eventx.Extractor` with many requests in flight. The rows are those of the
  Parquet export (one per event and claim, one error row per failed article), plus an
  ``empty`` row for an article with no records, ``run_fingerprint``, ``article_rows``
  and the whole result as JSON (:mod:`eventx.ray.rows`).
* Requests and tokens per minute are shared by every actor through one named actor
  (:mod:`eventx.ray.limiter`); per-article budgets and both retry policies are the
  extractor's own.
* ``resume_from`` makes a re-run skip what an output location holds under the same
  fingerprint (an anti-join; :mod:`eventx.ray.resume`), after setting aside files a
  killed job cut short: written again to the same place, the output holds every
  article once.
* :func:`run` is ``eventx extract --engine ray``: inputs read on the driver, written to
  a directory, with progress and a summary.

This module is the only one of eventx that imports ray; ``import eventx`` does not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Unpack

import ray.data

from eventx.ray.driver import run
from eventx.ray.pipeline import Actors, extraction, prepare_job, without_finished
from eventx.ray.resume import scan_output
from eventx.ray.rows import output_schema, results_of
from eventx.settings import SettingOverrides

__all__ = ["extract", "output_schema", "results_of", "run"]

logger = logging.getLogger("eventx.ray")


def extract(
    dataset: ray.data.Dataset,
    *,
    resume_from: str | Path | None = None,
    replay: str | Path | None = None,
    actors: Actors = 2,
    batch_size: int = 16,
    num_cpus: float = 0.5,
    shared_limits: bool = True,
    **settings: Unpack[SettingOverrides],
) -> ray.data.Dataset:
    """The rows of every article of ``dataset``, extracted on an actor pool.

    Args:
        dataset: articles: an ``id`` and a ``text`` column; ``title``, ``url``,
            ``language``, ``published_at``, ``source`` and ``encoding`` when present.
            A row that is not an article becomes an error row.
        resume_from: an output location written by an earlier run (a directory or a
            URI): its articles of the same fingerprint (model, mode, prompt hash, schema
            version) are skipped, and files there that a killed job cut short are
            renamed to hidden ``.NAME.incomplete`` files now, so their articles run again.
        replay: answer from the cassettes in this directory (every node must see it).
        actors: actors in the pool, or (min, max) for a pool that scales with the backlog.
            Each holds one extractor with ``concurrency`` requests in flight at most.
        batch_size: articles per batch (and per block: what a killed actor takes with it).
        num_cpus: CPUs reserved per actor; the work is mostly waiting for the model.
        shared_limits: pace all actors together through one named actor (the default);
            False lets each actor pace itself to the full limits, so N actors may send
            N times the limit (kept for measurements).
        **settings: any :class:`~eventx.Settings` field (``model``, ``base_url``,
            ``base_urls``, ``rpm``, ``tpm``, ``concurrency`` …), resolved on the driver
            (its environment decides, then every worker uses the same values).

    Returns:
        A lazy dataset of rows (schema :func:`output_schema`); write it with
        ``write_parquet`` or ``write_json``.

    Raises:
        ConfigurationError: bad settings, a local model, cassettes of another prompt.
    """
    job = prepare_job(settings, replay=replay, shared_limits=shared_limits)
    if resume_from is not None:
        finished = scan_output(str(resume_from), job.fingerprint)
        logger.info(
            "%d articles finished in %s; %d files set aside",
            finished.articles,
            resume_from,
            len(finished.set_aside),
        )
        dataset = without_finished(dataset, finished.digests)
    return extraction(dataset, job, actors=actors, batch_size=batch_size, num_cpus=num_cpus)
