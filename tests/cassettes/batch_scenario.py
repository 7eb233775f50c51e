"""The Batch API run recorded into ``tests/cassettes/batch/``: submit, status, collect.

The five seed articles are submitted in request files of at most three requests,
so two batches. When they complete, the scripted server answers seed 001 with a
schema-invalid extraction (collect re-asks it live, and the re-ask is answered
correctly), fails seed 002 with HTTP 500 (an error-file entry) and lets seed 004
expire; seeds 000 and 003 get their stored answers.

Each phase has its own cassette. Uploads are multipart bodies with random
boundaries, so batch cassettes match on method and path only; the tests check the
uploaded request files separately.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import vcr
from tests.llm_server import server as llm

from eventx import Article, Extractor, iter_articles
from eventx.batchapi.client import BatchClient
from eventx.batchapi.files import BatchLimits
from eventx.batchapi.jobs import batch_status, collect_batches, submit_batches
from eventx.extraction.replay import (
    SECRET_HEADERS,
    SECRET_QUERY_PARAMETERS,
    _SafeYamlSerializer,
    _scrub_response,
)
from eventx.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
BATCH_CASSETTES = Path(__file__).parent / "batch"
PHASES = ("submit", "status", "collect")
LIMITS = BatchLimits(max_requests=3)
INVALID_SEED = "001_3d83a5f5de596b38"
FAILED_SEED = "002_2306dc31ba5326a4"
EXPIRED_SEED = "004_8ea74db2dcd210fd"


def seed_articles() -> list[Article]:
    """The seed articles, in the order ``eventx batch submit seeds/`` reads them."""
    return [item for item in iter_articles([ROOT / "seeds"]) if isinstance(item, Article)]


def batch_steps(server: llm.ScriptedLLM) -> list[llm.Step]:
    """One scripted reaction per request line, in submission order."""
    steps = []
    for article in seed_articles():
        if article.id == INVALID_SEED:
            invalid = copy.deepcopy(server.answers[article.text])
            invalid["events"][0]["status"] = "happened"
            steps.append(llm.answer(invalid))
        elif article.id == FAILED_SEED:
            steps.append(llm.http_error(500))
        elif article.id == EXPIRED_SEED:
            steps.append(llm.expired())
        else:
            steps.append(llm.answer())
    return steps


def batch_vcr(mode: str) -> vcr.VCR:
    """vcrpy for the batch cassettes: matched on method and path, secrets removed."""
    recorder = vcr.VCR(
        cassette_library_dir=str(BATCH_CASSETTES),
        record_mode="all" if mode == "record" else "none",
        match_on=("method", "path"),
        filter_headers=SECRET_HEADERS,
        filter_query_parameters=SECRET_QUERY_PARAMETERS,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
        serializer="safe_yaml",
    )
    recorder.register_serializer("safe_yaml", _SafeYamlSerializer("safe_yaml"))
    return recorder


async def run_phase(phase: str, store: RunStore, output: Path, **settings: Any) -> Any:
    """Run one phase with eventx's real client stack; ``settings`` name the endpoint."""
    extractor = Extractor(**settings)
    client = BatchClient(**settings)
    try:
        if phase == "submit":
            return await submit_batches(seed_articles(), extractor, store, client, limits=LIMITS)
        if phase == "status":
            return await batch_status(store, client)
        return await collect_batches(store, extractor, client, output)
    finally:
        await client.aclose()
        await extractor.aclose()
