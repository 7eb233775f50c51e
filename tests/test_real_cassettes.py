"""The seeds as a real model answered them (Qwen2.5-Coder-1.5B on CPU, see the cassettes'
README) replay offline, with the settings they were recorded with, and every record
eventx keeps from those answers is grounded in its article."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from eventx.cli import main
from eventx.extraction.prompt import TASKS
from eventx.extraction.replay import CassetteDeck
from tests.conftest import ROOT, SEEDS

REAL_CASSETTES = ROOT / "tests" / "cassettes" / "seeds-qwen2.5-coder-1.5b"

pytestmark = pytest.mark.skipif(
    not REAL_CASSETTES.is_dir(), reason="no real-model cassettes recorded"
)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    output = tmp_path_factory.mktemp("real") / "events.jsonl"
    outcome = CliRunner().invoke(
        main, ["extract", str(SEEDS), "--replay", str(REAL_CASSETTES), "-o", str(output)]
    )
    assert outcome.exit_code in (0, 1), outcome.output
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def test_the_recording_names_a_local_model_and_the_settings_it_was_sent() -> None:
    info = CassetteDeck(REAL_CASSETTES, "replay").read_info()
    assert info is not None
    assert info.model == "qwen2.5-coder-1.5b"
    assert info.settings["server"] == "llama-cpp-python"
    assert info.settings["temperature"] == 0
    assert info.settings["sweep_claims"] is True  # a local model's defaults


def test_every_seed_replays_from_its_cassette(replayed: list[dict[str, object]]) -> None:
    assert sorted(str(result["article_id"]) for result in replayed) == sorted(
        path.stem for path in SEEDS.glob("*.txt")
    )
    assert all(result["error"] is None for result in replayed), [
        result["error"] for result in replayed
    ]


def test_every_kept_quote_is_the_articles_own_text(replayed: list[dict[str, object]]) -> None:
    quotes = 0
    for result in replayed:
        text = (SEEDS / f"{result['article_id']}.txt").read_text(encoding="utf-8")
        extraction = result["extraction"]
        assert isinstance(extraction, dict)
        for record in extraction["events"] + extraction["claims"]:
            for evidence in record["evidence"]:
                assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
                quotes += 1
    assert quotes > 0, "the real model's answers gave no grounded record"


def test_the_claim_sweep_asked_the_real_model_about_single_sentences() -> None:
    asked = 0
    for cassette in REAL_CASSETTES.glob("*.yaml"):
        for exchange in yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]:
            body = json.loads(exchange["request"]["body"])
            asked += body["messages"][-1]["content"].endswith("Task: " + TASKS["sweep"])
    assert asked >= len(list(SEEDS.glob("*.txt")))
