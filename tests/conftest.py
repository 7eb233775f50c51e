"""Shared fixtures: a clean environment for every test, the scripted server, replays."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventx import Extractor
from tests.llm_server.server import ScriptedLLM

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_CASSETTES = ROOT / "tests" / "cassettes" / "seeds"
REPLAY_URL = "http://replay.invalid/v1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all",
        action="store_true",
        help="run every test: the slow and real-model tiers too (CI does)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--all"):
        config.option.markexpr = ""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's keys or endpoints, and each runs in its own directory."""
    for name in list(os.environ):
        if name.startswith(("EVENTX_", "OPENAI_", "AZURE_OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[ScriptedLLM]:
    """The scripted OpenAI-compatible server on loopback."""
    with ScriptedLLM() as server:
        yield server


@pytest.fixture
def server(llm_server: ScriptedLLM) -> Iterator[ScriptedLLM]:
    """The scripted server with an empty script and request log for this test."""
    llm_server.steps.clear()
    llm_server.requests.clear()
    yield llm_server
    llm_server.steps.clear()


class SleepLog:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def replay_extractor(sleeps: SleepLog) -> Iterator[Any]:
    """Build extractors that talk to a replayed endpoint (no network, no key)."""
    built: list[Extractor] = []

    def build(**settings: Any) -> Extractor:
        extractor = Extractor(base_url=REPLAY_URL, api_key="replay", sleep=sleeps, **settings)
        built.append(extractor)
        return extractor

    yield build
    for extractor in built:
        extractor.close()


@pytest.fixture(scope="session")
def seed_predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds' replayed output, as `eventx extract seeds/ --replay ...` writes it."""
    from click.testing import CliRunner

    from eventx.cli import main

    output = tmp_path_factory.mktemp("seed-run") / "events.jsonl"
    outcome = CliRunner().invoke(
        main, ["extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "-o", str(output)]
    )
    assert outcome.exit_code == 0, outcome.output
    return output


@pytest.fixture
def extractors(sleeps: SleepLog) -> Iterator[Any]:
    """Build extractors for a scripted server (``build(server, **settings)``); closed after."""
    built: list[Extractor] = []

    def build(server: ScriptedLLM, **settings: Any) -> Extractor:
        extractor = Extractor(
            base_url=server.base_url, api_key="sk-test", sleep=sleeps,
            async_sleep=sleeps.async_sleep, **settings,
        )  # fmt: skip
        built.append(extractor)
        return extractor

    yield build
    for extractor in built:
        extractor.close()
