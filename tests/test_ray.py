"""eventx on Ray Data, on a local two-CPU Ray cluster started by the tests.

Results equal the single-machine run's; two actors share the rate limits through one
actor (and without it draw a storm of 429s); a killed actor and a killed driver leave an
output that holds every article once, and no finished article is asked for again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import ray.data

import eventx
import eventx.ray
from eventx.analysis.export import COLUMN_NAMES, result_rows
from tests.conftest import SEED_CASSETTES, SEEDS
from tests.llm_server.server import RateWindow, ScriptedLLM, article_of, first_sentence_meeting
from tests.ray_helpers import article_rows, measure, output_results

pytestmark = [
    pytest.mark.slow,
    # Ray's own deprecation notices (its DataContext, its argument checks).
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

ARTICLES = 120


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray cluster with 2 CPUs; its address, for other drivers."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def synthetic_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM({}, fallback=first_sentence_meeting, latency=0.2) as server:
        yield server


def _articles(batch_size: int) -> ray.data.Dataset:
    return ray.data.from_items(article_rows(ARTICLES), override_num_blocks=ARTICLES // batch_size)


def test_the_seeds_through_ray_equal_the_single_machine_run(cluster: str, tmp_path: Path) -> None:
    eventx.run([SEEDS], tmp_path / "single.jsonl", replay=SEED_CASSETTES)
    expected = {r.article_id: r for r in eventx.load_results(tmp_path / "single.jsonl")}
    articles = [a.model_dump(mode="json") for a in eventx.iter_articles([SEEDS])]

    rows = eventx.ray.extract(ray.data.from_items(articles), replay=SEED_CASSETTES)
    rows.write_parquet(str(tmp_path / "ray"))

    got = output_results(tmp_path / "ray")
    assert got.keys() == expected.keys()
    for article_id, result in expected.items():
        mine = got[article_id]
        (first,) = [row for row in mine if row["result"] is not None]
        assert eventx.ExtractionResult.model_validate_json(first["result"]) == result
        flat = [{name: row[name] for name in COLUMN_NAMES} for row in mine]
        assert flat == list(result_rows(result)), article_id
        assert {row["article_rows"] for row in mine} == {len(mine)}


def _limited_server(rpm: int | None, tpm: int | None) -> ScriptedLLM:
    limits = RateWindow(rpm or 10**9, tpm or 10**12)
    return ScriptedLLM(
        {}, fallback=first_sentence_meeting, latency=0.5, limits=limits, record_requests=False
    )


def test_two_actors_share_the_limits_and_stay_near_the_ceiling(cluster: str) -> None:
    rpm, articles = 1200, 400
    with _limited_server(rpm, None) as server:
        shared = measure(server.stats, server.base_url, articles=articles, rpm=rpm, shared=True)
    with _limited_server(rpm, None) as server:
        alone = measure(server.stats, server.base_url, articles=articles, rpm=rpm, shared=False)

    assert (shared.ok, shared.failed) == (articles, 0)
    assert shared.steady_of_ceiling >= 0.9, shared
    assert shared.refused_share < 0.01, shared
    # Each actor paces itself to the whole limit: twice the limit is offered, and the
    # server refuses what is over it until each actor has slowed down on its own 429s.
    assert alone.refused_share >= 0.04, alone
    assert alone.refused >= 10 * max(shared.refused, 1), (alone, shared)


def _ids(bodies: list[dict[str, Any]]) -> list[str]:
    by_text = {row["text"]: row["id"] for row in article_rows(ARTICLES)}
    return [by_text[article_of(body)] for body in bodies]


def _complete_ids(output: Path) -> set[str]:
    """Articles the output holds in full now."""
    return {
        article_id
        for article_id, rows in output_results(output).items()
        if len(rows) == rows[0]["article_rows"]
    }


def _wait_for_files(output: Path, count: int, alive: Any, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        if output.is_dir() and len(list(output.glob("*.parquet"))) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} result files appeared in {output}")


def _extract_batch_pids() -> list[int]:
    from ray._private import state

    return [
        int(actor["Pid"])
        for actor in state.actors().values()
        if "ExtractBatch" in actor["ActorClassName"] and actor["State"] == "ALIVE"
    ]


def _assert_every_article_once(output: Path) -> None:
    results = output_results(output)
    assert sorted(results) == sorted(row["id"] for row in article_rows(ARTICLES))
    for article_id, rows in results.items():
        assert len(rows) == rows[0]["article_rows"] == 1, article_id
        assert rows[0]["record_kind"] == "event", article_id
        assert json.loads(rows[0]["result"])["article_id"] == article_id


def test_a_killed_actor_loses_nothing_and_repeats_no_finished_article(
    cluster: str, synthetic_server: ScriptedLLM, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    rows = eventx.ray.extract(
        _articles(8),
        batch_size=8,
        base_url=synthetic_server.base_url,
        api_key="sk-test",
        concurrency=4,
    )
    writer = threading.Thread(target=rows.write_parquet, args=(str(output),), daemon=True)
    writer.start()
    _wait_for_files(output, 3, writer.is_alive)
    finished, sent_before = _complete_ids(output), len(synthetic_server.requests)
    victims = _extract_batch_pids()
    assert victims, "no extracting actor left to kill"
    os.kill(victims[0], signal.SIGKILL)
    writer.join(timeout=300)

    assert not writer.is_alive()
    asked_again = finished & set(_ids(synthetic_server.requests[sent_before:]))
    assert not asked_again, sorted(asked_again)
    assert 0 < len(finished) < ARTICLES
    _assert_every_article_once(output)


def _wait_until_the_job_is_gone(server: ScriptedLLM, timeout: float = 120) -> None:
    """The killed driver's workers are stopped by Ray: no actor left, the server quiet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = server.served
        time.sleep(1.0)
        if not _extract_batch_pids() and server.served == served:
            return
    raise AssertionError("the killed driver's job did not stop")


def test_a_killed_driver_is_resumed_without_duplicates_or_paying_twice(
    cluster: str, synthetic_server: ScriptedLLM, tmp_path: Path
) -> None:
    feed, output = tmp_path / "feed.jsonl", tmp_path / "out"
    feed.write_text("".join(json.dumps(row) + "\n" for row in article_rows(ARTICLES)))
    command = [
        sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
        "--engine", "ray", "--ray-address", cluster, "--base-url", synthetic_server.base_url,
        "--concurrency", "4",
    ]  # fmt: skip
    env = {**os.environ, "EVENTX_API_KEY": "sk-test"}
    driver = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    _wait_for_files(output, 2, lambda: driver.poll() is None)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    _wait_until_the_job_is_gone(synthetic_server)
    finished, sent_before = _complete_ids(output), len(synthetic_server.requests)
    assert 0 < len(finished) < ARTICLES

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    asked_again = finished & set(_ids(synthetic_server.requests[sent_before:]))
    assert not asked_again, sorted(asked_again)
    assert f"{len(finished)} finished in an earlier run" in rerun.stderr
    _assert_every_article_once(output)


def test_a_fleet_of_servers_shares_the_work_on_ray(cluster: str, tmp_path: Path) -> None:
    servers = [ScriptedLLM({}, fallback=first_sentence_meeting, latency=0.05) for _ in range(2)]
    for server in servers:
        server.start()
    seen: list[int] = []
    try:
        summary = eventx.ray.run(
            [eventx.Article.model_validate(row) for row in article_rows(ARTICLES)],
            tmp_path / "out",
            base_urls=[server.base_url for server in servers],
            api_key="sk-test",
            progress=lambda so_far: seen.append(so_far.articles),
        )
    finally:
        for server in servers:
            server.stop()

    assert (summary.articles, summary.failed) == (ARTICLES, 0)
    assert {url: counts.requests for url, counts in summary.endpoints.items()} == {
        server.base_url: len(server.requests) for server in servers
    }
    assert all(len(server.requests) >= ARTICLES // 4 for server in servers)
    assert seen[-1:] == [ARTICLES]
    _assert_every_article_once(tmp_path / "out")
