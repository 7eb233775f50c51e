"""Record the test cassettes by running eventx's real client stack over HTTP.

    python -m tests.cassettes.record            # against the scripted server (default)
    python -m tests.cassettes.record --seeds    # only the seed cassettes
    python -m tests.cassettes.record --faults   # only the fault cassettes
    python -m tests.cassettes.record --batch    # only the Batch API cassettes

The scripted server (tests/llm_server) is started on loopback and eventx talks to
it through the openai SDK exactly as it talks to a provider; vcrpy writes what
went over the wire. To re-record the seed cassettes against a real provider
instead, no script is needed:

    EVENTX_BASE_URL=... EVENTX_API_KEY=... EVENTX_MODEL=... \\
        eventx extract seeds/ --record tests/cassettes/seeds -o /dev/null
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.cassettes.batch_scenario import (
    BATCH_CASSETTES,
    PHASES,
    batch_steps,
    batch_vcr,
    run_phase,
)
from tests.cassettes.scenarios import SCENARIOS, Scenario
from tests.llm_server.server import ScriptedLLM

from eventx import Extractor
from eventx.cli import main as cli_main
from eventx.extraction.replay import CassetteDeck
from eventx.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
SEED_CASSETTES = ROOT / "tests" / "cassettes" / "seeds"
RECORDING_KEY = "sk-scripted-server-key"


def record_seeds(server: ScriptedLLM) -> None:
    """Record one cassette per seed article with the `eventx extract --record` command."""
    args = ["extract", str(ROOT / "seeds"), "--record", str(SEED_CASSETTES), "-o", "/dev/null",
            "--base-url", server.base_url]  # fmt: skip
    try:
        cli_main(args, standalone_mode=False, default_map=None)
    except SystemExit as stop:
        if stop.code:
            raise


def record_scenario(server: ScriptedLLM, scenario: Scenario) -> None:
    """Record one fault scenario's cassette."""
    server.script(*scenario.steps)
    extractor = Extractor(
        base_url=server.base_url, api_key=RECORDING_KEY, sleep=lambda _: None, **scenario.settings
    )
    deck = CassetteDeck(scenario.directory, "record")
    with deck.cassette(scenario.article.id):
        result = extractor.extract(scenario.article, on_error="record")
    leftover = len(server.steps)
    server.steps.clear()
    state = result.error.category.value if result.error else "ok"
    print(f"{scenario.name}: {state}, {result.usage.requests} requests", file=sys.stderr)
    if leftover:
        raise SystemExit(f"{scenario.name}: {leftover} scripted steps were not used")


def record_batch(server: ScriptedLLM) -> None:
    """Record submit, status and collect of the Batch API scenario, one cassette each."""
    server.batch.steps.clear()
    server.script_batch(*batch_steps(server))
    endpoint = {"base_url": server.base_url, "api_key": RECORDING_KEY}
    with tempfile.TemporaryDirectory() as scratch, RunStore(Path(scratch) / "run.db") as store:
        for phase in PHASES:
            cassette = f"{phase}.yaml"
            (BATCH_CASSETTES / cassette).unlink(missing_ok=True)
            with batch_vcr("record").use_cassette(cassette):
                output = Path(scratch) / "out.jsonl"
                outcome = asyncio.run(run_phase(phase, store, output, **endpoint))
            print(f"batch {phase}: {outcome!r:.200}", file=sys.stderr)
    if server.batch.steps:
        raise SystemExit(f"batch: {len(server.batch.steps)} scripted steps were not used")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", action="store_true", help="only the seed cassettes")
    parser.add_argument("--faults", action="store_true", help="only the fault cassettes")
    parser.add_argument("--batch", action="store_true", help="only the Batch API cassettes")
    args = parser.parse_args()
    both = not (args.seeds or args.faults or args.batch)
    with ScriptedLLM() as server:
        if args.seeds or both:
            import os

            os.environ["EVENTX_API_KEY"] = RECORDING_KEY
            record_seeds(server)
        if args.faults or both:
            for scenario in SCENARIOS.values():
                record_scenario(server, scenario)
        if args.batch or both:
            record_batch(server)


if __name__ == "__main__":
    main()
