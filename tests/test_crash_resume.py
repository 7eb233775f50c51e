"""Kill a run with SIGKILL mid-way, resume it with the same command, compare with a clean run."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm_server.server import ScriptedLLM, article_of, first_sentence_meeting
from tests.test_batch import synthetic

ARTICLES = 60


@pytest.fixture
def slow_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM({}, fallback=first_sentence_meeting, latency=0.03) as server:
        yield server


def _command(feed: Path, output: Path, server: ScriptedLLM) -> list[str]:
    return [
        sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
        "--base-url", server.base_url, "--concurrency", "4",
    ]  # fmt: skip


def _results(output: Path) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    by_id = {line["article_id"]: line for line in lines}
    assert len(by_id) == len(lines), "an article was written twice"
    return by_id


def _kill_after(command: list[str], output: Path, lines: int) -> None:
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if output.exists() and output.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _done_ids(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT id FROM articles WHERE status = 'done'").fetchall()
    db.close()
    return {article_id for (article_id,) in rows}


def _article_ids(bodies: list[dict[str, object]]) -> list[str]:
    texts = {article.text: article.id for article in synthetic(ARTICLES)}
    return [texts[article_of(body)] for body in bodies]


def _feed_and_reference(server: ScriptedLLM, tmp_path: Path) -> tuple[Path, Path]:
    """The synthetic feed, and the output of an uninterrupted run over it."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(article.model_dump_json() + "\n" for article in synthetic(ARTICLES)),
        encoding="utf-8",
    )
    reference = tmp_path / "reference.jsonl"
    subprocess.run(_command(feed, reference, server), check=True, capture_output=True)
    return feed, reference


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_output_without_paying_twice(
    slow_server: ScriptedLLM, tmp_path: Path
) -> None:
    feed, reference = _feed_and_reference(slow_server, tmp_path)

    slow_server.requests.clear()
    output = tmp_path / "out.jsonl"
    _kill_after(_command(feed, output, slow_server), output, lines=ARTICLES // 3)
    finished_before_kill = _done_ids(Path(f"{output}.eventx.db"))
    sent_before_kill = len(slow_server.requests)
    assert 0 < len(finished_before_kill) < ARTICLES

    resumed = subprocess.run(_command(feed, output, slow_server), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr

    sent_after = _article_ids(slow_server.requests[sent_before_kill:])
    assert not finished_before_kill & set(sent_after), "a finished article was requested again"
    assert len(sent_after) == len(set(sent_after))
    expected, got = _results(reference), _results(output)
    assert got.keys() == expected.keys()
    for article_id, result in expected.items():
        assert got[article_id]["extraction"] == result["extraction"], article_id
        assert got[article_id]["error"] is None


def _kill_after_seconds(command: list[str], seconds: float) -> None:
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
def test_repeated_kills_at_random_moments_lose_and_repeat_nothing(
    slow_server: ScriptedLLM, tmp_path: Path
) -> None:
    feed, reference = _feed_and_reference(slow_server, tmp_path)
    output, database = tmp_path / "out.jsonl", tmp_path / "out.jsonl.eventx.db"
    command = _command(feed, output, slow_server)
    # Once during start-up, then at random points of the run (mid-write included).
    kill_points = [None, *sorted(random.Random(7).sample(range(2, ARTICLES - 2), 3))]
    slow_server.requests.clear()
    progress = []
    for lines in kill_points:
        finished = _done_ids(database) if database.exists() else set()
        sent_before = len(slow_server.requests)
        if lines is None:
            _kill_after_seconds(command, 0.5)
        else:
            _kill_after(command, output, lines)
        repeated = finished & set(_article_ids(slow_server.requests[sent_before:]))
        assert not repeated, f"finished articles requested again: {sorted(repeated)}"
        progress.append(len(_done_ids(database)) if database.exists() else 0)
    assert len({done for done in progress if 0 < done < ARTICLES}) >= 2, progress
    final = subprocess.run(command, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    expected, got = _results(reference), _results(output)
    assert got.keys() == expected.keys()
    assert all(got[key]["extraction"] == expected[key]["extraction"] for key in expected)
    assert _done_ids(database) == set(expected)
