"""Soak: 1,000 articles against a server that misbehaves on 20% of requests.

Every article must be accounted for (done, or failed with a category), none written
twice, every transient fault recovered, no article over its attempt cap, and the
usage eventx reports must cover every request the server received.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventx.extraction.asks import MAX_SPLIT_DEPTH
from eventx.settings import Settings
from tests.llm_server.faults import FAULTS, FaultInjector
from tests.llm_server.server import ScriptedLLM, article_of, first_sentence_meeting

ARTICLES = 1_000
FAULT_RATE = 0.2
TIMEOUT = 1.0
FINAL_CATEGORIES = {"truncated", "refused", "invalid_output"}
"""What an article may fail with here: the faults that end an extraction by design."""


def soak_articles() -> dict[str, str]:
    """Article id → text; each sentence is unique to its article, so a request for a part
    of one (eventx halves an article whose answer was cut off) still names it."""
    return {
        f"s{number:04d}": (
            f"Minister {number} met Foreign Minister Popșoi for talks round {number} in "
            f"Chisinau. They discussed energy and grids in round {number}."
        )
        for number in range(ARTICLES)
    }


def _article_key(texts: dict[str, str], sent: str) -> str:
    """The article a request was about; a truncated answer makes eventx send parts."""
    (key,) = (key for key, text in texts.items() if sent.strip() in text)
    return key


@pytest.fixture
def faulty_server() -> Iterator[tuple[ScriptedLLM, FaultInjector]]:
    injector = FaultInjector(FAULT_RATE, seed=20261123, timeout=TIMEOUT)
    with ScriptedLLM({}, fallback=first_sentence_meeting, faults=injector) as server:
        yield server, injector


@pytest.mark.slow
def test_a_thousand_articles_survive_a_twenty_percent_fault_rate(
    faulty_server: tuple[ScriptedLLM, FaultInjector], tmp_path: Path
) -> None:
    server, injector = faulty_server
    texts = soak_articles()
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps({"id": key, "text": text}) + "\n" for key, text in texts.items()),
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    command = [
        sys.executable, "-m", "eventx", "extract", str(feed), "-o", str(output),
        "--base-url", server.base_url, "--concurrency", "16",
    ]  # fmt: skip
    env = {"EVENTX_TIMEOUT": str(TIMEOUT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]

    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    results = {line["article_id"]: line for line in lines}
    assert len(results) == len(lines), "an article was written twice"
    assert results.keys() == texts.keys(), "an article was lost"

    failures = Counter(r["error"]["category"] for r in results.values() if r["error"])
    assert set(failures) <= FINAL_CATEGORIES, failures
    assert set(injector.injected) == set(FAULTS), injector.injected  # every kind was tried

    received = Counter(_article_key(texts, article_of(body)) for body in server.requests)
    settings = Settings.resolve(env={})
    # An answer cut off at the output limit makes eventx ask again for each half of the
    # text, and again for each quarter: each of those asks has its own attempts.
    asks = 2 ** (MAX_SPLIT_DEPTH + 1) - 1
    attempt_cap = settings.max_attempts * asks
    cap = (settings.max_transient_retries + 1) * attempt_cap
    for key, result in results.items():
        # A request sent on a connection the server had just closed never arrives,
        # so eventx may count more requests than the server received, never fewer.
        assert received[key] <= result["usage"]["requests"] <= cap, key
        assert result["attempts"] <= attempt_cap, key
        if result["error"] is None:
            # One meeting per request: a halved article has one from each half.
            evidence = [e for event in result["extraction"]["events"] for e in event["evidence"]]
            assert 1 <= len(evidence) <= received[key], key
            for quote in evidence:
                assert texts[key][quote["start"] : quote["end"]] == quote["quote"], key
